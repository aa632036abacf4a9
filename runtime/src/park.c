/* park.c - park/ready, the only way a task blocks, and waiter queues.
 *
 * Invariants:
 *  - task->wake is 0 (no token), 1 (a ready arrived and was not yet consumed)
 *    or 2 (the task sleeps on the futex). Only the task itself moves it
 *    0->2 and 1->0; only gort__ready moves it to 1.
 *  - Each gort__park consumes exactly one gort__ready. Callers guarantee that
 *    no second ready is issued for the same park (select uses select_done).
 *  - parked_count = parks begun - readies issued. It can be momentarily
 *    negative (a ready racing ahead of its park), never over-counts a task
 *    that will run without a ready.
 *
 * Memory ordering: gort__ready's exchange is a release, and the parked task's
 * consuming exchange is an acquire, so everything the waker wrote before
 * ready (the element copied into the waiter, waiter->success) is visible to
 * the woken task. The futex is only a way to sleep; it carries no ordering.
 */
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

extern _Atomic int64_t gort__parked_count;

static int64_t spin_ns = -1;

static int64_t park_spin_budget(void) {
  int64_t s = __atomic_load_n(&spin_ns, __ATOMIC_RELAXED);
  if (s < 0) {
    const char *env = getenv("GORT_SPIN_NS");
    s = env ? atoll(env) : 20000; /* 20 us: below a cross-core wake-up (70-100 us) */
    __atomic_store_n(&spin_ns, s, __ATOMIC_RELAXED);
  }
  return s;
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

static void futex_wait(_Atomic uint32_t *addr, uint32_t val) {
  syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
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

bool gort__spin_begin(void) {
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

void gort__spin_end(void) { atomic_fetch_sub_explicit(&spinners, 1, memory_order_relaxed); }

bool gort__spin_until(_Atomic uint32_t *word, uint32_t value, int64_t budget_ns) {
  if (atomic_load_explicit(word, memory_order_relaxed) == value) return true;
  if (budget_ns <= 0 || !gort__spin_begin()) return false;
  int64_t deadline = gort__nanotime() + budget_ns;
  bool seen = false;
  for (int i = 1;; i++) {
    if (atomic_load_explicit(word, memory_order_relaxed) == value) {
      seen = true;
      break;
    }
    cpu_relax();
    if ((i & 63) == 0) {
      if (gort__nanotime() > deadline) break;
      /* With more runnable threads than CPUs the waker may need this very
       * CPU: let it run rather than burn the time slice. */
      sched_yield();
    }
  }
  gort__spin_end();
  return seen;
}

/* Spin briefly (if allowed), then sleep, until a token is present; consume it. */
void gort__wait_token(_Atomic uint32_t *wake, int64_t budget_ns) {
  gort__spin_until(wake, 1, budget_ns);
  uint32_t expected = 0;
  if (atomic_compare_exchange_strong_explicit(wake, &expected, 2, memory_order_acquire,
                                              memory_order_relaxed)) {
    while (atomic_load_explicit(wake, memory_order_acquire) == 2) futex_wait(wake, 2);
  }
  uint32_t got = atomic_exchange_explicit(wake, 0, memory_order_acquire);
  if (got != 1) gort__fatal("park: woken without a token (%u)", got);
}

void gort__give_token(_Atomic uint32_t *wake) {
  if (atomic_exchange_explicit(wake, 1, memory_order_release) == 2) futex_wake(wake);
}

void gort__park(gort_wait_reason reason, void (*unlock)(void *), void *lock) {
  gort__task *t = gort__current();
  if (!t) gort__fatal("park: no task record for this thread (out of memory)");
  atomic_store_explicit(&t->wait_reason, (int)reason, memory_order_relaxed);
  atomic_store_explicit(&t->waiting_since, gort__nanotime(), memory_order_relaxed);
  atomic_store_explicit(&t->state, GORT_TASK_WAITING, memory_order_release);
  atomic_fetch_add(&gort__parked_count, 1);
  if (unlock) unlock(lock);
  gort__deadlock_check();
  gort__wait_token(&t->wake, park_spin_budget());
  atomic_store_explicit(&t->state, GORT_TASK_RUNNING, memory_order_relaxed);
  atomic_store_explicit(&t->wait_reason, GORT_WAIT_NONE, memory_order_relaxed);
  atomic_store_explicit(&t->waiting_since, 0, memory_order_relaxed);
}

extern _Atomic bool gort__deadlock_reported;

void gort__ready(gort__task *t) {
  /* Runnable from now on: snapshots must not show a stale wait reason. */
  atomic_store_explicit(&t->state, GORT_TASK_RUNNING, memory_order_relaxed);
  atomic_fetch_sub(&gort__parked_count, 1);
  /* A task runs again: a later all-asleep state is a new deadlock. */
  if (atomic_load_explicit(&gort__deadlock_reported, memory_order_relaxed))
    atomic_store(&gort__deadlock_reported, false);
  gort__give_token(&t->wake);
}

void gort__unlock_mutex(void *m) { pthread_mutex_unlock((pthread_mutex_t *)m); }

/* ---- waiter queues ---- */

void gort__waitq_push(gort__waitq *q, gort__waiter *w) {
  w->next = NULL;
  w->prev = q->tail;
  if (q->tail)
    q->tail->next = w;
  else
    q->head = w;
  q->tail = w;
  w->queued = true;
}

void gort__waitq_remove(gort__waitq *q, gort__waiter *w) {
  if (!w->queued) return;
  if (w->prev)
    w->prev->next = w->next;
  else
    q->head = w->next;
  if (w->next)
    w->next->prev = w->prev;
  else
    q->tail = w->prev;
  w->next = w->prev = NULL;
  w->queued = false;
}

gort__waiter *gort__waitq_pop(gort__waitq *q) {
  gort__waiter *w = q->head;
  if (w) gort__waitq_remove(q, w);
  return w;
}

gort__waiter *gort__waitq_dequeue(gort__waitq *q) {
  for (;;) {
    gort__waiter *w = gort__waitq_pop(q);
    if (!w) return NULL;
    if (w->is_select) {
      /* Another case of the same select may have won already: then this
       * waiter is stale and its task will remove the rest itself. */
      uint32_t expected = 0;
      if (!atomic_compare_exchange_strong(&w->task->select_done, &expected, 1)) continue;
    }
    return w;
  }
}

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
