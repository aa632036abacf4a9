/* runtime/src/lock.h - the runtime's own lock for short critical sections on
 * hot paths (channels): a word, CAS to take it uncontended, a bounded spin,
 * then a futex sleep (Drepper's three-state mutex, like Go's runtime lock).
 * It never parks a task: under the M:N backend a contended lock blocks the
 * worker for the few dozen instructions the holder needs, as Go's does.
 * States: 0 free, 1 held, 2 held and someone may sleep on it. Acquire on
 * taking, release on giving back: the lock orders its critical sections
 * (ThreadSanitizer sees the atomics).
 */
#ifndef GORT_LOCK_H
#define GORT_LOCK_H

#include <stdatomic.h>
#include <stdint.h>

#include "hb.h"

/* One spin-wait pause: lets the other hyperthread run while a spinner waits
 * for a word another CPU will change. */
static inline void gort__cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  __asm__ __volatile__("yield");
#else
  atomic_signal_fence(memory_order_seq_cst);
#endif
}

typedef struct {
  _Atomic uint32_t state;
} gort__lock;

#define GORT__LOCK_INIT {0}

void gort__lock_slow(gort__lock *l);
void gort__lock_wake(gort__lock *l);

static inline void gort__lock_acquire(gort__lock *l) {
  GORT__HB_ATOMIC(&l->state, sizeof l->state); /* the word is the edge, not data */
  uint32_t expected = 0;
  if (!atomic_compare_exchange_strong_explicit(&l->state, &expected, 1, memory_order_acquire,
                                               memory_order_relaxed))
    gort__lock_slow(l);
  GORT__HB_AFTER(l);     /* Helgrind and DRD see no atomics (hb.h) */
  GORT__TSAN_ACQUIRE(l); /* nor does TSan in code it does not instrument (mn/) */
}

static inline void gort__lock_release(gort__lock *l) {
  GORT__TSAN_RELEASE(l);
  GORT__HB_BEFORE(l);
  if (atomic_exchange_explicit(&l->state, 0, memory_order_release) == 2) gort__lock_wake(l);
}

/* Unlock callback for gort__park. */
void gort__unlock_lock(void *l);

#endif
