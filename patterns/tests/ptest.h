/* patterns/tests/ptest.h - small helpers shared by the pattern tests. */
#ifndef GORTP_PTEST_H
#define GORTP_PTEST_H

#include "support/gort_test.h"

#include <stdint.h>

#include "gort/gort.h"
#include "gort/introspect.h"

static inline bool ptest_tasks_at_most_(void *n) { return gort_num_tasks() <= (int)(intptr_t)n; }
static inline bool ptest_tasks_at_least_(void *n) { return gort_num_tasks() >= (int)(intptr_t)n; }

/* Wait (up to 5 s) until at most n tasks are alive. */
static inline bool ptest_tasks_settle(int n) {
  return gort_test_eventually(ptest_tasks_at_most_, (void *)(intptr_t)n, 5000);
}

/* Wait (up to 5 s) until at least n tasks are alive. */
static inline bool ptest_tasks_reach(int n) {
  return gort_test_eventually(ptest_tasks_at_least_, (void *)(intptr_t)n, 5000);
}

/* Wait (up to 5 s) until at least n tasks are parked. */
static inline bool ptest_parked(int n) {
  return gort_test_eventually(gort_test_parked_at_least, (void *)(intptr_t)n, 5000);
}

/* How many live tasks are parked with wait reason r. */
static inline int ptest_count_waiting(gort_wait_reason r) {
  gort_task_info info[256];
  size_t n = gort_task_snapshot(info, 256);
  if (n > 256) n = 256;
  int k = 0;
  for (size_t i = 0; i < n; i++)
    if (info[i].state == GORT_TASK_WAITING && info[i].wait_reason == r) k++;
  return k;
}

typedef struct {
  gort_wait_reason r;
  int n;
} ptest_reason_arg_;

static inline bool ptest_reason_reached_(void *p) {
  ptest_reason_arg_ *a = p;
  return ptest_count_waiting(a->r) >= a->n;
}

/* Wait (up to 5 s) until at least n tasks are parked with reason r. */
static inline bool ptest_waiting(gort_wait_reason r, int n) {
  ptest_reason_arg_ a = {r, n};
  return gort_test_eventually(ptest_reason_reached_, &a, 5000);
}

#endif
