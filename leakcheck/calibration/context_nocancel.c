/* context_nocancel.c - a context that is never cancelled.
 *
 * Leak: the worker waits for ctx's done channel, but its creator forgot the
 * `defer cancel()`: done never closes and the worker parks in "chan receive"
 * for good.
 * Fixed: the creator frees the context when it is done with it (cancel,
 * then drop the reference), which closes done and lets the worker return.
 */
#include "gort/gort.h"

typedef struct {
  gort_context *ctx;
  gort_waitgroup *wg;
} worker_arg;

static void worker(void *arg) {
  worker_arg *w = arg;
  gort_chan_recv(gort_context_done(w->ctx), NULL, NULL); /* until cancelled */
  gort_context_release(w->ctx);
  gort_waitgroup_done(w->wg);
}

static void start_worker(worker_arg *w, gort_context *ctx) {
  w->ctx = gort_context_retain(ctx);
  gort_waitgroup_add(w->wg, 1);
  gort_go(worker, w);
}

int main(void) {
  static gort_waitgroup wg = GORT_WAITGROUP_INIT;
  static worker_arg w = {NULL, &wg};
  gort_context *ctx;
  if (gort_context_with_cancel(gort_context_background(), &ctx) != 0) return 1;
  start_worker(&w, ctx);
#ifdef LEAKCHECK_FIXED
  gort_context_free(ctx); /* defer cancel() */
  gort_waitgroup_wait(&wg);
#endif
  return 0;
}
