/* test_ratelimit.c - seed 000's processWithRateLimit (limiter + errgroup
 * with a limit) and seed 001's rate-limited API client, on a fake clock so
 * the rate is exact and the test instant. */
#include "ptest.h"

#include "gortp/ratelimit.h"

/* A fake clock: `after` advances time by d and fires at once. */
static _Atomic int64_t fake_now;

static int64_t fake_clock_now(void *arg) {
  (void)arg;
  return atomic_load(&fake_now);
}

static int fake_clock_after(void *arg, gort_duration d, gort_chan **out) {
  (void)arg;
  int r = GORT_CHAN_MAKE(out, int64_t, 1);
  if (r != 0) return r;
  int64_t t = atomic_fetch_add(&fake_now, d > 0 ? d : 0) + (d > 0 ? d : 0);
  return gort_chan_send(*out, &t);
}

static gort_limiter *fake_limiter(double limit, int burst) {
  atomic_store(&fake_now, 1000 * GORT_SECOND);
  gort_limiter *lim;
  assert_int_equal(gort_limiter_new(&lim, limit, burst), 0);
  gort_rate_clock clock = {fake_clock_now, fake_clock_after, NULL};
  assert_int_equal(gort_limiter_set_clock(lim, &clock), 0);
  return lim;
}

enum { N = 120 };
static int64_t started_at[N];
static _Atomic int in_flight, peak, calls;

static int item(gort_context *ctx, size_t index, void *arg) {
  int fail_at = (int)(intptr_t)arg;
  started_at[index] = atomic_load(&fake_now);
  int now = atomic_fetch_add(&in_flight, 1) + 1;
  int p = atomic_load(&peak);
  while (now > p && !atomic_compare_exchange_weak(&peak, &p, now)) {
  }
  atomic_fetch_add(&calls, 1);
  int r = 0;
  if ((int)index == fail_at) r = GORT_EIO;
  else if (fail_at >= 0) gort_chan_recv(gort_context_done(ctx), NULL, NULL); /* a slow request */
  atomic_fetch_sub(&in_flight, 1);
  return r;
}

/* 50 per second with a burst of 50: the first 50 start at once, then one
 * every 20 ms (on the fake clock); never more than 10 at a time. */
static void ratelimit_paces_items(void **state) {
  (void)state;
  int base = gort_num_tasks();
  atomic_store(&peak, 0);
  atomic_store(&calls, 0);
  gort_limiter *lim = fake_limiter(50, 50);
  int64_t t0 = atomic_load(&fake_now);
  assert_int_equal(gortp_ratelimit_process(NULL, lim, 10, N, item, (void *)(intptr_t)-1), 0);
  assert_int_equal(atomic_load(&calls), N);
  assert_true(atomic_load(&peak) <= 10);
  /* No item starts before its token: item i >= 50 needs (i - 49) * 20 ms
   * of refill. (It may start later: the launcher may also have waited for
   * a free slot, and items start asynchronously.) */
  for (int i = 0; i < N; i++) {
    int64_t earliest = t0 + (i < 50 ? 0 : (int64_t)(i - 49) * 20 * GORT_MILLISECOND);
    assert_true(started_at[i] >= earliest - GORT_MICROSECOND);
  }
  /* The limiter made the launcher wait exactly for the 70 tokens beyond
   * the burst: 70 * 20 ms on the fake clock. */
  int64_t waited = atomic_load(&fake_now) - t0;
  assert_true(waited >= 1400 * GORT_MILLISECOND - GORT_MICROSECOND);
  assert_true(waited <= 1400 * GORT_MILLISECOND + GORT_MICROSECOND);
  gort_limiter_free(lim);
  assert_true(ptest_tasks_settle(base));
}

/* Item 3 fails: the group's context is cancelled, the limiter's wait fails,
 * and -- unlike the seed's `return err` -- the function returns only after
 * the items in flight have ended, with the item's error. */
static void ratelimit_error_waits_for_items_in_flight(void **state) {
  (void)state;
  int base = gort_num_tasks();
  atomic_store(&calls, 0);
  gort_limiter *lim = fake_limiter(1, 5); /* five at once, then one a second */
  assert_int_equal(gortp_ratelimit_process(NULL, lim, 10, N, item, (void *)(intptr_t)3), GORT_EIO);
  assert_int_equal(atomic_load(&in_flight), 0);
  assert_true(atomic_load(&calls) < N);
  gort_limiter_free(lim);
  assert_true(ptest_tasks_settle(base));
}

static void ratelimit_parent_cancel(void **state) {
  (void)state;
  atomic_store(&calls, 0);
  gort_limiter *lim = fake_limiter(10, 1);
  gort_context *ctx;
  assert_int_equal(gort_context_with_cancel(gort_context_background(), &ctx), 0);
  gort_context_cancel(ctx);
  assert_int_equal(gortp_ratelimit_process(ctx, lim, 2, 10, item, (void *)(intptr_t)-1),
                   GORT_ECANCELED);
  assert_int_equal(atomic_load(&calls), 0);
  gort_context_free(ctx);
  gort_limiter_free(lim);
}

static int count_request(gort_context *ctx, void *arg) {
  (void)ctx;
  atomic_fetch_add((_Atomic int *)arg, 1);
  return 0;
}

/* Seed 001's APIClient: TryCall refuses beyond the burst, Call waits. */
static void ratelimit_api_client(void **state) {
  (void)state;
  gort_limiter *lim = fake_limiter(5, 3); /* rps 5, burst 3 */
  gortp_ratelimit_client client = {lim};
  _Atomic int done = 0;
  for (int i = 0; i < 3; i++) assert_int_equal(gortp_ratelimit_try_call(&client, NULL, count_request, &done), 0);
  assert_int_equal(gortp_ratelimit_try_call(&client, NULL, count_request, &done), GORT_EAGAIN);
  assert_int_equal(atomic_load(&done), 3);
  int64_t t0 = atomic_load(&fake_now);
  assert_int_equal(gortp_ratelimit_call(&client, NULL, count_request, &done), 0); /* waits 200 ms */
  assert_int_equal(atomic_load(&fake_now) - t0, 200 * GORT_MILLISECOND);
  assert_int_equal(atomic_load(&done), 4);
  atomic_fetch_add(&fake_now, 200 * GORT_MILLISECOND);
  assert_int_equal(gortp_ratelimit_try_call(&client, NULL, count_request, &done), 0);
  gort_limiter_free(lim);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(ratelimit_paces_items),
    cmocka_unit_test(ratelimit_error_waits_for_items_in_flight),
    cmocka_unit_test(ratelimit_parent_cancel),
    cmocka_unit_test(ratelimit_api_client),
};

GORT_TEST_MAIN(tests)
