/* gort/semaphore.h - golang.org/x/sync/semaphore: a weighted semaphore.
 *
 * A semaphore of size n hands out weights; the weights held at any time sum
 * to at most n. Acquire is strictly FIFO: a waiter that does not fit holds
 * back every waiter queued after it, even smaller ones that would fit, so a
 * large request (a "writer" taking the whole size) is never starved by a
 * stream of small ones.
 *
 * Cancellation follows x/sync exactly: an acquire whose context is already
 * done fails at once, even if the weight is free; a waiter whose context
 * becomes done leaves the queue and returns the context's error, and the
 * semaphore is unchanged (if the weight was granted at the same moment, it is
 * given back and passed on to the next waiters). A request larger than the
 * size can never succeed: it waits, without blocking anyone else, until its
 * context is done.
 *
 * A blocked acquire waits, as in x/sync, in a select on its own wake-up
 * channel and the context's done channel: dumps show it as "select".
 *
 * Misuse, as x/sync panics: releasing more than is held ("semaphore: released
 * more than held", GORT_ESEMRELEASE); the count is left unchanged then.
 *
 * Ownership: gort_semaphore_new allocates, gort_semaphore_free frees; nobody
 * may be blocked in acquire then.
 *
 * Concurrency: acquire, try_acquire and release may be called from any
 * number of tasks at once; free only when no other call is in progress.
 */
#ifndef GORT_SEMAPHORE_H
#define GORT_SEMAPHORE_H

#include "gort/export.h"

#include <stdint.h>

#include "gort/context.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gort_semaphore gort_semaphore;

/* semaphore.NewWeighted(n). A size of 0 is valid, as in Go: acquiring 0
 * succeeds, anything more waits for the context. GORT_EINVAL for
 * out == NULL or n < 0, GORT_ENOMEM (then *out is untouched). */
GORT_API int gort_semaphore_new(gort_semaphore **out, int64_t n);
/* Free; NULL is ignored. */
GORT_API void gort_semaphore_free(gort_semaphore *s);

/* Acquire weight n, blocking until it is granted or ctx is done. n may be
 * 0, as in x/sync: granted at once when nobody is queued, else when it
 * reaches the head of the queue; it holds nothing.
 * 0; the context's error (GORT_ECANCELED, GORT_EDEADLINE) with the semaphore
 * unchanged; GORT_EINVAL (s or ctx NULL, n < 0); GORT_ENOMEM (the wake-up
 * channel of a waiter could not be allocated; nothing was changed). */
GORT_API int gort_semaphore_acquire(gort_semaphore *s, gort_context *ctx, int64_t n);
/* Acquire n without blocking: 0, or GORT_EAGAIN (not enough free weight, or
 * others are queued: try_acquire does not jump the queue), GORT_EINVAL. */
GORT_API int gort_semaphore_try_acquire(gort_semaphore *s, int64_t n);
/* Give back n and wake the waiters at the head of the queue that now fit.
 * 0; GORT_EINVAL (s NULL, n < 0); GORT_ESEMRELEASE (misuse) when n is more
 * than is held. */
GORT_API int gort_semaphore_release(gort_semaphore *s, int64_t n);

/* Snapshots for tests and dumps: the size, the weight held now, and the
 * number of queued waiters (0 for NULL). */
GORT_API int64_t gort_semaphore_size(gort_semaphore *s);
GORT_API int64_t gort_semaphore_held(gort_semaphore *s);
GORT_API int gort_semaphore_waiters(gort_semaphore *s);

#ifdef __cplusplus
}
#endif
#endif
