/* runtime/src/stats.h - the runtime's event counters (gort_counters'
 * spawned, exited, allocs, frees, alloc_bytes), counted per thread.
 *
 * A spawn and an exit bumped five shared counters with atomic
 * read-modify-writes, a sixth of a green spawn's CPU, and the counters'
 * cache lines moved between workers. Each thread now counts in its own
 * block with plain (relaxed load + store) adds that only it writes; a
 * reader sums every block under stats_lock. A block is folded into the
 * totals and unlinked when its thread exits. A sum is exact once the
 * counting threads have synchronised with the reader (a join, a channel
 * receive), as the shared counters were.
 */
#ifndef GORT_STATS_H
#define GORT_STATS_H

#include <stdatomic.h>
#include <stdint.h>

enum {
  GORT__STAT_SPAWNED,
  GORT__STAT_EXITED,
  GORT__STAT_ALLOCS,
  GORT__STAT_FREES,
  GORT__STAT_BYTES,
  GORT__STAT__COUNT
};

typedef struct gort__stats {
  _Atomic uint64_t v[GORT__STAT__COUNT]; /* written by the owner only */
  struct gort__stats *prev, *next;       /* stats_lock */
} gort__stats;

extern _Thread_local gort__stats *gort__my_stats;
gort__stats *gort__stats_attach(void);

static inline void gort__stat_add(int which, uint64_t n) {
  gort__stats *s = gort__my_stats;
  if (__builtin_expect(!s, 0)) s = gort__stats_attach();
  if (__builtin_expect(!s, 0)) return; /* no memory for a block: not counted */
  uint64_t v = atomic_load_explicit(&s->v[which], memory_order_relaxed);
  atomic_store_explicit(&s->v[which], v + n, memory_order_relaxed);
}

/* The totals of every thread, past and present. */
void gort__stats_sum(uint64_t out[GORT__STAT__COUNT]);
/* fork(): hold the lock across it (the child has only the forking thread;
 * the other threads' blocks stay, as their history). */
void gort__stats_fork_lock(void);
void gort__stats_fork_unlock(void);

#endif
