/* verdict.c - what the catalog's runs may observe of the runtime: waits
 * until a leak is in place, and a demonstration's figures. Never a verdict:
 * detectors give those (see antipattern.h). This file (and only this file)
 * reads gort/introspect.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "antipattern.h"
#include "gort/gort.h"
#include "gort/introspect.h"

void ap_show(ap_out *o, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(o->shown, sizeof o->shown, fmt, ap);
  va_end(ap);
}

typedef bool (*cond_fn)(int n);

/* Poll cond every 200 us for up to 10 s: for state that has no event. */
static bool eventually(cond_fn cond, int n) {
  int64_t deadline = gort_now() + 10 * GORT_SECOND;
  while (!cond(n)) {
    if (gort_now() > deadline) return false;
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL);
  }
  return true;
}

static bool at_most_alive(int n) { return gort_num_tasks() <= n; }

static bool parked_at_least(int n) {
  gort_counters c;
  gort_get_counters(&c);
  return c.parked >= (uint64_t)n;
}

bool ap_settle(int n) { return eventually(at_most_alive, n); }
bool ap_parked(int n) { return eventually(parked_at_least, n); }

#define MAX_SNAP 4096

static gort_task_info snap[MAX_SNAP];

int ap_count_waiting(const char *reason) {
  size_t n = gort_task_snapshot(snap, MAX_SNAP);
  if (n > MAX_SNAP) n = MAX_SNAP;
  int k = 0;
  for (size_t i = 0; i < n; i++)
    if (snap[i].state == GORT_TASK_WAITING &&
        strcmp(gort_wait_reason_string(snap[i].wait_reason), reason) == 0)
      k++;
  return k;
}
