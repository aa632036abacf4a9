/* Seed 004 "Optimization 3: Zero-Copy Channel Passing" and seed 001
 * "Pattern 8: sync.Pool": messages flow through a stage as pointers to
 * pooled 4096-byte buffers; the consumer puts each back. */
#include <stdio.h>
#include <stdlib.h>

#include "gort/gort.h"
#include "gortp/bufpool.h"

enum { MESSAGES = 10000 };
static char payloads[MESSAGES][24];

static void feed(void *arg) {
  gort_chan *input = arg;
  for (int i = 0; i < MESSAGES; i++) {
    gortp_bufpool_slice s = {payloads[i], (size_t)snprintf(payloads[i], sizeof payloads[i], "message %d", i)};
    gort_chan_send(input, &s);
  }
  gort_chan_close(input);
  gort_chan_release(input);
}

int main(void) {
  gortp_bufpool *pool;
  if (gortp_bufpool_new(&pool, 4096)) return 1;
  char *s = gortp_bufpool_process(pool, "data", 4);
  printf("%s\n", s ? s : "(out of memory)"); /* process(data) */
  free(s);

  gort_context *ctx;
  if (gort_context_with_cancel(gort_context_background(), &ctx)) return 1;
  gort_chan *input, *out;
  if (GORT_CHAN_MAKE(&input, gortp_bufpool_slice, 0) || gortp_bufpool_pipeline(ctx, pool, input, &out)) return 1;
  if (gort_go(feed, gort_chan_retain(input))) return 1;
  size_t bytes = 0;
  int n = 0;
  for (gortp_bufpool_buffer *b; GORT_CHAN_RANGE(out, &b); n++) {
    bytes += b->len;
    gortp_bufpool_put(pool, b); /* PutBuffer */
  }
  printf("%d messages, %zu bytes, passed as %zu-byte pointers\n", n, bytes, sizeof(gortp_bufpool_buffer *));
  printf("buffers allocated: %s\n", gortp_bufpool_allocated(pool) < 200 ? "a few dozen, reused" : "too many");
  gort_chan_release(out);
  gort_chan_release(input);
  gort_context_free(ctx);
  gortp_bufpool_free(pool);
  return 0;
}
