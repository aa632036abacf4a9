/* gort/context.h - Go's context package.
 *
 * A tree of contexts. Cancelling a context cancels every descendant; a
 * deadline cancels with GORT_EDEADLINE when it passes; values are found by
 * walking up. gort_context_done returns a channel that is closed on
 * cancellation (NULL, the never-ready nil channel, for contexts that can never
 * be cancelled, as Background().Done() is nil in Go).
 *
 * Ownership (this is what Go's GC does for you):
 *  - every with_* call returns a context holding one reference, and holds a
 *    reference on its parent until it is freed;
 *  - gort_context_free(ctx) is `defer cancel()` plus dropping that reference:
 *    call it exactly once for every with_* context; after it, ctx must not be
 *    used by the caller;
 *  - a task that uses ctx after its creator might have freed it takes its own
 *    reference with gort_context_retain and drops it with
 *    gort_context_release (release never cancels).
 * Background and TODO are static; retain/release/free ignore them.
 *
 * Errors: gort_context_err is 0 until cancellation, then GORT_ECANCELED or
 * GORT_EDEADLINE. The cause (WithCancelCause) is an int: the code passed to
 * gort_context_cancel_cause, else the err.
 */
#ifndef GORT_CONTEXT_H
#define GORT_CONTEXT_H

#include "gort/export.h"

#include <stdbool.h>
#include <stdint.h>

#include "gort/chan.h"
#include "gort/timer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gort_context gort_context;

GORT_API gort_context *gort_context_background(void);
GORT_API gort_context *gort_context_todo(void);

/* All return 0, GORT_EINVAL (parent or out NULL; with_value: key NULL, where
 * Go panics "nil key") or GORT_ENOMEM. A child
 * of an already-cancelled parent is born cancelled with the parent's err and
 * cause. */
GORT_API int gort_context_with_cancel(gort_context *parent, gort_context **out);
/* deadline is a gort_now() time. A deadline later than the parent's is
 * ignored (the parent's wins), as in Go. */
GORT_API int gort_context_with_deadline(gort_context *parent, int64_t deadline, gort_context **out);
GORT_API int gort_context_with_timeout(gort_context *parent, gort_duration timeout,
                                       gort_context **out);
GORT_API int gort_context_with_value(gort_context *parent, const void *key, void *value,
                                     gort_context **out);

/* Cancel with GORT_ECANCELED (cause = err). Idempotent; no-op on Background
 * and value-only contexts. */
GORT_API void gort_context_cancel(gort_context *ctx);
/* CancelCauseFunc: cancel, recording cause (a nonzero code). */
GORT_API void gort_context_cancel_cause(gort_context *ctx, int cause);

GORT_API gort_chan *gort_context_done(gort_context *ctx);
GORT_API int gort_context_err(gort_context *ctx);
GORT_API int gort_context_cause(gort_context *ctx);
/* True and *deadline set when ctx (or an ancestor) has a deadline. */
GORT_API bool gort_context_deadline(gort_context *ctx, int64_t *deadline);
/* The value for key from ctx or the nearest ancestor, or NULL. */
GORT_API void *gort_context_value(gort_context *ctx, const void *key);

GORT_API gort_context *gort_context_retain(gort_context *ctx);
GORT_API void gort_context_release(gort_context *ctx);
/* Cancel (if cancelable) and release. */
GORT_API void gort_context_free(gort_context *ctx);

#ifdef __cplusplus
}
#endif
#endif
