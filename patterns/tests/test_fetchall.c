/* test_fetchall.c - errgroup fetch-all: results by index, the first error
 * cancels the rest (seeds 000, 001, 003, 004). */
#include "ptest.h"

#include "gortp/fetchall.h"

static _Atomic int in_flight, peak, cancelled_seen;

static void track_enter(void) {
  int now = atomic_fetch_add(&in_flight, 1) + 1;
  int p = atomic_load(&peak);
  while (now > p && !atomic_compare_exchange_weak(&peak, &p, now)) {
  }
}

static int double_it(gort_context *ctx, size_t index, void *result, void *arg) {
  (void)ctx;
  (void)arg;
  track_enter();
  gort_yield();
  *(long *)result = (long)index * 2;
  atomic_fetch_sub(&in_flight, 1);
  return 0;
}

static void fetchall_results_by_index(void **state) {
  (void)state;
  int base = gort_num_tasks();
  long results[64];
  size_t failed = 0;
  assert_int_equal(gortp_fetchall_run(NULL, 64, 0, double_it, NULL, results, sizeof(long), &failed), 0);
  assert_int_equal(failed, 64);
  for (int i = 0; i < 64; i++) assert_int_equal(results[i], 2 * i);
  assert_true(ptest_tasks_settle(base));
}

/* Index `arg` fails at once; everyone else waits for cancellation, the way
 * a request under the group's context would. */
static int fail_one(gort_context *ctx, size_t index, void *result, void *arg) {
  (void)result;
  if (index == (size_t)(intptr_t)arg) return GORT_EIO;
  gort_chan_recv(gort_context_done(ctx), NULL, NULL);
  atomic_fetch_add(&cancelled_seen, 1);
  return gort_context_err(ctx);
}

static void fetchall_first_error_cancels_the_rest(void **state) {
  (void)state;
  int base = gort_num_tasks();
  atomic_store(&cancelled_seen, 0);
  long results[8];
  size_t failed = 99;
  assert_int_equal(gortp_fetchall_run(NULL, 8, 0, fail_one, (void *)3, results, sizeof(long), &failed),
                   GORT_EIO);
  assert_int_equal(failed, 3);
  assert_int_equal(atomic_load(&cancelled_seen), 7);
  assert_true(ptest_tasks_settle(base));
}

/* seed 004's fetchWithLimit: with SetLimit, and errors not dropped. */
static void fetchall_with_limit(void **state) {
  (void)state;
  atomic_store(&peak, 0);
  long results[40];
  assert_int_equal(gortp_fetchall_run(NULL, 40, 3, double_it, NULL, results, sizeof(long), NULL), 0);
  assert_true(atomic_load(&peak) <= 3);
  for (int i = 0; i < 40; i++) assert_int_equal(results[i], 2 * i);
  size_t failed;
  assert_int_equal(gortp_fetchall_run(NULL, 40, 3, fail_one, (void *)0, results, sizeof(long), &failed),
                   GORT_EIO);
  assert_int_equal(failed, 0);
}

/* The parent's cancellation reaches every fetch. */
static void fetchall_parent_cancel(void **state) {
  (void)state;
  gort_context *ctx;
  assert_int_equal(gort_context_with_timeout(gort_context_background(), 10 * GORT_MILLISECOND, &ctx),
                   0);
  size_t failed;
  int r = gortp_fetchall_run(ctx, 5, 0, fail_one, (void *)(intptr_t)-1, NULL, 0, &failed);
  assert_int_equal(r, GORT_EDEADLINE);
  assert_true(failed < 5);
  gort_context_free(ctx);
}

static void fetchall_bad_arguments(void **state) {
  (void)state;
  size_t failed = 0;
  assert_int_equal(gortp_fetchall_run(NULL, 3, 0, NULL, NULL, NULL, 0, &failed), GORT_EINVAL);
  assert_int_equal(failed, 3);
  assert_int_equal(gortp_fetchall_run(NULL, 3, 0, double_it, NULL, NULL, 8, NULL), GORT_EINVAL);
  assert_int_equal(gortp_fetchall_run(NULL, 0, 0, double_it, NULL, NULL, 8, NULL), 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(fetchall_results_by_index),
    cmocka_unit_test(fetchall_first_error_cancels_the_rest),
    cmocka_unit_test(fetchall_with_limit),
    cmocka_unit_test(fetchall_parent_cancel),
    cmocka_unit_test(fetchall_bad_arguments),
};

GORT_TEST_MAIN(tests)
