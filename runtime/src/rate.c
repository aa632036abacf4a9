/* rate.c - golang.org/x/time/rate's token bucket, with Go's arithmetic.
 *
 * State (under lim->lock): tokens at time last (negative: in debt to
 * reservations that act in the future), and last_event, the time_to_act of
 * the latest reservation. The bucket is never stored with more than burst
 * tokens; advance() computes what it holds at a later time without storing.
 * "Never updated" is last = INT64_MIN, which, with saturating subtraction,
 * behaves like Go's zero time: so long ago that the bucket is full.
 *
 * The arithmetic mirrors x/time/rate (Duration.Seconds, float -> Duration
 * truncation), so that its tests' exact token counts hold here too. Times are
 * int64 nanoseconds on the limiter's clock; sums and differences saturate
 * instead of overflowing.
 *
 * Concurrency: clock is written only by set_clock (before the limiter is
 * shared) and read without the lock. Waiting happens outside the lock, on a
 * timer channel and the context's done channel.
 */
#include <math.h>

#include "gort/rate.h"
#include "gort/select.h"
#include "internal.h"

struct gort_limiter {
  gort_rate_clock clock; /* set before sharing; read without the lock */
  pthread_mutex_t lock;  /* protects everything below */
  double limit;
  int burst;
  double tokens;
  int64_t last;       /* when tokens was last updated */
  int64_t last_event; /* latest time_to_act of a reservation */
};

/* ---- time arithmetic ---- */

static int64_t sub_sat(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) return b < 0 ? INT64_MAX : INT64_MIN;
  return r;
}

static int64_t add_sat(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
  return r;
}

/* time.Duration.Seconds: whole seconds and the rest, added as Go does. */
static double seconds(gort_duration d) {
  int64_t sec = d / GORT_SECOND, nsec = d % GORT_SECOND;
  return (double)sec + (double)nsec / 1e9;
}

static double tokens_from_duration(double limit, gort_duration d) {
  if (limit <= 0) return 0;
  return seconds(d) * limit;
}

/* time.Duration(float64(time.Second) * tokens/limit): truncates toward zero;
 * out-of-range values saturate. */
static gort_duration duration_from_tokens(double limit, double tokens) {
  if (limit <= 0) return GORT_RATE_INF_DURATION;
  double ns = 1e9 * (tokens / limit);
  if (isnan(ns)) return GORT_RATE_INF_DURATION;
  if (ns >= 9223372036854775807.0) return INT64_MAX;
  if (ns <= -9223372036854775808.0) return INT64_MIN;
  return (gort_duration)ns;
}

double gort_rate_every(gort_duration interval) {
  if (interval <= 0) return GORT_RATE_INF;
  return 1 / seconds(interval);
}

/* ---- the limiter ---- */

static int64_t default_now(void *arg) {
  (void)arg;
  return gort_now();
}

static bool valid_limit(double limit) { return !isnan(limit) && limit >= 0; }

/* +infinity means Inf too; storing it as GORT_RATE_INF keeps the arithmetic
 * finite (0 * inf would be NaN). */
static double normal_limit(double limit) { return limit > GORT_RATE_INF ? GORT_RATE_INF : limit; }

int gort_limiter_new(gort_limiter **out, double limit, int burst) {
  if (out == NULL || !valid_limit(limit) || burst < 0) return GORT_EINVAL;
  gort_limiter *lim = gort__calloc(1, sizeof *lim);
  if (lim == NULL) return GORT_ENOMEM;
  lim->clock = (gort_rate_clock){default_now, NULL, NULL};
  pthread_mutex_init(&lim->lock, NULL);
  lim->limit = normal_limit(limit);
  lim->burst = burst;
  lim->tokens = 0;
  lim->last = INT64_MIN;
  lim->last_event = INT64_MIN;
  *out = lim;
  return 0;
}

void gort_limiter_free(gort_limiter *lim) {
  if (lim == NULL) return;
  pthread_mutex_destroy(&lim->lock);
  gort__free(lim);
}

int gort_limiter_set_clock(gort_limiter *lim, const gort_rate_clock *clock) {
  if (lim == NULL || (clock != NULL && clock->now == NULL)) return GORT_EINVAL;
  lim->clock = clock ? *clock : (gort_rate_clock){default_now, NULL, NULL};
  return 0;
}

int64_t gort_limiter_now(gort_limiter *lim) {
  if (lim == NULL) return gort_now();
  return lim->clock.now(lim->clock.arg);
}

/* The tokens the bucket holds at time t (lim unchanged). Requires the lock. */
static double advance(const gort_limiter *lim, int64_t t) {
  int64_t last = lim->last;
  if (t < last) last = t; /* time went backwards: accrue nothing */
  double tokens = lim->tokens + tokens_from_duration(lim->limit, sub_sat(t, last));
  if (tokens > (double)lim->burst) tokens = (double)lim->burst;
  return tokens;
}

double gort_limiter_limit(gort_limiter *lim) {
  if (lim == NULL) return 0;
  pthread_mutex_lock(&lim->lock);
  double l = lim->limit;
  pthread_mutex_unlock(&lim->lock);
  return l;
}

int gort_limiter_burst(gort_limiter *lim) {
  if (lim == NULL) return 0;
  pthread_mutex_lock(&lim->lock);
  int b = lim->burst;
  pthread_mutex_unlock(&lim->lock);
  return b;
}

double gort_limiter_tokens_at(gort_limiter *lim, int64_t now) {
  if (lim == NULL) return 0;
  pthread_mutex_lock(&lim->lock);
  double tokens = advance(lim, now);
  pthread_mutex_unlock(&lim->lock);
  return tokens;
}

double gort_limiter_tokens(gort_limiter *lim) {
  return lim ? gort_limiter_tokens_at(lim, gort_limiter_now(lim)) : 0;
}

int gort_limiter_set_limit_at(gort_limiter *lim, int64_t now, double limit) {
  if (lim == NULL || !valid_limit(limit)) return GORT_EINVAL;
  pthread_mutex_lock(&lim->lock);
  lim->tokens = advance(lim, now);
  lim->last = now;
  lim->limit = normal_limit(limit);
  pthread_mutex_unlock(&lim->lock);
  return 0;
}

int gort_limiter_set_limit(gort_limiter *lim, double limit) {
  if (lim == NULL) return GORT_EINVAL;
  return gort_limiter_set_limit_at(lim, gort_limiter_now(lim), limit);
}

int gort_limiter_set_burst_at(gort_limiter *lim, int64_t now, int burst) {
  if (lim == NULL || burst < 0) return GORT_EINVAL;
  pthread_mutex_lock(&lim->lock);
  lim->tokens = advance(lim, now);
  lim->last = now;
  lim->burst = burst;
  pthread_mutex_unlock(&lim->lock);
  return 0;
}

int gort_limiter_set_burst(gort_limiter *lim, int burst) {
  if (lim == NULL) return GORT_EINVAL;
  return gort_limiter_set_burst_at(lim, gort_limiter_now(lim), burst);
}

/* Go's reserveN: take n tokens at time t if that needs a wait of at most
 * max_wait (and n fits the burst). */
static gort_reservation reserve(gort_limiter *lim, int64_t t, int n, gort_duration max_wait) {
  gort_reservation r = {.ok = false, .lim = lim};
  pthread_mutex_lock(&lim->lock);
  if (lim->limit == GORT_RATE_INF) {
    r = (gort_reservation){true, lim, n, t, 0};
  } else if (lim->limit == 0) {
    /* No refill: the burst itself is the budget (Go's special case,
     * including its choice of what the reservation records). */
    bool ok = lim->burst >= n;
    if (ok) lim->burst -= n;
    r = (gort_reservation){ok, lim, lim->burst, t, 0};
  } else {
    double tokens = advance(lim, t) - n;
    gort_duration wait = 0;
    if (tokens < 0) wait = duration_from_tokens(lim->limit, -tokens);
    r.limit = lim->limit;
    r.ok = n <= lim->burst && wait <= max_wait;
    if (r.ok) {
      r.tokens = n;
      r.time_to_act = add_sat(t, wait);
      lim->last = t;
      lim->tokens = tokens;
      lim->last_event = r.time_to_act;
    }
  }
  pthread_mutex_unlock(&lim->lock);
  return r;
}

int gort_limiter_allow_n(gort_limiter *lim, int64_t now, int n) {
  if (lim == NULL || n < 0) return GORT_EINVAL;
  return reserve(lim, now, n, 0).ok ? 0 : GORT_EAGAIN;
}

int gort_limiter_allow(gort_limiter *lim) {
  if (lim == NULL) return GORT_EINVAL;
  return gort_limiter_allow_n(lim, gort_limiter_now(lim), 1);
}

int gort_limiter_reserve_n_max(gort_limiter *lim, int64_t now, int n, gort_duration max_wait,
                               gort_reservation *r) {
  if (r != NULL) *r = (gort_reservation){.ok = false, .lim = lim};
  if (lim == NULL || r == NULL || n < 0) return GORT_EINVAL;
  *r = reserve(lim, now, n, max_wait);
  return 0;
}

int gort_limiter_reserve_n(gort_limiter *lim, int64_t now, int n, gort_reservation *r) {
  return gort_limiter_reserve_n_max(lim, now, n, GORT_RATE_INF_DURATION, r);
}

int gort_limiter_reserve(gort_limiter *lim, gort_reservation *r) {
  if (lim == NULL) {
    if (r != NULL) *r = (gort_reservation){.ok = false};
    return GORT_EINVAL;
  }
  return gort_limiter_reserve_n(lim, gort_limiter_now(lim), 1, r);
}

/* ---- reservations ---- */

bool gort_reservation_ok(const gort_reservation *r) { return r != NULL && r->ok; }

gort_duration gort_reservation_delay_from(const gort_reservation *r, int64_t now) {
  if (r == NULL || !r->ok) return GORT_RATE_INF_DURATION;
  gort_duration d = sub_sat(r->time_to_act, now);
  return d < 0 ? 0 : d;
}

gort_duration gort_reservation_delay(const gort_reservation *r) {
  if (r == NULL || !r->ok) return GORT_RATE_INF_DURATION;
  return gort_reservation_delay_from(r, gort_limiter_now(r->lim));
}

int gort_reservation_cancel_at(gort_reservation *r, int64_t now) {
  if (r == NULL) return GORT_EINVAL;
  if (!r->ok || r->lim == NULL) return 0;
  gort_limiter *lim = r->lim;
  pthread_mutex_lock(&lim->lock);
  if (lim->limit == GORT_RATE_INF || r->tokens == 0 || r->time_to_act < now) goto out;
  /* Tokens reserved after r (up to last_event) depend on r's; only the rest
   * can be given back. */
  double restore =
      r->tokens - tokens_from_duration(r->limit, sub_sat(lim->last_event, r->time_to_act));
  if (restore <= 0) goto out;
  double tokens = advance(lim, now) + restore;
  if (tokens > (double)lim->burst) tokens = (double)lim->burst;
  lim->last = now;
  lim->tokens = tokens;
  if (r->time_to_act == lim->last_event) {
    /* r was the latest reservation: the latest event is now the one before. */
    int64_t prev = add_sat(r->time_to_act, duration_from_tokens(r->limit, -(double)r->tokens));
    if (prev >= now) lim->last_event = prev;
  }
  r->tokens = 0; /* a second cancel gives nothing back */
out:
  pthread_mutex_unlock(&lim->lock);
  return 0;
}

int gort_reservation_cancel(gort_reservation *r) {
  if (r == NULL) return GORT_EINVAL;
  if (!r->ok || r->lim == NULL) return 0;
  return gort_reservation_cancel_at(r, gort_limiter_now(r->lim));
}

/* ---- wait ---- */

int gort_limiter_wait_n(gort_limiter *lim, gort_context *ctx, int n) {
  if (lim == NULL || ctx == NULL || n < 0) return GORT_EINVAL;
  pthread_mutex_lock(&lim->lock);
  int burst = lim->burst;
  double limit = lim->limit;
  pthread_mutex_unlock(&lim->lock);
  if (n > burst && limit != GORT_RATE_INF) return gort__errorf(GORT_EBURST, n, burst);

  gort_chan *done = gort_context_done(ctx);
  if (done != NULL && gort_chan_try_recv(done, NULL, NULL) == GORT_ECLOSED)
    return gort_context_err(ctx);

  int64_t t = gort_limiter_now(lim);
  gort_duration max_wait = GORT_RATE_INF_DURATION;
  int64_t deadline;
  if (gort_context_deadline(ctx, &deadline)) max_wait = sub_sat(deadline, t);
  gort_reservation r = reserve(lim, t, n, max_wait);
  if (!r.ok) return gort__errorf(GORT_EWOULDEXCEED, n);
  gort_duration delay = gort_reservation_delay_from(&r, t);
  if (delay == 0) return 0;

  gort_timer *timer = NULL;
  gort_chan *ch = NULL;
  int err;
  if (lim->clock.after != NULL) {
    err = lim->clock.after(lim->clock.arg, delay, &ch);
  } else {
    err = gort_timer_new(&timer, delay);
    if (err == 0) ch = gort_timer_chan(timer);
  }
  if (err != 0) {
    gort_reservation_cancel_at(&r, t);
    return err;
  }
  gort_select_case cases[2] = {gort_case_recv(ch, NULL), gort_case_recv(done, NULL)};
  int which = gort_select(cases, 2);
  if (timer != NULL) gort_timer_free(timer);
  else gort_chan_release(ch);
  if (which == 0) return 0;
  if (which != 1) gort__fatal("rate: select failed: %s", gort_strerror(which));
  /* Cancelled before we could act: give the tokens back for others. */
  gort_reservation_cancel(&r);
  return gort_context_err(ctx);
}

int gort_limiter_wait(gort_limiter *lim, gort_context *ctx) {
  return gort_limiter_wait_n(lim, ctx, 1);
}

/* ---- Sometimes ---- */

/* x/time/rate's Do: the OR of the three filters, checked and f run under
 * the mutex, then the call counted. count == 0 covers Go's zero `last`
 * (f always runs first), so last is read only after f has set it. */
void gort_sometimes_do(gort_sometimes *s, void (*f)(void *), void *arg) {
  if (gort__nil(s)) return;
  if (f == NULL) { /* Go: calling the nil func panics */
    gort__misuse(GORT_ENILPTR);
    return;
  }
  gort_mutex_lock(&s->mu);
  if (s->count == 0 || (s->first > 0 && s->count < s->first) ||
      (s->every > 0 && s->count % s->every == 0) ||
      (s->interval > 0 && sub_sat(gort_now(), s->last) >= s->interval)) {
    f(arg);
    s->last = gort_now();
  }
  s->count++;
  gort_mutex_unlock(&s->mu);
}
