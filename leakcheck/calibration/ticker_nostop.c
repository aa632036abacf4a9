/* ticker_nostop.c - a ticker loop with no stop path (the seeds' "goroutine
 * leak - no way to stop").
 *
 * Leak: the worker loops on ticks forever; nothing can tell it to stop.
 * Fixed: the worker selects on the ticker and on ctx's done channel, stops
 * its ticker and returns when the context is cancelled.
 */
#include "gort/gort.h"

typedef struct {
  gort_context *ctx;
  gort_waitgroup *wg;
  _Atomic int ticks;
} worker_state;

static void process(worker_state *w) { w->ticks++; }

static void worker(void *arg) {
  worker_state *w = arg;
  gort_ticker *t;
  if (gort_ticker_new(&t, 2 * GORT_MILLISECOND) != 0) return;
  int64_t when;
#ifndef LEAKCHECK_FIXED
  for (;;) {
    gort_chan_recv(gort_ticker_chan(t), &when, NULL);
    process(w);
  }
#else
  for (;;) {
    gort_select_case cases[2] = {gort_case_recv(gort_ticker_chan(t), &when),
                                 gort_case_recv(gort_context_done(w->ctx), NULL)};
    if (gort_select(cases, 2) == 1) break;
    process(w);
  }
  gort_ticker_free(t);
  gort_waitgroup_done(w->wg);
#endif
}

static void start_ticker(worker_state *w) {
  gort_waitgroup_add(w->wg, 1);
  gort_go(worker, w);
}

int main(void) {
  static gort_waitgroup wg = GORT_WAITGROUP_INIT;
  static worker_state w = {NULL, &wg, 0};
  if (gort_context_with_cancel(gort_context_background(), &w.ctx) != 0) return 1;
  start_ticker(&w);
  while (w.ticks < 3) gort_sleep(GORT_MILLISECOND);
  gort_context_cancel(w.ctx);
#ifdef LEAKCHECK_FIXED
  gort_waitgroup_wait(&wg);
  gort_context_free(w.ctx);
#endif
  return 0;
}
