/* test_quota.c - seed 004's tiered weighted limiter (light 10, heavy 50 of
 * 100) with timeouts; seed 000's weighted semaphore example done right. */
#include "ptest.h"

#include "gortp/quota.h"

static gort_chan *gate;
static _Atomic int running_weight, peak_weight, ran;

static int gated_op(void *arg) {
  int w = (int)(intptr_t)arg;
  int now = atomic_fetch_add(&running_weight, w) + w;
  int p = atomic_load(&peak_weight);
  while (now > p && !atomic_compare_exchange_weak(&peak_weight, &p, now)) {
  }
  atomic_fetch_add(&ran, 1);
  if (gate) gort_chan_recv(gate, NULL, NULL);
  atomic_fetch_sub(&running_weight, w);
  return 0;
}

typedef struct {
  gortp_quota *q;
  int64_t weight;
  int result;
} op_arg;

static void op_task(void *p) {
  op_arg *a = p;
  a->result = gortp_quota_do(a->q, NULL, a->weight, gated_op, (void *)(intptr_t)a->weight);
}

static bool held_is(void *arg) {
  void **a = arg;
  return gortp_quota_held(a[0]) == (int64_t)(intptr_t)a[1];
}

static void quota_tiers_share_capacity(void **state) {
  (void)state;
  int base = gort_num_tasks();
  atomic_store(&ran, 0);
  atomic_store(&peak_weight, 0);
  assert_int_equal(GORT_CHAN_MAKE(&gate, int, 0), 0);
  gortp_quota *q;
  assert_int_equal(gortp_quota_new(&q, 100), 0);
  /* Two heavy calls (50 each) fill the capacity. */
  op_arg heavy[2] = {{q, 50, -99}, {q, 50, -99}};
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  for (int i = 0; i < 2; i++) assert_int_equal(gort_waitgroup_go(&wg, op_task, &heavy[i]), 0);
  void *full[2] = {q, (void *)100};
  assert_true(gort_test_eventually(held_is, full, 5000));
  /* A light call with a timeout gives up, and leaves the quota unchanged. */
  int64_t t0 = gort_now();
  assert_int_equal(gortp_quota_do_timeout(q, NULL, 10, 20 * GORT_MILLISECOND, gated_op, (void *)10),
                   GORT_EDEADLINE);
  assert_true(gort_now() - t0 >= 20 * GORT_MILLISECOND);
  assert_int_equal(gortp_quota_held(q), 100);
  assert_int_equal(gortp_quota_waiters(q), 0);
  /* Queued light calls (10 each) run once the heavies finish: ten fit. */
  op_arg light[12];
  for (int i = 0; i < 12; i++) {
    light[i] = (op_arg){q, 10, -99};
    assert_int_equal(gort_waitgroup_go(&wg, op_task, &light[i]), 0);
  }
  assert_true(ptest_parked(14));
  assert_int_equal(atomic_load(&ran), 2);
  gort_chan_close(gate); /* everything may finish now */
  gort_waitgroup_wait(&wg);
  for (int i = 0; i < 2; i++) assert_int_equal(heavy[i].result, 0);
  for (int i = 0; i < 12; i++) assert_int_equal(light[i].result, 0);
  assert_int_equal(atomic_load(&ran), 14);
  assert_true(atomic_load(&peak_weight) <= 100);
  assert_int_equal(gortp_quota_held(q), 0);
  gortp_quota_free(q);
  gort_chan_release(gate);
  gate = NULL;
  assert_true(ptest_tasks_settle(base));
}

static int failing_op(void *arg) {
  (void)arg;
  return GORT_EIO;
}

static void quota_releases_after_error_and_rejects_impossible(void **state) {
  (void)state;
  gortp_quota *q;
  assert_int_equal(gortp_quota_new(&q, 10), 0);
  assert_int_equal(gortp_quota_do(q, NULL, 5, failing_op, NULL), GORT_EIO);
  assert_int_equal(gortp_quota_held(q), 0);
  /* More than the capacity can never be granted: x/sync would block until
   * the context ends (forever here); the quota says so at once. */
  assert_int_equal(gortp_quota_do(q, NULL, 11, failing_op, NULL), GORT_EINVAL);
  assert_int_equal(gortp_quota_do(q, NULL, 0, failing_op, NULL), GORT_EINVAL);
  assert_int_equal(gortp_quota_new(&q, 0), GORT_EINVAL);
  gortp_quota_free(q);
}

static void quota_cancelled_context_runs_nothing(void **state) {
  (void)state;
  atomic_store(&ran, 0);
  gortp_quota *q;
  assert_int_equal(gortp_quota_new(&q, 10), 0);
  gort_context *ctx;
  assert_int_equal(gort_context_with_cancel(gort_context_background(), &ctx), 0);
  gort_context_cancel(ctx);
  /* Seed 000 calls sem.Acquire and ignores its error: the work would run
   * without holding the weight. Here it does not run. */
  assert_int_equal(gortp_quota_do(q, ctx, 5, gated_op, (void *)5), GORT_ECANCELED);
  assert_int_equal(atomic_load(&ran), 0);
  assert_int_equal(gortp_quota_held(q), 0);
  gort_context_free(ctx);
  gortp_quota_free(q);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(quota_tiers_share_capacity),
    cmocka_unit_test(quota_releases_after_error_and_rejects_impossible),
    cmocka_unit_test(quota_cancelled_context_runs_nothing),
};

GORT_TEST_MAIN(tests)
