/* gort/timer.h - time: monotonic clock, sleep, one-shot timers, tickers.
 *
 * One timer thread serves every timer from a min-heap; no timer costs a
 * thread. Durations are int64 nanoseconds (gort_duration); times are
 * CLOCK_MONOTONIC nanoseconds (gort_now()).
 *
 * Channel semantics follow Go 1.23: a timer's or ticker's channel has
 * capacity 1 and carries the int64 fire time; Stop and Reset discard a value
 * that was sent but not yet received, so no stale tick is ever observed after
 * they return. A ticker drops ticks for a slow receiver.
 */
#ifndef GORT_TIMER_H
#define GORT_TIMER_H

#include "gort/export.h"

#include <stdbool.h>
#include <stdint.h>

#include "gort/chan.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef int64_t gort_duration;
#define GORT_NANOSECOND ((gort_duration)1)
#define GORT_MICROSECOND ((gort_duration)1000)
#define GORT_MILLISECOND ((gort_duration)1000000)
#define GORT_SECOND ((gort_duration)1000000000)

/* Monotonic time in nanoseconds. */
GORT_API int64_t gort_now(void);

/* Park the calling task for at least d. d <= 0 returns at once.
 * Returns 0. */
GORT_API int gort_sleep(gort_duration d);

/* time.After: a channel that receives the fire time once, after d. The caller
 * owns one reference and releases it; the timer holds its own until it fires.
 * Returns GORT_EINVAL for out NULL, GORT_ENOMEM. */
GORT_API int gort_after(gort_duration d, gort_chan **out);

typedef struct gort_timer gort_timer;

/* time.NewTimer. */
GORT_API int gort_timer_new(gort_timer **out, gort_duration d);
/* time.AfterFunc: fn(arg) runs in its own task after d. No channel. */
GORT_API int gort_timer_after_func(gort_timer **out, gort_duration d, void (*fn)(void *),
                                   void *arg);
/* The timer's channel (NULL for an AfterFunc timer). Owned by the timer. */
GORT_API gort_chan *gort_timer_chan(gort_timer *t);
/* Stop: true if the call stopped the timer, false if it had already fired or
 * been stopped. Stop, Reset and gort_ticker_stop on NULL are misuse
 * (GORT_ENILPTR, as Go panics on a nil *Timer) and return false. */
GORT_API bool gort_timer_stop(gort_timer *t);
/* Reset to fire after d from now: true if the timer had been active. */
GORT_API bool gort_timer_reset(gort_timer *t, gort_duration d);
/* Stop and free; NULL is ignored. */
GORT_API void gort_timer_free(gort_timer *t);

typedef struct gort_ticker gort_ticker;

/* time.NewTicker: GORT_ENEGDELAY (misuse, as Go panics) when period <= 0. */
GORT_API int gort_ticker_new(gort_ticker **out, gort_duration period);
GORT_API gort_chan *gort_ticker_chan(gort_ticker *t);
GORT_API void gort_ticker_stop(gort_ticker *t);
GORT_API int gort_ticker_reset(gort_ticker *t, gort_duration period);
GORT_API void gort_ticker_free(gort_ticker *t);

#ifdef __cplusplus
}
#endif
#endif
