/* test_badinput.c - every public call of the headers in runtime/include/gort
 * input, header by header.
 *
 * The rules (err.h): a call that returns int answers NULL (and any other
 * invalid argument) with GORT_EINVAL; a call with no error return treats a
 * NULL object as misuse, as Go panics on a nil *Mutex ("runtime error:
 * invalid memory address or nil pointer dereference"): abort with Go's
 * message by default, GORT_ENILPTR to the hook in RETURN mode. Free and
 * release functions ignore NULL, as free(3) does. Never a segfault.
 */
#include "support/gort_test.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gort/gort.h"
#include "gort/introspect.h"

/* In RETURN mode: run the expression, then check that exactly one misuse
 * with GORT_ENILPTR was reported for it. */
#define EXPECT_NIL_MISUSE(calls, expr)                           \
  do {                                                           \
    int before_ = *(calls);                                      \
    expr;                                                        \
    assert_int_equal(*(calls), before_ + 1);                     \
    assert_int_equal(gort_test_misuse_last(), GORT_ENILPTR);     \
  } while (0)

static const char nil_msg[] = "panic: runtime error: invalid memory address or nil pointer "
                              "dereference";

/* ---- sync.h ---- */

static void sync_null_objects(void **state) {
  (void)state;
  int *calls = gort_test_misuse_return_mode();
  /* int-returning: GORT_EINVAL, no misuse. */
  assert_int_equal(gort_waitgroup_add(NULL, 1), GORT_EINVAL);
  assert_int_equal(gort_waitgroup_done(NULL), GORT_EINVAL);
  assert_int_equal(gort_waitgroup_wait(NULL), GORT_EINVAL);
  assert_int_equal(gort_waitgroup_go(NULL, free, NULL), GORT_EINVAL);
  assert_int_equal(gort_mutex_unlock(NULL), GORT_EINVAL);
  assert_int_equal(gort_rwmutex_runlock(NULL), GORT_EINVAL);
  assert_int_equal(gort_rwmutex_unlock(NULL), GORT_EINVAL);
  assert_int_equal(*calls, 0);
  /* void and bool: misuse. */
  EXPECT_NIL_MISUSE(calls, gort_waitgroup_init(NULL));
  EXPECT_NIL_MISUSE(calls, gort_waitgroup_destroy(NULL));
  EXPECT_NIL_MISUSE(calls, gort_mutex_init(NULL));
  EXPECT_NIL_MISUSE(calls, gort_mutex_lock(NULL));
  EXPECT_NIL_MISUSE(calls, assert_false(gort_mutex_trylock(NULL)));
  EXPECT_NIL_MISUSE(calls, gort_mutex_destroy(NULL));
  EXPECT_NIL_MISUSE(calls, gort_rwmutex_init(NULL));
  EXPECT_NIL_MISUSE(calls, gort_rwmutex_rlock(NULL));
  EXPECT_NIL_MISUSE(calls, assert_false(gort_rwmutex_tryrlock(NULL)));
  EXPECT_NIL_MISUSE(calls, gort_rwmutex_lock(NULL));
  EXPECT_NIL_MISUSE(calls, assert_false(gort_rwmutex_trylock(NULL)));
  EXPECT_NIL_MISUSE(calls, gort_rwmutex_destroy(NULL));
  gort_mutex m = GORT_MUTEX_INIT;
  EXPECT_NIL_MISUSE(calls, gort_cond_init(NULL, &m));
  EXPECT_NIL_MISUSE(calls, gort_cond_wait(NULL));
  EXPECT_NIL_MISUSE(calls, gort_cond_signal(NULL));
  EXPECT_NIL_MISUSE(calls, gort_cond_broadcast(NULL));
  EXPECT_NIL_MISUSE(calls, gort_cond_destroy(NULL));
  /* sync.NewCond(nil) is allowed; its Wait dereferences nil. */
  gort_cond c;
  gort_cond_init(&c, NULL);
  EXPECT_NIL_MISUSE(calls, gort_cond_wait(&c));
  gort_cond_destroy(&c);
  EXPECT_NIL_MISUSE(calls, gort_once_do(NULL, free, NULL));
  gort_once o = GORT_ONCE_INIT;
  EXPECT_NIL_MISUSE(calls, gort_once_do(&o, NULL, NULL)); /* calling a nil func */
  EXPECT_NIL_MISUSE(calls, assert_null(gort_once_value_get(NULL, NULL, NULL)));
  gort_test_misuse_abort_mode();
}

static void lock_nil(void *arg) {
  (void)arg;
  gort_mutex_lock(NULL);
}

static void wg_init_nil(void *arg) {
  (void)arg;
  gort_waitgroup_init(NULL);
}

/* The default mode aborts with Go's panic text, not a segfault. */
static void sync_null_aborts_like_go(void **state) {
  (void)state;
  assert_true(gort_test_child_aborts(lock_nil, NULL, nil_msg));
  assert_true(gort_test_child_aborts(wg_init_nil, NULL, nil_msg));
}

/* wg.Add(INT64_MAX) twice: no signed overflow (UBSan would stop here), a
 * misuse of its own, and the counter left as it was. */
static void waitgroup_add_overflow(void **state) {
  (void)state;
  int *calls = gort_test_misuse_return_mode();
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  assert_int_equal(gort_waitgroup_add(&wg, INT64_MAX), 0);
  assert_int_equal(gort_waitgroup_add(&wg, INT64_MAX), GORT_EWGOVERFLOW);
  assert_int_equal(*calls, 1);
  assert_int_equal(gort_test_misuse_last(), GORT_EWGOVERFLOW);
  assert_true(gort_is_misuse(GORT_EWGOVERFLOW));
  assert_int_equal(gort_waitgroup_add(&wg, INT64_MIN), GORT_ENEGWG); /* no overflow either */
  assert_int_equal(gort_waitgroup_add(&wg, -INT64_MAX), 0);
  assert_int_equal(gort_waitgroup_wait(&wg), 0); /* back at zero */
  gort_test_misuse_abort_mode();
  gort_waitgroup_destroy(&wg);
}

/* ---- err.h ---- */

static void misuse_mode_invalid(void **state) {
  (void)state;
  gort_misuse_mode before = gort_get_misuse_mode();
  assert_int_equal(gort_set_misuse_mode((gort_misuse_mode)42), GORT_EINVAL);
  assert_int_equal(gort_get_misuse_mode(), before);
  assert_int_equal(gort_set_misuse_mode((gort_misuse_mode)-1), GORT_EINVAL);
  assert_int_equal(gort_get_misuse_mode(), before);
  assert_int_equal(gort_set_misuse_mode(GORT_MISUSE_RETURN), (int)before);
  assert_int_equal(gort_set_misuse_mode(before), GORT_MISUSE_RETURN);
}

/* ---- chan.h, select.h ---- */

static void chan_bad_input(void **state) {
  (void)state;
  gort_chan *c = NULL;
  assert_int_equal(gort_chan_make(&c, SIZE_MAX, 0), GORT_EINVAL);
  assert_null(c);
  assert_int_equal(gort_chan_make(NULL, 1, 0), GORT_EINVAL);
  c = gort_test_make_chan(sizeof(int), 1);
  assert_int_equal(gort_chan_send(c, NULL), GORT_EINVAL);
  assert_int_equal(gort_chan_try_send(c, NULL), GORT_EINVAL);
  gort_select_case k = gort_case_send(c, NULL);
  assert_int_equal(gort_select_try(&k, 1), GORT_EINVAL);
  k.dir = (gort_select_dir)7;
  assert_int_equal(gort_select_try(&k, 1), GORT_EINVAL);
  gort_chan_release(c);
  /* NULL is the nil channel (valid in Go): queries answer 0. */
  assert_null(gort_chan_retain(NULL));
  gort_chan_release(NULL);
  assert_int_equal(gort_chan_len(NULL) + gort_chan_cap(NULL) + gort_chan_elem_size(NULL), 0);
}

static void release_twice(void *arg) {
  (void)arg;
  gort_chan *c = gort_test_make_chan(sizeof(int), 0);
  gort_chan_release(c);
  gort_chan_release(c);
}

static void retain_released(void *arg) {
  (void)arg;
  gort_chan *c = gort_test_make_chan(sizeof(int), 0);
  gort_chan_release(c);
  gort_chan_retain(c);
}

/* A use after free is stopped: by our poisoned count (SIGABRT, "released
 * more times than retained"), or, in sanitizer builds, by ASan or TSan,
 * which see the access to freed memory first. */
static bool use_after_free_stopped(void (*fn)(void *)) {
  static gort_test_child_result r;
  if (!gort_test_child_run(fn, NULL, 60000, 0, &r)) return false;
  bool ours = gort_test_child_signaled(&r, SIGABRT) &&
              strstr(r.err, "released more times than retained") != NULL;
  bool sanitizer = !gort_test_child_exited(&r, 0) && strstr(r.err, "heap-use-after-free") != NULL;
  if (!ours && !sanitizer) fprintf(stderr, "child: status %d, stderr:\n%s\n", r.status, r.err);
  return ours || sanitizer;
}

/* The common double release is caught (the freed channel's count is
 * poisoned); what remains undefined is documented in chan.h. */
static void chan_double_release_detected(void **state) {
  (void)state;
  assert_true(use_after_free_stopped(release_twice));
  assert_true(use_after_free_stopped(retain_released));
}

/* ---- context.h ---- */

static void context_null(void **state) {
  (void)state;
  int *calls = gort_test_misuse_return_mode();
  assert_int_equal(gort_context_err(NULL), GORT_EINVAL);
  assert_int_equal(gort_context_cause(NULL), GORT_EINVAL);
  assert_null(gort_context_done(NULL));
  assert_false(gort_context_deadline(NULL, NULL));
  assert_null(gort_context_value(NULL, &calls));
  assert_null(gort_context_retain(NULL));
  gort_context_release(NULL); /* free-like: NULL ignored */
  gort_context_free(NULL);
  assert_int_equal(*calls, 0);
  EXPECT_NIL_MISUSE(calls, gort_context_cancel(NULL)); /* calling a nil CancelFunc */
  EXPECT_NIL_MISUSE(calls, gort_context_cancel_cause(NULL, GORT_EIO));
  gort_test_misuse_abort_mode();
}

static void context_free_twice(void *arg) {
  (void)arg;
  gort_context *c;
  if (gort_context_with_cancel(gort_context_background(), &c) != 0) return;
  gort_context_free(c);
  gort_context_free(c);
}

static void context_double_free_detected(void **state) {
  (void)state;
  assert_true(use_after_free_stopped(context_free_twice));
}

/* ---- timer.h ---- */

static void noop(void *arg) { (void)arg; }

static void timer_bad_input(void **state) {
  (void)state;
  int *calls = gort_test_misuse_return_mode();
  gort_timer *t = NULL;
  assert_int_equal(gort_after(1, NULL), GORT_EINVAL);
  assert_int_equal(gort_timer_new(NULL, 1), GORT_EINVAL);
  assert_int_equal(gort_timer_after_func(NULL, 1, noop, NULL), GORT_EINVAL);
  assert_int_equal(gort_timer_after_func(&t, 1, NULL, NULL), GORT_EINVAL);
  assert_null(t);
  assert_int_equal(gort_ticker_new(NULL, 1), GORT_EINVAL);
  assert_int_equal(gort_ticker_reset(NULL, 1), GORT_EINVAL);
  assert_null(gort_timer_chan(NULL));
  assert_null(gort_ticker_chan(NULL));
  gort_timer_free(NULL);
  gort_ticker_free(NULL);
  assert_int_equal(*calls, 0);
  /* (*time.Timer)(nil).Stop() panics in Go. */
  EXPECT_NIL_MISUSE(calls, assert_false(gort_timer_stop(NULL)));
  EXPECT_NIL_MISUSE(calls, assert_false(gort_timer_reset(NULL, 1)));
  EXPECT_NIL_MISUSE(calls, gort_ticker_stop(NULL));
  gort_test_misuse_abort_mode();
}

/* ---- task.h, introspect.h ---- */

static void task_bad_input(void **state) {
  (void)state;
  int *calls = gort_test_misuse_return_mode();
  assert_int_equal(gort_go(NULL, NULL), GORT_EINVAL);
  assert_int_equal(gort_set_stack_size(0), GORT_EINVAL);
  /* A NULL buffer with a size asks only for the count. */
  assert_true(gort_task_snapshot(NULL, 8) >= 1);
  (void)gort_runtime_threads(NULL, 8);
  assert_non_null(gort_wait_reason_string((gort_wait_reason)-5));
  assert_non_null(gort_wait_reason_string(GORT_WAIT__COUNT));
  assert_int_equal(*calls, 0);
  EXPECT_NIL_MISUSE(calls, gort_get_counters(NULL));
  EXPECT_NIL_MISUSE(calls, gort_dump_tasks(NULL));
  gort_test_misuse_abort_mode();
}

/* ---- semaphore.h, rate.h, errgroup.h, pool.h, singleflight.h ---- */

static int eg_fn(gort_context *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  return 0;
}

static void x_packages_bad_input(void **state) {
  (void)state;
  gort_context *bg = gort_context_background();
  assert_int_equal(gort_semaphore_new(NULL, 1), GORT_EINVAL);
  gort_semaphore *s = NULL;
  assert_int_equal(gort_semaphore_new(&s, -1), GORT_EINVAL);
  assert_null(s);
  assert_int_equal(gort_semaphore_acquire(NULL, bg, 1), GORT_EINVAL);
  assert_int_equal(gort_semaphore_try_acquire(NULL, 1), GORT_EINVAL);
  assert_int_equal(gort_semaphore_release(NULL, 1), GORT_EINVAL);
  assert_int_equal(gort_semaphore_new(&s, 2), 0);
  assert_int_equal(gort_semaphore_acquire(s, NULL, 1), GORT_EINVAL);
  assert_int_equal(gort_semaphore_acquire(s, bg, -1), GORT_EINVAL);
  assert_int_equal(gort_semaphore_try_acquire(s, -1), GORT_EINVAL);
  assert_int_equal(gort_semaphore_release(s, -1), GORT_EINVAL);
  gort_semaphore_free(s);
  gort_semaphore_free(NULL);

  gort_limiter *lim = NULL;
  assert_int_equal(gort_limiter_new(&lim, -1, 1), GORT_EINVAL);
  assert_int_equal(gort_limiter_new(&lim, 1, -1), GORT_EINVAL);
  assert_null(lim);
  assert_int_equal(gort_limiter_set_clock(NULL, NULL), GORT_EINVAL);
  assert_int_equal(gort_limiter_set_limit_at(NULL, 0, 1), GORT_EINVAL);
  assert_int_equal(gort_limiter_set_burst_at(NULL, 0, 1), GORT_EINVAL);
  assert_int_equal(gort_limiter_allow_n(NULL, 0, 1), GORT_EINVAL);
  gort_reservation r;
  assert_int_equal(gort_limiter_reserve_n(NULL, 0, 1, &r), GORT_EINVAL);
  assert_false(r.ok);
  assert_int_equal(gort_limiter_reserve_n_max(NULL, 0, 1, 0, &r), GORT_EINVAL);
  assert_int_equal(gort_limiter_wait_n(NULL, bg, 1), GORT_EINVAL);
  assert_int_equal(gort_limiter_new(&lim, 1, 1), 0);
  assert_int_equal(gort_limiter_reserve_n(lim, 0, 1, NULL), GORT_EINVAL);
  assert_int_equal(gort_limiter_wait_n(lim, NULL, 1), GORT_EINVAL);
  assert_int_equal(gort_limiter_wait_n(lim, bg, -1), GORT_EINVAL);
  gort_limiter_free(lim);

  gort_errgroup *g = NULL;
  assert_int_equal(gort_errgroup_new(&g), 0);
  assert_int_equal(gort_errgroup_go(g, NULL, NULL), GORT_EINVAL);
  assert_int_equal(gort_errgroup_go(NULL, eg_fn, NULL), GORT_EINVAL);
  gort_errgroup_free(g);

  assert_int_equal(gort_pool_new(NULL, NULL, NULL, NULL), GORT_EINVAL);
  assert_int_equal(gort_pool_get(NULL, NULL), GORT_EINVAL);
  assert_int_equal(gort_singleflight_new(NULL, NULL), GORT_EINVAL);
  assert_int_equal(gort_singleflight_forget(NULL, "k"), GORT_EINVAL);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(sync_null_objects),
    cmocka_unit_test(sync_null_aborts_like_go),
    cmocka_unit_test(waitgroup_add_overflow),
    cmocka_unit_test(misuse_mode_invalid),
    cmocka_unit_test(chan_bad_input),
    cmocka_unit_test(chan_double_release_detected),
    cmocka_unit_test(context_null),
    cmocka_unit_test(context_double_free_detected),
    cmocka_unit_test(timer_bad_input),
    cmocka_unit_test(task_bad_input),
    cmocka_unit_test(x_packages_bad_input),
};

GORT_TEST_MAIN(tests)
