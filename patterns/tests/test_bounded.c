/* test_bounded.c - bounded parallelism: the channel semaphore (seeds 000,
 * 002), errgroup + SetLimit (seeds 000, 001, 003), seed 001's errgroup
 * worker pool. */
#include "ptest.h"

#include <stdlib.h>

#include "gortp/bounded.h"

enum { MAXN = 2000 };
static _Atomic int in_flight, peak, calls;
static _Atomic int seen[MAXN];
static gort_chan *gate; /* closed when the items may finish */

static void reset(void) {
  atomic_store(&in_flight, 0);
  atomic_store(&peak, 0);
  atomic_store(&calls, 0);
  for (int i = 0; i < MAXN; i++) atomic_store(&seen[i], 0);
}

static void enter(size_t index) {
  int now = atomic_fetch_add(&in_flight, 1) + 1;
  int p = atomic_load(&peak);
  while (now > p && !atomic_compare_exchange_weak(&peak, &p, now)) {
  }
  atomic_fetch_add(&seen[index], 1);
  atomic_fetch_add(&calls, 1);
}

static void leave(void) { atomic_fetch_sub(&in_flight, 1); }

static void gated_item(size_t index, void *arg) {
  (void)arg;
  enter(index);
  if (gate) gort_chan_recv(gate, NULL, NULL);
  leave();
}

static bool in_flight_is(void *n) { return atomic_load(&in_flight) == (int)(intptr_t)n; }

typedef struct {
  int concurrency;
  size_t n;
  int result;
} run_arg;

static void run_bounded(void *p) {
  run_arg *a = p;
  a->result = gortp_bounded_run(a->concurrency, a->n, gated_item, NULL);
}

/* Never more than `concurrency` tasks; all items once; returns after all. */
static void bounded_channel_semaphore_limits_tasks(void **state) {
  (void)state;
  int base = gort_num_tasks();
  reset();
  assert_int_equal(GORT_CHAN_MAKE(&gate, int, 0), 0);
  run_arg a = {3, 10, -99};
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  assert_int_equal(gort_waitgroup_go(&wg, run_bounded, &a), 0);
  assert_true(gort_test_eventually(in_flight_is, (void *)3, 5000));
  /* The loop is blocked acquiring the 4th slot: no 4th task exists. */
  assert_true(ptest_parked(4));
  assert_int_equal(gort_num_tasks(), base + 1 + 3);
  assert_int_equal(atomic_load(&calls), 3);
  gort_chan_close(gate);
  gort_waitgroup_wait(&wg);
  assert_int_equal(a.result, 0);
  assert_int_equal(atomic_load(&in_flight), 0); /* returned after all ended */
  assert_int_equal(atomic_load(&peak), 3);
  assert_int_equal(atomic_load(&calls), 10);
  for (int i = 0; i < 10; i++) assert_int_equal(atomic_load(&seen[i]), 1);
  gort_chan_release(gate);
  gate = NULL;
  assert_true(ptest_tasks_settle(base));
}

static void bounded_many_items(void **state) {
  (void)state;
  reset();
  assert_int_equal(gortp_bounded_run(4, MAXN, gated_item, NULL), 0);
  assert_int_equal(atomic_load(&calls), MAXN);
  assert_true(atomic_load(&peak) <= 4);
  for (int i = 0; i < MAXN; i++) assert_int_equal(atomic_load(&seen[i]), 1);
  assert_int_equal(gortp_bounded_run(0, 1, gated_item, NULL), GORT_EINVAL);
}

static void bounded_spawn_failure_waits_for_started(void **state) {
  (void)state;
  int base = gort_num_tasks();
  reset();
  /* The first thread creation fails: nothing runs, the error comes back. */
  gort_debug_fail_thread_create(1);
  assert_int_equal(gortp_bounded_run(2, 5, gated_item, NULL), GORT_ETHREAD);
  gort_debug_fail_thread_create(0);
  assert_int_equal(atomic_load(&calls), 0);
  assert_true(ptest_tasks_settle(base));
}

/* errgroup items: gated, index 7 fails. */
static int eg_item(gort_context *ctx, size_t index, void *arg) {
  int fail_at = (int)(intptr_t)arg;
  enter(index);
  int r = 0;
  if ((int)index == fail_at) {
    r = GORT_EIO;
  } else if (gate) {
    /* Wait for the gate or for cancellation, like a request would. */
    gort_select_case c[2] = {gort_case_recv(gate, NULL), gort_case_recv(gort_context_done(ctx), NULL)};
    if (gort_select(c, 2) == 1) r = gort_context_err(ctx);
  }
  leave();
  return r;
}

typedef struct {
  int limit;
  size_t n;
  int fail_at;
  int result;
} eg_arg;

static void run_errgroup(void *p) {
  eg_arg *a = p;
  a->result = gortp_bounded_errgroup(NULL, a->limit, a->n, eg_item, (void *)(intptr_t)a->fail_at);
}

static void bounded_errgroup_limit_holds(void **state) {
  (void)state;
  int base = gort_num_tasks();
  reset();
  assert_int_equal(GORT_CHAN_MAKE(&gate, int, 0), 0);
  eg_arg a = {10, 100, -1, -99};
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  assert_int_equal(gort_waitgroup_go(&wg, run_errgroup, &a), 0);
  assert_true(gort_test_eventually(in_flight_is, (void *)10, 5000));
  assert_true(ptest_parked(11));
  assert_int_equal(atomic_load(&calls), 10); /* g.Go is blocked on the limit */
  gort_chan_close(gate);
  gort_waitgroup_wait(&wg);
  assert_int_equal(a.result, 0);
  assert_int_equal(atomic_load(&calls), 100);
  assert_int_equal(atomic_load(&peak), 10);
  gort_chan_release(gate);
  gate = NULL;
  assert_true(ptest_tasks_settle(base));
}

/* The first error cancels the items in flight and stops new ones. */
static void bounded_errgroup_first_error_cancels(void **state) {
  (void)state;
  int base = gort_num_tasks();
  reset();
  assert_int_equal(GORT_CHAN_MAKE(&gate, int, 0), 0); /* never closed */
  eg_arg a = {4, 1000, 2, -99};
  run_errgroup(&a);
  assert_int_equal(a.result, GORT_EIO);
  assert_int_equal(atomic_load(&in_flight), 0);
  /* Items 0..3 started (index 2 failed, the others saw the cancel), and at
   * most the one whose g.Go was already waiting for a slot after that. */
  assert_true(atomic_load(&calls) <= 5);
  assert_true(atomic_load(&calls) >= 3);
  gort_chan_release(gate);
  gate = NULL;
  assert_true(ptest_tasks_settle(base));
}

static void bounded_process_items_all_once(void **state) {
  (void)state;
  int base = gort_num_tasks();
  reset();
  assert_int_equal(gortp_bounded_process_items(NULL, 4, MAXN, eg_item, (void *)(intptr_t)-1), 0);
  assert_int_equal(atomic_load(&calls), MAXN);
  assert_true(atomic_load(&peak) <= 4);
  for (int i = 0; i < MAXN; i++) assert_int_equal(atomic_load(&seen[i]), 1);
  assert_true(ptest_tasks_settle(base));
}

static void bounded_process_items_error_stops_producer(void **state) {
  (void)state;
  int base = gort_num_tasks();
  reset();
  assert_int_equal(GORT_CHAN_MAKE(&gate, int, 0), 0); /* never closed */
  assert_int_equal(gortp_bounded_process_items(NULL, 3, MAXN, eg_item, (void *)(intptr_t)1), GORT_EIO);
  assert_true(atomic_load(&calls) < 10);
  assert_int_equal(atomic_load(&in_flight), 0);
  gort_chan_release(gate);
  gate = NULL;
  assert_true(ptest_tasks_settle(base));
}

static void bounded_parent_cancel(void **state) {
  (void)state;
  reset();
  gort_context *ctx;
  assert_int_equal(gort_context_with_cancel(gort_context_background(), &ctx), 0);
  gort_context_cancel(ctx);
  assert_int_equal(gortp_bounded_errgroup(ctx, 2, 50, eg_item, (void *)(intptr_t)-1), 0);
  assert_int_equal(atomic_load(&calls), 0); /* nothing started under a dead context */
  assert_int_equal(gortp_bounded_process_items(ctx, 2, 50, eg_item, (void *)(intptr_t)-1), GORT_ECANCELED);
  gort_context_free(ctx);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(bounded_channel_semaphore_limits_tasks),
    cmocka_unit_test(bounded_many_items),
    cmocka_unit_test(bounded_spawn_failure_waits_for_started),
    cmocka_unit_test(bounded_errgroup_limit_holds),
    cmocka_unit_test(bounded_errgroup_first_error_cancels),
    cmocka_unit_test(bounded_process_items_all_once),
    cmocka_unit_test(bounded_process_items_error_stops_producer),
    cmocka_unit_test(bounded_parent_cancel),
};

GORT_TEST_MAIN(tests)
