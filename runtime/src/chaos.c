/* chaos.c - GORT_CHAOS=<seed>: seeded yields and short sleeps at park,
 * ready and lock points (see chaos.h).
 *
 * Determinism: each thread keeps a PRNG (splitmix64) seeded from the seed
 * and the id of the task it runs, re-seeded when it starts running another
 * task (the thread backend reuses threads), so a task's sequence of
 * decisions depends only on the seed and its id. Threads that run no task
 * (the timer thread) use id 0.
 */
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "backend.h"
#include "chaos.h"

bool gort__chaos_on;
static uint64_t chaos_seed;

/* Read once, before main and before any thread exists: gort__chaos_on is
 * never written again, so reading it unsynchronised is race-free. */
__attribute__((constructor)) static void chaos_init(void) {
  const char *env = getenv("GORT_CHAOS");
  if (!env || !*env) return;
  char *end;
  unsigned long long seed = strtoull(env, &end, 0);
  if (*end != '\0') {
    fprintf(stderr, "gort: GORT_CHAOS=%s is not a number; schedule perturbation off\n", env);
    return;
  }
  chaos_seed = seed;
  gort__chaos_on = true;
}

unsigned long long gort__chaos_seed(void) { return chaos_seed; }

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static _Thread_local uint64_t rng_state;
static _Thread_local uint64_t rng_task = UINT64_MAX;

void gort__chaos_point(gort__chaos_site site) {
  uint64_t id = gort__tls_task ? gort__tls_task->id : 0;
  if (id != rng_task) {
    rng_task = id;
    rng_state = chaos_seed ^ (id * 0xd1b54a32d192ed03ull);
  }
  uint64_t r = splitmix64(&rng_state) ^ (uint64_t)site;
  /* One point in four yields, one in 32 sleeps 1-64 us: enough to reorder
   * hand-overs, little enough that a test suite still runs in minutes. */
  if ((r & 31) == 0) {
    struct timespec ts = {0, (long)(1000 + ((r >> 8) & 63) * 1000)};
    nanosleep(&ts, NULL);
  } else if ((r & 3) == 0) {
    sched_yield();
  }
}
