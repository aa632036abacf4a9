/* runtime/src/local.h - per-thread runtime state on the spawn path: the
 * event counters (gort_counters' spawned, exited, allocs, frees,
 * alloc_bytes) and the cache of freed task records (registry.c).
 *
 * Counters: a spawn and an exit bumped five shared counters with atomic
 * read-modify-writes, a sixth of a green spawn's CPU, and their cache lines
 * moved between workers. Each thread counts in its own block with plain
 * (relaxed load + store) adds that only it writes; gort__stats_sum adds up
 * every block under a lock, and a block is folded into the totals when its
 * thread exits. A sum is exact once the counting threads have synchronised
 * with the reader (a join, a channel receive), as the shared counters were.
 *
 * Under the M:N backend this is per-worker state, used by one task after
 * another with nothing a task could see ordering them: ThreadSanitizer does
 * not instrument local.c (Makefile, TSAN_UNINSTRUMENTED), and a record
 * handed from the cache to a spawn is ordered explicitly (hb.h).
 */
#ifndef GORT_LOCAL_H
#define GORT_LOCAL_H

#include <stdatomic.h>
#include <stdbool.h>
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

static inline void gort__stat_add_inline(int which, uint64_t n) {
  gort__stats *s = gort__my_stats;
  if (__builtin_expect(!s, 0)) s = gort__stats_attach();
  if (__builtin_expect(!s, 0)) return; /* no memory for a block: not counted */
  uint64_t v = atomic_load_explicit(&s->v[which], memory_order_relaxed);
  atomic_store_explicit(&s->v[which], v + n, memory_order_relaxed);
}

/* Count n events of kind which on the calling thread. Code that TSan
 * instruments calls the out-of-line copy in local.c (which it does not). */
void gort__stat_add_fn(int which, uint64_t n);
#if defined(__SANITIZE_THREAD__)
#define gort__stat_add gort__stat_add_fn
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define gort__stat_add gort__stat_add_fn
#endif
#endif
#ifndef gort__stat_add
#define gort__stat_add gort__stat_add_inline
#endif

/* The totals of every thread, past and present. */
void gort__stats_sum(uint64_t out[GORT__STAT__COUNT]);
/* fork(): hold the lock across it (the child has only the forking thread;
 * the other threads' blocks stay, as their history). */
void gort__stats_fork_lock(void);
void gort__stats_fork_unlock(void);

/* The calling thread's cache of freed task records, linked through each
 * record's first word. get: one, or NULL; put: false when the cache is full
 * (the caller frees the record). A put is a release and the get that takes
 * the record an acquire (for TSan: one task's exit, another's spawn). When
 * the thread exits, or in a forked child, the registry takes them all back
 * (gort__reg_drop_cached). */
#define GORT__TASK_CACHE_MAX 32
void *gort__task_cache_get(void);
bool gort__task_cache_put(void *rec);
/* Empty the cache, returning its list (the child after fork). */
void *gort__task_cache_take(void);

/* A thread about to exit: fold its counters and give back its cached
 * records now rather than in its key destructors, for a thread whose exit
 * is awaited otherwise than by pthread_join (the thread backend's quiesce
 * waits until its workers are on their way out, then counts threads). */
void gort__local_thread_exit(void);

/* A fresh task id from gen, taken GORT__ID_BATCH at a time into the
 * calling thread's range, as Go's per-P goidcache (_GoidCacheBatch): one
 * spawn in GORT__ID_BATCH pays the shared read-modify-write. Ids are unique;
 * the ones a thread spawns one after another increase, but tasks spawned
 * on different threads (workers) interleave out of spawn order, as in Go. */
#define GORT__ID_BATCH 16
uint64_t gort__id_next(_Atomic uint64_t *gen);

#endif
