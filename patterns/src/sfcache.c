/* sfcache.c - singleflight cache (gortp/sfcache.h).
 *
 * Invariants: a value enters the map once per key (set_if_absent) and stays
 * until gortp_sfcache_free, so a pointer from the map stays valid; the
 * flight's loader stores the value before the flight completes, so every
 * caller of the flight can return the stored pointer.
 */
#include "gortp/sfcache.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "gort/singleflight.h"
#include "gortp/shardmap.h"

struct gortp_sfcache {
  gortp_sfcache_fn load;
  void *arg;
  void (*free_value)(void *);
  gortp_shardmap *map;     /* key -> value, owns values */
  gort_singleflight *group; /* no dup: values are the map's */
  _Atomic uint64_t loads;
};

int gortp_sfcache_new(gortp_sfcache **out, gortp_sfcache_fn load, void *arg,
                      void (*free_value)(void *value)) {
  if (!out || !load) return GORT_EINVAL;
  gortp_sfcache *c = calloc(1, sizeof *c);
  if (!c) return GORT_ENOMEM;
  c->load = load;
  c->arg = arg;
  c->free_value = free_value;
  int r = gortp_shardmap_new(&c->map, 16, NULL, free_value);
  if (r == 0) {
    r = gort_singleflight_new(&c->group, NULL);
    if (r != 0) gortp_shardmap_free(c->map);
  }
  if (r != 0) {
    free(c);
    return r;
  }
  *out = c;
  return 0;
}

void gortp_sfcache_free(gortp_sfcache *c) {
  if (!c) return;
  gort_singleflight_free(c->group);
  gortp_shardmap_free(c->map);
  free(c);
}

typedef struct {
  gortp_sfcache *c;
  const char *key;
} flight_arg;

static int flight(void *p, void **result) {
  flight_arg *a = p;
  gortp_sfcache *c = a->c;
  /* A flight that finished just before this one started has stored it. */
  if (gortp_shardmap_get(c->map, a->key, result)) return 0;
  atomic_fetch_add(&c->loads, 1);
  void *v = NULL;
  int r = c->load(c->arg, a->key, &v);
  if (r != 0) {
    if (v && c->free_value) c->free_value(v);
    return r;
  }
  void *existing;
  r = gortp_shardmap_set_if_absent(c->map, a->key, v, &existing);
  if (r == GORT_EAGAIN) { /* cannot happen while flights are per key; be safe */
    if (v && c->free_value) c->free_value(v);
    v = existing;
    r = 0;
  } else if (r != 0) {
    if (v && c->free_value) c->free_value(v);
    return r;
  }
  *result = v;
  return 0;
}

int gortp_sfcache_get(gortp_sfcache *c, const char *key, void **value, bool *shared) {
  if (!c || !key || !value) return GORT_EINVAL;
  if (shared) *shared = false;
  if (gortp_shardmap_get(c->map, key, value)) return 0; /* hit */
  flight_arg a = {c, key};
  return gort_singleflight_do(c->group, key, flight, &a, value, shared);
}

uint64_t gortp_sfcache_loads(gortp_sfcache *c) { return c ? atomic_load(&c->loads) : 0; }
