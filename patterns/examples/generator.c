/* Seed 000 "Generator Pattern": print Fibonacci numbers until one exceeds
 * 1000, then cancel the generator. */
#include <inttypes.h>
#include <stdio.h>

#include "gort/gort.h"
#include "gortp/generator.h"

int main(void) {
  gort_context *ctx;
  if (gort_context_with_cancel(gort_context_background(), &ctx)) return 1;
  gort_chan *fib;
  if (gortp_generator_fibonacci(ctx, &fib)) return 1;
  for (int64_t v; GORT_CHAN_RANGE(fib, &v);) {
    printf("%" PRId64 "\n", v);
    if (v > 1000) {
      gort_context_cancel(ctx); /* stop the generator */
      break;
    }
  }
  gort_chan_release(fib);
  gort_context_free(ctx); /* defer cancel() */
  return 0;
}
