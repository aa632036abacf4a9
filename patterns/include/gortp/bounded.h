/* gortp/bounded.h - bounded parallelism: at most N items in flight.
 *
 * Seeds: 000 "Semaphore Pattern" (a channel of capacity 3 as a semaphore,
 * drained at the end to wait; "Processing 0".."Processing 9") and
 * "errgroup with Concurrency Limit" (processAllItems, SetLimit(10)); 001
 * "Pattern 2: Worker Pool" (workers ranging over a work channel inside an
 * errgroup) and "Simpler Alternative: errgroup.SetLimit"; 002 "Bounded
 * Parallelism" (Process(concurrency, data)); 003 "Semaphore Pattern" and
 * "Limiting concurrency with errgroup".
 *
 * Three forms, all calling fn once per index 0..n-1 and returning only when
 * every call has returned:
 *  - gortp_bounded_run: the channel semaphore. A slot is taken (a send on a
 *    channel of capacity `concurrency`) before each task is started, so at
 *    most `concurrency` tasks exist at once, not merely run at once (seed
 *    003's fetchURLs starts all n goroutines and makes them queue on the
 *    semaphore). Waiting for the end is seed 000's trick: fill the
 *    semaphore to capacity, which succeeds once every slot is given back.
 *  - gortp_bounded_errgroup: errgroup + SetLimit. The first error cancels
 *    the group's context and is returned. Unlike the seeds' loops, no new
 *    item is started once the context is cancelled.
 *  - gortp_bounded_process_items: seed 001's worker pool inside an errgroup:
 *    `workers` tasks range over an unbuffered work channel fed by a producer
 *    task that stops on cancellation.
 */
#ifndef GORTP_BOUNDED_H
#define GORTP_BOUNDED_H

#include "gort/export.h"

#include <stddef.h>

#include "gort/context.h"
#include "gort/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Channel semaphore. 0; GORT_EINVAL (concurrency < 1, fn NULL);
 * GORT_ENOMEM; GORT_ETHREAD when a task could not be started (the items
 * started before have finished when it returns; the rest were not run). */
GORT_API int gortp_bounded_run(int concurrency, size_t n, void (*fn)(size_t index, void *arg),
                               void *arg);

/* fn for the errgroup forms: 0 or an error code. ctx is the group's. */
typedef int (*gortp_bounded_fn)(gort_context *ctx, size_t index, void *arg);

/* errgroup.WithContext(ctx) + SetLimit(limit). Returns the first error (0 if
 * none), GORT_EINVAL, GORT_ENOMEM or a spawn error. ctx may be NULL. */
GORT_API int gortp_bounded_errgroup(gort_context *ctx, int limit, size_t n, gortp_bounded_fn fn,
                                    void *arg);

/* Seed 001's ProcessItems: `workers` tasks and a producer in one errgroup.
 * Returns the first error (a worker's, or the producer's context error). */
GORT_API int gortp_bounded_process_items(gort_context *ctx, int workers, size_t n, gortp_bounded_fn fn,
                                 void *arg);

#ifdef __cplusplus
}
#endif
#endif
