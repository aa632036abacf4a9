/* gort/rate.h - golang.org/x/time/rate: a token-bucket rate limiter, and
 * Sometimes (at the end of this header).
 *
 * A limiter lets events happen at `limit` per second on average, with bursts
 * of at most `burst` events: a bucket of `burst` tokens, initially full,
 * refilled at `limit` tokens per second; each event takes one token (n for
 * the *_n calls). GORT_RATE_INF lets everything through (burst is then
 * ignored); a limit of 0 allows exactly `burst` events in total.
 *
 * Three ways to take tokens, as in Go:
 *  - allow: take them now or not at all (GORT_EAGAIN): drop excess events;
 *  - reserve: take them now or in the future and learn how long to wait
 *    (the reservation may be cancelled, giving back what it can);
 *  - wait: block until the tokens are available, the context is done, or
 *    it is clear that the wait would pass the context's deadline.
 *
 * Time: gort_now() nanoseconds (CLOCK_MONOTONIC). The *_at variants take the
 * time explicitly, as Go's AllowN(t, n) / ReserveN(t, n) do; the others read
 * the limiter's clock, which is gort_now unless replaced with
 * gort_limiter_set_clock (a fake clock makes tests exact and instant: its
 * `after` gives wait the channel to sleep on). wait compares a context's
 * deadline (a gort_now() time) with the limiter's clock, so a fake clock
 * used with deadlines should run close to gort_now().
 *
 * Ownership: gort_limiter_new allocates, gort_limiter_free frees (nobody may
 * be in wait then). Reservations are caller-owned values; they refer to
 * their limiter and must not be used after it is freed.
 *
 * Concurrency: every call except set_clock and free may be made from any
 * number of tasks at once. set_clock only before the limiter is shared.
 */
#ifndef GORT_RATE_H
#define GORT_RATE_H

#include "gort/export.h"

#include <float.h>
#include <stdbool.h>
#include <stdint.h>

#include "gort/context.h"
#include "gort/sync.h"
#include "gort/timer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* rate.Inf: the infinite rate, which allows every event. */
#define GORT_RATE_INF DBL_MAX
/* rate.InfDuration: the delay of a reservation that is not ok. */
#define GORT_RATE_INF_DURATION INT64_MAX

/* rate.Every: the limit for one event per interval (GORT_RATE_INF for
 * interval <= 0). */
GORT_API double gort_rate_every(gort_duration interval);

/* A replacement clock. now returns the current time (gort_now() scale);
 * after, like gort_after, makes a channel that receives one value (any
 * element size) once d has passed on this clock; the limiter releases it.
 * A fake after may advance its clock and fire at once. after may be NULL
 * when nothing calls wait. */
typedef struct {
  int64_t (*now)(void *arg);
  int (*after)(void *arg, gort_duration d, gort_chan **out);
  void *arg;
} gort_rate_clock;

typedef struct gort_limiter gort_limiter;

/* rate.NewLimiter(limit, burst). 0; GORT_EINVAL (out NULL, limit negative or
 * NaN, burst negative); GORT_ENOMEM. */
GORT_API int gort_limiter_new(gort_limiter **out, double limit, int burst);
/* Free; NULL is ignored. */
GORT_API void gort_limiter_free(gort_limiter *lim);
/* Use clock instead of gort_now (NULL: back to gort_now). The struct is
 * copied. 0; GORT_EINVAL (lim NULL, or clock->now NULL). */
GORT_API int gort_limiter_set_clock(gort_limiter *lim, const gort_rate_clock *clock);
/* The limiter's current time (its clock's now). */
GORT_API int64_t gort_limiter_now(gort_limiter *lim);

/* Snapshots: the limit, the burst, the tokens available now / at time now
 * (0 for NULL). */
GORT_API double gort_limiter_limit(gort_limiter *lim);
GORT_API int gort_limiter_burst(gort_limiter *lim);
GORT_API double gort_limiter_tokens(gort_limiter *lim);
GORT_API double gort_limiter_tokens_at(gort_limiter *lim, int64_t now);

/* Change the limit or the burst, at the limiter's now or at time now. The
 * tokens accrued until then are kept (capped at the burst). Reservations
 * made before keep their times. 0; GORT_EINVAL (lim NULL, limit negative or
 * NaN, burst negative). */
GORT_API int gort_limiter_set_limit(gort_limiter *lim, double limit);
GORT_API int gort_limiter_set_limit_at(gort_limiter *lim, int64_t now, double limit);
GORT_API int gort_limiter_set_burst(gort_limiter *lim, int burst);
GORT_API int gort_limiter_set_burst_at(gort_limiter *lim, int64_t now, int burst);

/* Take 1 (n) tokens at once if available: 0 (allowed), GORT_EAGAIN (not
 * allowed; nothing taken), GORT_EINVAL (lim NULL, n < 0). n = 0 is allowed
 * as in Go (it only checks that the bucket is not in debt). */
GORT_API int gort_limiter_allow(gort_limiter *lim);
GORT_API int gort_limiter_allow_n(gort_limiter *lim, int64_t now, int n);

/* A reservation of tokens (rate.Reservation). Read it with the functions
 * below; the fields are for them. */
typedef struct {
  bool ok;             /* the tokens were granted (possibly in the future) */
  gort_limiter *lim;
  int tokens;          /* how many were taken */
  int64_t time_to_act; /* when they may be used */
  double limit;        /* the limit at reservation time */
} gort_reservation;

/* Reserve 1 (n) tokens now / at time now, waiting as long as needed: r->ok
 * is false only if n exceeds the burst (limit not Inf). Returns 0 (whether
 * or not r->ok), or GORT_EINVAL (lim or r NULL, n < 0; r is then a
 * not-ok reservation if r is not NULL). */
GORT_API int gort_limiter_reserve(gort_limiter *lim, gort_reservation *r);
GORT_API int gort_limiter_reserve_n(gort_limiter *lim, int64_t now, int n, gort_reservation *r);
/* As reserve_n, but r->ok is also false (and nothing is taken) when acting
 * would need a wait longer than max_wait: x/time/rate's internal
 * reserveN(t, n, maxFutureReserve), which wait uses with the time left until
 * the context's deadline. max_wait 0 is allow_n. */
GORT_API int gort_limiter_reserve_n_max(gort_limiter *lim, int64_t now, int n,
                                        gort_duration max_wait, gort_reservation *r);

GORT_API bool gort_reservation_ok(const gort_reservation *r);
/* How long to wait from the limiter's now / from now before acting: 0 means
 * act now; GORT_RATE_INF_DURATION for a reservation that is not ok (or
 * NULL). */
GORT_API gort_duration gort_reservation_delay(const gort_reservation *r);
GORT_API gort_duration gort_reservation_delay_from(const gort_reservation *r, int64_t now);
/* The holder will not act: give back, at the limiter's now / at now, the
 * tokens no later reservation depends on (none once time_to_act has passed).
 * No-op for a reservation that is not ok. 0; GORT_EINVAL (r NULL).
 * Cancel a reservation at most once. */
GORT_API int gort_reservation_cancel(gort_reservation *r);
GORT_API int gort_reservation_cancel_at(gort_reservation *r, int64_t now);

/* Block until 1 (n) tokens are available. 0 on success, or:
 *  GORT_EBURST        n exceeds the burst (and the limit is not Inf);
 *                     gort_errmsg(GORT_EBURST) then gives Go's text with
 *                     the numbers: "rate: Wait(n=5) exceeds limiter's
 *                     burst 3" (likewise for GORT_EWOULDEXCEED);
 *  the ctx's error    ctx was already done, or became done while waiting
 *                     (the reservation is cancelled then);
 *  GORT_EWOULDEXCEED  the wait would end after ctx's deadline;
 *  GORT_EINVAL        lim or ctx NULL, n < 0;
 *  GORT_ENOMEM        the timer could not be made (nothing was taken).
 * The first three fail at once, without waiting. */
GORT_API int gort_limiter_wait(gort_limiter *lim, gort_context *ctx);
GORT_API int gort_limiter_wait_n(gort_limiter *lim, gort_context *ctx, int n);

/* rate.Sometimes: run an action only sometimes, as a log line in a hot
 * loop. do runs f(arg) when allowed by any of (the union, not the
 * intersection):
 *  - first:    the first `first` calls run f (0: off);
 *  - every:    every `every`th call runs f, starting with the first (0: off);
 *  - interval: f runs if at least `interval` has passed since it last ran
 *    (0: off).
 * The first call always runs f, so the zero value (all 0) is sync.Once.
 * Calls are serialised and f runs with the lock held, so f must be quick
 * and must not call do on the same object (it would deadlock, as in Go).
 * Caller-owned, of fixed size: initialise with GORT_SOMETIMES_INIT. s or f
 * NULL is misuse (GORT_ENILPTR). */
typedef struct {
  int first;
  int every;
  gort_duration interval;
  gort_mutex mu;  /* protects count and last */
  int64_t count;  /* calls of do so far */
  int64_t last;   /* gort_now() when f last ran */
} gort_sometimes;
#define GORT_SOMETIMES_INIT(first, every, interval) \
  {(first), (every), (interval), GORT_MUTEX_INIT, 0, 0}
GORT_API void gort_sometimes_do(gort_sometimes *s, void (*f)(void *), void *arg);

#ifdef __cplusplus
}
#endif
#endif
