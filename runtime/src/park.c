/* park.c - park/ready, the only way a task blocks (scheduler.h's protocol), and
 * waiter queues. Backend-neutral: the backend's block/wake move the token.
 *
 * Invariants:
 *  - Each gort__park consumes exactly one gort__ready. Callers guarantee that
 *    no second ready is issued for the same park (select uses select_done).
 *  - parked_count = parks begun - readies issued. It can be momentarily
 *    negative (a ready racing ahead of its park), never over-counts a task
 *    that will run without a ready.
 *
 * Park and ready each have one place where the task's state changes hands
 * (marked "hand-over" below): the backend's block and wake. Instrumentation
 * of the hand-over (chaos injection, happens-before annotations) goes there.
 */
#include <pthread.h>

#include "backend.h"
#include "chaos.h"
#include "hb.h"

void gort__park(gort_wait_reason reason, void (*unlock)(void *), void *lock) {
  gort__task *t = gort__current();
  if (!t) gort__fatal("park: no task record for this thread (out of memory)");
  atomic_store_explicit(&t->wait_reason, (int)reason, memory_order_relaxed);
  atomic_store_explicit(&t->waiting_since, gort__nanotime(), memory_order_relaxed);
  atomic_store_explicit(&t->state, GORT_TASK_WAITING, memory_order_release);
  atomic_fetch_add(&gort__parked_count, 1);
  if (unlock) unlock(lock);
  gort__deadlock_check();
  GORT__CHAOS(GORT__CHAOS_PARK);
  gort__be->block(t); /* hand-over: consume one ready */
  GORT__HB_AFTER(t);
  atomic_store_explicit(&t->state, GORT_TASK_RUNNING, memory_order_relaxed);
  atomic_store_explicit(&t->wait_reason, GORT_WAIT_NONE, memory_order_relaxed);
  atomic_store_explicit(&t->waiting_since, 0, memory_order_relaxed);
}

void gort__ready(gort__task *t) {
  /* Runnable from now on: snapshots must not show a stale wait reason. */
  atomic_store_explicit(&t->state, GORT_TASK_RUNNING, memory_order_relaxed);
  atomic_fetch_sub(&gort__parked_count, 1);
  /* A task runs again: a later all-asleep state is a new deadlock. */
  if (atomic_load_explicit(&gort__deadlock_reported, memory_order_relaxed))
    atomic_store(&gort__deadlock_reported, false);
  GORT__CHAOS(GORT__CHAOS_READY);
  GORT__HB_BEFORE(t);
  gort__be->wake(t); /* hand-over: give one token */
}

void gort__unlock_mutex(void *m) { pthread_mutex_unlock((pthread_mutex_t *)m); }

void gort__lock_mutex(pthread_mutex_t *m) {
  pthread_mutex_lock(m);
  GORT__HB_LOCKED(m);
}

/* ---- waiter queues ---- */

/* q->head is stored atomically (relaxed): a channel's lock-free
 * non-blocking check reads it without the lock (chan.c). */
static inline void set_head(gort__waitq *q, gort__waiter *w) {
  __atomic_store_n(&q->head, w, __ATOMIC_RELAXED);
}

void gort__waitq_push(gort__waitq *q, gort__waiter *w) {
  w->next = NULL;
  w->prev = q->tail;
  if (q->tail)
    q->tail->next = w;
  else
    set_head(q, w);
  q->tail = w;
  w->queued = true;
}

void gort__waitq_remove(gort__waitq *q, gort__waiter *w) {
  if (!w->queued) return;
  if (w->prev)
    w->prev->next = w->next;
  else
    set_head(q, w->next);
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
