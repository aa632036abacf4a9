/* runtime/src/internal.h - the runtime's private interface: tasks, waiters,
 * park/ready, allocation, misuse. Never included outside runtime/src.
 *
 * Park/ready protocol (the contract every blocking primitive follows):
 *   1. Lock the object, find it cannot proceed, fill a gort__waiter that
 *      lives on the blocked task's own stack, queue it on the object.
 *   2. Call gort__park(reason, unlock, lock): it records the wait reason,
 *      runs unlock(lock) and sleeps until gort__ready(task) is called.
 *   3. The waker dequeues the waiter under the object's lock, fills in the
 *      result (waiter->success, the element), unlocks, then calls
 *      gort__ready(waiter->task). It must not touch the waiter after
 *      gort__ready: the waiter's stack frame may be gone.
 * Each park consumes exactly one ready. A ready that arrives before the park
 * (the waker ran between unlock and sleep) is kept as a token, so no wake-up
 * is lost. The token is an atomic with release (ready) / acquire (park)
 * ordering, which is also the happens-before edge ThreadSanitizer sees.
 */
#ifndef GORT_INTERNAL_H
#define GORT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gort/err.h"
#include "gort/introspect.h"
#include "gort/sync.h"
#include "gort/task.h"
#include "gort/timer.h"

typedef struct gort__task gort__task;

/* A parked task's record on one object's queue (Go's sudog). Lives on the
 * blocked task's stack (or, for large selects, in its scratch buffer). */
typedef struct gort__waiter {
  gort__task *task;
  struct gort__waiter *next, *prev; /* links in one gort__waitq */
  void *elem;          /* send: value to copy out; recv: where to copy in */
  struct gort_chan *chan;
  int case_index;      /* select: which case this waiter stands for */
  bool is_select;      /* wakers must win task->select_done first */
  bool success;        /* set by the waker: true = completed, false = closed */
  bool queued;         /* true while on a queue */
} gort__waiter;

struct gort__task {
  uint64_t id;
  char name[32];
  gort_task_fn fn;
  void *arg;
  uint64_t parent_id;
  const char *file;
  int line;
  void *spawn_pc;
  int spawn_depth;
  void **spawn_stack; /* GORT_SPAWN_FRAMES entries, only with spawn traces on */
  int64_t spawned_at;
  bool adopted;
  _Atomic pid_t tid; /* set when a thread starts running the task */
  struct gort__thread *thread; /* NULL for adopted threads */

  /* Park state. wake: 0 = no token, 1 = token (ready called), 2 = sleeping
   * on the futex. */
  _Atomic uint32_t wake;
  _Atomic int state;          /* gort_task_state */
  _Atomic int wait_reason;    /* gort_wait_reason */
  _Atomic int64_t waiting_since;

  /* select: 0 until one case wins; the winner's waker CASes it to 1. */
  _Atomic uint32_t select_done;
  gort__waiter *param; /* the waiter that completed a select */

  /* registry links, protected by the registry lock */
  gort__task *reg_prev, *reg_next;
};

/* The calling thread's task; adopts the thread if it has none. Never NULL
 * unless allocation of the adoption record fails (then NULL). */
gort__task *gort__current(void);

/* Park the calling task (see the protocol above). unlock may be NULL. */
void gort__park(gort_wait_reason reason, void (*unlock)(void *), void *lock);
/* Wake t: one park consumes one ready. */
void gort__ready(gort__task *t);

/* The token underneath park/ready, also used by idle task threads:
 * wait_token spins up to budget_ns, then sleeps, until give_token; it consumes
 * the token. */
void gort__wait_token(_Atomic uint32_t *wake, int64_t budget_ns);
/* Spin up to budget_ns until *word == value, if no more than the allowed
 * number of threads already spin; true when the value was seen. */
bool gort__spin_until(_Atomic uint32_t *word, uint32_t value, int64_t budget_ns);
void gort__give_token(_Atomic uint32_t *wake);

/* Convenience unlock callback for pthread mutexes. */
void gort__unlock_mutex(void *m);

/* Waiter queues (FIFO, doubly linked), under the owner's lock. */
void gort__waitq_push(gort__waitq *q, gort__waiter *w);
gort__waiter *gort__waitq_pop(gort__waitq *q);
void gort__waitq_remove(gort__waitq *q, gort__waiter *w);
/* Pop the first waiter that may be woken: a select waiter only if this call
 * wins its task's select_done (Go's dequeue). */
gort__waiter *gort__waitq_dequeue(gort__waitq *q);

/* Misuse: aborts with "panic: <msg>" and a dump, or (RETURN mode) calls the
 * hook and returns code. */
int gort__misuse(int code);
/* A broken internal invariant: always fatal, louder than misuse. */
_Noreturn void gort__fatal(const char *fmt, ...);

/* Symbols for dumps (symbolize.c): libdwfl, dlopen'ed on first use, else
 * dladdr. Not async-signal-safe. */
typedef struct {
  char function[128]; /* "" when unknown */
  char file[256];     /* "" when unknown */
  int line;
  char object[64];    /* basename of the binary or library */
  uintptr_t offset;   /* pc - the object's load address */
} gort__symbol;
/* pc is a return address (looked up at pc-1) or an exact code address. */
void gort__symbolize(const void *pc, bool return_address, gort__symbol *out);
/* "function(...)\n\tfile:line\n", or the address and object when unknown. */
void gort__print_symbol(FILE *out, const gort__symbol *s, const void *pc);
/* The calling task's stack from the first frame outside the runtime (the
 * misuse site) on, one gort__print_symbol per frame. */
void gort__print_caller_stack(FILE *out);

/* Allocation through the replaceable, counted allocator. */
void *gort__malloc(size_t n);
void *gort__calloc(size_t n, size_t size);
void gort__free(void *p);

/* Report a deadlock if every task is parked, no timer is pending and no
 * unknown thread exists. Called after a park published its waiter, after a
 * task exits, and after the timer thread fired its last pending timer. */
void gort__deadlock_check(void);

/* Registry counters used by the deadlock detector and introspection. */
void gort__timers_pending_add(int delta);
int64_t gort__timers_pending(void);

/* Timer thread internals shared with sleep: a heap entry. */
typedef struct gort__timer_entry {
  int64_t when;
  int64_t period;  /* > 0 for tickers */
  void (*fire)(struct gort__timer_entry *e, int64_t now); /* called on the timer thread, unlocked */
  void *arg;
  long heap_index; /* -1 when not in the heap */
  _Atomic uint64_t seq; /* bumped on every stop/reset, so a late fire is ignored */
} gort__timer_entry;

void gort__timer_entry_init(gort__timer_entry *e, void (*fire)(gort__timer_entry *, int64_t), void *arg);
/* Add or move e to fire at when (period > 0 repeats). */
int gort__timer_start(gort__timer_entry *e, int64_t when, int64_t period);
/* Remove e: true if it was pending. After it returns, fire is not running
 * for e and will not be called again (unless restarted). */
bool gort__timer_stop(gort__timer_entry *e);

/* Helper threads for gort_runtime_quiesce / gort_runtime_threads. */
void gort__timer_thread_quiesce(void);
pid_t gort__timer_thread_tid(void);

int64_t gort__nanotime(void);
uint32_t gort__fastrand(void);
uint32_t gort__fastrandn(uint32_t n);

#endif
