/* gortp/shardmap.h - a sharded map: one read-write lock per shard, so
 * tasks working on different keys rarely contend.
 *
 * Seed: 002 "Sharding" (ShardedMap[V]: NewShardedMap(5), Set("alpha", 1),
 * Set("beta", 2), Set("gamma", 3), Get, Keys).
 *
 * Keys are NUL-terminated strings (copied). Values are void *; the map owns
 * them if free_value is given (it is called when a value is replaced,
 * deleted, or the map is freed).
 *
 * Reading values safely without a GC: get copies the value out under the
 * shard's read lock through the map's dup function (a new reference, or a
 * copy), so the caller owns what it gets. Without dup, get returns the
 * stored pointer itself, which stays valid only until that key is next set
 * or deleted (fine for values that are never replaced, like a cache's).
 *
 * keys() takes each shard's read lock in turn: each shard is consistent, the
 * whole is not a snapshot (as in Go).
 *
 * Concurrency: every call except free from any number of tasks at once.
 */
#ifndef GORTP_SHARDMAP_H
#define GORTP_SHARDMAP_H

#include "gort/export.h"

#include <stdbool.h>
#include <stddef.h>

#include "gort/err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gortp_shardmap gortp_shardmap;

/* nshards >= 1. dup and free_value may be NULL. 0, GORT_EINVAL,
 * GORT_ENOMEM. */
GORT_API int gortp_shardmap_new(gortp_shardmap **out, size_t nshards, void *(*dup)(void *value),
                                void (*free_value)(void *value));
GORT_API void gortp_shardmap_free(gortp_shardmap *m);

/* True and *value (may be NULL) set when key is present; *value is left
 * untouched otherwise (the seed's Get returns V's zero value then). */
GORT_API bool gortp_shardmap_get(gortp_shardmap *m, const char *key, void **value);
/* Insert or replace. 0, GORT_EINVAL, GORT_ENOMEM (the map is unchanged). */
GORT_API int gortp_shardmap_set(gortp_shardmap *m, const char *key, void *value);
/* Insert only if absent. 0 (inserted), GORT_EAGAIN (present: *existing,
 * if not NULL, gets the stored value as get would return it; value is not
 * stored and stays the caller's), GORT_EINVAL, GORT_ENOMEM. */
GORT_API int gortp_shardmap_set_if_absent(gortp_shardmap *m, const char *key, void *value,
                                          void **existing);
/* 0, or GORT_ENOTFOUND. */
GORT_API int gortp_shardmap_delete(gortp_shardmap *m, const char *key);
GORT_API size_t gortp_shardmap_len(gortp_shardmap *m);
/* Every key, as a malloc'd array of malloc'd strings (free with
 * gortp_shardmap_keys_free). 0, GORT_EINVAL, GORT_ENOMEM. */
GORT_API int gortp_shardmap_keys(gortp_shardmap *m, char ***keys, size_t *n);
GORT_API void gortp_shardmap_keys_free(char **keys, size_t n);
/* The shard index a key maps to (for tests and diagnostics). */
GORT_API size_t gortp_shardmap_shard_of(gortp_shardmap *m, const char *key);

#ifdef __cplusplus
}
#endif
#endif
