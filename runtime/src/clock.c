/* clock.c - the scheduler's clock and random source (scheduler.h). */
#include <time.h>

#include "gort/timer.h"
#include "scheduler.h"

int64_t gort__nanotime(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * GORT_SECOND + ts.tv_nsec;
}

int64_t gort__nanotime_coarse(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (int64_t)ts.tv_sec * GORT_SECOND + ts.tv_nsec;
}

int64_t gort_now(void) { return gort__nanotime(); }

/* wyrand, per thread: fast and good enough for select's shuffle. */
static _Thread_local uint64_t rand_state;

uint32_t gort__fastrand(void) {
  if (rand_state == 0) rand_state = (uint64_t)gort__nanotime() ^ (uint64_t)(uintptr_t)&rand_state;
  rand_state += 0xa0761d6478bd642full;
  __uint128_t m = (__uint128_t)rand_state * (rand_state ^ 0xe7037ed1a0b428dbull);
  return (uint32_t)((uint64_t)(m >> 64) ^ (uint64_t)m);
}

/* Lemire's multiply-shift: uniform enough in [0, n) for n << 2^32. */
uint32_t gort__fastrandn(uint32_t n) { return (uint32_t)(((uint64_t)gort__fastrand() * n) >> 32); }
