/* Seed 004 "Pattern 5: Semaphore - Rate Limiting": a limiter of weight 100;
 * light calls cost 10, heavy ones 50; DoWithTimeout gives up on the
 * acquire. Seed 000's weightedSemaphoreExample (capacity 10, heavy 5,
 * light 1) is the same with smaller numbers. */
#include <stdio.h>

#include "gort/gort.h"
#include "gortp/quota.h"

static gort_chan *release_heavy;

static int call_light_api(void *arg) {
  (void)arg;
  return 0;
}

static int call_heavy_api(void *arg) {
  (void)arg;
  if (release_heavy) gort_chan_recv(release_heavy, NULL, NULL); /* a long call */
  return 0;
}

static void heavy_caller(void *arg) {
  gortp_quota *q = arg;
  gortp_quota_do(q, NULL, 50, call_heavy_api, NULL);
}

static void report(const char *what, int err) {
  printf("%s: %s\n", what, err ? gort_strerror(err) : "ok");
}

int main(void) {
  gortp_quota *limiter;
  if (gortp_quota_new(&limiter, 100)) return 1;
  report("light call (10)", gortp_quota_do(limiter, NULL, 10, call_light_api, NULL));
  report("heavy call (50)", gortp_quota_do(limiter, NULL, 50, call_heavy_api, NULL));
  /* Two long heavy calls take the whole capacity... */
  if (GORT_CHAN_MAKE(&release_heavy, int, 0)) return 1;
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  gort_waitgroup_go(&wg, heavy_caller, limiter);
  gort_waitgroup_go(&wg, heavy_caller, limiter);
  while (gortp_quota_held(limiter) < 100) gort_sleep(GORT_MILLISECOND);
  /* ...so a light call with a 50 ms timeout gives up. */
  report("light call with timeout while full",
         gortp_quota_do_timeout(limiter, NULL, 10, 50 * GORT_MILLISECOND, call_light_api, NULL));
  gort_chan_close(release_heavy);
  gort_waitgroup_wait(&wg);
  report("light call with timeout after release",
         gortp_quota_do_timeout(limiter, NULL, 10, 50 * GORT_MILLISECOND, call_light_api, NULL));
  report("call heavier than the capacity (150)",
         gortp_quota_do(limiter, NULL, 150, call_light_api, NULL));
  gort_chan_release(release_heavy);
  gortp_quota_free(limiter);
  return 0;
}
