/* gort/errgroup.h - golang.org/x/sync/errgroup: a group of tasks working on
 * subtasks of one task, with error propagation, cancellation and an optional
 * limit on the number of active tasks.
 *
 * Each function run by the group returns an int: 0 for success, anything
 * else is an error (use negative GORT_E* codes or your own negative codes).
 * gort_errgroup_wait waits for every task started so far and returns the
 * first error any of them returned (0 if none).
 *
 * A group made with gort_errgroup_with_context owns a context derived from
 * the parent. It is cancelled the first time a function returns an error
 * (with that error as its cause, as Go's WithCancelCause) or when wait
 * returns, whichever comes first. Functions receive it as their ctx argument;
 * a plain group (gort_errgroup_new) passes the Background context and never
 * cancels anything.
 *
 * Limit: gort_errgroup_set_limit(g, n) bounds the active tasks to n; go
 * then blocks (in "chan send") until a task finishes, and try_go returns
 * GORT_EAGAIN instead. A negative n removes the limit. Changing the limit to
 * n >= 0 while tasks started under the current limit are still active is
 * misuse, as Go panics: "errgroup: modify limit while N goroutines in the
 * group are still active" (GORT_EGROUPLIMIT; the abort and the misuse hook
 * get the text with N, as Go prints it).
 *
 * Ownership: the group owns its context; the pointer from
 * gort_errgroup_context is borrowed and valid until gort_errgroup_free.
 * Tasks that keep the context past their function's return must retain it
 * (gort_context_retain). gort_errgroup_free first waits for every task (so
 * no task outlives the group), then frees the context and the group. A group
 * may be reused after wait (as in Go), but its context stays cancelled.
 *
 * Concurrency: go, try_go, wait and gort_errgroup_context may be called
 * from any task at once, including from the group's own tasks (go from
 * inside a task is fine; wait from inside one deadlocks, as in Go).
 * set_limit and free must not run concurrently with any other call on the
 * group.
 */
#ifndef GORT_ERRGROUP_H
#define GORT_ERRGROUP_H

#include "gort/export.h"

#include "gort/context.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gort_errgroup gort_errgroup;

/* The function a task runs: 0 or an error code. */
typedef int (*gort_errgroup_fn)(gort_context *ctx, void *arg);

/* new(errgroup.Group): no derived context, no limit.
 * 0, GORT_EINVAL (out NULL), GORT_ENOMEM. */
GORT_API int gort_errgroup_new(gort_errgroup **out);
/* errgroup.WithContext(parent). *ctx_out (may be NULL) receives the derived
 * context, borrowed from the group. On error nothing is allocated and the
 * outputs are untouched: GORT_EINVAL (parent or out NULL), GORT_ENOMEM. */
GORT_API int gort_errgroup_with_context(gort_context *parent, gort_errgroup **out,
                                        gort_context **ctx_out);
/* The context passed to the group's functions (Background for a plain
 * group); NULL for g NULL. */
GORT_API gort_context *gort_errgroup_context(gort_errgroup *g);

/* Run fn(ctx, arg) in a new task, first blocking while the limit is
 * reached. 0; GORT_EINVAL (g or fn NULL); GORT_ENOMEM or GORT_ETHREAD when
 * the task could not be started (then nothing was started, the group is as
 * before, and arg still belongs to the caller). */
GORT_API int gort_errgroup_go(gort_errgroup *g, gort_errgroup_fn fn, void *arg);
/* As go, but GORT_EAGAIN instead of blocking when the limit is reached. */
GORT_API int gort_errgroup_try_go(gort_errgroup *g, gort_errgroup_fn fn, void *arg);
/* Limit active tasks to n (negative: no limit). 0; GORT_EINVAL (g NULL);
 * GORT_ENOMEM (the limit is unchanged); GORT_EGROUPLIMIT (misuse, the limit
 * is unchanged) when n >= 0 and tasks under the current limit are active. */
GORT_API int gort_errgroup_set_limit(gort_errgroup *g, int n);
/* Wait for every task started so far, cancel the derived context, and
 * return the first error (0 if none; GORT_EINVAL for g NULL). */
GORT_API int gort_errgroup_wait(gort_errgroup *g);
/* Wait for every task, then free the context and the group. NULL is
 * ignored. */
GORT_API void gort_errgroup_free(gort_errgroup *g);

#ifdef __cplusplus
}
#endif
#endif
