/* singleflight.c - golang.org/x/sync/singleflight.
 *
 * A flight (sf_call) is created by the first caller of a key and published
 * in the group's hash table; later callers of the key find it and join:
 * a do caller queues a waiter record on its own stack and waits on the
 * flight's WaitGroup, a do_chan caller queues its channel.
 *
 * Invariants:
 *  - The table maps a key to at most one flight; a flight is in the table
 *    (in_map) from its creation until its fn has returned or its key is
 *    forgotten, whichever comes first. Only flights in the table can be
 *    joined, so once the leader has taken it out (under g->lock), its lists
 *    of waiters and channels and its dups count are final.
 *  - The leader fills every waiter's value and the flight's err/shared,
 *    sends every channel its result, and only then calls wg done; a waiter
 *    reads them only after wg wait returns (the WaitGroup is the
 *    happens-before edge). The leader touches no waiter after wg done: their
 *    frames may be gone.
 *  - refs counts the leader plus every joined do caller; the last to drop it
 *    frees the flight. do_chan joiners never touch the flight after joining.
 */
#include <stdint.h>
#include <string.h>

#include "gort/singleflight.h"
#include "gort/sync.h"
#include "gort/task.h"
#include "internal.h"

typedef struct sf_waiter {
  void *val; /* this caller's value, filled by the leader */
  struct sf_waiter *next;
} sf_waiter;

typedef struct sf_chan {
  gort_chan *ch; /* a reference of our own */
  struct sf_chan *next;
} sf_chan;

typedef struct sf_call {
  struct gort_singleflight *g; /* immutable */
  char *key;                   /* immutable, owned */
  uint64_t hash;               /* immutable */
  gort_singleflight_fn fn;     /* immutable: for the do_chan task */
  void *arg;                   /* immutable */
  bool leader_is_chan;         /* immutable: started by do_chan */
  /* under g->lock while in_map; final afterwards */
  struct sf_call *hnext;
  bool in_map;
  int dups;
  sf_waiter *waiters;
  sf_chan *chans, *chans_tail;
  /* written by the leader before wg done, read by waiters after wait */
  int err;
  bool shared;
  gort_waitgroup wg;
  _Atomic int refs;
} sf_call;

struct gort_singleflight {
  gort_singleflight_dup dup; /* immutable */
  pthread_mutex_t lock;      /* protects the table and joins */
  sf_call **buckets;
  size_t nbuckets; /* a power of two */
  size_t count;
};

#define SF_INITIAL_BUCKETS 16

static uint64_t hash_key(const char *key) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
    h ^= *p;
    h *= 1099511628211ull;
  }
  return h;
}

int gort_singleflight_new(gort_singleflight **out, gort_singleflight_dup dup) {
  if (out == NULL) return GORT_EINVAL;
  gort_singleflight *g = gort__calloc(1, sizeof *g);
  if (g == NULL) return GORT_ENOMEM;
  g->buckets = gort__calloc(SF_INITIAL_BUCKETS, sizeof *g->buckets);
  if (g->buckets == NULL) {
    gort__free(g);
    return GORT_ENOMEM;
  }
  g->nbuckets = SF_INITIAL_BUCKETS;
  g->dup = dup;
  pthread_mutex_init(&g->lock, NULL);
  *out = g;
  return 0;
}

void gort_singleflight_free(gort_singleflight *g) {
  if (g == NULL) return;
  pthread_mutex_destroy(&g->lock);
  gort__free(g->buckets);
  gort__free(g);
}

/* ---- the table; all require g->lock ---- */

static sf_call *lookup(gort_singleflight *g, const char *key, uint64_t h) {
  for (sf_call *c = g->buckets[h & (g->nbuckets - 1)]; c; c = c->hnext)
    if (c->hash == h && strcmp(c->key, key) == 0) return c;
  return NULL;
}

/* Double the table when it gets crowded. Growing is an optimisation: if the
 * allocation fails, the chains just get longer. */
static void maybe_grow(gort_singleflight *g) {
  if (g->count <= 2 * g->nbuckets) return;
  size_t n = 2 * g->nbuckets;
  sf_call **b = gort__calloc(n, sizeof *b);
  if (b == NULL) return;
  for (size_t i = 0; i < g->nbuckets; i++) {
    for (sf_call *c = g->buckets[i], *next; c; c = next) {
      next = c->hnext;
      c->hnext = b[c->hash & (n - 1)];
      b[c->hash & (n - 1)] = c;
    }
  }
  gort__free(g->buckets);
  g->buckets = b;
  g->nbuckets = n;
}

static void insert(gort_singleflight *g, sf_call *c) {
  sf_call **head = &g->buckets[c->hash & (g->nbuckets - 1)];
  c->hnext = *head;
  *head = c;
  c->in_map = true;
  g->count++;
  maybe_grow(g);
}

static void remove_call(gort_singleflight *g, sf_call *c) {
  if (!c->in_map) return;
  for (sf_call **p = &g->buckets[c->hash & (g->nbuckets - 1)]; *p; p = &(*p)->hnext) {
    if (*p == c) {
      *p = c->hnext;
      break;
    }
  }
  c->hnext = NULL;
  c->in_map = false;
  g->count--;
}

/* ---- flights ---- */

static sf_call *call_new(gort_singleflight *g, const char *key, uint64_t h) {
  sf_call *c = gort__calloc(1, sizeof *c);
  if (c == NULL) return NULL;
  size_t len = strlen(key);
  c->key = gort__malloc(len + 1);
  if (c->key == NULL) {
    gort__free(c);
    return NULL;
  }
  memcpy(c->key, key, len + 1);
  c->g = g;
  c->hash = h;
  gort_waitgroup_init(&c->wg);
  gort_waitgroup_add(&c->wg, 1);
  atomic_init(&c->refs, 1);
  return c;
}

static void call_free(sf_call *c) {
  gort_waitgroup_destroy(&c->wg);
  gort__free(c->key);
  gort__free(c);
}

static void call_unref(sf_call *c) {
  if (atomic_fetch_sub(&c->refs, 1) == 1) call_free(c);
}

static void *share(gort_singleflight *g, void *val) {
  return (g->dup != NULL && val != NULL) ? g->dup(val) : val;
}

/* Run fn and hand the result to everybody in the flight. Returns the value
 * that belongs to a do leader (for a do_chan leader it went to the first
 * channel). */
static void *run_flight(sf_call *c, gort_singleflight_fn fn, void *arg) {
  gort_singleflight *g = c->g;
  void *val = NULL;
  int err = fn(arg, &val);

  pthread_mutex_lock(&g->lock);
  remove_call(g, c);
  pthread_mutex_unlock(&g->lock);
  /* Nobody can join any more: dups, waiters and chans are final. */
  c->err = err;
  c->shared = c->dups > 0;

  for (sf_waiter *w = c->waiters; w; w = w->next) w->val = share(g, val);
  bool first = c->leader_is_chan;
  for (sf_chan *n = c->chans, *next; n; n = next) {
    next = n->next;
    gort_singleflight_result r = {first ? val : share(g, val), err, c->shared};
    first = false;
    gort_chan_send(n->ch, &r); /* capacity 1, one send: never blocks */
    gort_chan_release(n->ch);
    gort__free(n);
  }
  c->chans = c->chans_tail = NULL;
  gort_waitgroup_done(&c->wg); /* no waiter may be touched after this */
  return val;
}

int gort_singleflight_do(gort_singleflight *g, const char *key, gort_singleflight_fn fn,
                         void *arg, void **val, bool *shared) {
  if (g == NULL || key == NULL || fn == NULL || val == NULL) return GORT_EINVAL;
  uint64_t h = hash_key(key);

  pthread_mutex_lock(&g->lock);
  sf_call *c = lookup(g, key, h);
  if (c != NULL) {
    sf_waiter w = {NULL, c->waiters};
    c->waiters = &w;
    c->dups++;
    atomic_fetch_add(&c->refs, 1);
    pthread_mutex_unlock(&g->lock);
    gort_waitgroup_wait(&c->wg);
    int err = c->err;
    *val = w.val;
    if (shared) *shared = true;
    call_unref(c);
    return err;
  }
  c = call_new(g, key, h);
  if (c == NULL) {
    pthread_mutex_unlock(&g->lock);
    return GORT_ENOMEM;
  }
  insert(g, c);
  pthread_mutex_unlock(&g->lock);

  *val = run_flight(c, fn, arg);
  int err = c->err;
  if (shared) *shared = c->shared;
  call_unref(c);
  return err;
}

static void flight_task(void *p) {
  sf_call *c = p;
  run_flight(c, c->fn, c->arg);
  call_unref(c);
}

int gort_singleflight_do_chan(gort_singleflight *g, const char *key, gort_singleflight_fn fn,
                              void *arg, gort_chan **out) {
  if (g == NULL || key == NULL || fn == NULL || out == NULL) return GORT_EINVAL;
  uint64_t h = hash_key(key);
  gort_chan *ch;
  int err = gort_chan_make(&ch, sizeof(gort_singleflight_result), 1);
  if (err != 0) return err;
  sf_chan *node = gort__malloc(sizeof *node);
  if (node == NULL) {
    gort_chan_release(ch);
    return GORT_ENOMEM;
  }
  *node = (sf_chan){gort_chan_retain(ch), NULL};

  pthread_mutex_lock(&g->lock);
  sf_call *c = lookup(g, key, h);
  if (c != NULL) {
    c->dups++;
  } else {
    c = call_new(g, key, h);
    if (c == NULL) {
      err = GORT_ENOMEM;
      goto fail_locked;
    }
    c->fn = fn;
    c->arg = arg;
    c->leader_is_chan = true;
    /* Spawn under the lock: if it fails, nobody has joined yet and the
     * flight can be dropped as if it never existed. */
    err = gort_go(flight_task, c);
    if (err != 0) {
      call_free(c);
      goto fail_locked;
    }
    insert(g, c);
  }
  /* Append, so that a do_chan leader's own channel stays first. */
  if (c->chans_tail) c->chans_tail->next = node;
  else c->chans = node;
  c->chans_tail = node;
  pthread_mutex_unlock(&g->lock);
  *out = ch;
  return 0;

fail_locked:
  pthread_mutex_unlock(&g->lock);
  gort_chan_release(node->ch);
  gort__free(node);
  gort_chan_release(ch);
  return err;
}

int gort_singleflight_forget(gort_singleflight *g, const char *key) {
  if (g == NULL || key == NULL) return GORT_EINVAL;
  uint64_t h = hash_key(key);
  pthread_mutex_lock(&g->lock);
  sf_call *c = lookup(g, key, h);
  if (c != NULL) remove_call(g, c);
  pthread_mutex_unlock(&g->lock);
  return 0;
}
