/* Seed 004 "Pattern 1: Worker Pool": NewPool(10, 100), Start, Submit three
 * fetches, Stop. The seed's main prints nothing; this one prints what each
 * task did (in completion order, which varies) and the pool's counters. */
#include <stdio.h>

#include "gort/gort.h"
#include "gortp/workerpool.h"

static gort_mutex print_lock = GORT_MUTEX_INIT;

static int fetch_url(gort_context *ctx, void *arg) {
  int err = gort_context_err(ctx);
  if (err) return err;
  gort_sleep(10 * GORT_MILLISECOND); /* the request */
  gort_mutex_lock(&print_lock);
  printf("fetched %s\n", (const char *)arg);
  gort_mutex_unlock(&print_lock);
  return 0;
}

int main(void) {
  gort_context *ctx;
  if (gort_context_with_timeout(gort_context_background(), 30 * GORT_SECOND, &ctx)) return 1;
  gortp_workerpool *pool;
  if (gortp_workerpool_new(&pool, 10, 100) || gortp_workerpool_start(pool, ctx)) return 1;
  static const char *const urls[] = {
      "https://api.example.com/users",
      "https://api.example.com/orders",
      "https://api.example.com/products",
  };
  for (int i = 0; i < 3; i++) {
    int r = gortp_workerpool_submit(pool, fetch_url, (void *)urls[i]);
    if (r) printf("submit %s: %s\n", urls[i], gort_strerror(r)); /* the seed drops this */
  }
  int err = gortp_workerpool_stop(pool);
  gortp_workerpool_stats st;
  gortp_workerpool_stats_get(pool, &st);
  printf("stopped: %llu submitted, %llu completed, %llu failed, first error: %s\n",
         (unsigned long long)st.submitted, (unsigned long long)st.completed,
         (unsigned long long)st.failed, err ? gort_strerror(err) : "none");
  gortp_workerpool_free(pool);
  gort_context_free(ctx);
  return 0;
}
