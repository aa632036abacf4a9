/* stats.c - per-thread event counters (stats.h). */
#include <pthread.h>
#include <stdlib.h>

#include "hb.h"
#include "stats.h"

_Thread_local gort__stats *gort__my_stats;

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static gort__stats *blocks;                 /* stats_lock */
static uint64_t retired[GORT__STAT__COUNT]; /* stats_lock: exited threads' */
static pthread_key_t stats_key;
static pthread_once_t stats_once = PTHREAD_ONCE_INIT;

/* At thread exit: fold the block into the totals. */
static void stats_detach(void *p) {
  gort__stats *s = p;
  pthread_mutex_lock(&stats_lock);
  for (int i = 0; i < GORT__STAT__COUNT; i++)
    retired[i] += atomic_load_explicit(&s->v[i], memory_order_relaxed);
  if (s->prev)
    s->prev->next = s->next;
  else
    blocks = s->next;
  if (s->next) s->next->prev = s->prev;
  pthread_mutex_unlock(&stats_lock);
  if (gort__my_stats == s) gort__my_stats = NULL;
  free(s); /* malloc's own: the counters do not count themselves */
}

static void make_stats_key(void) { pthread_key_create(&stats_key, stats_detach); }

gort__stats *gort__stats_attach(void) {
  gort__stats *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  /* Only the owner writes; readers load under the lock (not an edge). */
  GORT__HB_ATOMIC(s->v, sizeof s->v);
  pthread_once(&stats_once, make_stats_key);
  pthread_mutex_lock(&stats_lock);
  s->next = blocks;
  if (blocks) blocks->prev = s;
  blocks = s;
  pthread_mutex_unlock(&stats_lock);
  pthread_setspecific(stats_key, s);
  gort__my_stats = s;
  return s;
}

void gort__stats_fork_lock(void) { pthread_mutex_lock(&stats_lock); }
void gort__stats_fork_unlock(void) { pthread_mutex_unlock(&stats_lock); }

void gort__stats_sum(uint64_t out[GORT__STAT__COUNT]) {
  pthread_mutex_lock(&stats_lock);
  for (int i = 0; i < GORT__STAT__COUNT; i++) out[i] = retired[i];
  for (gort__stats *s = blocks; s; s = s->next)
    for (int i = 0; i < GORT__STAT__COUNT; i++)
      out[i] += atomic_load_explicit(&s->v[i], memory_order_relaxed);
  pthread_mutex_unlock(&stats_lock);
}
