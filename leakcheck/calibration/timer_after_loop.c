/* timer_after_loop.c - time.After in a loop's select (seeds 003 "The Select
 * Statement" and 004 "Pitfall 4: time.After Leak in Select"): every
 * iteration leaves a timer pending until it fires, a minute later.
 *
 * Leak: receive_one selects on the channel and on a fresh time.After.
 * Fixed: one timer for the whole loop, stopped after it.
 */
#include "gort/gort.h"

#define ITEMS 10

#ifndef LEAKCHECK_FIXED
/* noinline: the function leakcheck must name as the timers' creator. */
__attribute__((noinline)) static void receive_one(gort_chan *ch) {
  gort_chan *after;
  if (gort_after(60 * GORT_SECOND, &after) != 0) return;
  int v;
  gort_select_case cases[2] = {gort_case_recv(ch, &v), gort_case_recv(after, NULL)};
  gort_select(cases, 2);
  gort_chan_release(after); /* the timer keeps its own reference until it fires */
}
#endif

int main(void) {
  gort_chan *ch;
  if (GORT_CHAN_MAKE(&ch, int, ITEMS) != 0) return 1;
  for (int i = 0; i < ITEMS; i++) GORT_CHAN_SEND(ch, int, i);
#ifndef LEAKCHECK_FIXED
  for (int i = 0; i < ITEMS; i++) receive_one(ch);
#else
  gort_timer *t;
  if (gort_timer_new(&t, 60 * GORT_SECOND) != 0) return 1;
  for (int i = 0; i < ITEMS; i++) {
    int v;
    gort_select_case cases[2] = {gort_case_recv(ch, &v), gort_case_recv(gort_timer_chan(t), NULL)};
    gort_select(cases, 2);
  }
  gort_timer_free(t);
#endif
  gort_chan_release(ch);
  return 0;
}
