/* gortp/donechan.h - the done-channel pattern: a request with a timeout,
 * and the goroutine it must not leave behind.
 *
 * Seed: 002 "The Done Channel Pattern" and its "Common mistake: not
 * cancelling unit of work after the intended duration" (prints "request
 * timeout"), the fixes (request in its own goroutine; context.Context), and
 * "Things to keep an eye on".
 *
 * Three versions of "run request, give up after timeout":
 *
 *  gortp_donechan_request_leaky - the seed's mistake, kept so that tests can show
 *    it: the worker does `select { case result <- request(): ...; case
 *    <-done: ... }`, which evaluates request() before the select starts, and
 *    done is never closed. After the timeout nobody will ever receive from
 *    result, so once request() returns the worker parks in that select
 *    forever: a leaked task. The done channel is handed back through
 *    *leaked_done so a test can close it and let the task go.
 *
 *  gortp_donechan_request_timeout - fixed, for a request that cannot be cancelled:
 *    request() runs in its own task, which then offers the value on result
 *    or gives it up (free_value) when done is closed; the caller closes done
 *    as soon as it stops waiting. The request still runs to its end (nothing
 *    can stop it) but its task exits then: nothing is left blocked.
 *    (The seed's first fix still leaks: its `tmp <- request()` has no
 *    receiver once done wins, and `result <- t` has none after the timeout.)
 *
 *  gortp_donechan_request_ctx - fixed, for a request that takes a context:
 *    the timeout cancels the context, the request returns at once, the task
 *    exits. The seed gives result a buffer of 1 so the late send never
 *    blocks; in C a value left in a buffer nobody reads is leaked memory, so
 *    here the late value is handed back to free_value instead.
 *
 * Ownership: on success *value belongs to the caller. A value that arrives
 * after the caller gave up is passed to free_value (NULL: not owned).
 */
#ifndef GORTP_DONECHAN_H
#define GORTP_DONECHAN_H

#include "gort/export.h"

#include "gort/chan.h"
#include "gort/context.h"
#include "gort/err.h"
#include "gort/timer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A blocking request that does not support context. */
typedef void *(*gortp_donechan_fn)(void *arg);
/* A request that returns early with ctx's error when ctx is done. */
typedef int (*gortp_donechan_ctx_fn)(gort_context *ctx, void *arg, void **value);

/* The leaking version. 0 with *value, GORT_ETIMEDOUT, or a spawn error.
 * *leaked_done (may be NULL) receives a reference to the done channel the
 * seed forgets to close; the caller releases it (after closing it, if it
 * wants the task back). */
GORT_API int gortp_donechan_request_leaky(gortp_donechan_fn req, void *arg, gort_duration timeout,
                                 void **value, void (*free_value)(void *), gort_chan **leaked_done);

/* The fixed version for a request without context. 0 with *value,
 * GORT_ETIMEDOUT, or a spawn / allocation error. */
GORT_API int gortp_donechan_request_timeout(gortp_donechan_fn req, void *arg, gort_duration timeout,
                                   void **value, void (*free_value)(void *));

/* The fixed version with context (parent may be NULL). 0 with *value, the
 * request's error, GORT_ETIMEDOUT, the parent's error, or a spawn /
 * allocation error. */
GORT_API int gortp_donechan_request_ctx(gort_context *parent, gortp_donechan_ctx_fn req, void *arg,
                                       gort_duration timeout, void **value,
                                       void (*free_value)(void *));

#ifdef __cplusplus
}
#endif
#endif
