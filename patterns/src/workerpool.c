/* workerpool.c - fixed worker pool and the streaming job pool
 * (gortp/workerpool.h).
 *
 * Invariants (gortp_workerpool):
 *  - `queue` is closed exactly once, by stop, while holding `gate` for
 *    writing; submit sends only while holding `gate` for reading and after
 *    seeing `stopped` false, so no send can ever meet a closed queue;
 *  - a task that submit accepted is in the queue until exactly one worker
 *    (or, after cancellation, stop) receives it and calls it;
 *  - `stop_lock` serialises stop: the second caller waits for the first and
 *    returns the same result.
 */
#include "gortp/workerpool.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gort/sync.h"
#include "gort/task.h"
#include "gortp/ctxchan.h"

typedef struct {
  gortp_workerpool_fn fn;
  void *arg;
} pool_task;

struct gortp_workerpool {
  int workers;
  gort_chan *queue;    /* elements: pool_task; closed by stop */
  gort_rwmutex gate;   /* protects stopped and the close of queue */
  bool stopped;        /* under gate */
  gort_mutex stop_lock; /* serialises start and stop; protects started, stop_result */
  bool started;
  int stop_result;
  gort_context *ctx; /* child of start's ctx; NULL until started. Written
                      * under stop_lock and gate (write), read under either,
                      * or by workers, which start after it is set. */
  gort_waitgroup wg;   /* running workers */
  _Atomic uint64_t submitted, rejected, completed, failed;
  _Atomic int first_error;
};

int gortp_workerpool_new(gortp_workerpool **out, int workers, long queue_cap) {
  if (!out || workers < 1 || queue_cap < 0) return GORT_EINVAL;
  gortp_workerpool *p = calloc(1, sizeof *p);
  if (!p) return GORT_ENOMEM;
  int r = gort_chan_make(&p->queue, sizeof(pool_task), queue_cap);
  if (r != 0) {
    free(p);
    return r;
  }
  p->workers = workers;
  gort_rwmutex_init(&p->gate);
  gort_mutex_init(&p->stop_lock);
  gort_waitgroup_init(&p->wg);
  *out = p;
  return 0;
}

static gort_context *task_ctx(gortp_workerpool *p) {
  return gortp_ctxchan_or_background(p->ctx);
}

static void run_task(gortp_workerpool *p, const pool_task *t) {
  int r = t->fn(task_ctx(p), t->arg);
  if (r == 0) {
    atomic_fetch_add(&p->completed, 1);
    return;
  }
  atomic_fetch_add(&p->failed, 1);
  int zero = 0;
  atomic_compare_exchange_strong(&p->first_error, &zero, r);
}

static void worker(void *arg) {
  gortp_workerpool *p = arg;
  pool_task t;
  /* Ends when stop closes the queue (after it is drained) or the context
   * is cancelled (stop then runs what is left). */
  while (gortp_ctxchan_recv(p->ctx, p->queue, &t) == 0) run_task(p, &t);
  gort_waitgroup_done(&p->wg);
}

int gortp_workerpool_start(gortp_workerpool *p, gort_context *ctx) {
  if (!p) return GORT_EINVAL;
  gort_mutex_lock(&p->stop_lock);
  gort_context *c = NULL;
  int r = GORT_EINVAL;
  if (p->started || p->ctx) goto out;
  r = gort_context_with_cancel(gortp_ctxchan_or_background(ctx), &c);
  if (r != 0) goto out;
  gort_rwmutex_lock(&p->gate); /* submit reads ctx under the gate */
  bool stopped = p->stopped;
  if (!stopped) p->ctx = c;
  gort_rwmutex_unlock(&p->gate);
  if (stopped) {
    gort_context_free(c);
    r = GORT_EINVAL;
    goto out;
  }
  for (int i = 0; i < p->workers; i++) {
    gort_waitgroup_add(&p->wg, 1);
    r = gort_go_named("pool-worker", worker, p);
    if (r != 0) {
      /* Stop the workers already started. A task one of them took runs to
       * completion; the rest stay queued for a later start or for stop. */
      gort_waitgroup_done(&p->wg);
      gort_context_cancel(c);
      gort_waitgroup_wait(&p->wg);
      gort_rwmutex_lock(&p->gate);
      p->ctx = NULL;
      gort_rwmutex_unlock(&p->gate);
      gort_context_free(c);
      goto out;
    }
  }
  p->started = true;
out:
  gort_mutex_unlock(&p->stop_lock);
  return r;
}

int gortp_workerpool_submit(gortp_workerpool *p, gortp_workerpool_fn fn, void *arg) {
  if (!p || !fn) return GORT_EINVAL;
  gort_rwmutex_rlock(&p->gate);
  int r;
  if (p->stopped) {
    r = GORT_ESHUTDOWN;
  } else {
    r = p->ctx ? gort_context_err(p->ctx) : 0;
    if (r == 0) {
      pool_task t = {fn, arg};
      r = gort_chan_try_send(p->queue, &t);
      if (r == GORT_EAGAIN) r = GORT_EFULL;
    }
  }
  gort_rwmutex_runlock(&p->gate);
  if (r == 0) atomic_fetch_add(&p->submitted, 1);
  else if (r == GORT_EFULL) atomic_fetch_add(&p->rejected, 1);
  return r;
}

int gortp_workerpool_stop(gortp_workerpool *p) {
  if (!p) return GORT_EINVAL;
  gort_mutex_lock(&p->stop_lock);
  gort_rwmutex_lock(&p->gate);
  bool first = !p->stopped;
  if (first) {
    p->stopped = true;
    gort_chan_close(p->queue);
  }
  gort_rwmutex_unlock(&p->gate);
  if (first) {
    if (p->started) gort_waitgroup_wait(&p->wg);
    /* Tasks left behind by cancelled workers (or queued before a start that
     * never came): each still gets its one call. */
    pool_task t;
    while (gort_chan_recv(p->queue, &t, NULL) == 0) run_task(p, &t);
    p->stop_result = atomic_load(&p->first_error);
  }
  int r = p->stop_result;
  gort_mutex_unlock(&p->stop_lock);
  return r;
}

void gortp_workerpool_stats_get(gortp_workerpool *p, gortp_workerpool_stats *out) {
  if (!out) return;
  memset(out, 0, sizeof *out);
  if (!p) return;
  out->submitted = atomic_load(&p->submitted);
  out->rejected = atomic_load(&p->rejected);
  out->completed = atomic_load(&p->completed);
  out->failed = atomic_load(&p->failed);
}

void gortp_workerpool_free(gortp_workerpool *p) {
  if (!p) return;
  gortp_workerpool_stop(p);
  if (p->ctx) gort_context_free(p->ctx);
  gort_chan_release(p->queue);
  gort_waitgroup_destroy(&p->wg);
  gort_mutex_destroy(&p->stop_lock);
  gort_rwmutex_destroy(&p->gate);
  free(p);
}

/* ---- streaming job pool ---- */

typedef struct job_pool job_pool;

typedef struct {
  job_pool *jp;
  int id;
} job_worker;

struct job_pool {
  gort_context *ctx; /* own child context */
  gort_chan *jobs;   /* retained */
  gort_chan *results; /* retained; closed by the last worker out */
  size_t job_size, result_size;
  gortp_workerpool_job_fn fn;
  void *arg;
  _Atomic int holds; /* running workers + 1 for the starter */
  job_worker workers[];
};

static void job_pool_put(job_pool *jp) {
  if (atomic_fetch_sub_explicit(&jp->holds, 1, memory_order_acq_rel) != 1) return;
  gort_chan_close(jp->results);
  gort_chan_release(jp->results);
  gort_chan_release(jp->jobs);
  gort_context_free(jp->ctx);
  free(jp);
}

static void job_worker_run(void *arg) {
  job_worker *w = arg;
  job_pool *jp = w->jp;
  unsigned char *job = malloc(jp->job_size), *res = malloc(jp->result_size);
  if (job && res) {
    /* `for job := range jobs` plus the seed's ctx checks, as one select. */
    while (gortp_ctxchan_recv(jp->ctx, jp->jobs, job) == 0) {
      if (gort_context_err(jp->ctx)) break; /* a job that raced the cancel */
      memset(res, 0, jp->result_size);
      jp->fn(jp->ctx, job, res, w->id, jp->arg);
      if (gortp_ctxchan_send(jp->ctx, jp->results, res) != 0) break;
    }
  }
  free(job);
  free(res);
  job_pool_put(jp);
}

int gortp_workerpool_jobs(gort_context *ctx, int workers, gort_chan *jobs, size_t result_size,
                   gortp_workerpool_job_fn fn, void *arg, gort_chan **results) {
  if (workers < 1 || !jobs || result_size == 0 || !fn || !results) return GORT_EINVAL;
  job_pool *jp = calloc(1, sizeof *jp + (size_t)workers * sizeof(job_worker));
  if (!jp) return GORT_ENOMEM;
  gort_chan *res;
  int r = gort_chan_make(&res, result_size, 0);
  if (r != 0) {
    free(jp);
    return r;
  }
  r = gort_context_with_cancel(gortp_ctxchan_or_background(ctx), &jp->ctx);
  if (r != 0) {
    gort_chan_release(res);
    free(jp);
    return r;
  }
  jp->jobs = gort_chan_retain(jobs);
  jp->results = gort_chan_retain(res);
  jp->job_size = gort_chan_elem_size(jobs);
  jp->result_size = result_size;
  jp->fn = fn;
  jp->arg = arg;
  atomic_init(&jp->holds, workers + 1);
  int started = 0;
  for (; started < workers; started++) {
    jp->workers[started] = (job_worker){jp, started};
    r = gort_go_named("job-worker", job_worker_run, &jp->workers[started]);
    if (r != 0) break;
  }
  if (r != 0) {
    gort_context_cancel(jp->ctx); /* the started ones stop */
    for (int i = started; i < workers; i++) job_pool_put(jp);
  }
  job_pool_put(jp);
  if (r != 0) {
    gort_chan_release(res);
    return r;
  }
  *results = res;
  return 0;
}
