/* Seed 000 "Semaphore Pattern": a channel of capacity 3 as a semaphore over
 * ten goroutines ("Processing 0" .. "Processing 9", in some order), then
 * draining it to wait. Sleeps 100 ms per item instead of 1 s. */
#include <stdio.h>

#include "gort/gort.h"
#include "gortp/bounded.h"

static gort_mutex print_lock = GORT_MUTEX_INIT;

static void process(size_t id, void *arg) {
  (void)arg;
  gort_mutex_lock(&print_lock);
  printf("Processing %zu\n", id);
  fflush(stdout);
  gort_mutex_unlock(&print_lock);
  gort_sleep(100 * GORT_MILLISECOND);
}

int main(void) {
  const int max_concurrency = 3;
  int r = gortp_bounded_run(max_concurrency, 10, process, NULL);
  if (r) fprintf(stderr, "semaphore: %s\n", gort_strerror(r));
  return r ? 1 : 0;
}
