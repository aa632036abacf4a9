/* patterns/antipatterns/antipattern.h - the anti-pattern catalog: every
 * concurrency mistake the seeds name, each as a small program (a `bad`
 * function that makes the mistake) with its expected verdict, and its fixed
 * twin (a `fixed` function that must come out clean).
 *
 * The driver (main.c) runs one of them per process:
 *     antipattern <name>            the mistake; prints "verdict: <verdict>"
 *     antipattern <name> --fixed    the fixed twin; prints "verdict: clean: ..."
 *     antipattern --list            name, kind and expected verdict, tab-separated
 * so a mistake that aborts, deadlocks, races or leaks a task can only take
 * its own process down. patterns/tests/test_antipatterns.c runs each entry
 * both ways and checks the verdict; README.md in this directory is the
 * catalog.
 *
 * Layering: the programs use only gort's user API (gort/gort.h, errgroup,
 * semaphore) and gortp/shutdown.h. The verdict helpers (verdict.c) also read
 * gort/introspect.h - which tasks are left and what they wait for, pending
 * timers - as a leak checker does.
 */
#ifndef GORTP_ANTIPATTERN_H
#define GORTP_ANTIPATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How the mistake shows, i.e. what the test expects of the bad run. */
typedef enum {
  AP_VERDICT, /* exits 0 after printing "verdict: <verdict>" */
  AP_PANIC,   /* Go panics: aborts with "panic: <msg>" by default; with
               * GORT_MISUSE=return it prints "verdict: misuse: <msg>" */
  AP_FATAL,   /* aborts with "fatal error: all tasks are asleep - deadlock!" */
  AP_RACE,    /* ThreadSanitizer reports "data race" (SAN=thread builds);
               * other builds print "verdict: race: ..." */
  AP_SIGNAL,  /* killed by SIGTERM half-way (verdict: the signal, the output) */
} ap_kind;

/* What a run reports back to the driver. */
typedef struct {
  char verdict[256];
  bool leaked; /* tasks were left behind on purpose: exit without cleanup */
} ap_out;

typedef struct {
  const char *name;    /* snake_case, unique */
  const char *seeds;   /* where the seeds name it */
  const char *mistake; /* one line */
  ap_kind kind;
  /* The bad run's expected verdict ('#' matches a number), or for AP_PANIC
   * and AP_FATAL the message the runtime prints. */
  const char *verdict;
  void (*bad)(ap_out *o);
  void (*fixed)(ap_out *o);
} ap_entry;

extern const ap_entry *const ap_catalog[];
extern const size_t ap_catalog_len;

/* ---- verdict helpers (verdict.c) ---- */

/* printf into o->verdict. */
void ap_set(ap_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Wait (up to 2 s) until every task but the caller is parked, then describe
 * them: "leak: 1 task blocked in chan send" (reasons joined by ", "). Marks
 * o->leaked. If no other task is alive, says "clean: no task left". */
void ap_leak_verdict(ap_out *o);

/* Wait (up to 2 s) until at most n tasks are alive (the caller included). */
bool ap_settle(int n);
/* Wait (up to 2 s) until at least n tasks are parked. */
bool ap_parked(int n);
/* Live tasks parked with this wait reason ("chan send", "sleep", ...). */
int ap_count_waiting(const char *reason);
/* Timers in the runtime's heap (time.After, contexts' deadlines, ...). */
int64_t ap_timers_pending(void);
/* Wait (up to 2 s) until no timer is pending: a timer that just fired
 * counts until its fire function has returned. */
bool ap_timers_settle(void);

#endif
