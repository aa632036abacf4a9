/* ci/tests/race_gort.c - a gort program with a data race: a task and main
 * both increment a counter, the task before it sends on a channel, main
 * before it receives, so nothing orders the two increments. With
 * -DRACE_FIXED main increments after the receive (the channel hand-off
 * orders it after the task's). With an argument, prints the task dump (which
 * names the GORT_CHAOS seed when schedule perturbation is on). */
#include <stdio.h>

#include "gort/chan.h"
#include "gort/task.h"

static int counter;

static void worker(void *arg) {
  int one = 1;
  counter++;
  gort_chan_send((gort_chan *)arg, &one);
}

int main(int argc, char **argv) {
  (void)argv;
  gort_chan *c;
  if (gort_chan_make(&c, sizeof(int), 0) != 0 || gort_go(worker, c) != 0) return 3;
#ifndef RACE_FIXED
  counter++; /* the bug: concurrent with the task's increment */
#endif
  int v;
  if (gort_chan_recv(c, &v, NULL) != 0) return 3;
#ifdef RACE_FIXED
  counter++; /* the fix: after the receive, so after the task's increment */
#endif
  if (argc > 1) gort_dump_tasks(stdout);
  gort_chan_release(c);
  printf("counter %d\n", counter);
  return counter == 2 ? 0 : 3;
}
