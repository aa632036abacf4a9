/* test_dynpool.c - seed 004's dynamic worker pool: grows with the queue up
 * to max, shrinks to min when idle, and (unlike the seed) survives its own
 * shrink and its own Stop. */
#include "ptest.h"

#include "gortp/dynpool.h"

static _Atomic int done_tasks;

typedef struct {
  gort_chan *gate; /* closed to let every blocked task finish */
} gate_arg;

static int gated_task(gort_context *ctx, void *arg) {
  (void)ctx;
  gort_chan_recv(((gate_arg *)arg)->gate, NULL, NULL);
  atomic_fetch_add(&done_tasks, 1);
  return 0;
}

static bool done_reached(void *n) { return atomic_load(&done_tasks) >= (int)(intptr_t)n; }

static void dynpool_grows_to_max_and_shrinks_to_min(void **state) {
  (void)state;
  int base = gort_num_tasks();
  atomic_store(&done_tasks, 0);
  gate_arg g;
  assert_int_equal(GORT_CHAN_MAKE(&g.gate, int, 0), 0);
  gortp_dynpool *p;
  gortp_dynpool_config cfg = {.min_workers = 1, .max_workers = 4, .queue_cap = 16};
  assert_int_equal(gortp_dynpool_new(&p, &cfg), 0);
  assert_int_equal(gortp_dynpool_adjust(p), GORT_EINVAL); /* not started */
  assert_int_equal(gortp_dynpool_start(p, NULL), 0);
  assert_int_equal(gortp_dynpool_workers(p), 1);
  assert_true(ptest_tasks_settle(base + 1));
  for (int i = 0; i < 10; i++) assert_int_equal(gortp_dynpool_submit(p, gated_task, &g), 0);
  /* At least 10 - 4 tasks wait in the queue whatever the workers took, so
   * the queue stays longer than the worker count until max. */
  assert_int_equal(gortp_dynpool_adjust(p), 1);
  assert_int_equal(gortp_dynpool_workers(p), 2);
  assert_int_equal(gortp_dynpool_adjust(p), 1);
  assert_int_equal(gortp_dynpool_adjust(p), 1);
  assert_int_equal(gortp_dynpool_workers(p), 4);
  assert_int_equal(gortp_dynpool_adjust(p), 0); /* max reached */
  assert_int_equal(gortp_dynpool_workers(p), 4);
  assert_true(ptest_tasks_settle(base + 4));
  assert_true(ptest_tasks_reach(base + 4));
  /* Work drains; the queue is empty; the pool shrinks to min, not below
   * (the seed queues five retirements here and ends with no worker). */
  gort_chan_close(g.gate);
  assert_true(gort_test_eventually(done_reached, (void *)10, 5000));
  assert_int_equal(gortp_dynpool_adjust(p), -3);
  assert_int_equal(gortp_dynpool_workers(p), 1);
  assert_true(ptest_tasks_settle(base + 1));
  assert_int_equal(gortp_dynpool_adjust(p), 0);
  assert_int_equal(gortp_dynpool_peak_workers(p), 4);
  /* The one remaining worker still serves. */
  assert_int_equal(gortp_dynpool_submit(p, gated_task, &g), 0);
  assert_true(gort_test_eventually(done_reached, (void *)11, 5000));
  assert_int_equal(gortp_dynpool_stop(p), 0);
  assert_int_equal(gortp_dynpool_adjust(p), GORT_ESHUTDOWN);
  assert_int_equal(gortp_dynpool_submit(p, gated_task, &g), GORT_ESHUTDOWN);
  gortp_dynpool_free(p);
  gort_chan_release(g.gate);
  assert_true(ptest_tasks_settle(base));
}

static bool workers_equal(void *arg) {
  void **a = arg;
  return gortp_dynpool_workers(a[0]) == (int)(intptr_t)a[1];
}

/* The same with the pool's own ticker doing the adjusting. */
static void dynpool_ticker_adjusts_by_itself(void **state) {
  (void)state;
  int base = gort_num_tasks();
  atomic_store(&done_tasks, 0);
  gate_arg g;
  assert_int_equal(GORT_CHAN_MAKE(&g.gate, int, 0), 0);
  gortp_dynpool *p;
  gortp_dynpool_config cfg = {.min_workers = 2,
                              .max_workers = 5,
                              .queue_cap = 32,
                              .adjust_every = 2 * GORT_MILLISECOND};
  assert_int_equal(gortp_dynpool_new(&p, &cfg), 0);
  assert_int_equal(gortp_dynpool_start(p, NULL), 0);
  for (int i = 0; i < 20; i++) assert_int_equal(gortp_dynpool_submit(p, gated_task, &g), 0);
  void *want_max[2] = {p, (void *)5};
  assert_true(gort_test_eventually(workers_equal, want_max, 5000));
  gort_chan_close(g.gate);
  assert_true(gort_test_eventually(done_reached, (void *)20, 5000));
  void *want_min[2] = {p, (void *)2};
  assert_true(gort_test_eventually(workers_equal, want_min, 5000));
  assert_true(ptest_tasks_settle(base + 2 + 1)); /* two workers and the ticker */
  assert_int_equal(gortp_dynpool_peak_workers(p), 5);
  assert_int_equal(gortp_dynpool_stop(p), 0);
  gortp_dynpool_free(p);
  gort_chan_release(g.gate);
  assert_true(ptest_tasks_settle(base));
}

static int count_task(gort_context *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  atomic_fetch_add(&done_tasks, 1);
  return 0;
}

/* Stop while the ticker is busy: no worker is added after stop, no marker
 * is sent on the closed queue, every accepted task runs once. */
static void dynpool_stop_with_busy_ticker(void **state) {
  (void)state;
  int base = gort_num_tasks();
  int *misuses = gort_test_misuse_return_mode();
  for (int round = 0; round < 20; round++) {
    atomic_store(&done_tasks, 0);
    gortp_dynpool *p;
    gortp_dynpool_config cfg = {1, 8, 64, GORT_MICROSECOND * 200};
    assert_int_equal(gortp_dynpool_new(&p, &cfg), 0);
    assert_int_equal(gortp_dynpool_start(p, NULL), 0);
    int accepted = 0;
    for (int i = 0; i < 200; i++)
      if (gortp_dynpool_submit(p, count_task, NULL) == 0) accepted++;
    assert_int_equal(gortp_dynpool_stop(p), 0);
    assert_int_equal(atomic_load(&done_tasks), accepted);
    gortp_dynpool_free(p);
  }
  assert_int_equal(*misuses, 0);
  gort_test_misuse_abort_mode();
  assert_true(ptest_tasks_settle(base));
}

static void dynpool_rejects_bad_config(void **state) {
  (void)state;
  gortp_dynpool *p;
  gortp_dynpool_config bad1 = {0, 4, 0, 0}, bad2 = {3, 2, 0, 0}, bad3 = {1, 2, -1, 0};
  assert_int_equal(gortp_dynpool_new(&p, &bad1), GORT_EINVAL);
  assert_int_equal(gortp_dynpool_new(&p, &bad2), GORT_EINVAL);
  assert_int_equal(gortp_dynpool_new(&p, &bad3), GORT_EINVAL);
  assert_int_equal(gortp_dynpool_new(&p, NULL), GORT_EINVAL);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(dynpool_grows_to_max_and_shrinks_to_min),
    cmocka_unit_test(dynpool_ticker_adjusts_by_itself),
    cmocka_unit_test(dynpool_stop_with_busy_ticker),
    cmocka_unit_test(dynpool_rejects_bad_config),
};

GORT_TEST_MAIN(tests)
