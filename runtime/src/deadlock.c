/* deadlock.c - "all tasks are asleep - deadlock!": every task parked, no
 * timer pending, and no thread gort does not know that might still wake one.
 * Backend-neutral: the backend reports how many threads it runs.
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

/* Called by every park after it published its waiter. Cheap unless every
 * task is parked. Threads gort does not know (a raw pthread, a library's
 * I/O thread) might still wake a task, so they veto the verdict. */
void gort__deadlock_check(void) {
  if (!all_asleep()) return;
  for (int attempt = 0; attempt < 20; attempt++) {
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
    /* A thread of ours may be between its last task and its exit. */
    struct timespec ts = {0, 500000};
    nanosleep(&ts, NULL);
  }
}
