/* Seed 001 "Pattern 5: Rate Limiter (Token Bucket)": an API client allowed
 * 5 calls per second with a burst of 5. TryCall refuses beyond the burst;
 * Call waits for a token. */
#include <stdio.h>

#include "gort/gort.h"
#include "gortp/ratelimit.h"

static int do_request(gort_context *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  return 0;
}

int main(void) {
  gort_limiter *lim;
  if (gort_limiter_new(&lim, 5, 5)) return 1; /* burst = rps */
  gortp_ratelimit_client client = {lim};
  int ok = 0, refused = 0;
  for (int i = 0; i < 8; i++) {
    int r = gortp_ratelimit_try_call(&client, NULL, do_request, NULL);
    if (r == 0) ok++;
    else if (r == GORT_EAGAIN) refused++;
  }
  printf("TryCall: %d ok, %d refused (rate limit exceeded)\n", ok, refused);
  int64_t t0 = gort_now();
  int r = gortp_ratelimit_call(&client, NULL, do_request, NULL);
  printf("Call: %s after waiting for a token: %s\n", r ? gort_strerror(r) : "ok",
         gort_now() - t0 >= 150 * GORT_MILLISECOND ? "yes" : "no");
  gort_limiter_free(lim);
  return 0;
}
