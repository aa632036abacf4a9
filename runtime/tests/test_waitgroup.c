/* test_waitgroup.c - gort_waitgroup: Go's sync.WaitGroup (and wg.Go).
 *
 * Tasks never call cmocka asserts (they would longjmp across threads); they
 * count what they see in atomics and the test asserts on those.
 */
#include "support/gort_test.h"

#include <stdatomic.h>

#include "gort/gort.h"
#include "gort/introspect.h"

/* ---- wait returns only after every Done ---- */

typedef struct {
  gort_waitgroup *gate; /* tasks hold here until the test opens it */
  gort_waitgroup *wg;
  atomic_int *finished;
} worker_arg;

static void worker(void *p) {
  worker_arg *a = p;
  gort_waitgroup_wait(a->gate);
  for (int i = 0; i < 100; i++) gort_yield(); /* finish at scattered times */
  atomic_fetch_add(a->finished, 1);
  gort_waitgroup_done(a->wg);
}

static void waitgroup_wait_after_all_done(void **state) {
  (void)state;
  enum { N = 16 };
  gort_waitgroup gate = GORT_WAITGROUP_INIT, wg = GORT_WAITGROUP_INIT;
  atomic_int finished = 0;
  worker_arg a = {&gate, &wg, &finished};
  assert_int_equal(gort_waitgroup_add(&gate, 1), 0);
  assert_int_equal(gort_waitgroup_add(&wg, N), 0);
  for (int i = 0; i < N; i++) assert_int_equal(gort_go(worker, &a), 0);
  assert_int_equal(atomic_load(&finished), 0);
  assert_int_equal(gort_waitgroup_done(&gate), 0);
  assert_int_equal(gort_waitgroup_wait(&wg), 0);
  /* Every Done came after its task's increment, so all are visible now. */
  assert_int_equal(atomic_load(&finished), N);
  assert_int_equal(wg.count, 0);
  gort_waitgroup_destroy(&wg);
  gort_waitgroup_destroy(&gate);
}

static void waitgroup_wait_at_zero_returns(void **state) {
  (void)state;
  gort_waitgroup wg;
  gort_waitgroup_init(&wg);
  assert_int_equal(gort_waitgroup_wait(&wg), 0);
  assert_int_equal(gort_waitgroup_add(&wg, 3), 0);
  assert_int_equal(gort_waitgroup_add(&wg, -3), 0);
  assert_int_equal(gort_waitgroup_wait(&wg), 0);
  assert_int_equal(gort_waitgroup_wait(&wg), 0);
  gort_waitgroup_destroy(&wg);
}

/* ---- several waiters are all released by the last Done ---- */

typedef struct {
  gort_waitgroup *wg;   /* what the waiters wait for */
  gort_waitgroup *exit; /* waiters report here when released */
  atomic_int *released;
} waiter_arg;

static void waiter(void *p) {
  waiter_arg *a = p;
  gort_waitgroup_wait(a->wg);
  atomic_fetch_add(a->released, 1);
  gort_waitgroup_done(a->exit);
}

static bool n_waitgroup_parked(void *n) {
  gort_task_info info[64];
  size_t live = gort_task_snapshot(info, 64);
  int parked = 0;
  for (size_t i = 0; i < live && i < 64; i++)
    if (info[i].state == GORT_TASK_WAITING && info[i].wait_reason == GORT_WAIT_WAITGROUP)
      parked++;
  return parked >= (int)(intptr_t)n;
}

static void waitgroup_multiple_waiters_released(void **state) {
  (void)state;
  enum { K = 8 };
  gort_waitgroup wg = GORT_WAITGROUP_INIT, exit = GORT_WAITGROUP_INIT;
  atomic_int released = 0;
  waiter_arg a = {&wg, &exit, &released};
  gort_waitgroup_add(&wg, 2);
  gort_waitgroup_add(&exit, K);
  for (int i = 0; i < K; i++) assert_int_equal(gort_go(waiter, &a), 0);
  assert_true(gort_test_eventually(n_waitgroup_parked, (void *)(intptr_t)K, 10000));
  assert_string_equal(gort_wait_reason_string(GORT_WAIT_WAITGROUP), "sync.WaitGroup.Wait");
  gort_waitgroup_done(&wg);
  assert_int_equal(atomic_load(&released), 0); /* count is 1: nobody released */
  gort_waitgroup_done(&wg);
  gort_waitgroup_wait(&exit);
  assert_int_equal(atomic_load(&released), K);
}

/* ---- reuse: Add after a Wait returned starts a new round ---- */

static void done_task(void *p) {
  worker_arg *a = p;
  atomic_fetch_add(a->finished, 1);
  gort_waitgroup_done(a->wg);
}

static void waitgroup_reuse_after_wait(void **state) {
  (void)state;
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  atomic_int finished = 0;
  worker_arg a = {NULL, &wg, &finished};
  for (int round = 1; round <= 50; round++) {
    gort_waitgroup_add(&wg, 4);
    for (int i = 0; i < 4; i++) assert_int_equal(gort_go(done_task, &a), 0);
    assert_int_equal(gort_waitgroup_wait(&wg), 0);
    assert_int_equal(atomic_load(&finished), 4 * round);
  }
}

/* ---- negative counter: misuse in both modes ---- */

static void negative_add(void *unused) {
  (void)unused;
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  gort_waitgroup_add(&wg, 1);
  gort_waitgroup_done(&wg);
  gort_waitgroup_done(&wg); /* aborts */
}

static void waitgroup_negative_counter_aborts(void **state) {
  (void)state;
  assert_true(gort_test_child_aborts(negative_add, NULL, "sync: negative WaitGroup counter"));
}

static void waitgroup_negative_counter_return_mode(void **state) {
  (void)state;
  int *calls = gort_test_misuse_return_mode();
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  assert_int_equal(gort_waitgroup_done(&wg), GORT_ENEGWG);
  assert_int_equal(*calls, 1);
  assert_int_equal(gort_test_misuse_last(), GORT_ENEGWG);
  assert_int_equal(wg.count, 0);
  assert_int_equal(gort_waitgroup_add(&wg, 2), 0);
  assert_int_equal(gort_waitgroup_add(&wg, -3), GORT_ENEGWG);
  assert_int_equal(*calls, 2);
  assert_int_equal(wg.count, 2); /* unchanged */
  gort_test_misuse_abort_mode();
  /* Still usable. */
  gort_waitgroup_done(&wg);
  gort_waitgroup_done(&wg);
  assert_int_equal(gort_waitgroup_wait(&wg), 0);
}

/* ---- wg.Go ---- */

static void count_call(void *p) { atomic_fetch_add((atomic_int *)p, 1); }

static void waitgroup_go_runs_every_fn(void **state) {
  (void)state;
  enum { N = 100 };
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  atomic_int calls = 0;
  for (int i = 0; i < N; i++) assert_int_equal(gort_waitgroup_go(&wg, count_call, &calls), 0);
  assert_int_equal(gort_waitgroup_wait(&wg), 0);
  assert_int_equal(atomic_load(&calls), N);
  assert_int_equal(wg.count, 0);
}

static void waitgroup_go_spawn_failure_undoes_add(void **state) {
  (void)state;
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  atomic_int calls = 0;
  gort_debug_fail_thread_create(1);
  assert_int_equal(gort_waitgroup_go(&wg, count_call, &calls), GORT_ETHREAD);
  gort_debug_fail_thread_create(0);
  assert_int_equal(wg.count, 0);
  assert_int_equal(gort_waitgroup_wait(&wg), 0); /* at once */
  /* The next spawn works again. */
  assert_int_equal(gort_waitgroup_go(&wg, count_call, &calls), 0);
  assert_int_equal(gort_waitgroup_wait(&wg), 0);
  assert_int_equal(atomic_load(&calls), 1);
}

static void waitgroup_go_invalid(void **state) {
  (void)state;
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  assert_int_equal(gort_waitgroup_go(&wg, NULL, NULL), GORT_EINVAL);
  assert_int_equal(wg.count, 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(waitgroup_wait_after_all_done),
    cmocka_unit_test(waitgroup_wait_at_zero_returns),
    cmocka_unit_test(waitgroup_multiple_waiters_released),
    cmocka_unit_test(waitgroup_reuse_after_wait),
    cmocka_unit_test(waitgroup_negative_counter_aborts),
    cmocka_unit_test(waitgroup_negative_counter_return_mode),
    cmocka_unit_test(waitgroup_go_runs_every_fn),
    cmocka_unit_test(waitgroup_go_spawn_failure_undoes_add),
    cmocka_unit_test(waitgroup_go_invalid),
};

GORT_TEST_MAIN(tests)
