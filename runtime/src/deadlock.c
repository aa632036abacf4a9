/* deadlock.c - "all tasks are asleep - deadlock!": every task parked, no
 * timer pending, and no thread gort does not know that might still wake one.
 * Backend-neutral: the backend reports how many threads it runs.
 *
 * A thread gort does not know vetoes the verdict only while it lives. When
 * one does, the timer thread is asked to look again later (gort__timer_
 * deadlock_recheck, without a heap entry, so no timer counts as pending),
 * at intervals doubling from 1 ms to 100 ms, for as long as every task stays
 * parked: once the unknown threads are gone, the deadlock is reported. Any
 * task that runs again ends the rechecks (its next park checks anew).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "backend.h"

static _Atomic(gort_deadlock_handler) deadlock_handler;
static _Atomic(void *) deadlock_arg;
_Atomic bool gort__deadlock_reported;

void gort_set_deadlock_handler(gort_deadlock_handler handler, void *arg) {
  atomic_store(&deadlock_arg, arg);
  atomic_store(&deadlock_handler, handler);
}

static long proc_threads(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long n = -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "Threads: %ld", &n) == 1) break;
  fclose(f);
  return n;
}

/* Threads a sanitizer runtime starts on its own (TSan's background thread):
 * they never wake a task, so they must not veto a deadlock verdict. */
#if defined(__SANITIZE_THREAD__)
#define SANITIZER_THREADS 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SANITIZER_THREADS 1
#endif
#endif
#ifndef SANITIZER_THREADS
#define SANITIZER_THREADS 0
#endif

static bool all_asleep(void) {
  return atomic_load(&gort__parked_count) >= atomic_load(&gort__live_count) &&
         gort__timers_pending() <= 0;
}

/* The interval of the next recheck (0: none armed yet). */
static _Atomic int64_t recheck_interval;

/* Vetoed by threads gort does not know: look again later. */
static void recheck_later(void) {
  int64_t d = atomic_load(&recheck_interval);
  d = d == 0 ? GORT_MILLISECOND : d >= 50 * GORT_MILLISECOND ? 100 * GORT_MILLISECOND : 2 * d;
  atomic_store(&recheck_interval, d);
  gort__timer_deadlock_recheck(d);
}

/* Up to attempts looks, 0.5 ms apart (a thread of ours may be between its
 * last task and its exit). */
static void check(int attempts) {
  if (!all_asleep()) return;
  for (int attempt = 0; attempt < attempts; attempt++) {
    long known = gort__be->threads_alive() + (long)atomic_load(&gort__adopted_alive) +
                 (gort__timer_thread_tid() ? 1 : 0) + SANITIZER_THREADS;
    long actual = proc_threads();
    if (!all_asleep()) return;
    if (actual >= 0 && actual <= known) {
      bool expected = false;
      if (!atomic_compare_exchange_strong(&gort__deadlock_reported, &expected, true)) return;
      gort_deadlock_handler h = atomic_load(&deadlock_handler);
      if (h) {
        h(atomic_load(&deadlock_arg));
        return;
      }
      fprintf(stderr, "fatal error: %s\n\n", gort_strerror(GORT_EDEADLOCK));
      gort_dump_tasks(stderr);
      abort();
    }
    if (attempt + 1 == attempts) break;
    /* A thread of ours may be between its last task and its exit. */
    struct timespec ts = {0, 500000};
    nanosleep(&ts, NULL);
  }
  /* Unknown threads (or ours, still leaving) vetoed it: they are alive now,
   * but once they are gone nothing else would look again. */
  if (all_asleep()) recheck_later();
}

/* Called by every park after it published its waiter. Cheap unless every
 * task is parked. Threads gort does not know (a raw pthread, a library's
 * I/O thread) might still wake a task, so they veto the verdict. */
void gort__deadlock_check(void) { check(20); }

/* The timer thread's recheck: one look (the timer thread must not sleep
 * here); if some task runs again, the backoff starts over next time. */
void gort__deadlock_recheck(void) {
  if (!all_asleep()) {
    atomic_store(&recheck_interval, 0);
    return;
  }
  check(1);
}
