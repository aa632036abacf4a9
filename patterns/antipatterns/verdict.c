/* verdict.c - what the catalog's runs observe: tasks left behind and what
 * they wait for, pending timers, peak task counts. A leak checker's view,
 * so this file (and only this file) reads gort/introspect.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "antipattern.h"
#include "gort/gort.h"
#include "gort/introspect.h"

void ap_set(ap_out *o, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(o->verdict, sizeof o->verdict, fmt, ap);
  va_end(ap);
}

typedef bool (*cond_fn)(int n);

/* Poll cond every 200 us for up to 2 s: for state that has no event. */
static bool eventually(cond_fn cond, int n) {
  int64_t deadline = gort_now() + 2 * GORT_SECOND;
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

/* Every task other than the caller is parked. */
static bool others_parked(int unused) {
  (void)unused;
  gort_counters c;
  gort_get_counters(&c);
  return c.live <= 1 || c.parked >= c.live - 1;
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

void ap_leak_verdict(ap_out *o) {
  eventually(others_parked, 0);
  size_t n = gort_task_snapshot(snap, MAX_SNAP);
  if (n > MAX_SNAP) n = MAX_SNAP;
  uint64_t self = gort_task_id();
  int count[GORT_WAIT__COUNT + 1] = {0}; /* the last slot: running */
  int total = 0;
  for (size_t i = 0; i < n; i++) {
    if (snap[i].id == self) continue;
    int r = snap[i].state == GORT_TASK_WAITING ? (int)snap[i].wait_reason : GORT_WAIT__COUNT;
    count[r]++;
    total++;
  }
  if (total == 0) {
    ap_set(o, "clean: no task left");
    return;
  }
  o->leaked = true;
  size_t off = (size_t)snprintf(o->verdict, sizeof o->verdict, "leak: ");
  bool first = true;
  for (int r = 0; r <= GORT_WAIT__COUNT && off < sizeof o->verdict; r++) {
    if (!count[r]) continue;
    const char *what = r == GORT_WAIT__COUNT ? "running" : gort_wait_reason_string(r);
    off += (size_t)snprintf(o->verdict + off, sizeof o->verdict - off, "%s%d task%s %s%s",
                            first ? "" : ", ", count[r], count[r] == 1 ? "" : "s",
                            r == GORT_WAIT__COUNT ? "" : "blocked in ", what);
    first = false;
  }
}

int64_t ap_timers_pending(void) {
  gort_counters c;
  gort_get_counters(&c);
  return (int64_t)c.timers_pending;
}

static bool no_timers(int unused) {
  (void)unused;
  return ap_timers_pending() == 0;
}

bool ap_timers_settle(void) { return eventually(no_timers, 0); }
