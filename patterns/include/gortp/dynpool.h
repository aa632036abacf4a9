/* gortp/dynpool.h - a worker pool that grows with its queue and shrinks
 * when idle.
 *
 * Seed: 004 "Optimization 1: Dynamic Worker Pool" (NewDynamicPool(min, max),
 * a ticker that every 5 s adds a worker while the queue is longer than the
 * worker count, and retires up to five at a time, down to min, when the
 * queue is empty).
 *
 * The seed's version cannot work as written, and this one differs where it
 * breaks:
 *  - it retires a worker by queueing a nil task, which the worker then
 *    calls: a nil function call, a panic. Here a retirement is a marker the
 *    worker recognises; it exits without calling anything;
 *  - it counts a retirement only when the worker has exited, so one tick
 *    queues five markers whatever `active` says and can shrink the pool
 *    below min (to zero). Here a retirement is counted when its marker is
 *    queued, never below min, and markers are queued without blocking;
 *  - Stop does not stop the adjusting ticker, which may then add a worker
 *    (wg.Add after Wait) or queue a marker on the closed channel (a panic).
 *    Here stop ends the adjuster first.
 *
 * gortp_dynpool_adjust is the seed's adjustWorkers, callable directly (a
 * config with adjust_every = 0 runs no ticker: tests drive it step by step).
 * Tasks are gortp_workerpool_fn (gortp/workerpool.h); submit never blocks; stop
 * runs every accepted task exactly once, as gortp_workerpool_stop does.
 *
 * Ownership and concurrency as for gortp_workerpool.
 */
#ifndef GORTP_DYNPOOL_H
#define GORTP_DYNPOOL_H

#include "gort/export.h"

#include "gort/context.h"
#include "gort/timer.h"
#include "gortp/workerpool.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  int min_workers;           /* >= 1 */
  int max_workers;           /* >= min_workers */
  long queue_cap;            /* 0: the seed's default, max_workers * 2 */
  gort_duration adjust_every; /* ticker period; 0: no ticker (call adjust) */
} gortp_dynpool_config;

typedef struct gortp_dynpool gortp_dynpool;

GORT_API int gortp_dynpool_new(gortp_dynpool **out, const gortp_dynpool_config *cfg);
/* Start min_workers workers (and the ticker) under ctx (NULL: Background).
 * 0; GORT_EINVAL (started or stopped); GORT_ETHREAD/GORT_ENOMEM (nothing
 * runs then). */
GORT_API int gortp_dynpool_start(gortp_dynpool *p, gort_context *ctx);
/* 0; GORT_EFULL; GORT_ESHUTDOWN; the context's error; GORT_EINVAL. */
GORT_API int gortp_dynpool_submit(gortp_dynpool *p, gortp_workerpool_fn fn, void *arg);
/* One adjustment: add one worker if the queue is longer than the number of
 * workers and there are fewer than max; else, if the queue is empty, retire
 * up to five workers but keep min. Returns the change in workers (+1, 0,
 * -k), or GORT_ESHUTDOWN / GORT_EINVAL (not started). */
GORT_API int gortp_dynpool_adjust(gortp_dynpool *p);
/* Workers counted by the pool: started and not retired. A retired worker
 * exits as soon as it reaches its marker in the queue. */
GORT_API int gortp_dynpool_workers(gortp_dynpool *p);
/* The most workers the pool has had at once. */
GORT_API int gortp_dynpool_peak_workers(gortp_dynpool *p);
/* Stop the ticker, close the queue, wait for the workers (they finish the
 * queue), run what cancelled workers left. Returns the first task error.
 * Idempotent. */
GORT_API int gortp_dynpool_stop(gortp_dynpool *p);
GORT_API void gortp_dynpool_free(gortp_dynpool *p);

#ifdef __cplusplus
}
#endif
#endif
