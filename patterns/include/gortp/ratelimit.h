/* gortp/ratelimit.h - rate-limited bounded parallelism, and a rate-limited
 * API client.
 *
 * Seeds: 000 "Bounded Parallelism with Rate Limiting" (processWithRateLimit:
 * errgroup with SetLimit(10), rate.NewLimiter(50, 50), limiter.Wait(ctx)
 * before each g.Go); 001 "Pattern 5: Rate Limiter (Token Bucket)"
 * (APIClient: Call waits for a token, TryCall refuses with "rate limit
 * exceeded").
 *
 * The seed's loop returns as soon as limiter.Wait fails (`return err`),
 * without g.Wait(): the items already started keep running after the
 * function has returned, and the group's first error (which is what made
 * Wait fail, by cancelling the group's context) is lost. Here launching
 * stops, every started item is waited for, and the group's error wins over
 * the wait's.
 *
 * The limiter is the caller's (gort/rate.h), so it can be shared with other
 * code and, in tests, driven by a fake clock.
 */
#ifndef GORTP_RATELIMIT_H
#define GORTP_RATELIMIT_H

#include "gort/export.h"

#include <stddef.h>

#include "gort/context.h"
#include "gort/err.h"
#include "gort/rate.h"
#include "gortp/bounded.h"

#ifdef __cplusplus
extern "C" {
#endif

/* For each index: wait for a token from lim (under the group's context),
 * then start fn in the group (at most max_concurrency at once). Returns
 * after every started item has returned: 0, the first item error, or the
 * limiter's error (context cancelled, GORT_EWOULDEXCEED, ...) when no item
 * failed; GORT_EINVAL, GORT_ENOMEM, a spawn error. ctx may be NULL. */
GORT_API int gortp_ratelimit_process(gort_context *ctx, gort_limiter *lim, int max_concurrency,
                                        size_t n, gortp_bounded_fn fn, void *arg);

/* Seed 001's APIClient. The client does not own the limiter. */
typedef struct {
  gort_limiter *limiter;
} gortp_ratelimit_client;

/* Wait for a token (ctx may be NULL), then return request(ctx, arg). A
 * failed wait returns its error without calling request. */
GORT_API int gortp_ratelimit_call(gortp_ratelimit_client *c, gort_context *ctx,
                            int (*request)(gort_context *ctx, void *arg), void *arg);
/* Call request only if a token is available now; else GORT_EAGAIN ("rate
 * limit exceeded"). */
GORT_API int gortp_ratelimit_try_call(gortp_ratelimit_client *c, gort_context *ctx,
                                int (*request)(gort_context *ctx, void *arg), void *arg);

#ifdef __cplusplus
}
#endif
#endif
