/* Seed 001 "Pattern 1: Basic Goroutine with Cleanup": Start(ctx) runs the
 * server and the queue processor in one errgroup; a background worker ticks
 * until it is stopped. Every task has a way to stop and is waited for. */
#include <stdatomic.h>
#include <stdio.h>

#include "gort/gort.h"
#include "gortp/lifecycle.h"

static _Atomic int processed;
static gort_chan *up;

static int serve(gort_context *ctx, void *arg) {
  (void)arg;
  gort_chan_send(up, &(int){1});
  gort_chan_recv(gort_context_done(ctx), NULL, NULL); /* until shutdown */
  printf("server: stopped\n");
  return gort_context_err(ctx);
}

static void process_one(void *arg) {
  (void)arg;
  atomic_fetch_add(&processed, 1);
}

static int process_queue(gort_context *ctx, void *arg) {
  (void)arg;
  int r = gortp_lifecycle_every(ctx, GORT_MILLISECOND, process_one, NULL);
  printf("queue: stopped\n");
  return r;
}

typedef struct {
  gort_context *ctx;
  int err;
} start_arg;

static void start(void *p) {
  start_arg *a = p;
  gortp_lifecycle_fn loops[2] = {serve, process_queue};
  a->err = gortp_lifecycle_run_all(a->ctx, loops, NULL, 2);
}

int main(void) {
  gort_context *ctx;
  if (gort_context_with_cancel(gort_context_background(), &ctx) || GORT_CHAN_MAKE(&up, int, 1)) return 1;
  start_arg a = {ctx, 0};
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  gort_waitgroup_go(&wg, start, &a);
  gort_chan_recv(up, NULL, NULL);
  while (atomic_load(&processed) < 3) gort_sleep(GORT_MILLISECOND);
  gort_context_cancel(ctx); /* shutdown */
  gort_waitgroup_wait(&wg);
  printf("Start returned: %s\n", gort_strerror(a.err));
  /* Their functions have returned; give the tasks a moment to exit. */
  for (int i = 0; i < 5000 && gort_num_tasks() > 1; i++) gort_sleep(GORT_MILLISECOND);
  printf("tasks left: %d\n", gort_num_tasks() - 1);
  gort_context_free(ctx);
  gort_chan_release(up);
  return 0;
}
