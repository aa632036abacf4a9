/* ci/tests/race_flag.c - a plain pthread program (no gort) with a data race:
 * the main thread polls a flag that a second thread sets, without any
 * synchronisation. Built with -DRACE_FIXED the flag and the result are
 * read and written under a mutex: the fixed twin (a mutex rather than an
 * atomic, so that Valgrind's Helgrind and DRD, which do not understand C11
 * atomics, judge it as ThreadSanitizer does). gort-race's tests and the
 * Valgrind sweep's tests run both: the racy one must be flagged in every
 * run, the fixed one never. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

static int done, result;

#ifdef RACE_FIXED
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
#define LOCK() pthread_mutex_lock(&mu)
#define UNLOCK() pthread_mutex_unlock(&mu)
#else
#define LOCK() ((void)0) /* the bug: written by one thread, read by another, no lock */
#define UNLOCK() ((void)0)
#endif

static void *worker(void *arg) {
  (void)arg;
  LOCK();
  result = 42;
  done = 1;
  UNLOCK();
  return NULL;
}

static int poll_done(void) {
  LOCK();
  int d = *(volatile int *)&done;
  UNLOCK();
  return d;
}

int main(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, worker, NULL) != 0) return 3;
  while (!poll_done()) sched_yield();
  LOCK();
  printf("result %d\n", result);
  UNLOCK();
  return pthread_join(t, NULL) == 0 ? 0 : 3;
}
