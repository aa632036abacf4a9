/* ci/tests/race_flag.c - a plain pthread program (no gort) with a data race:
 * the main thread polls a flag that a second thread sets, without any
 * synchronisation. Built with -DRACE_FIXED the flag is a C11 atomic with
 * release/acquire ordering: the fixed twin. gort-race's own tests run both:
 * the racy one must be flagged in every run, the fixed one never. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

#ifdef RACE_FIXED
#include <stdatomic.h>
static atomic_int done;
static int result;
#define SET_DONE() atomic_store_explicit(&done, 1, memory_order_release)
#define IS_DONE() atomic_load_explicit(&done, memory_order_acquire)
#else
static int done; /* the bug: written by one thread, read by another, no lock */
static int result;
#define SET_DONE() (done = 1)
#define IS_DONE() (*(volatile int *)&done)
#endif

static void *worker(void *arg) {
  (void)arg;
  result = 42;
  SET_DONE();
  return NULL;
}

int main(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, worker, NULL) != 0) return 3;
  while (!IS_DONE()) sched_yield();
  printf("result %d\n", result);
  return pthread_join(t, NULL) == 0 ? 0 : 3;
}
