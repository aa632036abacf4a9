/* Seed 002 "Backpressure": a pressure gauge of 3 in front of a slow
 * handler. Ten requests arrive while three are being served: three are
 * handled, seven get "too many requests" at once instead of queueing. */
#include <stdio.h>

#include "gort/gort.h"
#include "gortp/gauge.h"

static gortp_gauge *pg;
static gort_chan *entered, *finish;

static void do_things_that_should_be_limited(void *arg) {
  (void)arg;
  gort_chan_send(entered, &(int){1});
  gort_chan_recv(finish, NULL, NULL);
}

static void handler(void *arg) {
  int *status = arg;
  *status = gortp_gauge_do(pg, do_things_that_should_be_limited, NULL) == GORT_EFULL ? 429 : 200;
}

int main(void) {
  if (gortp_gauge_new(&pg, 3) || GORT_CHAN_MAKE(&entered, int, 0) || GORT_CHAN_MAKE(&finish, int, 0))
    return 1;
  int status[10] = {0};
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  for (int i = 0; i < 3; i++) gort_waitgroup_go(&wg, handler, &status[i]);
  for (int i = 0; i < 3; i++) gort_chan_recv(entered, NULL, NULL); /* three in flight */
  for (int i = 3; i < 10; i++) handler(&status[i]);                 /* seven more arrive */
  gort_chan_close(finish);
  gort_waitgroup_wait(&wg);
  int ok = 0, rejected = 0;
  for (int i = 0; i < 10; i++) status[i] == 200 ? ok++ : rejected++;
  printf("handled: %d\n", ok);
  printf("too many requests: %d\n", rejected);
  gortp_gauge_free(pg);
  gort_chan_release(entered);
  gort_chan_release(finish);
  return 0;
}
