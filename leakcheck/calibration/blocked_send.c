/* blocked_send.c - the seeds' leaky(): a task blocked forever sending on a
 * channel nobody reads.
 *
 * Leak: leaky() starts a sender on an unbuffered channel and its caller goes
 * away without receiving; the sender parks in "chan send" for good.
 * Fixed (the seeds' safe()): the sender selects between the send and the
 * context's done channel, and the caller cancels the context when it gives
 * up, so the sender always has a way out.
 */
#include "gort/gort.h"

static int expensive_computation(void) { return 42; }

#ifndef LEAKCHECK_FIXED
static void sender(void *arg) {
  gort_chan *ch = arg;
  int result = expensive_computation();
  gort_chan_send(ch, &result); /* blocked forever: nobody reads */
  gort_chan_release(ch);
}

static gort_chan *leaky(void) {
  gort_chan *ch;
  if (GORT_CHAN_MAKE(&ch, int, 0) != 0) return NULL;
  gort_go(sender, gort_chan_retain(ch));
  return ch;
}

int main(void) {
  gort_chan *ch = leaky();
  gort_chan_release(ch); /* the consumer is gone */
  return 0;
}
#else
typedef struct {
  gort_chan *ch;
  gort_context *ctx;
} job;

static void sender(void *arg) {
  job *j = arg;
  int result = expensive_computation();
  gort_select_case cases[2] = {gort_case_send(j->ch, &result),
                               gort_case_recv(gort_context_done(j->ctx), NULL)};
  gort_select(cases, 2);
  gort_chan_close(j->ch);
  gort_chan_release(j->ch);
  gort_context_release(j->ctx);
}

static gort_chan *safe(gort_context *ctx, job *j) {
  gort_chan *ch;
  if (GORT_CHAN_MAKE(&ch, int, 0) != 0) return NULL;
  j->ch = gort_chan_retain(ch);
  j->ctx = gort_context_retain(ctx);
  gort_go(sender, j);
  return ch;
}

int main(void) {
  gort_context *ctx;
  if (gort_context_with_cancel(gort_context_background(), &ctx) != 0) return 1;
  static job j;
  gort_chan *ch = safe(ctx, &j);
  gort_context_free(ctx); /* defer cancel(): the consumer gives up */
  /* The sender closes ch on its way out: wait for that, as a caller that
   * owns the channel would. */
  int v;
  while (GORT_CHAN_RANGE(ch, &v)) {
  }
  gort_chan_release(ch);
  return 0;
}
#endif
