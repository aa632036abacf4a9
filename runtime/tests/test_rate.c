/* test_rate.c - gort_limiter: golang.org/x/time/rate.
 *
 * Ports rate_test.go case by case (TestLimit, TestEvery, TestLimiterBurst1,
 * TestLimiterBurst3, TestLimiterJumpBackwards, TestLimiter_noTruncationErrors,
 * TestSimultaneousRequests, TestLongRunningQPS, the reserve/cancel tests,
 * TestWaitSimple/Cancel/Timeout/Inf, TestZeroLimit) with explicit times or a
 * fake clock, so they are exact and instant; then a few real-clock waits with
 * generous bounds, bad input and allocation failure.
 */
#include "support/gort_test.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gort/gort.h"
#include "gort/introspect.h"

#define D (100 * GORT_MILLISECOND)
#define T0 ((int64_t)1000 * GORT_SECOND)
#define T(k) (T0 + (int64_t)(k) * D)

static gort_context *bg(void) { return gort_context_background(); }

static gort_limiter *new_limiter(double limit, int burst) {
  gort_limiter *lim = NULL;
  assert_int_equal(gort_limiter_new(&lim, limit, burst), 0);
  return lim;
}

/* ---- TestLimit, TestEvery ---- */

static void rate_limit_inf(void **state) {
  (void)state;
  assert_true(10.0 != GORT_RATE_INF);
  gort_limiter *lim = new_limiter(INFINITY, 0);
  assert_true(gort_limiter_limit(lim) == GORT_RATE_INF); /* +inf is stored as Inf */
  gort_limiter_free(lim);
}

static bool close_enough(double a, double b) { return fabs(a / b - 1.0) < 1e-9; }

static void rate_every(void **state) {
  (void)state;
  static const struct {
    gort_duration interval;
    double lim;
  } cases[] = {
      {0, GORT_RATE_INF},
      {-1, GORT_RATE_INF},
      {1, 1e9},
      {GORT_MICROSECOND, 1e6},
      {GORT_MILLISECOND, 1e3},
      {10 * GORT_MILLISECOND, 100},
      {100 * GORT_MILLISECOND, 10},
      {GORT_SECOND, 1},
      {2 * GORT_SECOND, 0.5},
      {2500 * GORT_MILLISECOND, 0.4},
      {4 * GORT_SECOND, 0.25},
      {10 * GORT_SECOND, 0.1},
      {INT64_MAX, 1e9 / (double)INT64_MAX},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    double got = gort_rate_every(cases[i].interval);
    if (!close_enough(got, cases[i].lim))
      fail_msg("every(%lld) = %g want %g", (long long)cases[i].interval, got, cases[i].lim);
  }
}

/* ---- run(): TokensAt and AllowN at given times ---- */

typedef struct {
  int64_t t;
  double toks;
  int n;
  bool ok;
} allow_step;

static void run_steps(gort_limiter *lim, const allow_step *steps, size_t n) {
  for (size_t i = 0; i < n; i++) {
    double toks = gort_limiter_tokens_at(lim, steps[i].t);
    if (toks != steps[i].toks)
      fail_msg("step %zu: tokens_at(t%+.1f) = %.17g want %g", i,
               (double)(steps[i].t - T0) / D, toks, steps[i].toks);
    int rc = gort_limiter_allow_n(lim, steps[i].t, steps[i].n);
    if ((rc == 0) != steps[i].ok)
      fail_msg("step %zu: allow_n(t%+.1f, %d) = %d want ok=%d", i,
               (double)(steps[i].t - T0) / D, steps[i].n, rc, steps[i].ok);
    if (rc != 0) assert_int_equal(rc, GORT_EAGAIN);
  }
}
#define RUN(lim, ...)                                                     \
  do {                                                                    \
    static const allow_step steps_[] = {__VA_ARGS__};                     \
    run_steps((lim), steps_, sizeof steps_ / sizeof steps_[0]);           \
  } while (0)

static void rate_limiter_burst1(void **state) {
  (void)state;
  gort_limiter *lim = new_limiter(10, 1);
  RUN(lim, {T(0), 1, 1, true}, {T(0), 0, 1, false}, {T(0), 0, 1, false}, {T(1), 1, 1, true},
      {T(1), 0, 1, false}, {T(1), 0, 1, false},
      {T(2), 1, 2, false}, /* burst size is 1, so n=2 always fails */
      {T(2), 1, 1, true}, {T(2), 0, 1, false});
  gort_limiter_free(lim);
}

static void rate_limiter_burst3(void **state) {
  (void)state;
  gort_limiter *lim = new_limiter(10, 3);
  RUN(lim, {T(0), 3, 2, true}, {T(0), 1, 2, false}, {T(0), 1, 1, true}, {T(0), 0, 1, false},
      {T(1), 1, 4, false}, {T(2), 2, 1, true}, {T(3), 2, 1, true}, {T(4), 2, 1, true},
      {T(4), 1, 1, true}, {T(4), 0, 1, false}, {T(4), 0, 1, false}, {T(9), 3, 3, true},
      {T(9), 0, 0, true});
  gort_limiter_free(lim);
}

static void rate_limiter_jump_backwards(void **state) {
  (void)state;
  gort_limiter *lim = new_limiter(10, 3);
  RUN(lim, {T(1), 3, 1, true}, /* start at t1 */
      {T(0), 2, 1, true},      /* jump back to t0, two tokens remain */
      {T(0), 1, 1, true}, {T(0), 0, 1, false}, {T(0), 0, 1, false},
      {T(1), 1, 1, true}, /* got a token */
      {T(1), 0, 1, false}, {T(1), 0, 1, false},
      {T(2), 1, 1, true}, /* got another token */
      {T(2), 0, 1, false}, {T(2), 0, 1, false});
  gort_limiter_free(lim);
}

static void rate_no_truncation_errors(void **state) {
  (void)state;
  gort_limiter *lim = new_limiter(0.7692307692307693, 1);
  assert_int_equal(gort_limiter_allow(lim), 0);
  gort_limiter_free(lim);
}

static void rate_zero_limit(void **state) {
  (void)state;
  gort_limiter *lim = new_limiter(0, 1);
  assert_int_equal(gort_limiter_allow(lim), 0);         /* first use */
  assert_int_equal(gort_limiter_allow(lim), GORT_EAGAIN); /* already used */
  gort_limiter_free(lim);
}

/* ---- a fake clock (Go's testTime) ---- */

typedef struct {
  gort_chan *ch; /* our reference */
  int64_t when;
} fake_timer;

typedef struct {
  pthread_mutex_t mu;
  int64_t cur;
  fake_timer timers[16];
  int n;
} fake_time;

static void fake_init(fake_time *tt, int64_t start) {
  pthread_mutex_init(&tt->mu, NULL);
  tt->cur = start;
  tt->n = 0;
}

static void fake_destroy(fake_time *tt) {
  for (int i = 0; i < tt->n; i++) gort_chan_release(tt->timers[i].ch);
  pthread_mutex_destroy(&tt->mu);
}

static int64_t fake_now(void *arg) {
  fake_time *tt = arg;
  pthread_mutex_lock(&tt->mu);
  int64_t t = tt->cur;
  pthread_mutex_unlock(&tt->mu);
  return t;
}

/* Requires tt->mu. Fires (and forgets) every timer that is due. */
static void fake_advance_locked(fake_time *tt, gort_duration d) {
  tt->cur += d;
  for (int i = 0; i < tt->n;) {
    if (tt->timers[i].when > tt->cur) {
      i++;
      continue;
    }
    gort_chan_try_send(tt->timers[i].ch, &tt->cur);
    gort_chan_release(tt->timers[i].ch);
    tt->timers[i] = tt->timers[--tt->n];
  }
}

static void fake_advance(fake_time *tt, gort_duration d) {
  pthread_mutex_lock(&tt->mu);
  fake_advance_locked(tt, d);
  pthread_mutex_unlock(&tt->mu);
}

/* newTimer: a channel that receives the time when the clock reaches now+d. */
static gort_chan *fake_new_timer(fake_time *tt, gort_duration d) {
  gort_chan *ch = NULL;
  if (GORT_CHAN_MAKE(&ch, int64_t, 1) != 0) return NULL;
  pthread_mutex_lock(&tt->mu);
  if (tt->n == (int)(sizeof tt->timers / sizeof tt->timers[0])) abort();
  tt->timers[tt->n++] = (fake_timer){gort_chan_retain(ch), tt->cur + d};
  pthread_mutex_unlock(&tt->mu);
  return ch;
}

/* The limiter's `after`: Go's newTimer followed by advance(), which moves
 * the clock to the earliest timer and fires it. */
static int fake_after(void *arg, gort_duration d, gort_chan **out) {
  fake_time *tt = arg;
  gort_chan *ch = fake_new_timer(tt, d);
  if (ch == NULL) return GORT_ENOMEM;
  pthread_mutex_lock(&tt->mu);
  int64_t when = tt->timers[0].when;
  for (int i = 1; i < tt->n; i++)
    if (tt->timers[i].when < when) when = tt->timers[i].when;
  fake_advance_locked(tt, when - tt->cur);
  pthread_mutex_unlock(&tt->mu);
  *out = ch;
  return 0;
}

static void use_fake(gort_limiter *lim, fake_time *tt) {
  gort_rate_clock clock = {fake_now, fake_after, tt};
  assert_int_equal(gort_limiter_set_clock(lim, &clock), 0);
}

/* ---- TestSimultaneousRequests (at one fixed instant: exact) ---- */

typedef struct {
  gort_limiter *lim;
  atomic_int ok;
  gort_waitgroup wg;
} simul_arg;

static void try_allow(void *p) {
  simul_arg *a = p;
  if (gort_limiter_allow(a->lim) == 0) atomic_fetch_add(&a->ok, 1);
  gort_waitgroup_done(&a->wg);
}

static void rate_simultaneous_requests(void **state) {
  (void)state;
  enum { LIMIT = 1, BURST = 5, REQUESTS = 15 };
  fake_time tt;
  fake_init(&tt, T0);
  simul_arg a = {new_limiter(LIMIT, BURST), 0, GORT_WAITGROUP_INIT};
  use_fake(a.lim, &tt);
  assert_int_equal(gort_waitgroup_add(&a.wg, REQUESTS), 0);
  for (int i = 0; i < REQUESTS; i++) assert_int_equal(gort_go(try_allow, &a), 0);
  assert_int_equal(gort_waitgroup_wait(&a.wg), 0);
  assert_int_equal(atomic_load(&a.ok), BURST);
  gort_waitgroup_destroy(&a.wg);
  gort_limiter_free(a.lim);
  fake_destroy(&tt);
}

/* ---- TestLongRunningQPS, with the fake clock ---- */

static void rate_long_running_qps(void **state) {
  (void)state;
  enum { LIMIT = 100, BURST = 100 };
  fake_time tt;
  fake_init(&tt, T0);
  gort_limiter *lim = new_limiter(LIMIT, BURST);
  use_fake(lim, &tt);
  int ok = 0;
  int64_t start = fake_now(&tt), end = start + 5 * GORT_SECOND;
  while (fake_now(&tt) < end) {
    if (gort_limiter_allow_n(lim, fake_now(&tt), 1) == 0) ok++;
    fake_advance(&tt, 2 * GORT_MILLISECOND);
  }
  double elapsed = (double)(fake_now(&tt) - start);
  double ideal = BURST + LIMIT * elapsed / GORT_SECOND;
  if (ok > (int)(ideal + 1)) fail_msg("ok = %d, want <= %d (ideal %f)", ok, (int)(ideal + 1), ideal);
  if (ok < (int)(0.999 * ideal)) fail_msg("ok = %d, want >= %d (ideal %f)", ok, (int)(0.999 * ideal), ideal);
  gort_limiter_free(lim);
  fake_destroy(&tt);
}

/* ---- reserve and cancel ---- */

/* Multiples of D since T0, rounded to the nearest (Go's dSince). */
static long d_since(int64_t t) { return (long)((t - T0 + D / 2) / D); }

static gort_reservation reserve_max(gort_limiter *lim, int64_t t, int n, int64_t act, bool ok,
                                    gort_duration max) {
  gort_reservation r;
  assert_int_equal(gort_limiter_reserve_n_max(lim, t, n, max, &r), 0);
  if (r.ok != ok || (r.ok && d_since(r.time_to_act) != d_since(act)))
    fail_msg("reserve_n(t%ld, %d) = (t%ld, %d) want (t%ld, %d)", d_since(t), n,
             d_since(r.time_to_act), r.ok, d_since(act), ok);
  return r;
}
#define RESERVE(lim, t, n, act, ok) reserve_max((lim), (t), (n), (act), (ok), GORT_RATE_INF_DURATION)

static void rate_simple_reserve(void **state) {
  (void)state;
  gort_limiter *lim = new_limiter(10, 2);
  RESERVE(lim, T(0), 2, T(0), true);
  RESERVE(lim, T(0), 2, T(2), true);
  RESERVE(lim, T(3), 2, T(4), true);
  gort_limiter_free(lim);
}

static void rate_mix(void **state) {
  (void)state;
  gort_limiter *lim = new_limiter(10, 2);
  RESERVE(lim, T(0), 3, T(1), false); /* n > burst */
  RESERVE(lim, T(0), 2, T(0), true);
  RUN(lim, {T(1), 1, 2, false}); /* not enough tokens */
  RESERVE(lim, T(1), 2, T(2), true);
  RUN(lim, {T(1), -1, 1, false}); /* negative tokens */
  RUN(lim, {T(3), 1, 1, true});
  gort_limiter_free(lim);
}

static void rate_cancel_invalid(void **state) {
  (void)state;
  gort_limiter *lim = new_limiter(10, 2);
  RESERVE(lim, T(0), 2, T(0), true);
  gort_reservation r = RESERVE(lim, T(0), 3, T(3), false);
  assert_int_equal(gort_reservation_cancel_at(&r, T(0)), 0); /* no effect */
  RESERVE(lim, T(0), 2, T(2), true);                         /* no extra tokens */
  gort_limiter_free(lim);
}

static void rate_cancel_last(void **state) {
  (void)state;
  gort_limiter *lim = new_limiter(10, 2);
  RESERVE(lim, T(0), 2, T(0), true);
  gort_reservation r = RESERVE(lim, T(0), 2, T(2), true);
  assert_int_equal(gort_reservation_cancel_at(&r, T(1)), 0); /* 2 tokens back */
  RESERVE(lim, T(1), 2, T(2), true);
  gort_limiter_free(lim);
}

static void rate_cancel_too_late(void **state) {
  (void)state;
  gort_limiter *lim = new_limiter(10, 2);
  RESERVE(lim, T(0), 2, T(0), true);
  gort_reservation r = RESERVE(lim, T(0), 2, T(2), true);
  assert_int_equal(gort_reservation_cancel_at(&r, T(3)), 0); /* too late: no effect */
  RESERVE(lim, T(3), 2, T(4), true);
  gort_limiter_free(lim);
}

static void rate_cancel_0_tokens(void **state) {
  (void)state;
  gort_limiter *lim = new_limiter(10, 2);
  RESERVE(lim, T(0), 2, T(0), true);
  gort_reservation r = RESERVE(lim, T(0), 1, T(1), true);
  RESERVE(lim, T(0), 1, T(2), true);
  assert_int_equal(gort_reservation_cancel_at(&r, T(0)), 0); /* 0 tokens back */
  RESERVE(lim, T(0), 1, T(3), true);
  gort_limiter_free(lim);
}

static void rate_cancel_1_token(void **state) {
  (void)state;
  gort_limiter *lim = new_limiter(10, 2);
  RESERVE(lim, T(0), 2, T(0), true);
  gort_reservation r = RESERVE(lim, T(0), 2, T(2), true);
  RESERVE(lim, T(0), 1, T(3), true);
  assert_int_equal(gort_reservation_cancel_at(&r, T(2)), 0); /* 1 token back */
  RESERVE(lim, T(2), 2, T(4), true);
  gort_limiter_free(lim);
}

static void rate_cancel_multi(void **state) {
  (void)state;
  gort_limiter *lim = new_limiter(10, 4);
  RESERVE(lim, T(0), 4, T(0), true);
  gort_reservation ra = RESERVE(lim, T(0), 3, T(3), true);
  RESERVE(lim, T(0), 1, T(4), true);
  gort_reservation rc = RESERVE(lim, T(0), 1, T(5), true);
  assert_int_equal(gort_reservation_cancel_at(&rc, T(1)), 0); /* 1 token back */
  assert_int_equal(gort_reservation_cancel_at(&ra, T(1)), 0); /* 2 back, as if C never was */
  RESERVE(lim, T(1), 3, T(5), true);
  gort_limiter_free(lim);
}

static void rate_reserve_jump_back(void **state) {
  (void)state;
  gort_limiter *lim = new_limiter(10, 2);
  RESERVE(lim, T(1), 2, T(1), true); /* start at t1 */
  RESERVE(lim, T(0), 1, T(1), true); /* should violate Limit,Burst */
  RESERVE(lim, T(2), 2, T(3), true);
  /* n=3 > burst always fails, and leaves the state unchanged */
  RESERVE(lim, T(0), 3, 0, false);
  RESERVE(lim, T(2), 1, T(4), true);
  /* max wait too short: fails, state unchanged */
  reserve_max(lim, T(0), 2, 0, false, D);
  RESERVE(lim, T(2), 1, T(5), true);
  gort_limiter_free(lim);
}

static void rate_reserve_jump_back_cancel(void **state) {
  (void)state;
  gort_limiter *lim = new_limiter(10, 2);
  RESERVE(lim, T(1), 2, T(1), true); /* start at t1 */
  gort_reservation r = RESERVE(lim, T(1), 2, T(3), true);
  RESERVE(lim, T(1), 1, T(4), true);
  assert_int_equal(gort_reservation_cancel_at(&r, T(0)), 0); /* 1 token back */
  RESERVE(lim, T(1), 2, T(4), true);                         /* violates Limit,Burst */
  gort_limiter_free(lim);
}

static void rate_reserve_set_limit(void **state) {
  (void)state;
  gort_limiter *lim = new_limiter(5, 2);
  RESERVE(lim, T(0), 2, T(0), true);
  RESERVE(lim, T(0), 2, T(4), true);
  assert_int_equal(gort_limiter_set_limit_at(lim, T(2), 10), 0);
  RESERVE(lim, T(2), 1, T(4), true); /* violates Limit and Burst */
  assert_true(gort_limiter_limit(lim) == 10);
  gort_limiter_free(lim);
}

static void rate_reserve_set_burst(void **state) {
  (void)state;
  gort_limiter *lim = new_limiter(5, 2);
  RESERVE(lim, T(0), 2, T(0), true);
  RESERVE(lim, T(0), 2, T(4), true);
  assert_int_equal(gort_limiter_set_burst_at(lim, T(3), 4), 0);
  RESERVE(lim, T(0), 4, T(9), true); /* violates Limit and Burst */
  assert_int_equal(gort_limiter_burst(lim), 4);
  gort_limiter_free(lim);
}

static void rate_reserve_set_limit_cancel(void **state) {
  (void)state;
  gort_limiter *lim = new_limiter(5, 2);
  RESERVE(lim, T(0), 2, T(0), true);
  gort_reservation r = RESERVE(lim, T(0), 2, T(4), true);
  assert_int_equal(gort_limiter_set_limit_at(lim, T(2), 10), 0);
  assert_int_equal(gort_reservation_cancel_at(&r, T(2)), 0); /* 2 tokens back */
  RESERVE(lim, T(2), 2, T(3), true);
  gort_limiter_free(lim);
}

static void rate_reserve_max(void **state) {
  (void)state;
  gort_limiter *lim = new_limiter(10, 2);
  reserve_max(lim, T(0), 2, T(0), true, D);
  reserve_max(lim, T(0), 1, T(1), true, D);  /* reserve for close future */
  reserve_max(lim, T(0), 1, T(2), false, D); /* time to act too far in the future */
  gort_limiter_free(lim);
}

/* Delay, ok and a second cancel. */
static void rate_reservation_delay_and_cancel_once(void **state) {
  (void)state;
  gort_limiter *lim = new_limiter(10, 2);
  gort_reservation r;
  assert_int_equal(gort_limiter_reserve_n(lim, T(0), 2, &r), 0);
  assert_true(gort_reservation_ok(&r));
  assert_int_equal(gort_reservation_delay_from(&r, T(0)), 0);
  assert_int_equal(gort_limiter_reserve_n(lim, T(0), 2, &r), 0);
  assert_true(gort_reservation_ok(&r));
  assert_int_equal(d_since(T(0) + gort_reservation_delay_from(&r, T(0))), 2);
  assert_int_equal(d_since(T(0) + gort_reservation_delay_from(&r, T(1))), 1);
  assert_int_equal(gort_reservation_delay_from(&r, T(5)), 0);
  assert_int_equal(gort_reservation_cancel_at(&r, T(1)), 0);
  assert_true(gort_limiter_tokens_at(lim, T(1)) == 1);
  assert_int_equal(gort_reservation_cancel_at(&r, T(1)), 0); /* nothing more back */
  assert_true(gort_limiter_tokens_at(lim, T(1)) == 1);

  gort_reservation bad;
  assert_int_equal(gort_limiter_reserve_n(lim, T(1), 3, &bad), 0);
  assert_false(gort_reservation_ok(&bad));
  assert_int_equal(gort_reservation_delay_from(&bad, T(1)), GORT_RATE_INF_DURATION);
  assert_int_equal(gort_reservation_delay(&bad), GORT_RATE_INF_DURATION);
  assert_int_equal(gort_reservation_cancel(&bad), 0);
  gort_limiter_free(lim);
}

/* ---- wait, with the fake clock (Go's runWait) ---- */

static void run_wait(fake_time *tt, gort_limiter *lim, const char *name, gort_context *ctx,
                     int n, long delay_d, int want_err) {
  int64_t start = fake_now(tt);
  int err = gort_limiter_wait_n(lim, ctx, n);
  gort_duration waited = fake_now(tt) - start;
  if (err != want_err || waited != delay_d * D)
    fail_msg("%s: wait_n(%d) = %s after %lld ns; want %s after %ld d", name, n, gort_err_name(err),
             (long long)waited, gort_err_name(want_err), delay_d);
}

static void rate_wait_simple(void **state) {
  (void)state;
  fake_time tt;
  fake_init(&tt, gort_now());
  gort_limiter *lim = new_limiter(10, 3);
  use_fake(lim, &tt);
  gort_context *ctx;
  assert_int_equal(gort_context_with_cancel(bg(), &ctx), 0);
  gort_context_cancel(ctx);
  run_wait(&tt, lim, "already-cancelled", ctx, 1, 0, GORT_ECANCELED);
  run_wait(&tt, lim, "exceed-burst-error", bg(), 4, 0, GORT_EBURST);
  /* Go's error text, with its numbers, for the calling task's last error. */
  assert_string_equal(gort_errmsg(GORT_EBURST), "rate: Wait(n=4) exceeds limiter's burst 3");
  run_wait(&tt, lim, "act-now", bg(), 2, 0, 0);
  run_wait(&tt, lim, "act-later", bg(), 3, 2, 0);
  gort_context_free(ctx);
  gort_limiter_free(lim);
  fake_destroy(&tt);
}

typedef struct {
  gort_chan *ch;
  gort_context *ctx;
} cancel_on_arg;

/* Owns one reference to each of a->ch and a->ctx. */
static void cancel_on_timer(void *p) {
  /* Copy: the test may return as soon as the cancel is seen. */
  cancel_on_arg a = *(cancel_on_arg *)p;
  gort_chan_recv(a.ch, NULL, NULL);
  gort_context_cancel(a.ctx);
  gort_chan_release(a.ch);
  gort_context_release(a.ctx);
}

static void rate_wait_cancel(void **state) {
  (void)state;
  fake_time tt;
  fake_init(&tt, gort_now());
  gort_limiter *lim = new_limiter(10, 3);
  use_fake(lim, &tt);
  gort_context *ctx;
  assert_int_equal(gort_context_with_cancel(bg(), &ctx), 0);
  run_wait(&tt, lim, "act-now", ctx, 2, 0, 0); /* lim.tokens = 1 now */
  cancel_on_arg a = {fake_new_timer(&tt, D), gort_context_retain(ctx)};
  assert_non_null(a.ch);
  assert_int_equal(gort_go(cancel_on_timer, &a), 0);
  /* The wait's own timer is 2d away; the d timer fires first and cancels. */
  run_wait(&tt, lim, "will-cancel", ctx, 3, 1, GORT_ECANCELED);
  /* 3 tokens came back: 2 now. */
  assert_true(gort_limiter_tokens(lim) == 2);
  run_wait(&tt, lim, "act-now-after-cancel", bg(), 2, 0, 0);
  gort_context_free(ctx);
  gort_limiter_free(lim);
  fake_destroy(&tt);
}

static void rate_wait_timeout(void **state) {
  (void)state;
  gort_context *ctx;
  assert_int_equal(gort_context_with_timeout(bg(), D, &ctx), 0);
  /* The fake clock starts exactly D before the real deadline, however slow
   * this machine is. */
  int64_t deadline = 0;
  assert_true(gort_context_deadline(ctx, &deadline));
  fake_time tt;
  fake_init(&tt, deadline - D);
  gort_limiter *lim = new_limiter(10, 3);
  use_fake(lim, &tt);
  run_wait(&tt, lim, "act-now", ctx, 2, 0, 0);
  run_wait(&tt, lim, "w-timeout-err", ctx, 3, 0, GORT_EWOULDEXCEED);
  /* Failing that way took nothing. */
  assert_true(gort_limiter_tokens(lim) == 1);
  gort_context_free(ctx);
  gort_limiter_free(lim);
  fake_destroy(&tt);
}

static void rate_wait_inf(void **state) {
  (void)state;
  fake_time tt;
  fake_init(&tt, gort_now());
  gort_limiter *lim = new_limiter(GORT_RATE_INF, 0);
  use_fake(lim, &tt);
  run_wait(&tt, lim, "exceed-burst-no-error", bg(), 3, 0, 0);
  assert_int_equal(gort_limiter_allow_n(lim, T(0), 1000), 0);
  gort_limiter_free(lim);
  fake_destroy(&tt);
}

/* ---- real clock ---- */

static void rate_wait_real_clock(void **state) {
  (void)state;
  gort_limiter *lim = new_limiter(50, 1); /* one token per 20 ms */
  int64_t t0 = gort_now();
  assert_int_equal(gort_limiter_wait(lim, bg()), 0); /* the burst: at once */
  assert_int_equal(gort_limiter_wait(lim, bg()), 0);
  assert_int_equal(gort_limiter_wait(lim, bg()), 0);
  /* Two refills: at least ~40 ms (allow 1 ms of clock slop). */
  assert_true(gort_now() - t0 >= 39 * GORT_MILLISECOND);
  gort_limiter_free(lim);
}

typedef struct {
  gort_limiter *lim;
  gort_context *ctx;
  gort_chan *rc;
} waiter_arg;

static void waiter(void *p) {
  waiter_arg *a = p;
  int rc = gort_limiter_wait(a->lim, a->ctx);
  gort_chan_send(a->rc, &rc);
}

/* Cancelled while waiting: ctx's error, and the token is given back. */
static void rate_wait_cancelled_while_waiting(void **state) {
  (void)state;
  waiter_arg a = {new_limiter(0.001, 1), NULL, NULL}; /* the next token in 1000 s */
  assert_int_equal(gort_context_with_cancel(bg(), &a.ctx), 0);
  assert_int_equal(GORT_CHAN_MAKE(&a.rc, int, 1), 0);
  assert_int_equal(gort_limiter_allow(a.lim), 0);
  assert_int_equal(gort_go(waiter, &a), 0);
  assert_true(gort_test_wait_parked(waiter, GORT_WAIT_SELECT, 1, 5000));
  assert_true(gort_limiter_tokens(a.lim) < -0.99); /* in debt to the waiter */
  gort_context_cancel(a.ctx);
  int rc = 0;
  assert_int_equal(gort_chan_recv(a.rc, &rc, NULL), 0);
  assert_int_equal(rc, GORT_ECANCELED);
  double toks = gort_limiter_tokens(a.lim);
  assert_true(toks > -0.01 && toks < 0.01); /* the reservation was cancelled */
  gort_context_free(a.ctx);
  gort_chan_release(a.rc);
  gort_limiter_free(a.lim);
}

/* A deadline shorter than the wait fails at once (had it waited, the error
 * would be the deadline's), taking nothing. */
static void rate_wait_would_exceed_deadline(void **state) {
  (void)state;
  gort_limiter *lim = new_limiter(0.1, 1); /* the next token in 10 s */
  gort_context *ctx;
  /* 5 s: well short of the 10 s wait, and long enough that no stall of
   * this task lets the deadline pass before wait looks at it (it fails at
   * once, so the length costs nothing). */
  assert_int_equal(gort_context_with_timeout(bg(), 5 * GORT_SECOND, &ctx), 0);
  assert_int_equal(gort_limiter_allow(lim), 0);
  assert_int_equal(gort_limiter_wait(lim, ctx), GORT_EWOULDEXCEED);
  assert_string_equal(gort_errmsg(GORT_EWOULDEXCEED),
                      "rate: Wait(n=1) would exceed context deadline");
  assert_string_equal(gort_errmsg(GORT_EBURST), gort_strerror(GORT_EBURST)); /* not the last */
  assert_int_equal(gort_context_err(ctx), 0);
  assert_true(gort_limiter_tokens(lim) > -0.5);
  gort_context_free(ctx);
  gort_limiter_free(lim);
}

/* ---- bad input, allocation failure ---- */

static void rate_invalid_arguments(void **state) {
  (void)state;
  gort_limiter *lim = NULL;
  assert_int_equal(gort_limiter_new(NULL, 1, 1), GORT_EINVAL);
  assert_int_equal(gort_limiter_new(&lim, -1, 1), GORT_EINVAL);
  assert_int_equal(gort_limiter_new(&lim, NAN, 1), GORT_EINVAL);
  assert_int_equal(gort_limiter_new(&lim, 1, -1), GORT_EINVAL);
  assert_null(lim);
  lim = new_limiter(1, 1);
  gort_reservation r = {.ok = true};
  assert_int_equal(gort_limiter_allow(NULL), GORT_EINVAL);
  assert_int_equal(gort_limiter_allow_n(lim, T(0), -1), GORT_EINVAL);
  assert_int_equal(gort_limiter_reserve(NULL, &r), GORT_EINVAL);
  assert_false(r.ok);
  assert_int_equal(gort_limiter_reserve(lim, NULL), GORT_EINVAL);
  assert_int_equal(gort_limiter_reserve_n(lim, T(0), -1, &r), GORT_EINVAL);
  assert_int_equal(gort_limiter_wait(NULL, bg()), GORT_EINVAL);
  assert_int_equal(gort_limiter_wait(lim, NULL), GORT_EINVAL);
  assert_int_equal(gort_limiter_wait_n(lim, bg(), -1), GORT_EINVAL);
  assert_int_equal(gort_limiter_set_limit(NULL, 1), GORT_EINVAL);
  assert_int_equal(gort_limiter_set_limit(lim, -1), GORT_EINVAL);
  assert_int_equal(gort_limiter_set_burst(NULL, 1), GORT_EINVAL);
  assert_int_equal(gort_limiter_set_burst(lim, -1), GORT_EINVAL);
  gort_rate_clock no_now = {NULL, NULL, NULL};
  assert_int_equal(gort_limiter_set_clock(lim, &no_now), GORT_EINVAL);
  assert_int_equal(gort_limiter_set_clock(NULL, NULL), GORT_EINVAL);
  assert_int_equal(gort_reservation_cancel(NULL), GORT_EINVAL);
  assert_int_equal(gort_reservation_cancel_at(NULL, 0), GORT_EINVAL);
  assert_false(gort_reservation_ok(NULL));
  assert_int_equal(gort_reservation_delay(NULL), GORT_RATE_INF_DURATION);
  assert_true(gort_limiter_limit(NULL) == 0);
  assert_int_equal(gort_limiter_burst(NULL), 0);
  assert_true(gort_limiter_tokens(NULL) == 0);
  /* Nothing above changed the limiter. */
  assert_true(gort_limiter_limit(lim) == 1);
  assert_int_equal(gort_limiter_burst(lim), 1);
  assert_int_equal(gort_limiter_allow(lim), 0);
  gort_limiter_free(NULL);
  gort_limiter_free(lim);
}

static void rate_enomem(void **state) {
  (void)state;
  gort_limiter *lim = NULL;
  gort_test_fail_allocs_after(0);
  int rc = gort_limiter_new(&lim, 1, 1);
  gort_test_allocator_restore();
  assert_int_equal(rc, GORT_ENOMEM);
  assert_null(lim);

  /* A wait that needs a timer it cannot get takes nothing. */
  lim = new_limiter(0.001, 1);
  fake_time tt;
  fake_init(&tt, T0);
  use_fake(lim, &tt);
  assert_int_equal(gort_limiter_allow(lim), 0);
  assert_true(gort_limiter_tokens(lim) == 0);
  gort_test_fail_allocs_after(0);
  rc = gort_limiter_wait(lim, bg());
  gort_test_allocator_restore();
  assert_int_equal(rc, GORT_ENOMEM);
  assert_true(gort_limiter_tokens(lim) == 0);
  gort_limiter_free(lim);
  fake_destroy(&tt);

  /* The same with the real clock's timer. */
  lim = new_limiter(0.001, 1);
  assert_int_equal(gort_limiter_allow(lim), 0);
  gort_test_fail_allocs_after(0);
  rc = gort_limiter_wait(lim, bg());
  gort_test_allocator_restore();
  assert_int_equal(rc, GORT_ENOMEM);
  double toks = gort_limiter_tokens(lim);
  assert_true(toks > -0.01 && toks < 0.01);
  gort_limiter_free(lim);
}

/* ---- Sometimes (x/time/rate's sometimes_test.go examples) ---- */

/* Records which calls of a loop ran f. */
typedef struct {
  int i;          /* the loop's current call */
  int ran[32];
  int n;
} sometimes_log;

static void log_call(void *p) {
  sometimes_log *l = p;
  l->ran[l->n++] = l->i;
}

static void run_sometimes(gort_sometimes *s, int calls, sometimes_log *l) {
  memset(l, 0, sizeof *l);
  for (l->i = 0; l->i < calls; l->i++) gort_sometimes_do(s, log_call, l);
}

static void assert_ran(const sometimes_log *l, const int *want, int n) {
  assert_int_equal(l->n, n);
  for (int k = 0; k < n; k++) assert_int_equal(l->ran[k], want[k]);
}

static void rate_sometimes_examples(void **state) {
  (void)state;
  sometimes_log l;
  /* ExampleSometimes_once: the zero value runs f once, like sync.Once. */
  gort_sometimes once = GORT_SOMETIMES_INIT(0, 0, 0);
  run_sometimes(&once, 10, &l);
  assert_ran(&l, (int[]){0}, 1);
  /* ExampleSometimes_first. */
  gort_sometimes first = GORT_SOMETIMES_INIT(3, 0, 0);
  run_sometimes(&first, 10, &l);
  assert_ran(&l, (int[]){0, 1, 2}, 3);
  /* ExampleSometimes_every: every 3rd, starting with the first. */
  gort_sometimes every = GORT_SOMETIMES_INIT(0, 3, 0);
  run_sometimes(&every, 10, &l);
  assert_ran(&l, (int[]){0, 3, 6, 9}, 4);
  /* ExampleSometimes_mix: the union of First and Every. */
  gort_sometimes mix = GORT_SOMETIMES_INIT(3, 10, 0);
  run_sometimes(&mix, 20, &l);
  assert_ran(&l, (int[]){0, 1, 2, 10}, 4);
  /* The counter continues across loops: calls 20..29 of mix run only 20. */
  memset(&l, 0, sizeof l);
  for (l.i = 20; l.i < 30; l.i++) gort_sometimes_do(&mix, log_call, &l);
  assert_ran(&l, (int[]){20}, 1);
}

/* Interval: f runs when Interval has passed since it last ran; OR-ed with
 * the others. Real time, with bounds no loaded machine can break: an hour
 * never passes, a nanosecond always has. */
static void rate_sometimes_interval(void **state) {
  (void)state;
  sometimes_log l;
  gort_sometimes hour = GORT_SOMETIMES_INIT(0, 0, 3600 * GORT_SECOND);
  run_sometimes(&hour, 5, &l);
  assert_ran(&l, (int[]){0}, 1);
  gort_sometimes ns = GORT_SOMETIMES_INIT(0, 0, 1);
  memset(&l, 0, sizeof l);
  for (l.i = 0; l.i < 5; l.i++) {
    int64_t t0 = gort_now();
    while (gort_now() == t0) {} /* at least 1 ns since the last run */
    gort_sometimes_do(&ns, log_call, &l);
  }
  assert_ran(&l, (int[]){0, 1, 2, 3, 4}, 5);
  /* ExampleSometimes_interval's shape: after a sleep longer than Interval,
   * the next call runs. */
  gort_sometimes iv = GORT_SOMETIMES_INIT(0, 0, 20 * GORT_MILLISECOND);
  memset(&l, 0, sizeof l);
  l.i = 0;
  gort_sometimes_do(&iv, log_call, &l);
  gort_sleep(40 * GORT_MILLISECOND);
  l.i = 1;
  gort_sometimes_do(&iv, log_call, &l);
  assert_ran(&l, (int[]){0, 1}, 2);
  /* Every OR Interval: the hour never passes, Every still fires. */
  gort_sometimes both = GORT_SOMETIMES_INIT(0, 2, 3600 * GORT_SECOND);
  run_sometimes(&both, 5, &l);
  assert_ran(&l, (int[]){0, 2, 4}, 3);
}

static void rate_sometimes_bad_input(void **state) {
  (void)state;
  int *calls = gort_test_misuse_return_mode();
  gort_sometimes_do(NULL, log_call, NULL);
  assert_int_equal(*calls, 1);
  gort_sometimes s = GORT_SOMETIMES_INIT(0, 0, 0);
  gort_sometimes_do(&s, NULL, NULL); /* calling a nil func */
  assert_int_equal(*calls, 2);
  assert_int_equal(gort_test_misuse_last(), GORT_ENILPTR);
  gort_test_misuse_abort_mode();
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(rate_limit_inf),
    cmocka_unit_test(rate_every),
    cmocka_unit_test(rate_limiter_burst1),
    cmocka_unit_test(rate_limiter_burst3),
    cmocka_unit_test(rate_limiter_jump_backwards),
    cmocka_unit_test(rate_no_truncation_errors),
    cmocka_unit_test(rate_zero_limit),
    cmocka_unit_test(rate_simultaneous_requests),
    cmocka_unit_test(rate_long_running_qps),
    cmocka_unit_test(rate_simple_reserve),
    cmocka_unit_test(rate_mix),
    cmocka_unit_test(rate_cancel_invalid),
    cmocka_unit_test(rate_cancel_last),
    cmocka_unit_test(rate_cancel_too_late),
    cmocka_unit_test(rate_cancel_0_tokens),
    cmocka_unit_test(rate_cancel_1_token),
    cmocka_unit_test(rate_cancel_multi),
    cmocka_unit_test(rate_reserve_jump_back),
    cmocka_unit_test(rate_reserve_jump_back_cancel),
    cmocka_unit_test(rate_reserve_set_limit),
    cmocka_unit_test(rate_reserve_set_burst),
    cmocka_unit_test(rate_reserve_set_limit_cancel),
    cmocka_unit_test(rate_reserve_max),
    cmocka_unit_test(rate_reservation_delay_and_cancel_once),
    cmocka_unit_test(rate_wait_simple),
    cmocka_unit_test(rate_wait_cancel),
    cmocka_unit_test(rate_wait_timeout),
    cmocka_unit_test(rate_wait_inf),
    cmocka_unit_test(rate_wait_real_clock),
    cmocka_unit_test(rate_wait_cancelled_while_waiting),
    cmocka_unit_test(rate_wait_would_exceed_deadline),
    cmocka_unit_test(rate_invalid_arguments),
    cmocka_unit_test(rate_enomem),
    cmocka_unit_test(rate_sometimes_examples),
    cmocka_unit_test(rate_sometimes_interval),
    cmocka_unit_test(rate_sometimes_bad_input),
};

GORT_TEST_MAIN(tests)
