/* token.c - the wake token an OS thread blocks on (see token.h).
 *
 * Memory ordering: gort__give_token's exchange is a release and the waiter's
 * consuming exchange an acquire, so everything the giver wrote before the
 * give is visible to the woken thread. The futex is only a way to sleep; it
 * carries no ordering.
 */
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "hb.h"
#include "internal.h"
#include "threads/token.h"
#include "lock.h"

/* false when timeout_ns (> 0) ran out. */
static bool futex_wait(_Atomic uint32_t *addr, uint32_t val, int64_t timeout_ns) {
  struct timespec ts = {(time_t)(timeout_ns / GORT_SECOND), (long)(timeout_ns % GORT_SECOND)};
  long r = syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, val, timeout_ns > 0 ? &ts : NULL,
                   NULL, 0);
  return !(r == -1 && errno == ETIMEDOUT);
}

static void futex_wake(_Atomic uint32_t *addr) {
  syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Spinning: a waiter that expects its wake-up within microseconds spins
 * instead of sleeping, because a futex sleep and wake costs 70-100 us on a
 * VM. But spinners burn a CPU each: as Go limits spinning Ms, at most
 * max_spinners threads spin at once (one per CPU: a ping-pong needs both
 * sides spinning at the hand-over); the rest go straight to sleep. */
static _Atomic int spinners;
static int max_spinners;

static bool spin_begin(void) {
  /* Lazily set, benignly racy hints (hb.h). */
  GORT__HB_ATOMIC(&max_spinners, sizeof max_spinners);
  GORT__HB_ATOMIC(&spinners, sizeof spinners);
  int max = __atomic_load_n(&max_spinners, __ATOMIC_RELAXED);
  if (max == 0) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    max = n > 1 ? (int)n : 1;
    __atomic_store_n(&max_spinners, max, __ATOMIC_RELAXED);
  }
  int cur = atomic_load_explicit(&spinners, memory_order_relaxed);
  while (cur < max)
    if (atomic_compare_exchange_weak_explicit(&spinners, &cur, cur + 1, memory_order_relaxed,
                                              memory_order_relaxed))
      return true;
  return false;
}

static void spin_end(void) { atomic_fetch_sub_explicit(&spinners, 1, memory_order_relaxed); }

bool gort__spin_until(_Atomic uint32_t *word, uint32_t value, int64_t budget_ns) {
  if (atomic_load_explicit(word, memory_order_relaxed) == value) return true;
  if (budget_ns <= 0 || !spin_begin()) return false;
  int64_t deadline = gort__nanotime() + budget_ns;
  bool seen = false;
  for (int i = 1;; i++) {
    if (atomic_load_explicit(word, memory_order_relaxed) == value) {
      seen = true;
      break;
    }
    gort__cpu_relax();
    if ((i & 63) == 0) {
      if (gort__nanotime() > deadline) break;
      /* With more runnable threads than CPUs the waker may need this very
       * CPU: let it run rather than burn the time slice. */
      sched_yield();
    }
  }
  spin_end();
  return seen;
}

bool gort__wait_token(_Atomic uint32_t *wake, int64_t budget_ns, int64_t timeout_ns) {
  gort__spin_until(wake, 1, budget_ns);
  /* 0 -> 2 announces the sleep; it may already be 2 when a timed-out
   * caller waits again. */
  uint32_t expected = 0;
  atomic_compare_exchange_strong_explicit(wake, &expected, 2, memory_order_acquire,
                                          memory_order_relaxed);
  while (atomic_load_explicit(wake, memory_order_acquire) == 2)
    if (!futex_wait(wake, 2, timeout_ns)) return false;
  uint32_t got = atomic_exchange_explicit(wake, 0, memory_order_acquire);
  if (got != 1) gort__fatal("woken without a token (%u)", got);
  GORT__HB_AFTER(wake);
  return true;
}

void gort__thread_record_init(gort__thread *th) {
  GORT__HB_ATOMIC(&th->wake, sizeof th->wake);
  GORT__HB_ATOMIC(&th->next_task, sizeof th->next_task);
}

void gort__give_token(_Atomic uint32_t *wake) {
  GORT__HB_BEFORE(wake);
  if (atomic_exchange_explicit(wake, 1, memory_order_release) == 2) futex_wake(wake);
}

static int64_t spin_ns = -1;

static int64_t park_spin_budget(void) {
  GORT__HB_ATOMIC(&spin_ns, sizeof spin_ns); /* a lazily set, benignly racy hint */
  int64_t s = __atomic_load_n(&spin_ns, __ATOMIC_RELAXED);
  if (s < 0) {
    const char *env = getenv("GORT_SPIN_NS");
    s = env ? atoll(env) : 20000; /* 20 us: below a cross-core wake-up (70-100 us) */
    __atomic_store_n(&spin_ns, s, __ATOMIC_RELAXED);
  }
  return s;
}

void gort__os_block(gort__task *t) { gort__wait_token(&t->thread->wake, park_spin_budget(), 0); }

void gort__os_wake(gort__task *t) { gort__give_token(&t->thread->wake); }
