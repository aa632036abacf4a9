/* gort/context.h - Go's context package.
 *
 * A tree of contexts. Cancelling a context cancels every descendant; a
 * deadline cancels with GORT_EDEADLINE when it passes; values are found by
 * walking up. gort_context_done returns a chan struct{} (elem_size 0: receive
 * into NULL) that is closed on cancellation (NULL, the never-ready nil channel, for contexts that can never
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
 * Freeing or releasing a context once more than it was retained is a fatal
 * error ("released more times than retained") while its memory has not been
 * reused (its count is poisoned when it is destroyed); after reuse it is
 * undefined, as any use after free (AddressSanitizer reports it).
 *
 * NULL: with_* return GORT_EINVAL; err and cause return GORT_EINVAL; done,
 * deadline and value answer like Background; retain, release and free ignore
 * it; cancel and cancel_cause report misuse GORT_ENILPTR (Go panics calling
 * a nil CancelFunc).
 *
 * Errors: gort_context_err is 0 until cancellation, then GORT_ECANCELED or
 * GORT_EDEADLINE. gort_context_cause is Go's context.Cause: 0 until
 * cancellation, then an int: the code passed to gort_context_cancel_cause
 * (WithCancelCause) or to with_deadline_cause / with_timeout_cause when the
 * deadline fired, else the err.
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

/* context.WithDeadlineCause / WithTimeoutCause (Go 1.21): as with_deadline
 * and with_timeout, but when the deadline passes the context's cause is
 * cause (its err is still GORT_EDEADLINE). cause 0 means no cause (the
 * cause is then the err). Cancelling it, or its parent, sets the cause as
 * usual; when the parent's deadline is earlier the result is with_cancel's,
 * and cause is not used, as in Go. */
GORT_API int gort_context_with_deadline_cause(gort_context *parent, int64_t deadline,
                                              int cause, gort_context **out);
GORT_API int gort_context_with_timeout_cause(gort_context *parent, gort_duration timeout,
                                             int cause, gort_context **out);
/* context.WithoutCancel (Go 1.21): a context with parent's values that is
 * never cancelled: no done channel (NULL), err and cause 0, no deadline,
 * however parent ends. Its children are cancelled only by their own
 * cancellation. It holds a reference on parent; free it like any other. */
GORT_API int gort_context_without_cancel(gort_context *parent, gort_context **out);

/* context.AfterFunc (Go 1.21): once ctx is done, run f(arg) in its own
 * task (named "context.AfterFunc"); at once if ctx is already done. A ctx
 * that can never be done (Background, WithoutCancel) never runs f.
 * stop (may be NULL when the caller will never stop it) receives a handle:
 *  - gort_context_after_func_stop is Go's stop(): it stops the association
 *    of ctx with f and returns true if that call stopped f from being run;
 *    false if ctx was done and f has been started in its own task, or if f
 *    was already stopped. It does not wait for f to finish. It may be called
 *    any number of times, from any task.
 *  - gort_context_after_func_free drops the handle (stop is not called: f
 *    still runs when ctx is done). Call it once per handle; NULL is ignored.
 * The registration holds a reference on ctx until f is started or stopped.
 * 0; GORT_EINVAL (ctx or f NULL); GORT_ENOMEM. A failure to start f's task
 * when ctx is done is retried every millisecond, as the timer's AfterFunc
 * does. */
typedef struct gort_context_after gort_context_after;
GORT_API int gort_context_after_func(gort_context *ctx, void (*f)(void *), void *arg,
                                     gort_context_after **stop);
/* NULL: misuse GORT_ENILPTR (Go panics calling a nil func), false. */
GORT_API bool gort_context_after_func_stop(gort_context_after *stop);
GORT_API void gort_context_after_func_free(gort_context_after *stop);

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
