/* gortp/ctxchan.h - channel operations that give up when a context is done.
 *
 * The building block of every pattern below: Go's
 *
 *     select { case c <- v: ; case <-ctx.Done(): return ctx.Err() }
 *
 * as one call. A NULL ctx means context.Background(): the operation can
 * only block, never be cancelled. As in Go, when the channel operation and
 * the cancellation are both ready, either may win (select picks at random);
 * callers that must not act after cancellation check gort_context_err.
 */
#ifndef GORTP_CTXCHAN_H
#define GORTP_CTXCHAN_H

#include "gort/export.h"

#include "gort/chan.h"
#include "gort/context.h"
#include "gort/err.h"
#include "gort/timer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Send *elem on c, or give up when ctx is done.
 * Returns 0 (sent), the context's error (GORT_ECANCELED/GORT_EDEADLINE; the
 * value was not sent), or a channel error (GORT_ESENDCLOSED is misuse). */
GORT_API int gortp_ctxchan_send(gort_context *ctx, gort_chan *c, const void *elem);

/* Receive into elem, or give up when ctx is done.
 * Returns 0 (value received), GORT_ECLOSED (closed and drained; elem zeroed),
 * or the context's error (nothing was received). elem may be NULL. */
GORT_API int gortp_ctxchan_recv(gort_context *ctx, gort_chan *c, void *elem);

/* ctx, or Background for NULL: the patterns' one NULL-context rule
 * (patterns/README.md) in one place. */
GORT_API gort_context *gortp_ctxchan_or_background(gort_context *ctx);

/* The context's error, or 0 for a NULL ctx. */
GORT_API int gortp_ctxchan_err(gort_context *ctx);

/* Sleep for d unless ctx is done first: Go's
 *     select { case <-time.After(d): ; case <-ctx.Done(): return ctx.Err() }
 * with the timer stopped and freed before returning (no timer outlives the
 * call, unlike time.After). Returns 0 after d, the context's error if it was
 * done first, or GORT_ENOMEM. d <= 0 returns at once. */
GORT_API int gortp_ctxchan_sleep(gort_context *ctx, gort_duration d);

#ifdef __cplusplus
}
#endif
#endif
