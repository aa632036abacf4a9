/* Seed 000 "Bounded Parallelism with Rate Limiting": at most 10 items at
 * once, 50 per second with a burst of 50. 75 items: 50 at once, then 25 at
 * 20 ms intervals, about half a second in all. */
#include <stdatomic.h>
#include <stdio.h>

#include "gort/gort.h"
#include "gortp/ratelimit.h"

static _Atomic int processed;

static int process(gort_context *ctx, size_t index, void *arg) {
  (void)index;
  (void)arg;
  atomic_fetch_add(&processed, 1);
  return gort_context_err(ctx);
}

int main(void) {
  const int max_concurrency = 10, rate_per_second = 50;
  gort_limiter *limiter;
  if (gort_limiter_new(&limiter, rate_per_second, rate_per_second)) return 1;
  int64_t t0 = gort_now();
  int err = gortp_ratelimit_process(NULL, limiter, max_concurrency, 75, process, NULL);
  double secs = (double)(gort_now() - t0) / GORT_SECOND;
  printf("processed %d items, error: %s\n", atomic_load(&processed), err ? gort_strerror(err) : "none");
  printf("paced by the limiter: %s\n", secs >= 0.45 ? "yes" : "no");
  gort_limiter_free(limiter);
  return 0;
}
