/* Seed 000 "Fan-Out / Fan-In": a producer of six items, three workers
 * sharing its channel, their outputs merged. Which worker processes which
 * item varies from run to run, as in Go. */
#include <stdio.h>

#include "gort/gort.h"
#include "gortp/fan.h"

typedef struct {
  char s[8];
} item;
typedef struct {
  char s[48];
} line;

typedef struct {
  gort_chan *out;
  const char *const *items;
  int n;
} producer_arg;

static void producer(void *p) {
  producer_arg a = *(producer_arg *)p; /* main may be gone after the close */
  for (int i = 0; i < a.n; i++) {
    item it = {{0}};
    snprintf(it.s, sizeof it.s, "%s", a.items[i]);
    gort_chan_send(a.out, &it);
  }
  gort_chan_close(a.out); /* defer close(out) */
  gort_chan_release(a.out);
}

static void worker(const void *in, void *out, size_t id, void *arg) {
  (void)arg;
  snprintf(((line *)out)->s, sizeof(line), "worker-%zu processed %s", id + 1,
           ((const item *)in)->s);
}

int main(void) {
  static const char *const items[] = {"a", "b", "c", "d", "e", "f"};
  gort_chan *input;
  if (GORT_CHAN_MAKE(&input, item, 0) != 0) return 1;
  producer_arg pa = {gort_chan_retain(input), items, 6};
  if (gort_go(producer, &pa) != 0) return 1;
  gort_chan *w[3], *merged; /* fan-out: 3 workers share the input channel */
  if (gortp_fan_out_map(NULL, input, 3, sizeof(line), worker, NULL, w) != 0) return 1;
  if (gortp_fan_in(NULL, w, 3, &merged) != 0) return 1; /* fan-in */
  for (line l; GORT_CHAN_RANGE(merged, &l);) printf("%s\n", l.s);
  for (int i = 0; i < 3; i++) gort_chan_release(w[i]);
  gort_chan_release(merged);
  gort_chan_release(input);
  return 0;
}
