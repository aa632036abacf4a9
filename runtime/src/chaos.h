/* runtime/src/chaos.h - seeded schedule perturbation (GORT_CHAOS=<seed>).
 *
 * Races hide in interleavings a loaded CI machine rarely produces. With
 * GORT_CHAOS set to a seed, the runtime yields the CPU or sleeps a few
 * microseconds at its park, ready and lock points, as decided by a PRNG
 * seeded from the seed and the task (so one seed replays the same decisions
 * per task; the OS scheduler still adds its own noise). gort-race sets a
 * different seed per run and prints the seed with every race it reports;
 * task dumps (deadlock, misuse, SIGQUIT) print it too.
 *
 * Off by default: each point is then one load of a flag written once before
 * main (a constructor), a branch predicted not taken.
 */
#ifndef GORT_CHAOS_H
#define GORT_CHAOS_H

#include <stdbool.h>

typedef enum {
  GORT__CHAOS_PARK,  /* a task is about to block (its wait is published) */
  GORT__CHAOS_READY, /* a waker is about to hand the token to a task */
  GORT__CHAOS_LOCK,  /* about to take an object's lock (chan, select, mutex) */
} gort__chaos_site;

extern bool gort__chaos_on;
void gort__chaos_point(gort__chaos_site site);
/* The seed, for dumps (meaningful only when gort__chaos_on). */
unsigned long long gort__chaos_seed(void);

#define GORT__CHAOS(site)                                            \
  do {                                                               \
    if (__builtin_expect(gort__chaos_on, 0)) gort__chaos_point(site); \
  } while (0)

#endif
