/* Seed 004 "Optimization 1: Dynamic Worker Pool": min 2, max 8 workers, a
 * queue of 16, adjusted on a ticker (5 ms here instead of 5 s). A burst of
 * slow tasks makes it grow; idleness shrinks it back to min. */
#include <stdio.h>

#include "gort/gort.h"
#include "gortp/dynpool.h"

static gort_waitgroup done = GORT_WAITGROUP_INIT;

static int slow_task(gort_context *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  gort_sleep(5 * GORT_MILLISECOND);
  gort_waitgroup_done(&done);
  return 0;
}

int main(void) {
  gortp_dynpool_config cfg = {2, 8, 16, 5 * GORT_MILLISECOND};
  gortp_dynpool *p;
  if (gortp_dynpool_new(&p, &cfg) || gortp_dynpool_start(p, NULL)) return 1;
  printf("workers at start: %d\n", gortp_dynpool_workers(p));
  int submitted = 0;
  while (submitted < 60) { /* submit never blocks; retry when full */
    gort_waitgroup_add(&done, 1);
    if (gortp_dynpool_submit(p, slow_task, NULL) == 0) {
      submitted++;
    } else {
      gort_waitgroup_done(&done);
      gort_sleep(GORT_MILLISECOND);
    }
  }
  gort_waitgroup_wait(&done);
  printf("processed %d tasks\n", submitted);
  printf("grew under load: %s\n", gortp_dynpool_peak_workers(p) > cfg.min_workers ? "yes" : "no");
  while (gortp_dynpool_workers(p) > cfg.min_workers) gort_sleep(GORT_MILLISECOND);
  printf("workers when idle: %d\n", gortp_dynpool_workers(p));
  gortp_dynpool_free(p);
  return 0;
}
