/* Seed 003's basics: goroutines with a WaitGroup ("fetched data for id=N"),
 * an unbuffered rendezvous (42), a buffered channel (1 2 3), range over a
 * closed channel (0..4), select on the first of two responses. */
#include <stdio.h>

#include "gort/gort.h"

static gort_mutex print_lock = GORT_MUTEX_INIT;

static void fetch_data(void *arg) {
  int id = (int)(intptr_t)arg;
  gort_sleep(100 * GORT_MILLISECOND); /* simulate I/O work */
  gort_mutex_lock(&print_lock);
  printf("fetched data for id=%d\n", id);
  gort_mutex_unlock(&print_lock);
}

static void send_42(void *arg) { gort_chan_send(arg, &(int){42}); } /* blocks until main receives */

typedef struct {
  gort_chan *ch;
  gort_duration delay;
  char msg[32];
} service;

static void respond(void *arg) {
  service *s = arg;
  gort_sleep(s->delay);
  gort_chan_try_send(s->ch, s->msg); /* the loser finds the buffer full and gives up */
}

int main(void) {
  /* WaitGroup, not time.Sleep, waits for the goroutines. */
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  for (int i = 0; i < 5; i++) gort_waitgroup_go(&wg, fetch_data, (void *)(intptr_t)i);
  gort_waitgroup_wait(&wg);

  gort_chan *unbuffered;
  GORT_CHAN_MAKE(&unbuffered, int, 0);
  gort_waitgroup_go(&wg, send_42, unbuffered);
  int val;
  gort_chan_recv(unbuffered, &val, NULL);
  printf("%d\n", val);
  gort_waitgroup_wait(&wg);
  gort_chan_release(unbuffered);

  gort_chan *buffered;
  GORT_CHAN_MAKE(&buffered, int, 3);
  for (int i = 1; i <= 3; i++) gort_chan_send(buffered, &i); /* none blocks */
  for (int i = 0; i < 3; i++) {
    gort_chan_recv(buffered, &val, NULL);
    printf("%d\n", val);
  }
  gort_chan_release(buffered);

  gort_chan *ranged;
  GORT_CHAN_MAKE(&ranged, int, 5);
  for (int i = 0; i < 5; i++) gort_chan_send(ranged, &i);
  gort_chan_close(ranged);
  for (int v; GORT_CHAN_RANGE(ranged, &v);) printf("%d\n", v); /* exits when closed and empty */
  gort_chan_release(ranged);

  /* Each service answers on its own channel (capacity 1, so the slower one
   * never blocks and its task ends: nothing leaks). */
  service a = {NULL, 200 * GORT_MILLISECOND, "response from service A"};
  service b = {NULL, 100 * GORT_MILLISECOND, "response from service B"};
  GORT_CHAN_MAKE(&a.ch, char[32], 1);
  GORT_CHAN_MAKE(&b.ch, char[32], 1);
  gort_waitgroup_go(&wg, respond, &a);
  gort_waitgroup_go(&wg, respond, &b);
  char msg[32];
  gort_select_case cases[2] = {gort_case_recv(a.ch, msg), gort_case_recv(b.ch, msg)};
  gort_select(cases, 2); /* whichever responds first */
  printf("%s\n", msg);
  gort_waitgroup_wait(&wg);
  gort_chan_release(a.ch);
  gort_chan_release(b.ch);
  return 0;
}
