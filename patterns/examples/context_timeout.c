/* Seed 003 "Context Cancellation": doWork loops until its context's 350 ms
 * deadline, printing every 100 ms ("worker 1: doing work", about four
 * times), then "worker stopped: context deadline exceeded". */
#include <stdio.h>

#include "gort/gort.h"

typedef struct {
  gort_context *ctx;
  int id;
  gort_chan *err_ch;
} work_arg;

static int do_work(gort_context *ctx, int id) {
  for (;;) {
    gort_select_case c[1] = {gort_case_recv(gort_context_done(ctx), NULL)};
    if (gort_select_try(c, 1) == 0) return gort_context_err(ctx); /* clean up and exit */
    printf("worker %d: doing work\n", id);                        /* default: a unit of work */
    fflush(stdout);
    gort_sleep(100 * GORT_MILLISECOND);
  }
}

static void worker(void *p) {
  work_arg a = *(work_arg *)p; /* main's copy is gone once it has the result */
  int err = do_work(a.ctx, a.id);
  gort_chan_send(a.err_ch, &err); /* buffered: never blocks */
  gort_chan_release(a.err_ch);
  gort_context_release(a.ctx);
}

int main(void) {
  gort_context *ctx;
  if (gort_context_with_timeout(gort_context_background(), 350 * GORT_MILLISECOND, &ctx)) return 1;
  gort_chan *err_ch;
  if (GORT_CHAN_MAKE(&err_ch, int, 1)) return 1;
  work_arg a = {gort_context_retain(ctx), 1, gort_chan_retain(err_ch)};
  if (gort_go(worker, &a)) return 1;
  int err;
  gort_chan_recv(err_ch, &err, NULL);
  if (err) printf("worker stopped: %s\n", gort_strerror(err));
  gort_chan_release(err_ch);
  gort_context_free(ctx); /* defer cancel() */
  return 0;
}
