/* patterns/antipatterns/antipattern.h - the anti-pattern catalog: every
 * concurrency mistake the seeds name, each as a small program (a `bad`
 * function that makes the mistake) next to its fixed twin (a `fixed`
 * function), and the detector that judges both.
 *
 * The driver (main.c) runs one of them per process:
 *     antipattern <name>            the mistake
 *     antipattern <name> --fixed    the fixed twin
 *     antipattern --list            the catalog, tab-separated
 * so a mistake that aborts, deadlocks, races or leaks a task can only take
 * its own process down.
 *
 * The programs never grade themselves: a detector the harness runs on the
 * process does (`make antipatterns-check`, reports/gortreport/verdicts.py):
 * leakcheck (task layer: a task left blocked, and on what; timer layer: a
 * timer left pending), ThreadSanitizer, gort's deadlock detector, the misuse
 * abort. A bad run therefore leaves its mistake in place for the detector
 * to see - a leak entry returns from main with the leaked tasks blocked - and
 * a fixed run must give every detector nothing to say. Entries no detector
 * can judge (an error ignored, a style choice, a sizing) are demonstrations:
 * they print what happened, and nothing counts it as a verdict.
 *
 * Layering: the programs use only gort's user API (gort/gort.h, errgroup,
 * semaphore) and gortp/ headers. verdict.c also reads gort/introspect.h, but only
 * to wait until a leak is in place (every leaked task parked) or to show a
 * demonstration's figures.
 */
#ifndef GORTP_ANTIPATTERN_H
#define GORTP_ANTIPATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Who judges the entry, and what it must say about the bad run. */
typedef enum {
  AP_LEAKCHECK_TASK,  /* leakcheck's task layer: a task left blocked; expected:
                       * its wait reason ("chan send") */
  AP_LEAKCHECK_TIMER, /* leakcheck's timer layer: a timer left pending;
                       * expected: its kind ("time.After") */
  AP_TSAN,            /* ThreadSanitizer: expected "data race" */
  AP_DEADLOCK,        /* gort's deadlock detector: "fatal error: <expected>" on
                       * stderr, then SIGABRT */
  AP_MISUSE,          /* the misuse abort: "panic: <expected>" on stderr, then
                       * SIGABRT (GORT_MISUSE=return: the call returns its code) */
  AP_DEMO,            /* no detector can judge it: a demonstration; expected:
                       * what the bad run prints ('#' matches a number) */
} ap_detector;

/* What a run reports back to the driver: a demonstration's text. */
typedef struct {
  char shown[256];
} ap_out;

typedef struct {
  const char *name;    /* snake_case, unique */
  const char *seeds;   /* where the seeds name it */
  const char *mistake; /* one line */
  ap_detector detector;
  const char *expected; /* see ap_detector */
  /* leakcheck entries: the function a finding must name as its origin (a
   * task's "created by", a timer's creator); NULL: any. */
  const char *site;
  void (*bad)(ap_out *o);
  void (*fixed)(ap_out *o);
} ap_entry;

extern const ap_entry *const ap_catalog[];
extern const size_t ap_catalog_len;

/* ---- helpers (verdict.c) ---- */

/* printf into o->shown (demonstrations only). */
void ap_show(ap_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Wait (up to 10 s) until at most n tasks are alive (the caller included). */
bool ap_settle(int n);
/* Wait (up to 10 s) until at least n tasks are parked: a leak entry's bad
 * run calls it before returning, so the leak is in place for leakcheck. */
bool ap_parked(int n);
/* Live tasks parked with this wait reason ("chan send", "sleep", ...). */
int ap_count_waiting(const char *reason);

#endif
