/* gort/pool.h - sync.Pool: a cache of allocated but unused objects for
 * later reuse, relieving the allocator.
 *
 * gort_pool_get returns a cached object if there is one, else a new one from
 * the constructor; gort_pool_put gives an object back. As with sync.Pool,
 * the pool may drop any object at any time (here: when the caches are full),
 * so never rely on getting back what you put: objects must be reset by the
 * user, and a pool is no place for objects that hold state to be kept.
 *
 * Structure: every thread that uses a pool gets a small private cache of
 * GORT_POOL_CACHE_SLOTS objects for it, so an uncontended get or put takes no
 * lock (a few atomic operations on memory no other thread writes, except
 * drain and free). Objects that overflow a thread's cache go to one shared
 * list under a lock, holding at most GORT_POOL_SHARED_MAX; beyond that, put
 * destroys them. A get that finds its thread's cache empty takes from the
 * shared list, and only then calls the constructor. When a thread exits,
 * its caches move to the shared lists (or are destroyed if those are full).
 *
 * Ownership: get hands the object to the caller; put hands it to the pool,
 * which destroys it with the destructor when it drops it. gort_pool_drain
 * destroys every cached object, including those in other threads' caches;
 * gort_pool_free drains and frees the pool and every per-thread cache: after
 * it, nothing the pool allocated remains. Objects that are out (got and not
 * put back) are the caller's and are never touched. With a NULL destructor
 * the pool never frees objects: dropped objects are simply forgotten (use it
 * only for objects that need no freeing).
 *
 * Concurrency: get, put, drain and gort_pool_idle may be called from any
 * number of threads and tasks at once (an object put during a drain may stay
 * cached). gort_pool_free only when no other call on the pool is in progress
 * or will follow. The constructor runs in the caller of get, outside any
 * lock; the destructor runs in put, drain, free or an exiting thread,
 * possibly under the runtime's pool registry lock: it must not call
 * gort_pool_* on the same pool (other pools are fine).
 */
#ifndef GORT_POOL_H
#define GORT_POOL_H

#include "gort/export.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GORT_POOL_CACHE_SLOTS 8
#define GORT_POOL_SHARED_MAX 128

typedef struct gort_pool gort_pool;

/* Make a new object (NULL: out of memory). */
typedef void *(*gort_pool_ctor)(void *arg);
/* Destroy an object the pool drops. */
typedef void (*gort_pool_dtor)(void *obj, void *arg);

/* A pool whose objects come from ctor (may be NULL: get then reports an
 * empty pool) and are destroyed by dtor (may be NULL, see above); arg is
 * passed to both. 0, GORT_EINVAL (out NULL), GORT_ENOMEM. */
GORT_API int gort_pool_new(gort_pool **out, gort_pool_ctor ctor, gort_pool_dtor dtor, void *arg);
/* An object, cached or new, into *out. 0; GORT_EINVAL (p or out NULL);
 * GORT_EAGAIN (nothing cached and no constructor; *out = NULL);
 * GORT_ENOMEM (the constructor returned NULL; *out = NULL). */
GORT_API int gort_pool_get(gort_pool *p, void **out);
/* Give obj back (it may be destroyed at once). 0; GORT_EINVAL (p or obj
 * NULL: nothing happens). */
GORT_API int gort_pool_put(gort_pool *p, void *obj);
/* Destroy every cached object, in every thread's cache. 0; GORT_EINVAL. */
GORT_API int gort_pool_drain(gort_pool *p);
/* Drain, then free the pool and its per-thread caches. NULL is ignored. */
GORT_API void gort_pool_free(gort_pool *p);
/* Cached objects right now, in all caches (a snapshot; 0 for NULL). */
GORT_API size_t gort_pool_idle(gort_pool *p);

#ifdef __cplusplus
}
#endif
#endif
