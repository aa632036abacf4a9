/* local.c - per-thread counters and the task-record cache (local.h). */
#include <pthread.h>
#include <stdlib.h>

#include "backend.h"
#include "hb.h"
#include "local.h"

_Thread_local gort__stats *gort__my_stats;

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static gort__stats *blocks;                 /* stats_lock */
static uint64_t retired[GORT__STAT__COUNT]; /* stats_lock: exited threads' */
static pthread_key_t stats_key;

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

gort__stats *gort__stats_attach(void) {
  gort__stats *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  /* Only the owner writes; readers load under the lock (not an edge). */
  GORT__HB_ATOMIC(s->v, sizeof s->v);
  pthread_mutex_lock(&stats_lock);
  s->next = blocks;
  if (blocks) blocks->prev = s;
  blocks = s;
  pthread_mutex_unlock(&stats_lock);
  pthread_setspecific(stats_key, s);
  gort__my_stats = s;
  return s;
}

void gort__stat_add_fn(int which, uint64_t n) { gort__stat_add_inline(which, n); }

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

/* ---- the task-record cache ---- */

static _Thread_local struct {
  void *head;
  int n;
  bool keyed; /* the drain on thread exit is armed */
} task_cache;
static pthread_key_t task_cache_key;

void *gort__task_cache_take(void) {
  void *list = task_cache.head;
  task_cache.head = NULL;
  task_cache.n = 0;
  return list;
}

static void task_cache_drain(void *unused) {
  (void)unused;
  gort__reg_drop_cached(gort__task_cache_take());
}

/* The keys exist before any thread of ours: created at load, so no thread
 * races their creation (pthread_once's fast path is a race to Helgrind). */
__attribute__((constructor)) static void local_init(void) {
  pthread_key_create(&stats_key, stats_detach);
  pthread_key_create(&task_cache_key, task_cache_drain);
}

void gort__local_thread_exit(void) {
  gort__reg_drop_cached(gort__task_cache_take());
  if (task_cache.keyed) {
    pthread_setspecific(task_cache_key, NULL);
    task_cache.keyed = false;
  }
  gort__stats *s = gort__my_stats;
  if (s) {
    pthread_setspecific(stats_key, NULL);
    stats_detach(s);
  }
}

void *gort__task_cache_get(void) {
  void *rec = task_cache.head;
  if (!rec) return NULL;
  task_cache.head = *(void **)rec;
  task_cache.n--;
  GORT__TSAN_ACQUIRE(rec); /* its put */
  return rec;
}

bool gort__task_cache_put(void *rec) {
  if (task_cache.n >= GORT__TASK_CACHE_MAX) return false;
  if (!task_cache.keyed) {
    pthread_setspecific(task_cache_key, &task_cache);
    task_cache.keyed = true;
  }
  GORT__TSAN_RELEASE(rec); /* to the spawn that takes it */
  *(void **)rec = task_cache.head;
  task_cache.head = rec;
  task_cache.n++;
  return true;
}

/* ---- task ids ---- */

static _Thread_local struct {
  uint64_t next, end;
} id_cache;

uint64_t gort__id_next(_Atomic uint64_t *gen) {
  if (id_cache.next == id_cache.end) {
    id_cache.next = atomic_fetch_add_explicit(gen, GORT__ID_BATCH, memory_order_relaxed);
    id_cache.end = id_cache.next + GORT__ID_BATCH;
  }
  return id_cache.next++;
}
