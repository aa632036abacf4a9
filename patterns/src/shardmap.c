/* shardmap.c - sharded map (gortp/shardmap.h).
 *
 * Invariants:
 *  - a key lives in shard hash(key) % nshards, in bucket
 *    (hash(key) / nshards) % nbuckets of that shard's chained table;
 *  - everything in a shard (its table, entries, count) is protected by the
 *    shard's rwmutex: readers hold it shared, writers exclusive;
 *  - dup and free_value run under the shard's lock (they must not call back
 *    into the map).
 */
#include "gortp/shardmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gort/sync.h"

typedef struct entry {
  struct entry *next;
  uint64_t hash;
  void *value;
  char key[];
} entry;

typedef struct {
  gort_rwmutex lock; /* protects the fields below */
  entry **buckets;
  size_t nbuckets;
  size_t count;
} shard;

struct gortp_shardmap {
  size_t nshards;
  void *(*dup)(void *);
  void (*free_value)(void *);
  shard shards[];
};

/* FNV-1a: simple, good enough spread for string keys. */
static uint64_t hash_key(const char *k) {
  uint64_t h = 14695981039346656037ull;
  for (const unsigned char *p = (const unsigned char *)k; *p; p++) h = (h ^ *p) * 1099511628211ull;
  return h;
}

int gortp_shardmap_new(gortp_shardmap **out, size_t nshards, void *(*dup)(void *value),
                       void (*free_value)(void *value)) {
  if (!out || nshards == 0) return GORT_EINVAL;
  gortp_shardmap *m = calloc(1, sizeof *m + nshards * sizeof(shard));
  if (!m) return GORT_ENOMEM;
  m->nshards = nshards;
  m->dup = dup;
  m->free_value = free_value;
  for (size_t i = 0; i < nshards; i++) {
    shard *s = &m->shards[i];
    gort_rwmutex_init(&s->lock);
    s->nbuckets = 8;
    s->buckets = calloc(s->nbuckets, sizeof *s->buckets);
    if (!s->buckets) {
      m->nshards = i + 1;
      gortp_shardmap_free(m);
      return GORT_ENOMEM;
    }
  }
  *out = m;
  return 0;
}

static void drop_value(gortp_shardmap *m, void *v) {
  if (m->free_value && v) m->free_value(v);
}

void gortp_shardmap_free(gortp_shardmap *m) {
  if (!m) return;
  for (size_t i = 0; i < m->nshards; i++) {
    shard *s = &m->shards[i];
    for (size_t b = 0; s->buckets && b < s->nbuckets; b++) {
      for (entry *e = s->buckets[b], *next; e; e = next) {
        next = e->next;
        drop_value(m, e->value);
        free(e);
      }
    }
    free(s->buckets);
    gort_rwmutex_destroy(&s->lock);
  }
  free(m);
}

static shard *shard_for(gortp_shardmap *m, uint64_t h) { return &m->shards[h % m->nshards]; }

static size_t bucket_of(gortp_shardmap *m, shard *s, uint64_t h) {
  return (size_t)((h / m->nshards) % s->nbuckets);
}

/* Find key in s; lock held. */
static entry **find(gortp_shardmap *m, shard *s, const char *key, uint64_t h) {
  entry **pp = &s->buckets[bucket_of(m, s, h)];
  for (; *pp; pp = &(*pp)->next)
    if ((*pp)->hash == h && strcmp((*pp)->key, key) == 0) break;
  return pp;
}

/* Double the table when it gets crowded; write lock held. Failure to grow
 * only makes chains longer. */
static void maybe_grow(gortp_shardmap *m, shard *s) {
  if (s->count <= 2 * s->nbuckets) return;
  size_t nb = s->nbuckets * 2;
  entry **nbk = calloc(nb, sizeof *nbk);
  if (!nbk) return;
  for (size_t b = 0; b < s->nbuckets; b++) {
    for (entry *e = s->buckets[b], *next; e; e = next) {
      next = e->next;
      size_t i = (size_t)((e->hash / m->nshards) % nb);
      e->next = nbk[i];
      nbk[i] = e;
    }
  }
  free(s->buckets);
  s->buckets = nbk;
  s->nbuckets = nb;
}

static void *out_value(gortp_shardmap *m, void *v) { return m->dup && v ? m->dup(v) : v; }

bool gortp_shardmap_get(gortp_shardmap *m, const char *key, void **value) {
  if (!m || !key) return false;
  uint64_t h = hash_key(key);
  shard *s = shard_for(m, h);
  gort_rwmutex_rlock(&s->lock);
  entry *e = *find(m, s, key, h);
  if (e && value) *value = out_value(m, e->value);
  gort_rwmutex_runlock(&s->lock);
  return e != NULL;
}

static int put(gortp_shardmap *m, const char *key, void *value, bool replace, void **existing) {
  if (!m || !key) return GORT_EINVAL;
  uint64_t h = hash_key(key);
  shard *s = shard_for(m, h);
  size_t klen = strlen(key);
  entry *fresh = malloc(sizeof *fresh + klen + 1); /* outside the lock */
  if (!fresh) return GORT_ENOMEM;
  gort_rwmutex_lock(&s->lock);
  entry **pp = find(m, s, key, h);
  int r = 0;
  if (*pp) {
    if (replace) {
      void *old = (*pp)->value;
      (*pp)->value = value;
      drop_value(m, old);
    } else {
      if (existing) *existing = out_value(m, (*pp)->value);
      r = GORT_EAGAIN;
    }
    gort_rwmutex_unlock(&s->lock);
    free(fresh);
    return r;
  }
  fresh->hash = h;
  fresh->value = value;
  memcpy(fresh->key, key, klen + 1);
  fresh->next = NULL;
  *pp = fresh;
  s->count++;
  maybe_grow(m, s);
  gort_rwmutex_unlock(&s->lock);
  return 0;
}

int gortp_shardmap_set(gortp_shardmap *m, const char *key, void *value) {
  return put(m, key, value, true, NULL);
}

int gortp_shardmap_set_if_absent(gortp_shardmap *m, const char *key, void *value,
                                 void **existing) {
  return put(m, key, value, false, existing);
}

int gortp_shardmap_delete(gortp_shardmap *m, const char *key) {
  if (!m || !key) return GORT_EINVAL;
  uint64_t h = hash_key(key);
  shard *s = shard_for(m, h);
  gort_rwmutex_lock(&s->lock);
  entry **pp = find(m, s, key, h), *e = *pp;
  if (e) {
    *pp = e->next;
    s->count--;
    drop_value(m, e->value);
  }
  gort_rwmutex_unlock(&s->lock);
  free(e);
  return e ? 0 : GORT_ENOTFOUND;
}

size_t gortp_shardmap_len(gortp_shardmap *m) {
  if (!m) return 0;
  size_t n = 0;
  for (size_t i = 0; i < m->nshards; i++) {
    gort_rwmutex_rlock(&m->shards[i].lock);
    n += m->shards[i].count;
    gort_rwmutex_runlock(&m->shards[i].lock);
  }
  return n;
}

void gortp_shardmap_keys_free(char **keys, size_t n) {
  if (!keys) return;
  for (size_t i = 0; i < n; i++) free(keys[i]);
  free(keys);
}

int gortp_shardmap_keys(gortp_shardmap *m, char ***keys, size_t *n) {
  if (!m || !keys || !n) return GORT_EINVAL;
  size_t cap = 16, len = 0;
  char **out = malloc(cap * sizeof *out);
  if (!out) return GORT_ENOMEM;
  int r = 0;
  for (size_t i = 0; i < m->nshards && r == 0; i++) {
    shard *s = &m->shards[i];
    gort_rwmutex_rlock(&s->lock);
    for (size_t b = 0; b < s->nbuckets && r == 0; b++) {
      for (entry *e = s->buckets[b]; e && r == 0; e = e->next) {
        if (len == cap) {
          char **grown = realloc(out, 2 * cap * sizeof *out);
          if (!grown) {
            r = GORT_ENOMEM;
            break;
          }
          out = grown;
          cap *= 2;
        }
        if (!(out[len] = strdup(e->key))) r = GORT_ENOMEM;
        else len++;
      }
    }
    gort_rwmutex_runlock(&s->lock);
  }
  if (r != 0) {
    gortp_shardmap_keys_free(out, len);
    return r;
  }
  *keys = out;
  *n = len;
  return 0;
}

size_t gortp_shardmap_shard_of(gortp_shardmap *m, const char *key) {
  return m && key ? (size_t)(hash_key(key) % m->nshards) : 0;
}
