/* gort/sync.h - Go's sync package: WaitGroup, Once, Mutex, RWMutex, Cond,
 * and atomic counters.
 *
 * The objects are caller-owned and of fixed size: put them on the stack, in a
 * struct, or in static storage with the *_INIT initialisers. Blocking parks
 * the task (wait reasons "sync.WaitGroup.Wait", "sync.Mutex.Lock", ...), so
 * the deadlock detector and leak reports see who waits on what.
 *
 * Misuse, as Go panics: a negative WaitGroup counter ("sync: negative
 * WaitGroup counter"); and what Go reports as a fatal error (printed as
 * "fatal error: ..." in ABORT mode): unlocking an unlocked Mutex ("sync:
 * unlock of unlocked mutex", GORT_EUNLOCK), RUnlock without RLock ("sync:
 * RUnlock of unlocked RWMutex", GORT_ERUNLOCK), Unlock of an RWMutex not
 * write-locked ("sync: Unlock of unlocked RWMutex", GORT_ERWUNLOCK);
 * a WaitGroup counter that would pass INT64_MAX ("sync: WaitGroup counter
 * overflows", GORT_EWGOVERFLOW; the counter is left unchanged).
 *
 * NULL objects (err.h's rule): the int-returning calls return GORT_EINVAL;
 * the others (init, lock, trylock, destroy, cond and once calls, and a Cond
 * whose L is NULL at Wait) report misuse GORT_ENILPTR, as Go panics on a nil
 * *Mutex; trylock then returns false, once_value_get NULL. once_do with a
 * NULL fn is the same misuse (calling a nil func).
 */
#ifndef GORT_SYNC_H
#define GORT_SYNC_H

#include "gort/export.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* The atomic fields are C11 _Atomic; C++ before C++23 has no _Atomic, so a
 * C++ program sees std::atomic<T>, which GCC and Clang lay out as _Atomic T
 * (same size, alignment and lock-free representation for these types). The
 * inline functions below find std::atomic_load etc. by argument-dependent
 * lookup, so their bodies are the same in both languages. */
#ifdef __cplusplus
#include <atomic>
#define GORT__ATOMIC(T) std::atomic<T>
#else
#include <stdatomic.h>
#define GORT__ATOMIC(T) _Atomic T
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* A FIFO of parked tasks. Internal; protected by the owning object's lock. */
struct gort__waiter;
typedef struct {
  struct gort__waiter *head, *tail;
} gort__waitq;
#define GORT__WAITQ_INIT {NULL, NULL}

/* ---- WaitGroup ---- */
typedef struct {
  pthread_mutex_t lock; /* protects waiters, and every change of count to 0 */
  GORT__ATOMIC(int64_t) count;
  gort__waitq waiters;
} gort_waitgroup;
#define GORT_WAITGROUP_INIT {PTHREAD_MUTEX_INITIALIZER, 0, GORT__WAITQ_INIT}

GORT_API void gort_waitgroup_init(gort_waitgroup *wg);
/* Add delta (may be negative). When the counter reaches zero every waiter is
 * released. A negative counter is misuse (GORT_ENEGWG); the counter is left
 * unchanged then. */
GORT_API int gort_waitgroup_add(gort_waitgroup *wg, int64_t delta);
GORT_API int gort_waitgroup_done(gort_waitgroup *wg);
/* Block until the counter is zero. */
GORT_API int gort_waitgroup_wait(gort_waitgroup *wg);
/* Go 1.25's wg.Go: Add(1), then run fn(arg) in a new task that calls Done.
 * On spawn failure the Add is undone and the error returned. */
#define gort_waitgroup_go(wg, fn, arg) gort_waitgroup_go_at((wg), (fn), (arg), __FILE__, __LINE__)
GORT_API int gort_waitgroup_go_at(gort_waitgroup *wg, void (*fn)(void *), void *arg,
                                  const char *file, int line);
GORT_API void gort_waitgroup_destroy(gort_waitgroup *wg);

/* ---- Mutex ---- */
typedef struct {
  GORT__ATOMIC(int) state; /* 0 unlocked, 1 locked, 2 locked and maybe waiters */
  pthread_mutex_t lock; /* protects waiters */
  gort__waitq waiters;
} gort_mutex;
#define GORT_MUTEX_INIT {0, PTHREAD_MUTEX_INITIALIZER, GORT__WAITQ_INIT}

GORT_API void gort_mutex_init(gort_mutex *m);
GORT_API void gort_mutex_lock(gort_mutex *m);
GORT_API bool gort_mutex_trylock(gort_mutex *m);
GORT_API int gort_mutex_unlock(gort_mutex *m);
GORT_API void gort_mutex_destroy(gort_mutex *m);

/* ---- RWMutex: writer-preferring, as Go's (a waiting writer blocks new
 * readers). ---- */
typedef struct {
  pthread_mutex_t lock; /* protects everything below */
  int readers;          /* active readers */
  bool writer;          /* a writer holds it */
  int writers_waiting;
  gort__waitq rwait, wwait;
} gort_rwmutex;
#define GORT_RWMUTEX_INIT \
  {PTHREAD_MUTEX_INITIALIZER, 0, false, 0, GORT__WAITQ_INIT, GORT__WAITQ_INIT}

GORT_API void gort_rwmutex_init(gort_rwmutex *rw);
GORT_API void gort_rwmutex_rlock(gort_rwmutex *rw);
GORT_API bool gort_rwmutex_tryrlock(gort_rwmutex *rw);
GORT_API int gort_rwmutex_runlock(gort_rwmutex *rw);
GORT_API void gort_rwmutex_lock(gort_rwmutex *rw);
GORT_API bool gort_rwmutex_trylock(gort_rwmutex *rw);
GORT_API int gort_rwmutex_unlock(gort_rwmutex *rw);
GORT_API void gort_rwmutex_destroy(gort_rwmutex *rw);

/* ---- Cond: bound to a gort_mutex, as sync.NewCond(&mu). ---- */
typedef struct {
  gort_mutex *L;
  pthread_mutex_t lock; /* protects waiters */
  gort__waitq waiters;
} gort_cond;
#define GORT_COND_INIT(mutexp) {(mutexp), PTHREAD_MUTEX_INITIALIZER, GORT__WAITQ_INIT}

GORT_API void gort_cond_init(gort_cond *c, gort_mutex *L);
/* Atomically unlock L and park; relock L before returning. Spurious wake-ups
 * do not happen, but as in Go, re-check the condition in a loop. */
GORT_API void gort_cond_wait(gort_cond *c);
GORT_API void gort_cond_signal(gort_cond *c);
GORT_API void gort_cond_broadcast(gort_cond *c);
GORT_API void gort_cond_destroy(gort_cond *c);

/* ---- Once ---- */
typedef struct {
  GORT__ATOMIC(int) done;
  gort_mutex m;
} gort_once;
#define GORT_ONCE_INIT {0, GORT_MUTEX_INIT}

/* Run fn(arg) exactly once across all callers; every caller returns only
 * after it has completed. */
GORT_API void gort_once_do(gort_once *o, void (*fn)(void *), void *arg);

/* sync.OnceValue: fn's result is computed once and returned to every caller. */
typedef struct {
  gort_once once;
  void *value;
} gort_once_value;
#define GORT_ONCE_VALUE_INIT {GORT_ONCE_INIT, NULL}
GORT_API void *gort_once_value_get(gort_once_value *o, void *(*fn)(void *), void *arg);

/* ---- Atomic counters (sync/atomic's Int64) ---- */
typedef struct {
  GORT__ATOMIC(int64_t) v;
} gort_atomic_i64;
#define GORT_ATOMIC_I64_INIT(x) {(x)}

static inline int64_t gort_atomic_load(gort_atomic_i64 *a) { return atomic_load(&a->v); }
static inline void gort_atomic_store(gort_atomic_i64 *a, int64_t x) { atomic_store(&a->v, x); }
/* Returns the new value, like atomic.AddInt64. */
static inline int64_t gort_atomic_add(gort_atomic_i64 *a, int64_t d) {
  return atomic_fetch_add(&a->v, d) + d;
}
static inline int64_t gort_atomic_swap(gort_atomic_i64 *a, int64_t x) {
  return atomic_exchange(&a->v, x);
}
static inline bool gort_atomic_cas(gort_atomic_i64 *a, int64_t old, int64_t x) {
  return atomic_compare_exchange_strong(&a->v, &old, x);
}

#ifdef __cplusplus
}
#endif
#endif
