/* gortp/sfcache.h - a cache that loads each missing key once, however many
 * tasks ask for it at the same time (singleflight + a sharded map).
 *
 * Seed: 001 "Pattern 7: Singleflight (Deduplicate Concurrent Calls)"
 * (UserCache.GetUser: "If 100 goroutines request the same user
 * simultaneously, only one DB query runs. All 100 get the same result."
 * and "singleflight deduplicates in-flight requests while the cache
 * deduplicates across time").
 *
 * get(key): a hit is served from the map under a shard read lock; a miss
 * joins (or starts) the key's flight, whose loader stores a successful value
 * in the map before the flight ends, so every caller of the flight and every
 * later caller gets that same stored value. Errors are not cached: the next
 * get after a failed flight loads again.
 *
 * The seed's closure queries with the first caller's ctx: if that caller is
 * cancelled, all 100 callers get its cancellation. load here runs without
 * any caller's context; callers needing a bound wrap get in their own
 * timeout (gortp/future.h) instead.
 *
 * Ownership: the cache owns loaded values (free_value at gortp_sfcache_free);
 * get hands out borrowed pointers, valid until the cache is freed (values
 * are never replaced). Keys are copied.
 */
#ifndef GORTP_SFCACHE_H
#define GORTP_SFCACHE_H

#include "gort/export.h"

#include <stdbool.h>
#include <stdint.h>

#include "gort/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Load the value for key: set *value, return 0 or an error code (a value
 * set alongside an error is passed to free_value). */
typedef int (*gortp_sfcache_fn)(void *arg, const char *key, void **value);

typedef struct gortp_sfcache gortp_sfcache;

GORT_API int gortp_sfcache_new(gortp_sfcache **out, gortp_sfcache_fn load, void *arg,
                               void (*free_value)(void *value));
/* Free the cache and its values; no get may be running. */
GORT_API void gortp_sfcache_free(gortp_sfcache *c);
/* The value for key, loading it if needed. 0 with *value; load's error;
 * GORT_EINVAL; GORT_ENOMEM. *shared (may be NULL) is true when the value
 * came from a flight that served more than one caller. */
GORT_API int gortp_sfcache_get(gortp_sfcache *c, const char *key, void **value, bool *shared);
/* How many times load has been called. */
GORT_API uint64_t gortp_sfcache_loads(gortp_sfcache *c);

#ifdef __cplusplus
}
#endif
#endif
