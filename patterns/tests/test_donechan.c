/* test_donechan.c - seed 002's done channel: a request with a timeout. The
 * leaking version leaves a task blocked forever; the fixed ones leave none. */
#include "ptest.h"

#include <stdlib.h>
#include <string.h>

#include "gortp/donechan.h"

static _Atomic int freed;
static gort_chan *gate; /* the "5 seconds" of the seed: closed by the test */

static void free_value(void *v) {
  atomic_fetch_add(&freed, 1);
  free(v);
}

/* request(): slow, knows nothing of contexts. */
static void *slow_request(void *arg) {
  (void)arg;
  if (gate) gort_chan_recv(gate, NULL, NULL);
  return strdup("Hello, World!");
}

static void setup_gate(void) {
  atomic_store(&freed, 0);
  assert_int_equal(GORT_CHAN_MAKE(&gate, int, 0), 0);
}

static void drop_gate(void) {
  gort_chan_release(gate);
  gate = NULL;
}

static void donechan_leaky_leaves_a_task_blocked_forever(void **state) {
  (void)state;
  int base = gort_num_tasks();
  setup_gate();
  void *v = NULL;
  gort_chan *done = NULL;
  assert_int_equal(gortp_donechan_request_leaky(slow_request, NULL, 20 * GORT_MILLISECOND, &v, free_value, &done),
                   GORT_ETIMEDOUT); /* "request timeout" */
  assert_null(v);
  assert_non_null(done);
  /* The request finishes... */
  gort_chan_close(gate);
  /* ...and its task now waits in select for a receiver that is gone and a
   * done channel nobody closes: it is still there, parked, for good. */
  assert_true(ptest_waiting(GORT_WAIT_SELECT, 1));
  assert_int_equal(gort_num_tasks(), base + 1);
  assert_int_equal(atomic_load(&freed), 0);
  /* Clean up what the seed never does: close done. */
  gort_chan_close(done);
  gort_chan_release(done);
  assert_true(ptest_tasks_settle(base));
  assert_int_equal(atomic_load(&freed), 1); /* "request canceled": value dropped */
  drop_gate();
}

static void donechan_fixed_leaves_no_task(void **state) {
  (void)state;
  int base = gort_num_tasks();
  setup_gate();
  void *v = NULL;
  assert_int_equal(gortp_donechan_request_timeout(slow_request, NULL, 20 * GORT_MILLISECOND, &v, free_value),
                   GORT_ETIMEDOUT);
  /* The request cannot be stopped; its task lives until it returns... */
  assert_int_equal(gort_num_tasks(), base + 1);
  gort_chan_close(gate);
  /* ...and then exits by itself, giving the late value up. */
  assert_true(ptest_tasks_settle(base));
  assert_int_equal(atomic_load(&freed), 1);
  drop_gate();
}

static void donechan_fast_request_delivers(void **state) {
  (void)state;
  int base = gort_num_tasks();
  atomic_store(&freed, 0);
  void *v = NULL;
  assert_int_equal(gortp_donechan_request_timeout(slow_request, NULL, 10 * GORT_SECOND, &v, free_value), 0);
  assert_string_equal(v, "Hello, World!"); /* "result:  Hello, World!" */
  free(v);
  v = NULL;
  assert_int_equal(gortp_donechan_request_leaky(slow_request, NULL, 10 * GORT_SECOND, &v, free_value, NULL), 0);
  assert_string_equal(v, "Hello, World!");
  free(v);
  assert_true(ptest_tasks_settle(base));
  assert_int_equal(atomic_load(&freed), 0);
}

/* request(ctx): returns ctx's error as soon as ctx is done. */
static int ctx_request(gort_context *ctx, void *arg, void **value) {
  (void)arg;
  gort_select_case c[2] = {gort_case_recv(gate, NULL), gort_case_recv(gort_context_done(ctx), NULL)};
  if (gort_select(c, 2) == 1) return gort_context_err(ctx); /* "request error:  context canceled" */
  *value = strdup("Hello, World!");
  return 0;
}

static void donechan_ctx_version_stops_the_request(void **state) {
  (void)state;
  int base = gort_num_tasks();
  setup_gate(); /* never closed: only cancellation ends the request */
  void *v = NULL;
  assert_int_equal(gortp_donechan_request_ctx(NULL, ctx_request, NULL, 20 * GORT_MILLISECOND, &v,
                                             free_value),
                   GORT_ETIMEDOUT);
  assert_true(ptest_tasks_settle(base)); /* nothing left, without touching the gate */
  assert_int_equal(atomic_load(&freed), 0);
  drop_gate();
}

static void donechan_ctx_version_delivers_and_follows_parent(void **state) {
  (void)state;
  int base = gort_num_tasks();
  setup_gate();
  gort_chan_close(gate); /* an instant request */
  void *v = NULL;
  assert_int_equal(gortp_donechan_request_ctx(NULL, ctx_request, NULL, 10 * GORT_SECOND, &v, free_value), 0);
  assert_string_equal(v, "Hello, World!");
  free(v);
  drop_gate();
  setup_gate(); /* a request that never finishes by itself */
  gort_context *parent;
  assert_int_equal(gort_context_with_timeout(gort_context_background(), 10 * GORT_MILLISECOND, &parent), 0);
  assert_int_equal(gortp_donechan_request_ctx(parent, ctx_request, NULL, 10 * GORT_SECOND, &v, free_value),
                   GORT_EDEADLINE);
  gort_context_free(parent);
  assert_true(ptest_tasks_settle(base));
  drop_gate();
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(donechan_leaky_leaves_a_task_blocked_forever),
    cmocka_unit_test(donechan_fixed_leaves_no_task),
    cmocka_unit_test(donechan_fast_request_delivers),
    cmocka_unit_test(donechan_ctx_version_stops_the_request),
    cmocka_unit_test(donechan_ctx_version_delivers_and_follows_parent),
};

GORT_TEST_MAIN(tests)
