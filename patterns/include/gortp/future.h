/* gortp/future.h - future / promise: start work now, collect its result
 * later.
 *
 * Seed: 000 "Future / Promise Pattern" (NewFuture(fn) runs fn in a
 * goroutine; Get blocks for the result; GetWithTimeout gives up after a
 * timeout; main starts two fetches and collects both).
 *
 * The result is fn's (void *value, int err). Get may be called any number of
 * times, from any number of tasks, like the seed's (the done channel is
 * closed once, so every reader sees it).
 *
 * Differences from the seed:
 *  - GetWithTimeout uses time.After, whose timer lives on until it fires;
 *    here the timer is stopped and freed as soon as the result arrives;
 *  - the seed's main reads `user, err := ...; orders, err := ...`, dropping
 *    the first error; the example checks both.
 *
 * Ownership (no GC): the future is reference counted. new returns one
 * reference, the running task holds another, so the caller may release
 * (give up on) a future whose work is still running: the work finishes and
 * the last release frees everything. The value belongs to the future: get
 * returns a borrowed pointer, valid until the caller's release; the last
 * release passes it to free_value (if not NULL).
 */
#ifndef GORTP_FUTURE_H
#define GORTP_FUTURE_H

#include "gort/export.h"

#include <stdbool.h>

#include "gort/context.h"
#include "gort/err.h"
#include "gort/timer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gortp_future gortp_future;

/* The work: set *value (may stay NULL), return 0 or an error code. */
typedef int (*gortp_future_fn)(void *arg, void **value);

/* Start fn(arg) in a new task. 0, GORT_EINVAL, GORT_ENOMEM, GORT_ETHREAD
 * (nothing started). */
GORT_API int gortp_future_new(gortp_future **out, gortp_future_fn fn, void *arg,
                              void (*free_value)(void *value));
/* Block until done; *value (may be NULL) gets the value. Returns fn's error. */
GORT_API int gortp_future_get(gortp_future *f, void **value);
/* As get, but GORT_ETIMEDOUT after timeout (value untouched). */
GORT_API int gortp_future_get_timeout(gortp_future *f, gort_duration timeout, void **value);
/* As get, but the context's error when ctx is done first. */
GORT_API int gortp_future_get_ctx(gortp_future *f, gort_context *ctx, void **value);
/* True once the result is available. */
GORT_API bool gortp_future_done(gortp_future *f);
GORT_API gortp_future *gortp_future_retain(gortp_future *f);
GORT_API void gortp_future_release(gortp_future *f);

#ifdef __cplusplus
}
#endif
#endif
