/* test_ctxchan.c - send, receive and sleep that give up when a context is
 * done, and the NULL-context rule (NULL is Background). */
#include "ptest.h"

#include "gortp/ctxchan.h"

static gort_context *cancelled_ctx(void) {
  gort_context *ctx;
  assert_int_equal(gort_context_with_cancel(gort_context_background(), &ctx), 0);
  gort_context_cancel(ctx);
  return ctx;
}

static void ctxchan_send_and_recv_deliver(void **state) {
  (void)state;
  gort_context *ctx;
  assert_int_equal(gort_context_with_cancel(gort_context_background(), &ctx), 0);
  gort_chan *c = gort_test_make_chan(sizeof(int), 1);
  assert_int_equal(gortp_ctxchan_send(ctx, c, &(int){42}), 0);
  int v = 0;
  assert_int_equal(gortp_ctxchan_recv(ctx, c, &v), 0);
  assert_int_equal(v, 42);
  assert_int_equal(gortp_ctxchan_err(ctx), 0);
  gort_chan_release(c);
  gort_context_free(ctx);
}

static void ctxchan_done_context_sends_nothing(void **state) {
  (void)state;
  gort_context *ctx = cancelled_ctx();
  gort_chan *c = gort_test_make_chan(sizeof(int), 1);
  assert_int_equal(gort_chan_send(c, &(int){1}), 0); /* full: the send would block */
  assert_int_equal(gortp_ctxchan_send(ctx, c, &(int){2}), GORT_ECANCELED);
  assert_int_equal(gort_chan_len(c), 1);
  int v = 0;
  assert_int_equal(gort_chan_recv(c, &v, NULL), 0);
  assert_int_equal(v, 1); /* the value the cancelled send held was not sent */
  /* Empty: the receive would block, so the cancellation is all that is ready. */
  v = 7;
  assert_int_equal(gortp_ctxchan_recv(ctx, c, &v), GORT_ECANCELED);
  assert_int_equal(v, 7);
  assert_int_equal(gortp_ctxchan_err(ctx), GORT_ECANCELED);
  gort_chan_release(c);
  gort_context_free(ctx);
}

typedef struct {
  gort_context *ctx;
  gort_chan *c, *done;
  int rc;
} blocked_arg;

static void blocked_send(void *p) {
  blocked_arg *a = p;
  a->rc = gortp_ctxchan_send(a->ctx, a->c, &(int){9});
  gort_test_signal_done(a->done);
}

static void blocked_recv(void *p) {
  blocked_arg *a = p;
  a->rc = gortp_ctxchan_recv(a->ctx, a->c, NULL);
  gort_test_signal_done(a->done);
}

/* A task parked in the call is woken by the cancel and returns its error. */
static void ctxchan_cancel_wakes_a_blocked_call(void **state) {
  (void)state;
  void (*fns[2])(void *) = {blocked_send, blocked_recv};
  for (int i = 0; i < 2; i++) {
    blocked_arg a = {NULL, gort_test_make_chan(sizeof(int), 0), gort_test_make_chan(1, 1), -99};
    assert_int_equal(gort_context_with_cancel(gort_context_background(), &a.ctx), 0);
    assert_int_equal(gort_go(fns[i], &a), 0);
    assert_true(gort_test_wait_parked(fns[i], GORT_WAIT_SELECT, 1, 5000));
    gort_context_cancel(a.ctx);
    gort_test_join(a.done, 1);
    assert_int_equal(a.rc, GORT_ECANCELED);
    assert_int_equal(gort_chan_len(a.c), 0);
    gort_chan_release(a.c);
    gort_chan_release(a.done);
    gort_context_free(a.ctx);
  }
}

static void ctxchan_recv_closed_is_eclosed(void **state) {
  (void)state;
  gort_chan *c = gort_test_make_chan(sizeof(int), 1);
  assert_int_equal(gort_chan_send(c, &(int){5}), 0);
  assert_int_equal(gort_chan_close(c), 0);
  int v = 0;
  assert_int_equal(gortp_ctxchan_recv(gort_context_background(), c, &v), 0);
  assert_int_equal(v, 5);
  v = 3;
  assert_int_equal(gortp_ctxchan_recv(gort_context_background(), c, &v), GORT_ECLOSED);
  assert_int_equal(v, 0); /* the zero value, as Go's v, ok := <-c */
  gort_chan_release(c);
}

/* NULL is Background: never done, no error, the plain channel operation. */
static void ctxchan_null_context_is_background(void **state) {
  (void)state;
  assert_ptr_equal(gortp_ctxchan_or_background(NULL), gort_context_background());
  gort_context *ctx = cancelled_ctx();
  assert_ptr_equal(gortp_ctxchan_or_background(ctx), ctx);
  gort_context_free(ctx);
  assert_int_equal(gortp_ctxchan_err(NULL), 0);
  gort_chan *c = gort_test_make_chan(sizeof(int), 1);
  assert_int_equal(gortp_ctxchan_send(NULL, c, &(int){4}), 0);
  int v = 0;
  assert_int_equal(gortp_ctxchan_recv(NULL, c, &v), 0);
  assert_int_equal(v, 4);
  assert_int_equal(gortp_ctxchan_sleep(NULL, GORT_MILLISECOND), 0);
  gort_chan_release(c);
}

static void ctxchan_sleep_lasts_d(void **state) {
  (void)state;
  int64_t start = gort_now();
  assert_int_equal(gortp_ctxchan_sleep(gort_context_background(), 20 * GORT_MILLISECOND), 0);
  assert_true(gort_now() - start >= 20 * GORT_MILLISECOND);
  assert_int_equal(gortp_ctxchan_sleep(gort_context_background(), 0), 0);
  assert_int_equal(gortp_ctxchan_sleep(gort_context_background(), -GORT_SECOND), 0);
  assert_true(gort_test_timers_settle()); /* no timer outlives the call */
}

/* A done context ends the sleep: no bound on how soon (a loaded machine),
 * only that it is long before the hour asked for. */
static void ctxchan_sleep_stops_when_done(void **state) {
  (void)state;
  gort_context *ctx = cancelled_ctx();
  assert_int_equal(gortp_ctxchan_sleep(ctx, 3600 * GORT_SECOND), GORT_ECANCELED);
  gort_context_free(ctx);
  assert_int_equal(gort_context_with_timeout(gort_context_background(), 10 * GORT_MILLISECOND, &ctx), 0);
  assert_int_equal(gortp_ctxchan_sleep(ctx, 3600 * GORT_SECOND), GORT_EDEADLINE);
  gort_context_free(ctx);
  assert_true(gort_test_timers_settle());
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(ctxchan_send_and_recv_deliver),
    cmocka_unit_test(ctxchan_done_context_sends_nothing),
    cmocka_unit_test(ctxchan_cancel_wakes_a_blocked_call),
    cmocka_unit_test(ctxchan_recv_closed_is_eclosed),
    cmocka_unit_test(ctxchan_null_context_is_background),
    cmocka_unit_test(ctxchan_sleep_lasts_d),
    cmocka_unit_test(ctxchan_sleep_stops_when_done),
};

GORT_TEST_MAIN(tests)
