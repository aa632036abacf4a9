/* pool.c - sync.Pool: per-thread caches, a shared overflow list, and a
 * registry that lets drain and free reach every thread's cache.
 *
 * Layout:
 *  - Every pool has a small id (the smallest free one; ids are reused after
 *    free). Every thread has, in its own static TLS, an array of entries
 *    indexed by pool id: entry[id] is the thread's cache for that pool, or
 *    NULL. The first GORT_POOL_TLS_INLINE entries are inline; more are in a
 *    heap array that grows on demand.
 *  - A cache (pcache) has GORT_POOL_CACHE_SLOTS atomic slots and is also on
 *    its pool's list of caches, so drain and free can empty it.
 *
 * Invariants:
 *  - registry_lock protects: the list of pools, every pool's list of caches,
 *    every thread's overflow entry array (pointer and size), and the
 *    creation and destruction of caches. Entries are written only under it
 *    (atomically, because the owner reads them without it).
 *  - A cache's slots hold objects or NULL. Only the owner thread makes a
 *    slot non-NULL; anybody may empty one, always with an atomic exchange, so
 *    an object is taken out exactly once.
 *  - pcache.n (owner only) is a hint: slots[i] is NULL for every i >= n.
 *    Slots below n may have been emptied by a drain.
 *  - entry[id] of any thread is non-NULL only for a cache of the live pool
 *    with that id: free clears the entries of all its caches (under the
 *    registry lock) before the id can be reused.
 *  - p->lock protects the shared list only. Lock order: registry_lock, then
 *    p->lock.
 *
 * Memory ordering: put stores an object into a slot with release, and every
 * taker exchanges with acquire, so whoever takes an object (its owner's get,
 * or a drain calling the destructor) sees it fully written.
 *
 * ThreadSanitizer: a thread's caches are per-worker state under the M:N
 * backend (one task after another uses them, unordered), so this file is
 * not instrumented (Makefile, TSAN_UNINSTRUMENTED) and states the one edge
 * its users need, put before whoever takes the object, as Go's sync.Pool
 * does under its race detector.
 *
 * Thread exit: a pthread key destructor (the key's value is the thread's
 * TLS block) moves the thread's cached objects to the shared lists and frees
 * its caches. glibc runs key destructors before the thread's TLS is freed.
 * The registry lock is recursive so that a destructor running under it may
 * use other pools.
 */
#include <stdbool.h>
#include <stdint.h>

#include "gort/pool.h"
#include "hb.h"
#include "internal.h"

#define GORT_POOL_TLS_INLINE 64

struct gort_pool;

typedef struct pool_tls pool_tls;

typedef struct pcache {
  _Atomic(void *) slots[GORT_POOL_CACHE_SLOTS];
  int n;                   /* owner only: slots[n..] are NULL */
  struct gort_pool *pool;  /* immutable */
  pool_tls *owner;         /* immutable: the owner thread's TLS block */
  struct pcache *prev, *next; /* in pool->caches, under registry_lock */
} pcache;

struct pool_tls {
  _Atomic(pcache *) inline_entries[GORT_POOL_TLS_INLINE];
  _Atomic(pcache *) *more; /* entries for ids >= INLINE; registry_lock */
  size_t more_cap;         /* registry_lock (the owner also reads it unlocked) */
  bool registered;         /* owner only: the key's value is set */
};

struct gort_pool {
  gort_pool_ctor ctor; /* immutable */
  gort_pool_dtor dtor; /* immutable */
  void *arg;           /* immutable */
  unsigned id;         /* immutable */
  struct gort_pool *next; /* list of pools sorted by id, registry_lock */
  pcache *caches;      /* registry_lock */
  pthread_mutex_t lock; /* protects shared and nshared */
  void **shared;       /* GORT_POOL_SHARED_MAX slots */
  size_t nshared;
};

static pthread_mutex_t registry_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static gort_pool *pools; /* sorted by id */
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t tls_key;
static bool key_ok;
static _Thread_local pool_tls tls;

static void thread_exit(void *arg);

static void make_key(void) { key_ok = pthread_key_create(&tls_key, thread_exit) == 0; }

static void destroy(gort_pool *p, void *obj) {
  if (p->dtor) p->dtor(obj, p->arg);
}

/* The address of t's entry for id, or NULL if t has no room for it yet. The
 * owner may call it unlocked; others need registry_lock. */
static _Atomic(pcache *) *entry(pool_tls *t, unsigned id) {
  if (id < GORT_POOL_TLS_INLINE) return &t->inline_entries[id];
  if (id - GORT_POOL_TLS_INLINE < t->more_cap) return &t->more[id - GORT_POOL_TLS_INLINE];
  return NULL;
}

/* ---- the shared list ---- */

/* Push up to n objects; returns how many were taken. */
static size_t shared_push(gort_pool *p, void **objs, size_t n) {
  pthread_mutex_lock(&p->lock);
  size_t room = GORT_POOL_SHARED_MAX - p->nshared;
  size_t take = n < room ? n : room;
  for (size_t i = 0; i < take; i++) p->shared[p->nshared++] = objs[i];
  pthread_mutex_unlock(&p->lock);
  return take;
}

static void *shared_pop(gort_pool *p) {
  pthread_mutex_lock(&p->lock);
  void *obj = p->nshared > 0 ? p->shared[--p->nshared] : NULL;
  pthread_mutex_unlock(&p->lock);
  if (obj) GORT__TSAN_ACQUIRE(obj); /* its put */
  return obj;
}

/* Push objects, destroying those that do not fit. */
static void shared_push_or_destroy(gort_pool *p, void **objs, size_t n) {
  size_t took = shared_push(p, objs, n);
  for (size_t i = took; i < n; i++) destroy(p, objs[i]);
}

/* ---- caches ---- */

/* Empty every slot of c; returns the number of objects put in out. */
static size_t cache_take_all(pcache *c, void **out) {
  size_t k = 0;
  for (int i = 0; i < GORT_POOL_CACHE_SLOTS; i++) {
    void *obj = atomic_exchange_explicit(&c->slots[i], NULL, memory_order_acq_rel);
    if (obj) {
      GORT__TSAN_ACQUIRE(obj); /* its put */
      out[k++] = obj;
    }
  }
  return k;
}

/* Unlink c from its pool and clear its owner's entry. Requires
 * registry_lock. */
static void cache_unlink(pcache *c) {
  gort_pool *p = c->pool;
  if (c->prev) c->prev->next = c->next;
  else p->caches = c->next;
  if (c->next) c->next->prev = c->prev;
  _Atomic(pcache *) *e = entry(c->owner, p->id);
  if (e) atomic_store_explicit(e, NULL, memory_order_relaxed);
}

/* Make the calling thread's cache for p. NULL when that is impossible (no
 * memory, no TLS key): the caller falls back to the shared list. */
static pcache *cache_create(gort_pool *p) {
  pthread_once(&key_once, make_key);
  if (!key_ok) return NULL;
  pthread_mutex_lock(&registry_lock);
  _Atomic(pcache *) *e = entry(&tls, p->id);
  if (e == NULL) {
    size_t cap = tls.more_cap ? tls.more_cap : 16;
    while (GORT_POOL_TLS_INLINE + cap <= p->id) cap *= 2;
    _Atomic(pcache *) *more = gort__calloc(cap, sizeof *more);
    if (more == NULL) goto fail;
    for (size_t i = 0; i < tls.more_cap; i++)
      atomic_init(&more[i], atomic_load_explicit(&tls.more[i], memory_order_relaxed));
    gort__free(tls.more);
    tls.more = more;
    tls.more_cap = cap;
    e = entry(&tls, p->id);
  }
  pcache *c = gort__calloc(1, sizeof *c);
  if (c == NULL) goto fail;
  if (!tls.registered) {
    if (pthread_setspecific(tls_key, &tls) != 0) {
      gort__free(c);
      goto fail;
    }
    tls.registered = true;
  }
  c->pool = p;
  c->owner = &tls;
  c->next = p->caches;
  if (p->caches) p->caches->prev = c;
  p->caches = c;
  atomic_store_explicit(e, c, memory_order_relaxed);
  pthread_mutex_unlock(&registry_lock);
  return c;
fail:
  pthread_mutex_unlock(&registry_lock);
  return NULL;
}

/* The calling thread's cache for p, made on first use; NULL if impossible. */
static pcache *my_cache(gort_pool *p) {
  _Atomic(pcache *) *e = entry(&tls, p->id);
  pcache *c = e ? atomic_load_explicit(e, memory_order_relaxed) : NULL;
  return c ? c : cache_create(p);
}

/* Key destructor: runs in the exiting thread with its TLS still valid. */
static void thread_exit(void *arg) {
  pool_tls *t = arg;
  pthread_mutex_lock(&registry_lock);
  t->registered = false; /* the key's value is already NULL */
  size_t total = GORT_POOL_TLS_INLINE + t->more_cap;
  for (size_t id = 0; id < total; id++) {
    pcache *c = atomic_load_explicit(entry(t, (unsigned)id), memory_order_relaxed);
    if (c == NULL) continue;
    gort_pool *p = c->pool;
    cache_unlink(c);
    void *objs[GORT_POOL_CACHE_SLOTS];
    size_t k = cache_take_all(c, objs);
    gort__free(c);
    shared_push_or_destroy(p, objs, k);
  }
  /* A destructor above may have used a pool and re-registered; keep the
   * entry array for it then (the key destructor will run again). */
  if (!t->registered) {
    gort__free(t->more);
    t->more = NULL;
    t->more_cap = 0;
  }
  pthread_mutex_unlock(&registry_lock);
}

/* ---- the pool ---- */

int gort_pool_new(gort_pool **out, gort_pool_ctor ctor, gort_pool_dtor dtor, void *arg) {
  if (out == NULL) return GORT_EINVAL;
  gort_pool *p = gort__calloc(1, sizeof *p);
  if (p == NULL) return GORT_ENOMEM;
  p->shared = gort__calloc(GORT_POOL_SHARED_MAX, sizeof *p->shared);
  if (p->shared == NULL) {
    gort__free(p);
    return GORT_ENOMEM;
  }
  p->ctor = ctor;
  p->dtor = dtor;
  p->arg = arg;
  pthread_mutex_init(&p->lock, NULL);

  /* The smallest free id: walk the sorted list to the first gap. */
  pthread_mutex_lock(&registry_lock);
  gort_pool **link = &pools;
  unsigned id = 0;
  while (*link && (*link)->id == id) {
    link = &(*link)->next;
    id++;
  }
  p->id = id;
  p->next = *link;
  *link = p;
  pthread_mutex_unlock(&registry_lock);
  *out = p;
  return 0;
}

int gort_pool_get(gort_pool *p, void **out) {
  if (out != NULL) *out = NULL;
  if (p == NULL || out == NULL) return GORT_EINVAL;
  pcache *c = my_cache(p);
  if (c != NULL) {
    while (c->n > 0) {
      void *obj = atomic_exchange_explicit(&c->slots[--c->n], NULL, memory_order_acq_rel);
      if (obj) {
        GORT__TSAN_ACQUIRE(obj); /* its put */
        *out = obj;
        return 0;
      }
    }
  }
  void *obj = shared_pop(p);
  if (obj == NULL && p->ctor == NULL) return GORT_EAGAIN;
  if (obj == NULL) obj = p->ctor(p->arg);
  if (obj == NULL) return GORT_ENOMEM;
  *out = obj;
  return 0;
}

int gort_pool_put(gort_pool *p, void *obj) {
  if (p == NULL || obj == NULL) return GORT_EINVAL;
  GORT__TSAN_RELEASE(obj); /* to whoever takes it */
  pcache *c = my_cache(p);
  if (c == NULL) {
    shared_push_or_destroy(p, &obj, 1);
    return 0;
  }
  if (c->n == GORT_POOL_CACHE_SLOTS) {
    /* Full: move the older half to the shared list in one locked batch, so
     * that a run of puts takes the lock once per half cache, not per put. */
    enum { HALF = GORT_POOL_CACHE_SLOTS / 2 };
    void *objs[HALF];
    size_t k = 0;
    for (int i = 0; i < HALF; i++) {
      void *o = atomic_exchange_explicit(&c->slots[i], NULL, memory_order_acq_rel);
      if (o) objs[k++] = o;
    }
    for (int i = HALF; i < GORT_POOL_CACHE_SLOTS; i++) {
      void *o = atomic_exchange_explicit(&c->slots[i], NULL, memory_order_acq_rel);
      atomic_store_explicit(&c->slots[i - HALF], o, memory_order_release);
    }
    c->n = GORT_POOL_CACHE_SLOTS - HALF;
    shared_push_or_destroy(p, objs, k);
  }
  atomic_store_explicit(&c->slots[c->n++], obj, memory_order_release);
  return 0;
}

/* Empty every cache of p and the shared list. Requires registry_lock. */
static void drain_locked(gort_pool *p) {
  for (pcache *c = p->caches; c; c = c->next) {
    void *objs[GORT_POOL_CACHE_SLOTS];
    size_t k = cache_take_all(c, objs);
    for (size_t i = 0; i < k; i++) destroy(p, objs[i]);
  }
  /* One at a time, so that the destructor never runs under p->lock. */
  for (void *obj; (obj = shared_pop(p)) != NULL;) destroy(p, obj);
}

int gort_pool_drain(gort_pool *p) {
  if (p == NULL) return GORT_EINVAL;
  pthread_mutex_lock(&registry_lock);
  drain_locked(p);
  pthread_mutex_unlock(&registry_lock);
  return 0;
}

void gort_pool_free(gort_pool *p) {
  if (p == NULL) return;
  pthread_mutex_lock(&registry_lock);
  drain_locked(p);
  while (p->caches) {
    pcache *c = p->caches;
    cache_unlink(c);
    gort__free(c);
  }
  for (gort_pool **link = &pools; *link; link = &(*link)->next) {
    if (*link == p) {
      *link = p->next;
      break;
    }
  }
  pthread_mutex_unlock(&registry_lock);
  pthread_mutex_destroy(&p->lock);
  gort__free(p->shared);
  gort__free(p);
}

size_t gort_pool_idle(gort_pool *p) {
  if (p == NULL) return 0;
  size_t n = 0;
  pthread_mutex_lock(&registry_lock);
  for (pcache *c = p->caches; c; c = c->next)
    for (int i = 0; i < GORT_POOL_CACHE_SLOTS; i++)
      if (atomic_load_explicit(&c->slots[i], memory_order_relaxed)) n++;
  pthread_mutex_lock(&p->lock);
  n += p->nshared;
  pthread_mutex_unlock(&p->lock);
  pthread_mutex_unlock(&registry_lock);
  return n;
}
