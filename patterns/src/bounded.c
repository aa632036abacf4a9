/* bounded.c - bounded parallelism (gortp/bounded.h).
 *
 * Invariants:
 *  - gortp_bounded_run: the semaphore's length is the number of tasks that
 *    exist; a slot is taken before gort_go and given back as the task's
 *    last act, so filling the semaphore to capacity proves all have ended;
 *  - errgroup forms: every task is started through the group, so
 *    gort_errgroup_wait (or free) returns only after all have returned.
 */
#include "gortp/bounded.h"

#include <stdlib.h>

#include "gort/chan.h"
#include "gort/errgroup.h"
#include "gort/task.h"
#include "gortp/ctxchan.h"

/* ---- channel semaphore ---- */

typedef struct {
  gort_chan *sem;
  void (*fn)(size_t, void *);
  void *arg;
  size_t index;
} sem_item;

static void sem_item_run(void *p) {
  sem_item *it = p;
  gort_chan *sem = it->sem;
  it->fn(it->index, it->arg);
  free(it);
  gort_chan_recv(sem, NULL, NULL); /* <-sem: free up capacity, last touch */
}

int gortp_bounded_run(int concurrency, size_t n, void (*fn)(size_t index, void *arg), void *arg) {
  if (concurrency < 1 || !fn) return GORT_EINVAL;
  gort_chan *sem;
  int r = gort_chan_make(&sem, 1, concurrency);
  if (r != 0) return r;
  const char token = 0;
  for (size_t i = 0; i < n && r == 0; i++) {
    sem_item *it = malloc(sizeof *it);
    if (!it) {
      r = GORT_ENOMEM;
      break;
    }
    *it = (sem_item){sem, fn, arg, i};
    gort_chan_send(sem, &token); /* acquire: blocks while `concurrency` run */
    r = gort_go_named("bounded", sem_item_run, it);
    if (r != 0) {
      free(it);
      gort_chan_recv(sem, NULL, NULL);
    }
  }
  /* Wait for everything started: take every slot. */
  for (int i = 0; i < concurrency; i++) gort_chan_send(sem, &token);
  gort_chan_release(sem);
  return r;
}

/* ---- errgroup with a limit ---- */

typedef struct {
  gortp_bounded_fn fn;
  void *arg;
  size_t index;
} eg_item;

static int eg_item_run(gort_context *ctx, void *p) {
  eg_item *it = p;
  return it->fn(ctx, it->index, it->arg);
}

int gortp_bounded_errgroup(gort_context *ctx, int limit, size_t n, gortp_bounded_fn fn, void *arg) {
  if (limit < 1 || !fn) return GORT_EINVAL;
  eg_item *items = calloc(n ? n : 1, sizeof *items);
  if (!items) return GORT_ENOMEM;
  gort_errgroup *g;
  gort_context *gctx;
  int r = gort_errgroup_with_context(gortp_ctxchan_or_background(ctx), &g, &gctx);
  if (r != 0) {
    free(items);
    return r;
  }
  r = gort_errgroup_set_limit(g, limit);
  if (r != 0) {
    gort_errgroup_free(g);
    free(items);
    return r;
  }
  int spawn_err = 0;
  for (size_t i = 0; i < n; i++) {
    /* Blocks while `limit` tasks are active. Once an item has failed (or
     * ctx is done) starting more would only run them to see the cancel. */
    if (gort_context_err(gctx) != 0) break;
    items[i] = (eg_item){fn, arg, i};
    spawn_err = gort_errgroup_go(g, eg_item_run, &items[i]);
    if (spawn_err != 0) break;
  }
  r = gort_errgroup_wait(g);
  gort_errgroup_free(g);
  free(items);
  return r != 0 ? r : spawn_err;
}

/* ---- seed 001's worker pool in an errgroup ---- */

typedef struct {
  gort_chan *work; /* unbuffered, of size_t */
  size_t n;
  gortp_bounded_fn fn;
  void *arg;
} pi_state;

static int pi_worker(gort_context *ctx, void *p) {
  pi_state *s = p;
  size_t i;
  /* `for item := range work`; the seed does not look at ctx here, and need
   * not: the producer stops sending and closes work once ctx is done. */
  while (gort_chan_recv(s->work, &i, NULL) == 0) {
    int r = s->fn(ctx, i, s->arg);
    if (r != 0) return r;
  }
  return 0;
}

static int pi_producer(gort_context *ctx, void *p) {
  pi_state *s = p;
  int r = 0;
  for (size_t i = 0; i < s->n && r == 0; i++) r = gortp_ctxchan_send(ctx, s->work, &i);
  gort_chan_close(s->work); /* defer close(work) */
  return r;
}

int gortp_bounded_process_items(gort_context *ctx, int workers, size_t n, gortp_bounded_fn fn, void *arg) {
  if (workers < 1 || !fn) return GORT_EINVAL;
  pi_state s = {NULL, n, fn, arg};
  int r = GORT_CHAN_MAKE(&s.work, size_t, 0);
  if (r != 0) return r;
  gort_errgroup *g;
  r = gort_errgroup_with_context(gortp_ctxchan_or_background(ctx), &g, NULL);
  if (r != 0) {
    gort_chan_release(s.work);
    return r;
  }
  int spawn_err = 0;
  for (int w = 0; w < workers && spawn_err == 0; w++) spawn_err = gort_errgroup_go(g, pi_worker, &s);
  if (spawn_err == 0) spawn_err = gort_errgroup_go(g, pi_producer, &s);
  if (spawn_err != 0) gort_chan_close(s.work); /* no producer: let workers end */
  r = gort_errgroup_wait(g);
  gort_errgroup_free(g);
  gort_chan_release(s.work);
  return r != 0 ? r : spawn_err;
}
