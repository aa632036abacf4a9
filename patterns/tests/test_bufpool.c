/* test_bufpool.c - seed 004's zero-copy pipeline with pooled buffers, seed
 * 001's sync.Pool process(data). */
#include "ptest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gortp/bufpool.h"

/* Seed 001: process("hello") = "hello-processed"; the buffer is reset
 * before reuse, so the next call does not see the old bytes. */
static void bufpool_process_resets_buffers(void **state) {
  (void)state;
  gortp_bufpool *p;
  assert_int_equal(gortp_bufpool_new(&p, 16), 0);
  char *a = gortp_bufpool_process(p, "hello", 5);
  char *b = gortp_bufpool_process(p, "abc", 3);
  assert_string_equal(a, "hello-processed");
  assert_string_equal(b, "abc-processed");
  free(a);
  free(b);
  /* Sequential use on one task reuses one buffer (its cache is private). */
  assert_int_equal(gortp_bufpool_allocated(p), 1);
  gortp_bufpool_buffer *x = gortp_bufpool_get(p);
  assert_int_equal(x->len, 0);
  gortp_bufpool_put(p, x);
  gortp_bufpool_free(p);
}

enum { N = 2000 };
static char payloads[N][24];

typedef struct {
  gort_chan *in;
  int n;
} feeder_arg;

static void feeder(void *p) {
  feeder_arg *a = p;
  for (int i = 0; i < a->n; i++) {
    gortp_bufpool_slice sl = {payloads[i], strlen(payloads[i])};
    if (gort_chan_send(a->in, &sl) != 0) break;
  }
  gort_chan_close(a->in);
}

static void bufpool_pipeline_recycles_buffers(void **state) {
  (void)state;
  int base = gort_num_tasks();
  for (int i = 0; i < N; i++) snprintf(payloads[i], sizeof payloads[i], "message-%d", i);
  gortp_bufpool *p;
  assert_int_equal(gortp_bufpool_new(&p, 4096), 0);
  gort_chan *in, *out;
  assert_int_equal(GORT_CHAN_MAKE(&in, gortp_bufpool_slice, 0), 0);
  assert_int_equal(gortp_bufpool_pipeline(NULL, p, in, &out), 0);
  feeder_arg fa = {in, N};
  assert_int_equal(gort_go(feeder, &fa), 0);
  int i = 0;
  for (gortp_bufpool_buffer *b; GORT_CHAN_RANGE(out, &b); i++) {
    assert_int_equal(b->len, strlen(payloads[i]));
    assert_memory_equal(b->data, payloads[i], b->len); /* in order, intact */
    gortp_bufpool_put(p, b);
  }
  assert_int_equal(i, N);
  /* At most ~66 buffers are ever out (64 queued, one in each stage's hand)
   * plus what sits in the consumer's private cache: far fewer than N. */
  uint64_t made = gortp_bufpool_allocated(p);
  assert_true(made >= 1);
  assert_true(made <= 100);
  gort_chan_release(out);
  gort_chan_release(in);
  assert_true(ptest_tasks_settle(base));
  gortp_bufpool_drain(p);
  assert_int_equal(gortp_bufpool_destroyed(p), made); /* all came back */
  gortp_bufpool_free(p);
}

/* Cancelled mid-stream: the stage puts back the buffer in its hand, the
 * consumer drains the output; no buffer is lost. */
static void bufpool_cancel_returns_every_buffer(void **state) {
  (void)state;
  int base = gort_num_tasks();
  gortp_bufpool *p;
  assert_int_equal(gortp_bufpool_new(&p, 64), 0);
  gort_context *ctx;
  assert_int_equal(gort_context_with_cancel(gort_context_background(), &ctx), 0);
  gort_chan *in, *out;
  assert_int_equal(GORT_CHAN_MAKE(&in, gortp_bufpool_slice, 0), 0);
  assert_int_equal(gortp_bufpool_pipeline(ctx, p, in, &out), 0);
  for (int k = 0; k < 60; k++) { /* fewer than the output's 64 slots */
    gortp_bufpool_slice sl = {"xyz", 3};
    assert_int_equal(gort_chan_send(in, &sl), 0);
  }
  gortp_bufpool_buffer *b;
  assert_int_equal(gort_chan_recv(out, &b, NULL), 0);
  gortp_bufpool_put(p, b);
  gort_context_cancel(ctx);
  gortp_bufpool_drain_chan(p, out); /* returns after the stage closed out */
  assert_true(ptest_tasks_settle(base));
  /* Every buffer is back: draining destroys exactly what was made. */
  uint64_t made = gortp_bufpool_allocated(p);
  assert_true(made >= 1);
  gortp_bufpool_drain(p);
  assert_int_equal(gortp_bufpool_destroyed(p), made);
  gort_chan_release(out);
  gort_chan_release(in);
  gort_context_free(ctx);
  gortp_bufpool_free(p);
}

static void bufpool_append_grows(void **state) {
  (void)state;
  gortp_bufpool *p;
  assert_int_equal(gortp_bufpool_new(&p, 4), 0);
  gortp_bufpool_buffer *b = gortp_bufpool_get(p);
  assert_non_null(b);
  char big[1000];
  memset(big, 'q', sizeof big);
  assert_int_equal(gortp_bufpool_append(b, big, sizeof big), 0);
  assert_int_equal(b->len, 1000);
  assert_true(b->cap >= 1000);
  gortp_bufpool_put(p, b);
  gortp_bufpool_free(p);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(bufpool_process_resets_buffers),
    cmocka_unit_test(bufpool_pipeline_recycles_buffers),
    cmocka_unit_test(bufpool_cancel_returns_every_buffer),
    cmocka_unit_test(bufpool_append_grows),
};

GORT_TEST_MAIN(tests)
