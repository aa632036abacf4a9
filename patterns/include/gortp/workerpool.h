/* gortp/workerpool.h - the worker pool: a fixed number of tasks serving a
 * queue.
 *
 * Seeds: 004 "Pattern 1: Worker Pool" (NewPool(workers, bufferSize), Start,
 * non-blocking Submit that refuses when the queue is full, Stop that closes
 * the queue and waits); 000 "Worker Pool (Bounded Concurrency)"
 * (workerPool(ctx, n, jobs) returning a results channel); 003 "Worker Pool
 * Pattern" (RunWorkerPool(5, 20): "processed 20 jobs").
 *
 * gortp_workerpool (seed 004) fixes three things the seed leaves to chance:
 *  - Submit after (or racing with) Stop is refused with GORT_ESHUTDOWN; in
 *    the seed it is a send on a closed channel, a panic;
 *  - every accepted task is called exactly once. The seed's workers return
 *    on cancellation and leave queued tasks unrun; whatever a task owns (its
 *    arg) would leak in C. Here, after cancellation, stop calls the tasks
 *    left in the queue itself, with the cancelled context, so each can see
 *    gort_context_err and release its arg;
 *  - task errors are not thrown away (`_ = task(ctx)`): they are counted and
 *    the first one is returned by stop.
 *
 * Ownership: gortp_workerpool_new allocates; gortp_workerpool_free stops (if needed) and
 * frees. The pool retains ctx from start until stop. Each task's arg
 * belongs to the task from a successful submit on.
 *
 * Concurrency: submit and stats from any number of tasks at once, also
 * concurrently with stop; start once; free when no other call is running.
 */
#ifndef GORTP_WORKERPOOL_H
#define GORTP_WORKERPOOL_H

#include "gort/export.h"

#include <stddef.h>
#include <stdint.h>

#include "gort/chan.h"
#include "gort/context.h"
#include "gort/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A unit of work: 0 or an error code. */
typedef int (*gortp_workerpool_fn)(gort_context *ctx, void *arg);

typedef struct gortp_workerpool gortp_workerpool;

typedef struct {
  uint64_t submitted; /* accepted by submit */
  uint64_t rejected;  /* refused: queue full */
  uint64_t completed; /* called, returned 0 */
  uint64_t failed;    /* called, returned an error */
} gortp_workerpool_stats;

/* workers >= 1; queue_cap >= 0 (0: submit succeeds only when a worker is
 * ready to take the task). 0, GORT_EINVAL, GORT_ENOMEM. */
GORT_API int gortp_workerpool_new(gortp_workerpool **out, int workers, long queue_cap);
/* Start the workers under ctx (NULL: Background). 0; GORT_EINVAL (p NULL,
 * already started or stopped); GORT_ETHREAD/GORT_ENOMEM (then no worker
 * runs and the pool is still unstarted). */
GORT_API int gortp_workerpool_start(gortp_workerpool *p, gort_context *ctx);
/* Queue fn(ctx, arg) without blocking. 0; GORT_EFULL (queue full);
 * GORT_ESHUTDOWN (stopped); the context's error (cancelled); GORT_EINVAL. */
GORT_API int gortp_workerpool_submit(gortp_workerpool *p, gortp_workerpool_fn fn, void *arg);
/* Close the queue, let the workers finish every queued task, wait for them;
 * then run (on the caller) any task that cancelled workers left behind.
 * Returns the first error a task returned (0 if none). Idempotent: later
 * calls wait for the first to finish and return the same value. A pool
 * that was never started runs its queued tasks on the caller. */
GORT_API int gortp_workerpool_stop(gortp_workerpool *p);
GORT_API void gortp_workerpool_stats_get(gortp_workerpool *p, gortp_workerpool_stats *out);
/* Stop and free; NULL is ignored. */
GORT_API void gortp_workerpool_free(gortp_workerpool *p);

/* ---- the streaming form (seeds 000 and 003) ---- */

/* Process one job (elem of the jobs channel) into result (result_size
 * bytes, zeroed before the call). worker is 0..workers-1. */
typedef void (*gortp_workerpool_job_fn)(gort_context *ctx, const void *job, void *result, int worker,
                             void *arg);

/* Start `workers` tasks that receive jobs from `jobs` until it is closed
 * and send one result per job on *results (unbuffered), which is closed
 * once every worker has returned. With a ctx, workers stop when it is
 * cancelled: jobs left in `jobs` are not processed (they are values; if
 * they own memory, drain `jobs` after the results channel has closed).
 * *results is a new reference for the caller; the workers retain jobs and
 * ctx. 0, GORT_EINVAL, GORT_ENOMEM, GORT_ETHREAD (then nothing runs). */
GORT_API int gortp_workerpool_jobs(gort_context *ctx, int workers, gort_chan *jobs, size_t result_size,
                            gortp_workerpool_job_fn fn, void *arg, gort_chan **results);

#ifdef __cplusplus
}
#endif
#endif
