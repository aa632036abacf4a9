/* dynpool.c - dynamic worker pool (gortp/dynpool.h).
 *
 * Invariants:
 *  - `active` counts workers started and not yet sent a retire marker; it is
 *    changed only under `mu`, and min_workers <= active <= max_workers once
 *    started;
 *  - a retire marker (fn == NULL) is queued only under `mu` while
 *    `adjust_closed` is false; stop sets adjust_closed under `mu` after the
 *    ticker task has exited and before it closes the queue, so no marker and
 *    no new worker can appear once the queue is closed;
 *  - submit sends only under `gate` (read) with `stopped` false; stop closes
 *    the queue under `gate` (write): no send meets a closed queue;
 *  - each accepted task is received by exactly one worker, or by stop.
 */
#include "gortp/dynpool.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "gort/select.h"
#include "gort/sync.h"
#include "gort/task.h"
#include "gortp/ctxchan.h"
#include "gortp/lifecycle.h"

typedef struct {
  gortp_workerpool_fn fn; /* NULL: retire marker */
  void *arg;
} dyn_task;

struct gortp_dynpool {
  gortp_dynpool_config cfg;
  gort_chan *queue;      /* elements: dyn_task */
  gort_rwmutex gate;     /* protects stopped, ctx (writes), the close of queue */
  bool stopped;
  gort_mutex mu;         /* protects active, peak, started, adjust_closed */
  int active, peak;
  bool started, adjust_closed;
  gort_mutex stop_lock;  /* serialises stop; protects stop_done, stop_result */
  bool stop_done;
  int stop_result;
  gort_context *ctx;     /* workers' context (child of start's ctx) */
  gort_context *adj_ctx; /* the ticker task's context; stop cancels it */
  gort_waitgroup workers_wg, adj_wg;
  _Atomic int first_error;
};

int gortp_dynpool_new(gortp_dynpool **out, const gortp_dynpool_config *cfg) {
  if (!out || !cfg || cfg->min_workers < 1 || cfg->max_workers < cfg->min_workers ||
      cfg->queue_cap < 0 || cfg->adjust_every < 0)
    return GORT_EINVAL;
  gortp_dynpool *p = calloc(1, sizeof *p);
  if (!p) return GORT_ENOMEM;
  p->cfg = *cfg;
  if (p->cfg.queue_cap == 0) p->cfg.queue_cap = (long)cfg->max_workers * 2;
  int r = gort_chan_make(&p->queue, sizeof(dyn_task), p->cfg.queue_cap);
  if (r != 0) {
    free(p);
    return r;
  }
  gort_rwmutex_init(&p->gate);
  gort_mutex_init(&p->mu);
  gort_mutex_init(&p->stop_lock);
  gort_waitgroup_init(&p->workers_wg);
  gort_waitgroup_init(&p->adj_wg);
  *out = p;
  return 0;
}

static void run_task(gortp_dynpool *p, const dyn_task *t) {
  int r = t->fn(gortp_ctxchan_or_background(p->ctx), t->arg);
  int zero = 0;
  if (r != 0) atomic_compare_exchange_strong(&p->first_error, &zero, r);
}

static void worker(void *arg) {
  gortp_dynpool *p = arg;
  dyn_task t;
  while (gortp_ctxchan_recv(p->ctx, p->queue, &t) == 0) {
    if (!t.fn) break; /* retired */
    run_task(p, &t);
  }
  gort_waitgroup_done(&p->workers_wg);
}

/* Start one worker; mu held. */
static int add_worker(gortp_dynpool *p) {
  gort_waitgroup_add(&p->workers_wg, 1);
  int r = gort_go_named("dynpool-worker", worker, p);
  if (r != 0) {
    gort_waitgroup_done(&p->workers_wg);
    return r;
  }
  p->active++;
  if (p->active > p->peak) p->peak = p->active;
  return 0;
}

static void adjust_tick(void *arg) { gortp_dynpool_adjust(arg); }

static void adjuster(void *arg) {
  gortp_dynpool *p = arg;
  gortp_lifecycle_every(p->adj_ctx, p->cfg.adjust_every, adjust_tick, p);
  gort_waitgroup_done(&p->adj_wg);
}

/* Undo a start that failed half way; mu held. */
static void start_rollback(gortp_dynpool *p) {
  gort_context_cancel(p->ctx);
  gort_waitgroup_wait(&p->workers_wg);
  p->active = 0;
  if (p->adj_ctx) gort_context_free(p->adj_ctx);
  p->adj_ctx = NULL;
  gort_context *c = p->ctx;
  gort_rwmutex_lock(&p->gate);
  p->ctx = NULL;
  gort_rwmutex_unlock(&p->gate);
  gort_context_free(c);
}

int gortp_dynpool_start(gortp_dynpool *p, gort_context *ctx) {
  if (!p) return GORT_EINVAL;
  gort_mutex_lock(&p->mu);
  int r = GORT_EINVAL;
  if (p->started || p->adjust_closed) goto out;
  gort_context *c;
  r = gort_context_with_cancel(gortp_ctxchan_or_background(ctx), &c);
  if (r != 0) goto out;
  gort_rwmutex_lock(&p->gate);
  p->ctx = c;
  gort_rwmutex_unlock(&p->gate);
  for (int i = 0; i < p->cfg.min_workers && r == 0; i++) r = add_worker(p);
  if (r == 0 && p->cfg.adjust_every > 0) {
    r = gort_context_with_cancel(c, &p->adj_ctx);
    if (r == 0) {
      gort_waitgroup_add(&p->adj_wg, 1);
      r = gort_go_named("dynpool-adjust", adjuster, p);
      if (r != 0) gort_waitgroup_done(&p->adj_wg);
    }
  }
  if (r != 0) start_rollback(p);
  else p->started = true;
out:
  gort_mutex_unlock(&p->mu);
  return r;
}

int gortp_dynpool_submit(gortp_dynpool *p, gortp_workerpool_fn fn, void *arg) {
  if (!p || !fn) return GORT_EINVAL;
  gort_rwmutex_rlock(&p->gate);
  int r = GORT_ESHUTDOWN;
  if (!p->stopped) {
    r = p->ctx ? gort_context_err(p->ctx) : 0;
    if (r == 0) {
      dyn_task t = {fn, arg};
      r = gort_chan_try_send(p->queue, &t);
      if (r == GORT_EAGAIN) r = GORT_EFULL;
    }
  }
  gort_rwmutex_runlock(&p->gate);
  return r;
}

int gortp_dynpool_adjust(gortp_dynpool *p) {
  if (!p) return GORT_EINVAL;
  gort_mutex_lock(&p->mu);
  int r;
  if (p->adjust_closed) {
    r = GORT_ESHUTDOWN;
  } else if (!p->started) {
    r = GORT_EINVAL;
  } else {
    long queued = (long)gort_chan_len(p->queue);
    r = 0;
    if (queued > p->active && p->active < p->cfg.max_workers) {
      if (add_worker(p) == 0) r = 1;
    } else if (queued == 0) {
      const dyn_task marker = {NULL, NULL};
      while (r > -5 && p->active > p->cfg.min_workers &&
             gort_chan_try_send(p->queue, &marker) == 0) {
        p->active--;
        r--;
      }
    }
  }
  gort_mutex_unlock(&p->mu);
  return r;
}

int gortp_dynpool_workers(gortp_dynpool *p) {
  if (!p) return 0;
  gort_mutex_lock(&p->mu);
  int n = p->active;
  gort_mutex_unlock(&p->mu);
  return n;
}

int gortp_dynpool_peak_workers(gortp_dynpool *p) {
  if (!p) return 0;
  gort_mutex_lock(&p->mu);
  int n = p->peak;
  gort_mutex_unlock(&p->mu);
  return n;
}

int gortp_dynpool_stop(gortp_dynpool *p) {
  if (!p) return GORT_EINVAL;
  gort_mutex_lock(&p->stop_lock);
  if (!p->stop_done) {
    /* 1. the ticker: it must not adjust any more */
    gort_mutex_lock(&p->mu);
    gort_context *adj = p->adj_ctx;
    gort_mutex_unlock(&p->mu);
    if (adj) gort_context_cancel(adj);
    gort_waitgroup_wait(&p->adj_wg);
    /* 2. manual adjust calls: no new workers or markers from now on */
    gort_mutex_lock(&p->mu);
    p->adjust_closed = true;
    bool started = p->started;
    gort_mutex_unlock(&p->mu);
    /* 3. the queue */
    gort_rwmutex_lock(&p->gate);
    p->stopped = true;
    gort_chan_close(p->queue);
    gort_rwmutex_unlock(&p->gate);
    if (started) gort_waitgroup_wait(&p->workers_wg);
    dyn_task t;
    while (gort_chan_recv(p->queue, &t, NULL) == 0)
      if (t.fn) run_task(p, &t);
    p->stop_result = atomic_load(&p->first_error);
    p->stop_done = true;
  }
  int r = p->stop_result;
  gort_mutex_unlock(&p->stop_lock);
  return r;
}

void gortp_dynpool_free(gortp_dynpool *p) {
  if (!p) return;
  gortp_dynpool_stop(p);
  if (p->adj_ctx) gort_context_free(p->adj_ctx);
  if (p->ctx) gort_context_free(p->ctx);
  gort_chan_release(p->queue);
  gort_waitgroup_destroy(&p->workers_wg);
  gort_waitgroup_destroy(&p->adj_wg);
  gort_mutex_destroy(&p->stop_lock);
  gort_mutex_destroy(&p->mu);
  gort_rwmutex_destroy(&p->gate);
  free(p);
}
