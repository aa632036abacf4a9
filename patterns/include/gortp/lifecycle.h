/* gortp/lifecycle.h - goroutines with cleanup: every task has a way to stop
 * and a way to be waited for.
 *
 * Seed: 001 "Pattern 1: Basic Goroutine with Cleanup" (Server.Start(ctx):
 * an errgroup runs serve and processQueue; "Every go statement must have a
 * corresponding way to stop and wait"), and its anti-pattern "Goroutine leak
 * - no way to stop" (`for { process(); time.Sleep(time.Second) }` vs the
 * GOOD loop: a ticker, `defer ticker.Stop()`, and `case <-ctx.Done():
 * return`).
 *
 *  - gortp_lifecycle_run_all: Start(ctx) for any number of loops: each runs in the
 *    group under its derived context; the first error cancels the others;
 *    returns after all have returned, with the first error;
 *  - gortp_lifecycle_every: the GOOD ticker loop, run on the calling task;
 *  - gortp_lifecycle: the GOOD loop in its own task, with a handle that stops
 *    it (cancel) and waits for it.
 */
#ifndef GORTP_LIFECYCLE_H
#define GORTP_LIFECYCLE_H

#include "gort/export.h"

#include <stddef.h>
#include <stdint.h>

#include "gort/context.h"
#include "gort/err.h"
#include "gort/timer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A long-running loop: returns when ctx is done (its error) or on failure. */
typedef int (*gortp_lifecycle_fn)(gort_context *ctx, void *arg);

/* Run fns[i](gctx, args[i]) for i < n in one errgroup derived from ctx
 * (NULL: Background). Returns the first error (0 if all returned 0), after
 * every loop has returned. args may be NULL. */
GORT_API int gortp_lifecycle_run_all(gort_context *ctx, const gortp_lifecycle_fn *fns, void *const *args,
                           size_t n);

/* Call tick(arg) every period until ctx is done; returns ctx's error.
 * The ticker is stopped and freed on the way out (defer ticker.Stop()).
 * GORT_EINVAL for a NULL tick or period <= 0. */
GORT_API int gortp_lifecycle_every(gort_context *ctx, gort_duration period, void (*tick)(void *arg),
                         void *arg);

typedef struct gortp_lifecycle gortp_lifecycle;

/* Start gortp_lifecycle_every(child of ctx, period, tick, arg) in a new task.
 * 0, GORT_EINVAL, GORT_ENOMEM, GORT_ETHREAD. */
GORT_API int gortp_lifecycle_new(gortp_lifecycle **out, gort_context *ctx, gort_duration period,
                                void (*tick)(void *arg), void *arg);
/* Cancel the worker, wait until its task has returned, free the handle.
 * After it, tick is never called again. Returns the loop's result
 * (GORT_ECANCELED after a stop, or the parent's error). */
GORT_API int gortp_lifecycle_stop(gortp_lifecycle *w);

#ifdef __cplusplus
}
#endif
#endif
