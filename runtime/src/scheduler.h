/* runtime/src/scheduler.h - the scheduler seam: what a blocking primitive (chan,
 * select, sync, timer, context, ...) may know about how tasks run. Nothing
 * here depends on the backend (one OS thread per task, or green tasks on
 * worker threads); backends implement it behind backend.h.
 *
 * Park/ready protocol (Go's gopark/goready; every blocking primitive follows it):
 *   1. Lock the object, find it cannot proceed, fill a gort__waiter that
 *      lives on the blocked task's own stack, queue it on the object.
 *   2. Call gort__park(reason, unlock, lock): it records the wait reason,
 *      runs unlock(lock) and blocks until gort__ready(task) is called.
 *   3. The waker dequeues the waiter under the object's lock, fills in the
 *      result (waiter->success, the element), unlocks, then calls
 *      gort__ready(waiter->task). It must not touch the waiter after
 *      gort__ready: the waiter's stack frame may be gone.
 *   4. Each park consumes exactly one ready. A ready that arrives before the
 *      park blocks (the waker ran between unlock and the block) is kept as a
 *      token, so no wake-up is lost.
 *   5. gort__ready is a release and the woken park an acquire: everything
 *      the waker wrote before ready (the element, waiter->success) is visible
 *      to the woken task. This is also the edge ThreadSanitizer sees.
 * gort__ready never blocks and may be called from any thread, including
 * threads that are not tasks (the timer thread).
 */
#ifndef GORT_SCHEDULER_H
#define GORT_SCHEDULER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gort/introspect.h"
#include "gort/task.h"

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

/* A task (Go's g), as the registry, the dump and the primitives see it. How
 * it runs is the backend's business: `thread` is the OS thread record that
 * runs it (thread backend, adopted threads) and `g` its green context (M:N
 * backend), both opaque here. */
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
  _Atomic pid_t tid;  /* the OS thread running it, for introspection only */
  struct gort__thread *thread; /* backend-private: its OS thread, if it owns one */
  struct gort__g *g;           /* backend-private: its green context (M:N backend) */

  _Atomic int state;          /* gort_task_state */
  _Atomic int wait_reason;    /* gort_wait_reason */
  _Atomic int64_t waiting_since;

  /* select: 0 until one case wins; the winner's waker CASes it to 1. */
  _Atomic uint32_t select_done;
  gort__waiter *param; /* the waiter that completed a select */

  /* Registry (last: a spawn that reuses a cached record clears the fields
   * above only). The links are under the registry lock; a cached record
   * stays listed with reg_alive false, and readers skip it (backend.h). */
  gort__task *reg_prev, *reg_next;
  _Atomic bool reg_alive;
};

/* current: the calling thread's task; adopts the thread if it has none.
 * Never NULL unless allocation of the adoption record fails (then NULL). */
gort__task *gort__current(void);

/* park: block the calling task (see the protocol above). unlock may be NULL. */
void gort__park(gort_wait_reason reason, void (*unlock)(void *), void *lock);
/* ready: make t runnable again; one park consumes one ready. */
void gort__ready(gort__task *t);

/* spawn is gort_go_at and yield is gort_yield (gort/task.h). */

/* clock (clock.c): monotonic nanoseconds; the same clock as of the
 * kernel's last timekeeping update (CLOCK_MONOTONIC_COARSE: a tick or more
 * behind, never ahead, a sixth of the cost), for timestamps only people
 * read; and a cheap per-thread random source for select's shuffle. */
int64_t gort__nanotime(void);
int64_t gort__nanotime_coarse(void);
uint32_t gort__fastrand(void);
uint32_t gort__fastrandn(uint32_t n);

#endif
