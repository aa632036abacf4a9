/* park.c - one million parked tasks: what a task costs while it waits.
 *
 *   gort-park [N]   (default 1000000)
 *
 * Spawns N tasks that each signal a wait group and then receive from one
 * shared unbuffered channel; waits until all N are parked (gort's parked
 * counter); reads VmRSS; closes the channel, which releases them all; waits
 * for all to finish; reads VmRSS again. Prints N, the RSS before, parked and
 * after, the RSS per parked task, the page tables (VmPTE, not part of RSS)
 * and the wall times. bench/go/park/main.go is the same program in Go.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gort/gort.h"
#include "gort/introspect.h"

static long status_kb(const char *field) {
  FILE *f = fopen("/proc/self/status", "re");
  if (!f) return -1;
  char line[256];
  long v = -1;
  size_t n = strlen(field);
  while (fgets(line, sizeof line, f))
    if (strncmp(line, field, n) == 0 && line[n] == ':') v = strtol(line + n + 1, NULL, 10);
  fclose(f);
  return v;
}

static double seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct {
  gort_chan *gate;
  gort_waitgroup ready, done;
} park_op;

static void parked_task(void *arg) {
  park_op *op = arg;
  gort_waitgroup_done(&op->ready);
  gort_chan_recv(op->gate, NULL, NULL); /* returns when gate closes */
  gort_waitgroup_done(&op->done);
}

static uint64_t parked_now(void) {
  gort_counters c;
  gort_get_counters(&c);
  return c.parked;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000000;
  if (n <= 0) {
    fprintf(stderr, "usage: %s [N>0]\n", argv[0]);
    return 2;
  }
  park_op op;
  if (gort_chan_make(&op.gate, 1, 0) != 0) return 1;
  gort_waitgroup_init(&op.ready);
  gort_waitgroup_init(&op.done);
  long rss0 = status_kb("VmRSS"), pte0 = status_kb("VmPTE");

  double t0 = seconds();
  gort_waitgroup_add(&op.ready, n);
  gort_waitgroup_add(&op.done, n);
  long started = 0;
  int rc = 0;
  for (; started < n; started++) {
    if ((rc = gort_go(parked_task, &op)) != 0) break;
  }
  if (rc != 0) {
    fprintf(stderr, "park: spawn %ld of %ld failed: %s (%s)\n", started + 1, n, gort_strerror(rc),
            gort_err_name(rc));
    gort_waitgroup_add(&op.ready, -(n - started));
    gort_waitgroup_add(&op.done, -(n - started));
  }
  gort_waitgroup_wait(&op.ready);
  /* Done comes just before the receive parks: wait for the parks (bounded). */
  for (int i = 0; i < 100000 && parked_now() < (uint64_t)started; i++) gort_sleep(GORT_MILLISECOND);
  double t1 = seconds();
  long rss1 = status_kb("VmRSS"), pte1 = status_kb("VmPTE");
  uint64_t parked = parked_now();

  gort_chan_close(op.gate);
  gort_waitgroup_wait(&op.done);
  double t2 = seconds();
  long rss2 = status_kb("VmRSS");

  printf("impl gort backend=%s stack=%zu\n", gort_backend_name(), gort_get_stack_size());
  printf("tasks %ld parked %llu\n", started, (unsigned long long)parked);
  printf("rss_before_kb %ld rss_parked_kb %ld rss_after_kb %ld\n", rss0, rss1, rss2);
  printf("rss_per_parked_task_bytes %.0f\n",
         started ? (double)(rss1 - rss0) * 1024.0 / (double)started : 0.0);
  printf("pte_per_parked_task_bytes %.0f\n",
         started ? (double)(pte1 - pte0) * 1024.0 / (double)started : 0.0);
  printf("spawn_and_park_s %.3f release_and_finish_s %.3f total_s %.3f\n", t1 - t0, t2 - t1,
         t2 - t0);
  gort_waitgroup_destroy(&op.ready);
  gort_waitgroup_destroy(&op.done);
  gort_chan_release(op.gate);
  return rc != 0 || parked < (uint64_t)started;
}
