/* test_future.c - seed 000's Future: Get, GetWithTimeout, two futures
 * running concurrently, release before completion. */
#include "ptest.h"

#include <stdlib.h>
#include <string.h>

#include "gortp/future.h"

static _Atomic int freed_values;

static void free_value(void *v) {
  atomic_fetch_add(&freed_values, 1);
  free(v);
}

static int make_alice(void *arg, void **value) {
  (void)arg;
  *value = strdup("Alice");
  return *value ? 0 : GORT_ENOMEM;
}

static void future_get_returns_value(void **state) {
  (void)state;
  int base = gort_num_tasks();
  atomic_store(&freed_values, 0);
  gortp_future *f;
  assert_int_equal(gortp_future_new(&f, make_alice, NULL, free_value), 0);
  void *v = NULL;
  assert_int_equal(gortp_future_get(f, &v), 0);
  assert_string_equal(v, "Alice");
  /* Get again: same result (the done channel stays closed). */
  void *v2 = NULL;
  assert_int_equal(gortp_future_get(f, &v2), 0);
  assert_ptr_equal(v, v2);
  assert_true(gortp_future_done(f));
  gortp_future_release(f);
  assert_true(ptest_tasks_settle(base));
  assert_int_equal(atomic_load(&freed_values), 1);
}

/* Each waits for a signal only the other sends: both finish only because
 * the two futures run at the same time. */
typedef struct {
  gort_chan *mine, *theirs;
} pingpong;

static int ping(void *arg, void **value) {
  pingpong *p = arg;
  gort_chan_send(p->theirs, &(int){1});
  gort_chan_recv(p->mine, NULL, NULL);
  *value = NULL;
  return 0;
}

static void future_two_run_concurrently(void **state) {
  (void)state;
  gort_chan *a, *b;
  assert_int_equal(GORT_CHAN_MAKE(&a, int, 1), 0);
  assert_int_equal(GORT_CHAN_MAKE(&b, int, 1), 0);
  pingpong pa = {a, b}, pb = {b, a};
  gortp_future *fa, *fb;
  assert_int_equal(gortp_future_new(&fa, ping, &pa, NULL), 0);
  assert_int_equal(gortp_future_new(&fb, ping, &pb, NULL), 0);
  int ea = gortp_future_get(fa, NULL), eb = gortp_future_get(fb, NULL);
  assert_int_equal(ea, 0); /* both errors checked, unlike the seed's main */
  assert_int_equal(eb, 0);
  gortp_future_release(fa);
  gortp_future_release(fb);
  gort_chan_release(a);
  gort_chan_release(b);
}

static int wait_gate(void *arg, void **value) {
  gort_chan_recv(arg, NULL, NULL);
  *value = strdup("late");
  return 0;
}

static void future_get_timeout(void **state) {
  (void)state;
  int base = gort_num_tasks();
  atomic_store(&freed_values, 0);
  gort_chan *gate;
  assert_int_equal(GORT_CHAN_MAKE(&gate, int, 0), 0);
  gortp_future *f;
  assert_int_equal(gortp_future_new(&f, wait_gate, gate, free_value), 0);
  void *v = (void *)&v;
  int64_t t0 = gort_now();
  assert_int_equal(gortp_future_get_timeout(f, 20 * GORT_MILLISECOND, &v), GORT_ETIMEDOUT);
  assert_true(gort_now() - t0 >= 20 * GORT_MILLISECOND);
  assert_ptr_equal(v, (void *)&v); /* untouched */
  assert_false(gortp_future_done(f));
  gort_chan_close(gate);
  assert_int_equal(gortp_future_get_timeout(f, 10 * GORT_SECOND, &v), 0);
  assert_string_equal(v, "late");
  gortp_future_release(f);
  gort_chan_release(gate);
  assert_true(ptest_tasks_settle(base));
  assert_int_equal(atomic_load(&freed_values), 1);
}

/* The caller gives up before the work is done: the work completes and the
 * last reference frees the value. */
static void future_release_before_done(void **state) {
  (void)state;
  int base = gort_num_tasks();
  atomic_store(&freed_values, 0);
  gort_chan *gate;
  assert_int_equal(GORT_CHAN_MAKE(&gate, int, 0), 0);
  gortp_future *f;
  assert_int_equal(gortp_future_new(&f, wait_gate, gate, free_value), 0);
  gort_context *ctx;
  assert_int_equal(gort_context_with_cancel(gort_context_background(), &ctx), 0);
  gort_context_cancel(ctx);
  assert_int_equal(gortp_future_get_ctx(f, ctx, NULL), GORT_ECANCELED);
  gortp_future_release(f);
  assert_int_equal(atomic_load(&freed_values), 0);
  gort_chan_close(gate);
  assert_true(ptest_tasks_settle(base));
  assert_int_equal(atomic_load(&freed_values), 1);
  gort_chan_release(gate);
  gort_context_free(ctx);
}

static int fail_io(void *arg, void **value) {
  (void)arg;
  (void)value;
  return GORT_EIO;
}

static void future_error_is_delivered(void **state) {
  (void)state;
  gortp_future *f;
  assert_int_equal(gortp_future_new(&f, fail_io, NULL, NULL), 0);
  void *v = (void *)1;
  assert_int_equal(gortp_future_get(f, &v), GORT_EIO);
  assert_null(v);
  gortp_future_release(f);
  assert_int_equal(gortp_future_new(&f, NULL, NULL, NULL), GORT_EINVAL);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(future_get_returns_value),
    cmocka_unit_test(future_two_run_concurrently),
    cmocka_unit_test(future_get_timeout),
    cmocka_unit_test(future_release_before_done),
    cmocka_unit_test(future_error_is_delivered),
};

GORT_TEST_MAIN(tests)
