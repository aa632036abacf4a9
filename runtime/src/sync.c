/* runtime/src/sync.c - Go's sync package: WaitGroup, Mutex, RWMutex, Cond,
 * Once, OnceValue.
 *
 * Every object here pairs a small pthread mutex (its "lock", never held while
 * a task sleeps) with one or two gort__waitq of parked tasks. Blocking follows
 * the park/ready protocol of scheduler.h: the waiter lives on the blocked
 * task's stack, is queued under the object's lock, and gort__park releases
 * that lock. Wakers dequeue under the lock and call gort__ready only after
 * unlocking, and never touch the object again after that unlock.
 *
 * Invariants:
 *   WaitGroup: count >= 0. waiters is empty whenever count == 0: the add that
 *     brings count to zero dequeues every waiter under the same lock hold.
 *   Mutex: state is 0 (unlocked), 1 (locked, no task queued) or 2 (locked,
 *     tasks may be queued). Whenever a task is on waiters, state is 2 or a
 *     wake-up is on its way to some waiter (see gort_mutex_unlock). A task
 *     that was woken competes again; it does not inherit the lock.
 *   RWMutex: never writer && readers > 0. The lock is free (!writer &&
 *     readers == 0) only when rwait and wwait are both empty: every release
 *     that frees it hands it to the queued tasks under the same lock hold.
 *     writers_waiting == number of tasks on wwait. Readers wait only while a
 *     writer holds it or waits (writer preference).
 *   Cond: waiters holds exactly the tasks inside gort_cond_wait that no
 *     signal or broadcast has dequeued yet, in arrival order.
 *   Once: done goes 0 -> 1 once, after fn returned, with release ordering.
 *
 * Lifetime: destroy takes and drops the object's lock before destroying it,
 * so an object may be destroyed (and freed) by a task that has just acquired
 * it or returned from Wait, even while the task that released it is still
 * leaving the object's critical section: after that section it touches only
 * its own stack and the dequeued waiters.
 *
 * Lock order: cond->lock is never held while another object's lock is taken,
 * and no function here holds two object locks at once.
 */
#include <sched.h>

#include "chaos.h"
#include "hb.h"
#include "internal.h"
#include "lock.h"

/* The calling task, for a waiter record. gort__current only fails when the
 * adoption record of a foreign thread cannot be allocated; the void-returning
 * blocking calls have no way to report that, so it is fatal for them. */
static gort__task *self_or_die(const char *what) {
  gort__task *t = gort__current();
  if (t == NULL) gort__fatal("%s: cannot adopt the calling thread: out of memory", what);
  return t;
}

/* Waiters dequeued under an object's lock and woken after it is released.
 * Once popped, a waiter's next link belongs to the waker (the waitq no longer
 * uses it, and its task does not read it), so the list is chained through it
 * and needs no storage. queued stays false: a task that checks its own
 * waiter under the object's lock sees it as taken. */
typedef struct {
  gort__waiter *head, *tail;
} wake_list;

#define WAKE_LIST_INIT {NULL, NULL}

static void wake_list_add(wake_list *l, gort__waiter *w) {
  w->next = NULL;
  if (l->tail)
    l->tail->next = w;
  else
    l->head = w;
  l->tail = w;
}

/* Under the object's lock: move every waiter of q onto l. */
static void take_all(gort__waitq *q, wake_list *l) {
  gort__waiter *w;
  while ((w = gort__waitq_pop(q)) != NULL) wake_list_add(l, w);
}

/* With no object lock held: wake every waiter of l. The link is read before
 * the task is readied: after gort__ready its stack frame may be gone. */
static void ready_all(wake_list *l) {
  gort__waiter *w = l->head;
  while (w != NULL) {
    gort__waiter *next = w->next;
    gort__ready(w->task);
    w = next;
  }
}

/* ======================================================================
 * WaitGroup
 * ====================================================================== */

void gort_waitgroup_init(gort_waitgroup *wg) {
  if (gort__nil(wg)) return;
  pthread_mutex_init(&wg->lock, NULL);
  atomic_init(&wg->count, 0);
  wg->waiters = (gort__waitq)GORT__WAITQ_INIT;
}

/* The counter changes without the lock unless it becomes zero, as Go's
 * WaitGroup does with one atomic add: NaiveSpawn's ten thousand Done calls,
 * from tasks on every worker, took and moved the lock each. Waiters queue
 * only under the lock after reading a nonzero count there, and a change to
 * zero happens only under the lock, so the add that reaches zero finds every
 * waiter. Each change is an acq_rel read-modify-write: the last one, and so
 * the woken or returning Wait (through the lock), acquires every earlier
 * Done's past, the happens-before edge Go's Done -> Wait gives. */
int gort_waitgroup_add(gort_waitgroup *wg, int64_t delta) {
  if (wg == NULL) return GORT_EINVAL;
  int64_t old = atomic_load_explicit(&wg->count, memory_order_relaxed), v;
  bool locked = false;
  for (;;) {
    /* Misuse leaves the counter as it was, so RETURN mode can go on. count
     * is never negative, so only a positive delta can overflow, and a
     * negative one only yields a negative sum. */
    int rc = 0;
    if (__builtin_add_overflow(old, delta, &v))
      rc = GORT_EWGOVERFLOW;
    else if (v < 0)
      rc = GORT_ENEGWG;
    if (rc != 0) {
      if (locked) pthread_mutex_unlock(&wg->lock);
      return gort__misuse(rc);
    }
    if (v == 0 && !locked) { /* to zero: only under the lock */
      gort__lock_mutex(&wg->lock);
      locked = true;
      old = atomic_load_explicit(&wg->count, memory_order_relaxed);
      continue;
    }
    if (atomic_compare_exchange_weak_explicit(&wg->count, &old, v, memory_order_acq_rel,
                                              memory_order_relaxed))
      break;
  }
  if (!locked) return 0;
  wake_list wake = WAKE_LIST_INIT;
  if (v == 0) take_all(&wg->waiters, &wake);
  pthread_mutex_unlock(&wg->lock);
  ready_all(&wake);
  return 0;
}

int gort_waitgroup_done(gort_waitgroup *wg) { return gort_waitgroup_add(wg, -1); }

int gort_waitgroup_wait(gort_waitgroup *wg) {
  if (wg == NULL) return GORT_EINVAL;
  gort__lock_mutex(&wg->lock);
  if (atomic_load_explicit(&wg->count, memory_order_acquire) == 0) {
    pthread_mutex_unlock(&wg->lock);
    return 0;
  }
  gort__waiter w = {0};
  w.task = gort__current();
  if (w.task == NULL) {
    pthread_mutex_unlock(&wg->lock);
    return GORT_ENOMEM;
  }
  gort__waitq_push(&wg->waiters, &w);
  /* Woken only by the add that made count zero; as that add dequeued us, the
   * group may already be reused (count > 0 again), which is Go's rule too:
   * Wait returns once the counter was seen at zero. */
  gort__park(GORT_WAIT_WAITGROUP, gort__unlock_mutex, &wg->lock);
  return 0;
}

/* wg.Go's record: fn and arg for the new task, and the group to tell. */
typedef struct {
  gort_waitgroup *wg;
  void (*fn)(void *);
  void *arg;
} waitgroup_go_rec;

static void waitgroup_go_main(void *p) {
  waitgroup_go_rec rec = *(waitgroup_go_rec *)p;
  gort__free(p);
  rec.fn(rec.arg);
  gort_waitgroup_done(rec.wg);
}

int gort_waitgroup_go_at(gort_waitgroup *wg, void (*fn)(void *), void *arg, const char *file,
                         int line) {
  if (wg == NULL || fn == NULL) return GORT_EINVAL;
  waitgroup_go_rec *rec = gort__malloc(sizeof *rec);
  if (rec == NULL) return GORT_ENOMEM;
  *rec = (waitgroup_go_rec){wg, fn, arg};
  /* Add before the spawn, as Go requires: a Wait that starts after this call
   * returns must see the new task. */
  int rc = gort_waitgroup_add(wg, 1);
  if (rc != 0) {
    gort__free(rec);
    return rc;
  }
  rc = gort_go_at(waitgroup_go_main, rec, NULL, file, line);
  if (rc != 0) {
    gort__free(rec);
    gort_waitgroup_add(wg, -1); /* cannot go negative: our +1 is still in */
    return rc;
  }
  return 0;
}

void gort_waitgroup_destroy(gort_waitgroup *wg) {
  if (gort__nil(wg)) return;
  gort__lock_mutex(&wg->lock); /* let a releasing Done leave first */
  pthread_mutex_unlock(&wg->lock);
  pthread_mutex_destroy(&wg->lock);
}

/* ======================================================================
 * Mutex
 * ====================================================================== */

/* Spinning pays off only when the holder runs on another CPU and is about to
 * leave a short critical section; Go spins 4 rounds of 30 pauses. We do the
 * same, then give the CPU away once (on a busy 2-core machine the holder may
 * be waiting for ours) before going to sleep. */
enum { MUTEX_SPIN_ROUNDS = 4, MUTEX_SPIN_PAUSES = 30 };

void gort_mutex_init(gort_mutex *m) {
  if (gort__nil(m)) return;
  atomic_init(&m->state, 0);
  pthread_mutex_init(&m->lock, NULL);
  m->waiters = (gort__waitq)GORT__WAITQ_INIT;
}

/* Fast path: CAS 0 -> 1 with acquire ordering. It pairs with the release in
 * gort_mutex_unlock's store of 0, so everything the previous holder wrote in
 * its critical section happens-before ours. A failed CAS orders nothing and
 * needs nothing (relaxed). */
static inline bool mutex_try_acquire(gort_mutex *m) {
  int expected = 0;
  if (!atomic_compare_exchange_strong_explicit(&m->state, &expected, 1, memory_order_acquire,
                                               memory_order_relaxed))
    return false;
  GORT__HB_AFTER(m);
  return true;
}

bool gort_mutex_trylock(gort_mutex *m) { return !gort__nil(m) && mutex_try_acquire(m); }

static bool mutex_spin(gort_mutex *m) {
  for (int round = 0; round < MUTEX_SPIN_ROUNDS; round++) {
    /* Spin only while the holder has no queued waiters (state 1); with
     * waiters, barging in would only push them further back. The relaxed
     * load is a hint; the CAS is what acquires. */
    if (atomic_load_explicit(&m->state, memory_order_relaxed) == 2) return false;
    for (int i = 0; i < MUTEX_SPIN_PAUSES; i++) gort__cpu_relax();
    if (atomic_load_explicit(&m->state, memory_order_relaxed) == 0 && mutex_try_acquire(m))
      return true;
  }
  sched_yield();
  return mutex_try_acquire(m);
}

void gort_mutex_lock(gort_mutex *m) {
  GORT__CHAOS(GORT__CHAOS_LOCK);
  if (gort__nil(m) || mutex_try_acquire(m)) return;
  if (mutex_spin(m)) return;
  gort__waiter w = {0};
  w.task = self_or_die("sync.Mutex.Lock");
  for (;;) {
    gort__lock_mutex(&m->lock);
    /* Exchange to 2 either takes a free mutex (old 0) or marks a held one
     * as "has waiters", so its unlock will come to the queue. We take it
     * with state 2 even if nobody else waits: that costs at most one empty
     * look at the queue at unlock, and never loses a wake-up. acq_rel: the
     * acquire half is what makes the previous critical section visible. */
    if (atomic_exchange_explicit(&m->state, 2, memory_order_acq_rel) == 0) {
      GORT__HB_AFTER(m);
      pthread_mutex_unlock(&m->lock);
      return;
    }
    gort__waitq_push(&m->waiters, &w);
    gort__park(GORT_WAIT_MUTEX, gort__unlock_mutex, &m->lock);
    /* Woken: the mutex was released, but a barging locker may have taken it
     * before us (Go's normal mode); compete again. */
  }
}

/* Why no wake-up is lost. A locker goes to sleep only after, under m->lock,
 * it exchanged state to 2 and saw it held, and queued itself before park
 * released m->lock. The unlock fast path (CAS 1 -> 0) succeeds only when
 * state is 1, i.e. before any such exchange: that locker then reads 0 (or a
 * barger's 1, and then the barger's own unlock sees the 2 it left). When
 * state is 2 the unlocker clears it under m->lock, so its critical section
 * is ordered with each locker's: a locker that came before is on the queue
 * and gets popped; one that comes after reads 0 and takes the mutex. Each
 * unlock from 2 pops at most one waiter; the woken one re-marks state 2 when
 * it re-acquires (or re-queues), so the rest are woken by later unlocks. */
int gort_mutex_unlock(gort_mutex *m) {
  if (m == NULL) return GORT_EINVAL;
  /* Release pairs with the lockers' acquire (see mutex_try_acquire). */
  GORT__HB_BEFORE(m);
  int expected = 1;
  if (atomic_compare_exchange_strong_explicit(&m->state, &expected, 0, memory_order_release,
                                              memory_order_relaxed))
    return 0;
  gort__lock_mutex(&m->lock);
  int old = atomic_exchange_explicit(&m->state, 0, memory_order_release);
  gort__waiter *w = old == 2 ? gort__waitq_pop(&m->waiters) : NULL;
  pthread_mutex_unlock(&m->lock);
  /* old == 0: it was not locked. The exchange wrote 0 over 0; nothing to
   * restore. (A concurrent locker may have won it meanwhile: that is the
   * caller's race, as in Go.) */
  if (old == 0) return gort__misuse(GORT_EUNLOCK);
  if (w != NULL) gort__ready(w->task);
  return 0;
}

void gort_mutex_destroy(gort_mutex *m) {
  if (gort__nil(m)) return;
  gort__lock_mutex(&m->lock); /* let a releasing unlock leave first */
  pthread_mutex_unlock(&m->lock);
  pthread_mutex_destroy(&m->lock);
}

/* ======================================================================
 * RWMutex: everything under rw->lock; the lock is handed over directly to
 * the tasks it wakes (a woken reader is already counted in readers, a woken
 * writer already owns writer), so nobody re-competes after a wake-up.
 * ====================================================================== */

void gort_rwmutex_init(gort_rwmutex *rw) {
  if (gort__nil(rw)) return;
  pthread_mutex_init(&rw->lock, NULL);
  rw->readers = 0;
  rw->writer = false;
  rw->writers_waiting = 0;
  rw->rwait = (gort__waitq)GORT__WAITQ_INIT;
  rw->wwait = (gort__waitq)GORT__WAITQ_INIT;
}

/* Under rw->lock: readers may enter unless a writer holds or waits. */
static inline bool rw_reader_may_enter(const gort_rwmutex *rw) {
  return !rw->writer && rw->writers_waiting == 0;
}

/* Under rw->lock, with the lock free: give it to the next queued writer.
 * Returns the waiter to ready after unlocking, or NULL. */
static gort__waiter *rw_grant_writer(gort_rwmutex *rw) {
  gort__waiter *w = gort__waitq_pop(&rw->wwait);
  if (w != NULL) {
    rw->writers_waiting--;
    rw->writer = true;
  }
  return w;
}

void gort_rwmutex_rlock(gort_rwmutex *rw) {
  if (gort__nil(rw)) return;
  gort__lock_mutex(&rw->lock);
  if (rw_reader_may_enter(rw)) {
    rw->readers++;
    pthread_mutex_unlock(&rw->lock);
    return;
  }
  gort__waiter w = {0};
  w.task = self_or_die("sync.RWMutex.RLock");
  gort__waitq_push(&rw->rwait, &w);
  /* The writer's unlock counts us in readers before waking us. */
  gort__park(GORT_WAIT_RWMUTEX_R, gort__unlock_mutex, &rw->lock);
}

bool gort_rwmutex_tryrlock(gort_rwmutex *rw) {
  if (gort__nil(rw)) return false;
  gort__lock_mutex(&rw->lock);
  bool ok = rw_reader_may_enter(rw);
  if (ok) rw->readers++;
  pthread_mutex_unlock(&rw->lock);
  return ok;
}

int gort_rwmutex_runlock(gort_rwmutex *rw) {
  if (rw == NULL) return GORT_EINVAL;
  gort__lock_mutex(&rw->lock);
  if (rw->readers == 0) {
    pthread_mutex_unlock(&rw->lock);
    return gort__misuse(GORT_ERUNLOCK);
  }
  gort__waiter *w = NULL;
  /* The last reader out admits a waiting writer. Queued readers cannot
   * exist here without a waiting writer (they queue only behind one), and
   * they stay behind it: writer preference. */
  if (--rw->readers == 0) w = rw_grant_writer(rw);
  pthread_mutex_unlock(&rw->lock);
  if (w != NULL) gort__ready(w->task);
  return 0;
}

void gort_rwmutex_lock(gort_rwmutex *rw) {
  if (gort__nil(rw)) return;
  gort__lock_mutex(&rw->lock);
  if (!rw->writer && rw->readers == 0) {
    /* Free, so both queues are empty (invariant): nobody is passed over. */
    rw->writer = true;
    pthread_mutex_unlock(&rw->lock);
    return;
  }
  gort__waiter w = {0};
  w.task = self_or_die("sync.RWMutex.Lock");
  rw->writers_waiting++; /* from now on new readers queue behind us */
  gort__waitq_push(&rw->wwait, &w);
  /* Woken as the owner: whoever frees the lock sets writer for us. */
  gort__park(GORT_WAIT_RWMUTEX_W, gort__unlock_mutex, &rw->lock);
}

bool gort_rwmutex_trylock(gort_rwmutex *rw) {
  if (gort__nil(rw)) return false;
  gort__lock_mutex(&rw->lock);
  bool ok = !rw->writer && rw->readers == 0;
  if (ok) rw->writer = true;
  pthread_mutex_unlock(&rw->lock);
  return ok;
}

int gort_rwmutex_unlock(gort_rwmutex *rw) {
  if (rw == NULL) return GORT_EINVAL;
  wake_list wake = WAKE_LIST_INIT;
  gort__lock_mutex(&rw->lock);
  if (!rw->writer) {
    pthread_mutex_unlock(&rw->lock);
    return gort__misuse(GORT_ERWUNLOCK);
  }
  rw->writer = false;
  /* As Go: the readers that queued during this write section go first, all
   * at once, even if more writers wait; the next writer then waits for them
   * to leave. Readers and writers alternate, so neither side starves. */
  gort__waiter *w;
  while ((w = gort__waitq_pop(&rw->rwait)) != NULL) {
    rw->readers++;
    wake_list_add(&wake, w);
  }
  if (rw->readers == 0 && (w = rw_grant_writer(rw)) != NULL) wake_list_add(&wake, w);
  pthread_mutex_unlock(&rw->lock);
  ready_all(&wake);
  return 0;
}

void gort_rwmutex_destroy(gort_rwmutex *rw) {
  if (gort__nil(rw)) return;
  gort__lock_mutex(&rw->lock); /* let a releasing unlock leave first */
  pthread_mutex_unlock(&rw->lock);
  pthread_mutex_destroy(&rw->lock);
}

/* ======================================================================
 * Cond
 * ====================================================================== */

void gort_cond_init(gort_cond *c, gort_mutex *L) {
  if (gort__nil(c)) return;
  c->L = L;
  pthread_mutex_init(&c->lock, NULL);
  c->waiters = (gort__waitq)GORT__WAITQ_INIT;
}

void gort_cond_wait(gort_cond *c) {
  if (gort__nil(c) || gort__nil(c->L)) return;
  gort__waiter w = {0};
  w.task = self_or_die("sync.Cond.Wait");
  /* Queue before releasing L: a signaller must hold L (or come after we
   * released it) to change the condition, so it finds us on the queue. A
   * signal that lands between the unlock of L and the park leaves a token,
   * and the park returns at once (scheduler.h's protocol). */
  gort__lock_mutex(&c->lock);
  gort__waitq_push(&c->waiters, &w);
  pthread_mutex_unlock(&c->lock);
  if (gort_mutex_unlock(c->L) != 0) {
    /* Misuse in RETURN mode: L was not held. Leave without waiting; if a
     * signal already took our waiter, consume its wake-up first. */
    gort__lock_mutex(&c->lock);
    if (w.queued) {
      gort__waitq_remove(&c->waiters, &w);
      pthread_mutex_unlock(&c->lock);
      return;
    }
    gort__park(GORT_WAIT_COND, gort__unlock_mutex, &c->lock);
    return;
  }
  gort__park(GORT_WAIT_COND, NULL, NULL);
  gort_mutex_lock(c->L);
}

void gort_cond_signal(gort_cond *c) {
  if (gort__nil(c)) return;
  gort__lock_mutex(&c->lock);
  gort__waiter *w = gort__waitq_pop(&c->waiters);
  pthread_mutex_unlock(&c->lock);
  if (w != NULL) gort__ready(w->task);
}

void gort_cond_broadcast(gort_cond *c) {
  if (gort__nil(c)) return;
  wake_list wake = WAKE_LIST_INIT;
  gort__lock_mutex(&c->lock);
  take_all(&c->waiters, &wake);
  pthread_mutex_unlock(&c->lock);
  ready_all(&wake);
}

void gort_cond_destroy(gort_cond *c) {
  if (gort__nil(c)) return;
  gort__lock_mutex(&c->lock); /* let a signaller leave first */
  pthread_mutex_unlock(&c->lock);
  pthread_mutex_destroy(&c->lock);
}

/* ======================================================================
 * Once
 * ====================================================================== */

/* Fast path: an acquire load of done. It pairs with the release store made
 * after fn returned, so a caller that sees 1 also sees everything fn wrote.
 * Slow path: the mutex serialises the callers that saw 0; the first one runs
 * fn, the others block on the mutex until it is done, then see done == 1
 * (relaxed suffices there: the mutex already orders them after fn). As in Go,
 * done is set only after fn returned, never before, so no caller can return
 * while fn is still running. */
void gort_once_do(gort_once *o, void (*fn)(void *), void *arg) {
  if (gort__nil(o)) return;
  if (fn == NULL) { /* Go: calling the nil func panics */
    gort__misuse(GORT_ENILPTR);
    return;
  }
  GORT__HB_ATOMIC(&o->done, sizeof o->done); /* GORT_ONCE_INIT has no init call */
  if (atomic_load_explicit(&o->done, memory_order_acquire)) {
    GORT__HB_AFTER(o);
    return;
  }
  gort_mutex_lock(&o->m);
  if (!atomic_load_explicit(&o->done, memory_order_relaxed)) {
    fn(arg);
    GORT__HB_BEFORE(o);
    atomic_store_explicit(&o->done, 1, memory_order_release);
  }
  gort_mutex_unlock(&o->m);
}

typedef struct {
  gort_once_value *o;
  void *(*fn)(void *);
  void *arg;
} once_value_call;

static void once_value_run(void *p) {
  once_value_call *call = p;
  /* Written before done's release store; read after its acquire load. */
  call->o->value = call->fn(call->arg);
}

void *gort_once_value_get(gort_once_value *o, void *(*fn)(void *), void *arg) {
  if (gort__nil(o)) return NULL;
  once_value_call call = {o, fn, arg};
  gort_once_do(&o->once, once_value_run, &call);
  return o->value;
}
