/* gortp/quota.h - weighted concurrency limiting: operations of different
 * costs share one capacity.
 *
 * Seeds: 004 "Pattern 5: Semaphore - Rate Limiting" (RateLimiter over
 * semaphore.Weighted: Do(ctx, weight, fn), DoWithTimeout, tiered API costs:
 * light 10 and heavy 50 out of 100); 000 "Semaphore Pattern"
 * (weightedSemaphoreExample: heavy costs 5, light 1, capacity 10).
 *
 * Built on gort/semaphore.h (x/sync/semaphore: FIFO, a cancelled acquire
 * leaves the semaphore unchanged). Differences from the seeds:
 *  - seed 000 ignores Acquire's error and runs the work anyway, and never
 *    waits for its goroutines; here an acquire error is returned and fn is
 *    not run;
 *  - a weight larger than the capacity can never be granted: x/sync blocks
 *    until the context ends (forever, with Background); here it fails at once
 *    with GORT_EINVAL.
 * The weight is released when fn returns, whatever it returns.
 *
 * Ownership: new allocates, free frees (nobody may be in do then).
 * Concurrency: do / do_timeout from any number of tasks at once.
 */
#ifndef GORTP_QUOTA_H
#define GORTP_QUOTA_H

#include "gort/export.h"

#include <stdint.h>

#include "gort/context.h"
#include "gort/err.h"
#include "gort/timer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gortp_quota gortp_quota;

/* 0, GORT_EINVAL (max_weight <= 0), GORT_ENOMEM. */
GORT_API int gortp_quota_new(gortp_quota **out, int64_t max_weight);
GORT_API void gortp_quota_free(gortp_quota *q);

/* Acquire weight (blocking, FIFO) under ctx (NULL: Background), run
 * fn(arg), release. Returns fn's result, or without running fn: the
 * context's error, GORT_EINVAL (weight <= 0 or > capacity, fn NULL),
 * GORT_ENOMEM. */
GORT_API int gortp_quota_do(gortp_quota *q, gort_context *ctx, int64_t weight, int (*fn)(void *arg),
                            void *arg);
/* The same, giving up on the acquire after timeout: GORT_EDEADLINE. */
GORT_API int gortp_quota_do_timeout(gortp_quota *q, gort_context *ctx, int64_t weight,
                                    gort_duration timeout, int (*fn)(void *arg), void *arg);

/* Snapshots: weight held now, tasks queued for weight. */
GORT_API int64_t gortp_quota_held(gortp_quota *q);
GORT_API int gortp_quota_waiters(gortp_quota *q);

#ifdef __cplusplus
}
#endif
#endif
