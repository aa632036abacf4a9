/* unclosed_producer.c - a producer that never closes its channel.
 *
 * Leak: the producer sends its values and returns without closing the
 * channel; the consumer task ranging over it never sees the end and parks in
 * "chan receive" for good.
 * Fixed: the producer closes the channel when it is done (defer close(ch)),
 * so the consumer's range ends.
 */
#include "gort/gort.h"

typedef struct {
  gort_chan *ch;
  gort_waitgroup *wg;
  long sum;
} pipeline;

static void producer(void *arg) {
  pipeline *p = arg;
  for (int i = 0; i < 100; i++) GORT_CHAN_SEND(p->ch, int, i);
#ifdef LEAKCHECK_FIXED
  gort_chan_close(p->ch);
#endif
  gort_waitgroup_done(p->wg);
}

static void consumer(void *arg) {
  pipeline *p = arg;
  int v;
  while (GORT_CHAN_RANGE(p->ch, &v)) p->sum += v; /* ends only when ch is closed */
  gort_waitgroup_done(p->wg);
}

static void start_pipeline(pipeline *p) {
  gort_waitgroup_add(p->wg, 2);
  gort_go(producer, p);
  gort_go(consumer, p);
}

int main(void) {
  static gort_waitgroup wg = GORT_WAITGROUP_INIT;
  static pipeline p = {NULL, &wg, 0};
  if (GORT_CHAN_MAKE(&p.ch, int, 0) != 0) return 1;
  start_pipeline(&p);
#ifdef LEAKCHECK_FIXED
  gort_waitgroup_wait(&wg);
  gort_chan_release(p.ch);
  return p.sum == 4950 ? 0 : 1;
#else
  /* Wait for the producer only: the consumer never finishes. */
  while (gort_chan_len(p.ch) > 0 || p.sum < 4950 - 99) gort_yield();
  return 0;
#endif
}
