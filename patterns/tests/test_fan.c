/* test_fan.c - fan-out / fan-in from seeds 000, 002, 003 and 004. */
#include "ptest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gortp/fan.h"

typedef struct {
  gort_chan *c;
  int from, to;
} gen_arg;

static void gen_range(void *p) {
  gen_arg *a = p;
  for (int i = a->from; i < a->to; i++) gort_chan_send(a->c, &i);
  gort_chan_close(a->c);
}

static void square_fn(const void *in, void *out, size_t worker, void *arg) {
  (void)worker;
  (void)arg;
  int v = *(const int *)in;
  *(int *)out = v * v;
}

/* Seed 003: fanOut(source, 3, square) + fanIn prints the squares of 1..10,
 * in some order. */
static void fan_squares_1_to_10(void **state) {
  (void)state;
  int base = gort_num_tasks();
  gort_chan *src;
  assert_int_equal(GORT_CHAN_MAKE(&src, int, 10), 0);
  gen_arg ga = {src, 1, 11};
  assert_int_equal(gort_go(gen_range, &ga), 0);
  gort_chan *outs[3], *merged;
  assert_int_equal(gortp_fan_out_map(NULL, src, 3, sizeof(int), square_fn, NULL, outs), 0);
  assert_int_equal(gortp_fan_in(NULL, outs, 3, &merged), 0);
  for (int i = 0; i < 3; i++) gort_chan_release(outs[i]);
  gort_chan_release(src);
  int seen[101] = {0}, n = 0;
  for (int v; GORT_CHAN_RANGE(merged, &v); n++) {
    assert_true(v >= 1 && v <= 100);
    seen[v]++;
  }
  assert_int_equal(n, 10);
  for (int i = 1; i <= 10; i++) assert_int_equal(seen[i * i], 1);
  gort_chan_release(merged);
  assert_true(ptest_tasks_settle(base));
}

/* Every input reaches exactly one worker and comes out exactly once. */
static void fan_every_input_exactly_once(void **state) {
  (void)state;
  int base = gort_num_tasks();
  enum { N = 20000, W = 4 };
  gort_chan *src;
  assert_int_equal(GORT_CHAN_MAKE(&src, int, 64), 0);
  gen_arg ga = {src, 0, N};
  assert_int_equal(gort_go(gen_range, &ga), 0);
  gort_chan *outs[W], *merged;
  assert_int_equal(gortp_fan_out(NULL, src, W, outs), 0);
  assert_int_equal(gortp_fan_in(NULL, outs, W, &merged), 0);
  for (int i = 0; i < W; i++) gort_chan_release(outs[i]);
  gort_chan_release(src);
  unsigned char *seen = calloc(N, 1);
  assert_non_null(seen);
  int n = 0;
  for (int v; GORT_CHAN_RANGE(merged, &v); n++) {
    assert_true(v >= 0 && v < N);
    assert_int_equal(seen[v], 0);
    seen[v] = 1;
  }
  assert_int_equal(n, N);
  free(seen);
  gort_chan_release(merged);
  assert_true(ptest_tasks_settle(base));
}

/* Seed 000: workers tag what they process; three workers, six items. */
typedef struct {
  char s[8];
} item;
typedef struct {
  char s[40];
} line;

static void tag_fn(const void *in, void *out, size_t worker, void *arg) {
  (void)arg;
  snprintf(((line *)out)->s, sizeof(line), "worker-%zu processed %s", worker + 1,
           ((const item *)in)->s);
}

static void fan_seed000_worker_lines(void **state) {
  (void)state;
  int base = gort_num_tasks();
  gort_chan *in;
  assert_int_equal(GORT_CHAN_MAKE(&in, item, 6), 0);
  const char *names = "abcdef";
  for (int i = 0; i < 6; i++) {
    item it = {{names[i], 0}};
    assert_int_equal(gort_chan_send(in, &it), 0);
  }
  gort_chan_close(in);
  gort_chan *w[3], *merged;
  assert_int_equal(gortp_fan_out_map(NULL, in, 3, sizeof(line), tag_fn, NULL, w), 0);
  assert_int_equal(gortp_fan_in(NULL, w, 3, &merged), 0);
  int seen[6] = {0}, n = 0;
  for (line l; GORT_CHAN_RANGE(merged, &l); n++) {
    int id;
    char c;
    assert_int_equal(sscanf(l.s, "worker-%d processed %c", &id, &c), 2);
    assert_true(id >= 1 && id <= 3);
    assert_true(c >= 'a' && c <= 'f');
    seen[c - 'a']++;
  }
  assert_int_equal(n, 6);
  for (int i = 0; i < 6; i++) assert_int_equal(seen[i], 1);
  for (int i = 0; i < 3; i++) gort_chan_release(w[i]);
  gort_chan_release(in);
  gort_chan_release(merged);
  assert_true(ptest_tasks_settle(base));
}

/* The merged channel closes when, and only when, every input has closed. */
static void fan_in_closes_after_all_inputs(void **state) {
  (void)state;
  int base = gort_num_tasks();
  gort_chan *ins[3], *merged;
  for (int i = 0; i < 3; i++) assert_int_equal(GORT_CHAN_MAKE(&ins[i], int, 1), 0);
  assert_int_equal(gortp_fan_in(NULL, ins, 3, &merged), 0);
  assert_int_equal(GORT_CHAN_SEND(ins[0], int, 7), 0);
  int v;
  assert_int_equal(gort_chan_recv(merged, &v, NULL), 0);
  assert_int_equal(v, 7);
  gort_chan_close(ins[0]);
  gort_chan_close(ins[2]);
  /* Two forwarders gone, one still waiting on ins[1]. */
  assert_true(ptest_tasks_settle(base + 1));
  assert_false(gort_chan_is_closed(merged));
  assert_int_equal(gort_chan_try_recv(merged, &v, NULL), GORT_EAGAIN);
  assert_int_equal(GORT_CHAN_SEND(ins[1], int, 8), 0);
  assert_int_equal(gort_chan_recv(merged, &v, NULL), 0);
  assert_int_equal(v, 8);
  gort_chan_close(ins[1]);
  assert_int_equal(gort_chan_recv(merged, &v, NULL), GORT_ECLOSED);
  for (int i = 0; i < 3; i++) gort_chan_release(ins[i]);
  gort_chan_release(merged);
  assert_true(ptest_tasks_settle(base));
}

static void fan_in_of_nothing_is_closed(void **state) {
  (void)state;
  gort_chan *merged;
  assert_int_equal(gortp_fan_in(NULL, NULL, 0, &merged), 0);
  assert_int_equal(gort_chan_recv(merged, NULL, NULL), GORT_ECLOSED);
  gort_chan_release(merged);
}

/* Seed 004: both sides honour cancellation, even when the inputs never close
 * and nobody reads the outputs. */
static void fan_cancel_stops_all_tasks(void **state) {
  (void)state;
  int base = gort_num_tasks();
  gort_context *ctx;
  assert_int_equal(gort_context_with_cancel(gort_context_background(), &ctx), 0);
  gort_chan *src;
  assert_int_equal(GORT_CHAN_MAKE(&src, int, 4), 0);
  for (int i = 0; i < 4; i++) assert_int_equal(GORT_CHAN_SEND(src, int, i), 0);
  gort_chan *outs[5], *merged;
  assert_int_equal(gortp_fan_out(ctx, src, 5, outs), 0);
  assert_int_equal(gortp_fan_in(ctx, outs, 5, &merged), 0);
  int v;
  assert_int_equal(gort_chan_recv(merged, &v, NULL), 0); /* one element through */
  /* Ten tasks, all parked: source still open, outputs unread. */
  assert_true(ptest_parked(10));
  gort_context_cancel(ctx);
  assert_true(ptest_tasks_settle(base));
  /* The merged channel is closed (after at most the elements that won the
   * race against cancellation); so are the fan-out outputs. */
  int extra = 0;
  while (gort_chan_recv(merged, &v, NULL) == 0) extra++;
  assert_true(extra <= 3);
  for (int i = 0; i < 5; i++) {
    while (gort_chan_recv(outs[i], &v, NULL) == 0) {
    }
    assert_true(gort_chan_is_closed(outs[i]));
    gort_chan_release(outs[i]);
  }
  assert_false(gort_chan_is_closed(src)); /* the source is not ours to close */
  gort_chan_release(src);
  gort_chan_release(merged);
  gort_context_free(ctx);
}

static void fan_spawn_failure_leaves_nothing_running(void **state) {
  (void)state;
  int base = gort_num_tasks();
  gort_chan *src, *outs[3], *merged = NULL;
  assert_int_equal(GORT_CHAN_MAKE(&src, int, 0), 0);
  gort_debug_fail_thread_create(1);
  assert_int_equal(gortp_fan_out(NULL, src, 3, outs), GORT_ETHREAD);
  gort_debug_fail_thread_create(1);
  assert_int_equal(gortp_fan_in(NULL, &src, 1, &merged), GORT_ETHREAD);
  gort_debug_fail_thread_create(0);
  assert_null(merged);
  assert_true(ptest_tasks_settle(base));
  gort_chan_release(src);
}

static void fan_rejects_bad_arguments(void **state) {
  (void)state;
  gort_chan *a, *b, *outs[2], *m;
  assert_int_equal(GORT_CHAN_MAKE(&a, int, 0), 0);
  assert_int_equal(GORT_CHAN_MAKE(&b, char, 0), 0);
  assert_int_equal(gortp_fan_out(NULL, NULL, 2, outs), GORT_EINVAL);
  assert_int_equal(gortp_fan_out(NULL, a, 0, outs), GORT_EINVAL);
  assert_int_equal(gortp_fan_out_map(NULL, a, 2, sizeof(int), NULL, NULL, outs), GORT_EINVAL);
  gort_chan *mixed[2] = {a, b};
  assert_int_equal(gortp_fan_in(NULL, mixed, 2, &m), GORT_EINVAL);
  gort_chan *withnull[2] = {a, NULL};
  assert_int_equal(gortp_fan_in(NULL, withnull, 2, &m), GORT_EINVAL);
  gort_chan_release(a);
  gort_chan_release(b);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(fan_squares_1_to_10),
    cmocka_unit_test(fan_every_input_exactly_once),
    cmocka_unit_test(fan_seed000_worker_lines),
    cmocka_unit_test(fan_in_closes_after_all_inputs),
    cmocka_unit_test(fan_in_of_nothing_is_closed),
    cmocka_unit_test(fan_cancel_stops_all_tasks),
    cmocka_unit_test(fan_spawn_failure_leaves_nothing_running),
    cmocka_unit_test(fan_rejects_bad_arguments),
};

GORT_TEST_MAIN(tests)
