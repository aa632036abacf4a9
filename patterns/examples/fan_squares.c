/* Seed 003 "Fan-Out / Fan-In": a buffered source of 1..10, fanned out to
 * three workers that square, fanned back in. Order varies, as in Go. */
#include <stdio.h>

#include "gort/gort.h"
#include "gortp/fan.h"

static void source_fill(void *p) {
  gort_chan *source = p;
  for (int i = 1; i <= 10; i++) gort_chan_send(source, &i);
  gort_chan_close(source);
  gort_chan_release(source);
}

static void square(const void *in, void *out, size_t worker, void *arg) {
  (void)worker;
  (void)arg;
  int v = *(const int *)in;
  *(int *)out = v * v;
}

int main(void) {
  gort_chan *source;
  if (GORT_CHAN_MAKE(&source, int, 10) != 0) return 1;
  if (gort_go(source_fill, gort_chan_retain(source)) != 0) return 1;
  gort_chan *workers[3], *results;
  if (gortp_fan_out_map(NULL, source, 3, sizeof(int), square, NULL, workers) != 0) return 1;
  if (gortp_fan_in(NULL, workers, 3, &results) != 0) return 1;
  for (int v; GORT_CHAN_RANGE(results, &v);) printf("%d\n", v);
  for (int i = 0; i < 3; i++) gort_chan_release(workers[i]);
  gort_chan_release(results);
  gort_chan_release(source);
  return 0;
}
