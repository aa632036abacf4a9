/* lock.c - the contended half of gort__lock (lock.h). */
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lock.h"

/* Critical sections are a few dozen instructions: spin that long first. */
#define LOCK_SPINS 100

void gort__lock_slow(gort__lock *l) {
  for (int i = 0; i < LOCK_SPINS; i++) {
    gort__cpu_relax();
    uint32_t expected = 0;
    if (atomic_load_explicit(&l->state, memory_order_relaxed) == 0 &&
        atomic_compare_exchange_weak_explicit(&l->state, &expected, 1, memory_order_acquire,
                                              memory_order_relaxed))
      return;
  }
  /* Mark "may have sleepers" and sleep until a release finds the mark. */
  while (atomic_exchange_explicit(&l->state, 2, memory_order_acquire) != 0)
    syscall(SYS_futex, (uint32_t *)&l->state, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
}

void gort__lock_wake(gort__lock *l) {
  syscall(SYS_futex, (uint32_t *)&l->state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

void gort__unlock_lock(void *l) { gort__lock_release(l); }
