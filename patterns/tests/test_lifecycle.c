/* test_lifecycle.c - seed 001's goroutine with cleanup: Start(ctx) with an
 * errgroup, and the ticker loop that stops on cancellation. */
#include "ptest.h"

#include "gortp/lifecycle.h"

static _Atomic int ticks;
static gort_chan *tick_signal;

static void tick(void *arg) {
  (void)arg;
  atomic_fetch_add(&ticks, 1);
  if (tick_signal) gort_chan_try_send(tick_signal, &(int){1});
}

static void lifecycle_worker_ticks_then_stops(void **state) {
  (void)state;
  int base = gort_num_tasks();
  atomic_store(&ticks, 0);
  assert_int_equal(GORT_CHAN_MAKE(&tick_signal, int, 1), 0);
  gortp_lifecycle *w;
  assert_int_equal(gortp_lifecycle_new(&w, NULL, 2 * GORT_MILLISECOND, tick, NULL), 0);
  for (int i = 0; i < 3; i++) assert_int_equal(gort_chan_recv(tick_signal, NULL, NULL), 0);
  assert_int_equal(gortp_lifecycle_stop(w), GORT_ECANCELED);
  int after_stop = atomic_load(&ticks);
  assert_true(after_stop >= 3);
  /* Stopped and waited for: the task is gone, so no tick can follow. */
  assert_true(ptest_tasks_settle(base));
  assert_int_equal(atomic_load(&ticks), after_stop);
  gort_chan_release(tick_signal);
  tick_signal = NULL;
}

static void lifecycle_worker_follows_parent(void **state) {
  (void)state;
  int base = gort_num_tasks();
  gort_context *parent;
  assert_int_equal(gort_context_with_timeout(gort_context_background(), 5 * GORT_MILLISECOND, &parent), 0);
  gortp_lifecycle *w;
  assert_int_equal(gortp_lifecycle_new(&w, parent, GORT_SECOND, tick, NULL), 0);
  assert_true(ptest_tasks_settle(base)); /* the parent's deadline stopped it */
  assert_int_equal(gortp_lifecycle_stop(w), GORT_EDEADLINE);
  gort_context_free(parent);
  assert_int_equal(gortp_lifecycle_every(NULL, GORT_SECOND, NULL, NULL), GORT_EINVAL);
  assert_int_equal(gortp_lifecycle_every(NULL, 0, tick, NULL), GORT_EINVAL);
}

/* Server.Start: serve and processQueue in one group. */
static gort_chan *serving;

static int serve(gort_context *ctx, void *arg) {
  (void)arg;
  gort_chan_send(serving, &(int){1});
  gort_chan_recv(gort_context_done(ctx), NULL, NULL); /* until shutdown */
  return gort_context_err(ctx);
}

static int process_queue(gort_context *ctx, void *arg) {
  int fail = (int)(intptr_t)arg;
  if (fail) return GORT_EIO; /* the queue broke */
  return gortp_lifecycle_every(ctx, GORT_MILLISECOND, tick, NULL);
}

static void lifecycle_run_all_first_error_stops_everything(void **state) {
  (void)state;
  int base = gort_num_tasks();
  assert_int_equal(GORT_CHAN_MAKE(&serving, int, 1), 0);
  gortp_lifecycle_fn fns[2] = {serve, process_queue};
  void *args[2] = {NULL, (void *)1};
  assert_int_equal(gortp_lifecycle_run_all(NULL, fns, args, 2), GORT_EIO);
  assert_true(ptest_tasks_settle(base));
  gort_chan_release(serving);
}

typedef struct {
  gort_context *ctx;
  int result;
} start_arg;

static void start_server(void *p) {
  start_arg *a = p;
  gortp_lifecycle_fn fns[2] = {serve, process_queue};
  a->result = gortp_lifecycle_run_all(a->ctx, fns, NULL, 2);
}

static void lifecycle_run_all_shutdown_by_cancel(void **state) {
  (void)state;
  int base = gort_num_tasks();
  assert_int_equal(GORT_CHAN_MAKE(&serving, int, 1), 0);
  gort_context *ctx;
  assert_int_equal(gort_context_with_cancel(gort_context_background(), &ctx), 0);
  start_arg a = {ctx, -99};
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  assert_int_equal(gort_waitgroup_go(&wg, start_server, &a), 0);
  assert_int_equal(gort_chan_recv(serving, NULL, NULL), 0); /* it is up */
  gort_context_cancel(ctx);
  gort_waitgroup_wait(&wg);
  assert_int_equal(a.result, GORT_ECANCELED);
  assert_true(ptest_tasks_settle(base));
  gort_context_free(ctx);
  gort_chan_release(serving);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(lifecycle_worker_ticks_then_stops),
    cmocka_unit_test(lifecycle_worker_follows_parent),
    cmocka_unit_test(lifecycle_run_all_first_error_stops_everything),
    cmocka_unit_test(lifecycle_run_all_shutdown_by_cancel),
};

GORT_TEST_MAIN(tests)
