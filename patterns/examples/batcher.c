/* Seed 004 "Optimization 2: Batching": batches of 4, flushed when full and
 * every 20 ms (the interval the seed declares but never uses). */
#include <stdio.h>

#include "gort/gort.h"
#include "gortp/batcher.h"

static int write_batch(gort_context *ctx, const void *items, size_t n, void *arg) {
  (void)ctx;
  (void)arg;
  const int *v = items;
  printf("batch of %zu:", n);
  for (size_t i = 0; i < n; i++) printf(" %d", v[i]);
  printf("\n");
  return 0;
}

int main(void) {
  gortp_batcher *b;
  gortp_batcher_config cfg = {sizeof(int), 4, 20 * GORT_MILLISECOND, write_batch, NULL};
  if (gortp_batcher_new(&b, NULL, &cfg)) return 1;
  for (int i = 1; i <= 10; i++) gortp_batcher_add(b, &i); /* two full batches; 9, 10 wait */
  gortp_batcher_stats st;
  do { /* no Flush call: the interval hands 9 and 10 over */
    gort_sleep(GORT_MILLISECOND);
    gortp_batcher_stats_get(b, &st);
  } while (st.interval_batches == 0);
  gortp_batcher_add(b, &(int){11});
  gortp_batcher_close(b); /* the final Flush */
  gortp_batcher_stats_get(b, &st);
  printf("%llu items in %llu batches (%llu full, %llu by interval)\n", (unsigned long long)st.items,
         (unsigned long long)st.batches, (unsigned long long)st.full_batches,
         (unsigned long long)st.interval_batches);
  gortp_batcher_free(b);
  return 0;
}
