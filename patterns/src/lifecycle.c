/* lifecycle.c - loops that stop and are waited for (gortp/lifecycle.h).
 *
 * Invariant: a gortp_lifecycle's task touches the handle only before
 * gort_waitgroup_done; gortp_lifecycle_stop frees it only after waiting.
 */
#include "gortp/lifecycle.h"

#include <stdlib.h>

#include "gort/errgroup.h"
#include "gort/select.h"
#include "gort/sync.h"
#include "gort/task.h"
#include "gortp/ctxchan.h"

typedef struct {
  gortp_lifecycle_fn fn;
  void *arg;
} loop_item;

static int loop_run(gort_context *ctx, void *p) {
  loop_item *it = p;
  return it->fn(ctx, it->arg);
}

int gortp_lifecycle_run_all(gort_context *ctx, const gortp_lifecycle_fn *fns, void *const *args, size_t n) {
  if (n > 0 && !fns) return GORT_EINVAL;
  loop_item *items = malloc((n ? n : 1) * sizeof *items);
  if (!items) return GORT_ENOMEM;
  gort_errgroup *g;
  int r = gort_errgroup_with_context(gortp_ctxchan_or_background(ctx), &g, NULL);
  if (r != 0) {
    free(items);
    return r;
  }
  int spawn_err = 0;
  for (size_t i = 0; i < n && spawn_err == 0; i++) {
    items[i] = (loop_item){fns[i], args ? args[i] : NULL};
    spawn_err = fns[i] ? gort_errgroup_go(g, loop_run, &items[i]) : GORT_EINVAL;
  }
  /* A loop that could not start must not leave the others running: a
   * spawn error cancels like a loop error would. */
  if (spawn_err != 0) gort_context_cancel(gort_errgroup_context(g));
  r = gort_errgroup_wait(g);
  gort_errgroup_free(g);
  free(items);
  return r != 0 ? r : spawn_err;
}

int gortp_lifecycle_every(gort_context *ctx, gort_duration period, void (*tick)(void *arg), void *arg) {
  ctx = gortp_ctxchan_or_background(ctx);
  if (!tick || period <= 0) return GORT_EINVAL;
  gort_ticker *t;
  int r = gort_ticker_new(&t, period);
  if (r != 0) return r;
  for (;;) {
    int64_t when;
    gort_select_case c[2] = {gort_case_recv(gort_ticker_chan(t), &when),
                             gort_case_recv(gort_context_done(ctx), NULL)};
    if (gort_select(c, 2) != 0) break;
    /* A tick and the cancellation may be ready together: the cancellation
     * wins, so no tick runs after stop has been asked for. */
    if (gort_context_err(ctx) != 0) break;
    tick(arg);
  }
  gort_ticker_free(t); /* defer ticker.Stop() */
  return gort_context_err(ctx);
}

struct gortp_lifecycle {
  gort_context *ctx; /* the worker's own child context */
  gort_duration period;
  void (*tick)(void *);
  void *arg;
  int result;
  gort_waitgroup done;
};

static void worker_run(void *p) {
  gortp_lifecycle *w = p;
  w->result = gortp_lifecycle_every(w->ctx, w->period, w->tick, w->arg);
  gort_waitgroup_done(&w->done);
}

int gortp_lifecycle_new(gortp_lifecycle **out, gort_context *ctx, gort_duration period,
                       void (*tick)(void *arg), void *arg) {
  if (!out || !tick || period <= 0) return GORT_EINVAL;
  gortp_lifecycle *w = calloc(1, sizeof *w);
  if (!w) return GORT_ENOMEM;
  int r = gort_context_with_cancel(gortp_ctxchan_or_background(ctx), &w->ctx);
  if (r != 0) {
    free(w);
    return r;
  }
  w->period = period;
  w->tick = tick;
  w->arg = arg;
  gort_waitgroup_init(&w->done);
  gort_waitgroup_add(&w->done, 1);
  r = gort_go_named("worker", worker_run, w);
  if (r != 0) {
    gort_context_free(w->ctx);
    free(w);
    return r;
  }
  *out = w;
  return 0;
}

int gortp_lifecycle_stop(gortp_lifecycle *w) {
  if (!w) return GORT_EINVAL;
  gort_context_cancel(w->ctx);
  gort_waitgroup_wait(&w->done);
  int r = w->result;
  gort_waitgroup_destroy(&w->done);
  gort_context_free(w->ctx);
  free(w);
  return r;
}
