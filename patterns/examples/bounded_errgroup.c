/* Seeds 000/001/003 "errgroup with Concurrency Limit": processAllItems with
 * SetLimit(10) over 100 items, and seed 002's Process(3, data) with a
 * channel semaphore. Prints how many ran and the most at once. */
#include <stdatomic.h>
#include <stdio.h>

#include "gort/gort.h"
#include "gortp/bounded.h"

static _Atomic int active, peak, done;

static void enter(void) {
  int now = atomic_fetch_add(&active, 1) + 1;
  int p = atomic_load(&peak);
  while (now > p && !atomic_compare_exchange_weak(&peak, &p, now)) {
  }
}

static int process_item(gort_context *ctx, size_t index, void *arg) {
  (void)index;
  (void)arg;
  enter();
  gort_sleep(GORT_MILLISECOND);
  atomic_fetch_sub(&active, 1);
  atomic_fetch_add(&done, 1);
  return gort_context_err(ctx);
}

static void process_data(size_t index, void *arg) {
  (void)arg;
  (void)process_item(gort_context_background(), index, NULL);
}

int main(void) {
  int r = gortp_bounded_errgroup(NULL, 10, 100, process_item, NULL);
  printf("errgroup: %d items, at most %s 10 at once, error: %s\n", atomic_load(&done),
         atomic_load(&peak) <= 10 ? "<=" : ">", r ? gort_strerror(r) : "none");
  atomic_store(&done, 0);
  atomic_store(&peak, 0);
  r = gortp_bounded_run(3, 30, process_data, NULL);
  printf("semaphore: %d items, at most %s 3 at once, error: %s\n", atomic_load(&done),
         atomic_load(&peak) <= 3 ? "<=" : ">", r ? gort_strerror(r) : "none");
  return 0;
}
