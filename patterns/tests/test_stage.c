/* test_stage.c - seed 004's generic stage pipeline, with per-item errors
 * delivered downstream instead of the seed's silent `continue`. */
#include "ptest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gortp/stage.h"

static _Atomic int live_values;     /* heap values not yet freed */
static _Atomic int producer_errors; /* cmocka asserts only on the test's task */

static int *new_int(int v) {
  int *p = malloc(sizeof *p);
  if (!p) abort();
  *p = v;
  atomic_fetch_add(&live_values, 1);
  return p;
}

static void free_value(void *v) {
  atomic_fetch_sub(&live_values, 1);
  free(v);
}

typedef struct {
  gort_chan *source;
  int n;
} producer_arg;

/* The source's sender: plain blocking sends (it knows nothing about the
 * pipeline's context), then close. */
static void producer(void *arg) {
  producer_arg *pa = arg;
  for (int i = 1; i <= pa->n; i++) {
    int *v = new_int(i);
    if (gort_chan_send(pa->source, &v) != 0) atomic_fetch_add(&producer_errors, 1);
  }
  gort_chan_close(pa->source);
}

/* validate: odd numbers are invalid. Consumes in either way. */
static int validate(gort_context *ctx, void *in, void **out, void *arg) {
  (void)ctx;
  (void)arg;
  if (*(int *)in % 2) {
    free_value(in);
    return GORT_EINVAL;
  }
  *out = in;
  return 0;
}

static int enrich(gort_context *ctx, void *in, void **out, void *arg) {
  (void)ctx;
  *(int *)in *= (int)(intptr_t)arg;
  *out = in;
  return 0;
}

static int transform(gort_context *ctx, void *in, void **out, void *arg) {
  (void)ctx;
  (void)arg;
  char *s = malloc(32);
  if (!s) return GORT_ENOMEM;
  snprintf(s, 32, "item-%d", *(int *)in);
  free_value(in);
  atomic_fetch_add(&live_values, 1);
  *out = s;
  return 0;
}

static void stage_errors_travel_downstream_in_order(void **state) {
  (void)state;
  int base = gort_num_tasks();
  gort_chan *src;
  assert_int_equal(gort_chan_make(&src, sizeof(void *), 0), 0);
  const gortp_stage stages[] = {
      {validate, NULL, free_value, 4},
      {enrich, (void *)(intptr_t)10, free_value, 4},
      {transform, NULL, free_value, 4},
  };
  gortp_stage_pipeline *p;
  assert_int_equal(gortp_stage_new(&p, NULL, src, free_value, stages, 3), 0);
  producer_arg pa = {src, 10};
  assert_int_equal(gort_go(producer, &pa), 0);
  int n = 0, failed = 0;
  for (gortp_stage_item it; GORT_CHAN_RANGE(gortp_stage_output(p), &it); n++) {
    assert_int_equal((int)it.seq, n); /* one item per source item, in order */
    int v = n + 1;
    if (v % 2) {
      assert_int_equal(it.err, GORT_EINVAL);
      assert_int_equal(it.stage, 0);
      assert_null(it.value);
      failed++;
    } else {
      char want[32];
      snprintf(want, sizeof want, "item-%d", v * 10);
      assert_int_equal(it.err, 0);
      assert_int_equal(it.stage, -1);
      assert_string_equal(it.value, want);
      free_value(it.value);
    }
  }
  assert_int_equal(n, 10);
  assert_int_equal(failed, 5);
  gortp_stage_free(p);
  gort_chan_release(src);
  assert_int_equal(atomic_load(&live_values), 0);
  assert_int_equal(atomic_load(&producer_errors), 0);
  assert_true(ptest_tasks_settle(base));
}

/* The consumer takes three items and walks away: free cancels, every value
 * in flight (buffered in any stage, or still to come from the producer) is
 * destroyed, the producer is never left blocked, every task exits. */
static void stage_free_midway_destroys_everything(void **state) {
  (void)state;
  int base = gort_num_tasks();
  gort_context *ctx;
  assert_int_equal(gort_context_with_cancel(gort_context_background(), &ctx), 0);
  gort_chan *src;
  assert_int_equal(gort_chan_make(&src, sizeof(void *), 8), 0);
  const gortp_stage stages[] = {
      {enrich, (void *)(intptr_t)2, free_value, 16},
      {enrich, (void *)(intptr_t)3, free_value, 16},
      {transform, NULL, free_value, 16},
  };
  gortp_stage_pipeline *p;
  assert_int_equal(gortp_stage_new(&p, ctx, src, free_value, stages, 3), 0);
  producer_arg pa = {src, 2000};
  assert_int_equal(gort_go(producer, &pa), 0);
  for (int i = 1; i <= 3; i++) {
    gortp_stage_item it;
    assert_int_equal(gort_chan_recv(gortp_stage_output(p), &it, NULL), 0);
    char want[32];
    snprintf(want, sizeof want, "item-%d", i * 6);
    assert_string_equal(it.value, want);
    free_value(it.value);
  }
  gortp_stage_free(p); /* returns once the producer has closed the source */
  assert_true(gort_chan_is_closed(src));
  assert_true(ptest_tasks_settle(base));
  assert_int_equal(atomic_load(&live_values), 0);
  gort_chan_release(src);
  gort_context_free(ctx);
}

/* Cancelling the caller's context stops the pipeline the same way. */
static void stage_parent_cancel_closes_output(void **state) {
  (void)state;
  int base = gort_num_tasks();
  gort_context *ctx;
  assert_int_equal(gort_context_with_cancel(gort_context_background(), &ctx), 0);
  gort_chan *src;
  assert_int_equal(gort_chan_make(&src, sizeof(void *), 0), 0);
  const gortp_stage stages[] = {{enrich, (void *)(intptr_t)1, free_value, 0}};
  gortp_stage_pipeline *p;
  assert_int_equal(gortp_stage_new(&p, ctx, src, free_value, stages, 1), 0);
  producer_arg pa = {src, 1000};
  assert_int_equal(gort_go(producer, &pa), 0);
  gortp_stage_item it;
  assert_int_equal(gort_chan_recv(gortp_stage_output(p), &it, NULL), 0);
  free_value(it.value);
  gort_context_cancel(ctx);
  int extra = 0;
  while (gort_chan_recv(gortp_stage_output(p), &it, NULL) == 0) {
    free_value(it.value);
    extra++;
  }
  assert_true(extra < 999);
  gortp_stage_free(p);
  assert_true(ptest_tasks_settle(base));
  assert_int_equal(atomic_load(&live_values), 0);
  gort_chan_release(src);
  gort_context_free(ctx);
}

static void stage_rejects_bad_arguments(void **state) {
  (void)state;
  gort_chan *src, *ints;
  assert_int_equal(gort_chan_make(&src, sizeof(void *), 0), 0);
  assert_int_equal(gort_chan_make(&ints, sizeof(char), 0), 0);
  gortp_stage_pipeline *p = NULL;
  const gortp_stage ok[] = {{enrich, NULL, NULL, 0}};
  const gortp_stage noproc[] = {{NULL, NULL, NULL, 0}};
  const gortp_stage negbuf[] = {{enrich, NULL, NULL, -1}};
  assert_int_equal(gortp_stage_new(&p, NULL, src, NULL, ok, 0), GORT_EINVAL);
  assert_int_equal(gortp_stage_new(&p, NULL, NULL, NULL, ok, 1), GORT_EINVAL);
  assert_int_equal(gortp_stage_new(&p, NULL, ints, NULL, ok, 1), GORT_EINVAL);
  assert_int_equal(gortp_stage_new(&p, NULL, src, NULL, noproc, 1), GORT_EINVAL);
  assert_int_equal(gortp_stage_new(&p, NULL, src, NULL, negbuf, 1), GORT_EINVAL);
  assert_null(p);
  gort_chan_release(src);
  gort_chan_release(ints);
}

/* When the OS refuses a thread, start fails cleanly: nothing keeps running. */
static void stage_spawn_failure_starts_nothing(void **state) {
  (void)state;
  int base = gort_num_tasks();
  gort_chan *src;
  assert_int_equal(gort_chan_make(&src, sizeof(void *), 0), 0);
  const gortp_stage stages[] = {{enrich, NULL, NULL, 0}, {enrich, NULL, NULL, 0}};
  gortp_stage_pipeline *p = NULL;
  gort_debug_fail_thread_create(1);
  assert_int_equal(gortp_stage_new(&p, NULL, src, NULL, stages, 2), GORT_ETHREAD);
  gort_debug_fail_thread_create(0);
  assert_null(p);
  assert_false(gort_chan_is_closed(src));
  assert_true(ptest_tasks_settle(base));
  gort_chan_release(src);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(stage_errors_travel_downstream_in_order),
    cmocka_unit_test(stage_free_midway_destroys_everything),
    cmocka_unit_test(stage_parent_cancel_closes_output),
    cmocka_unit_test(stage_rejects_bad_arguments),
    cmocka_unit_test(stage_spawn_failure_starts_nothing),
};

GORT_TEST_MAIN(tests)
