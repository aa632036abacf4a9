/* registry.c - every live task, whatever backend runs it: spawn records,
 * adoption of threads gort did not start, counters, snapshots, fork, start-up.
 *
 * Invariants:
 *  - Every live task is on the registry list (gort__reg_lock). A spawned
 *    task is registered before the backend can run it and unregistered by
 *    gort__task_exit after fn returns; then the record is freed (to its
 *    thread's cache of records, below).
 *  - adopted_alive counts adopted threads (main = task 1, and foreign
 *    threads that call into gort); the backend counts its own threads.
 * Lock order: gort__reg_lock is never held while a backend lock is taken,
 * except around fork(); rec_pool_lock (the shared pool of cached records)
 * is taken alone, or after gort__reg_lock around fork().
 */
#include <execinfo.h>
#include <limits.h>
#include <linux/membarrier.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backend.h"
#include "hb.h"
#include "local.h"
#include "lock.h"
#include "threads/token.h"

#if defined(__SANITIZE_ADDRESS__)
#define GORT_REG_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GORT_REG_ASAN 1
#endif
#endif
#ifdef GORT_REG_ASAN
#include <sanitizer/asan_interface.h>
#define GORT__ASAN_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define GORT__ASAN_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define GORT__ASAN_POISON(p, n) ((void)(p), (void)(n))
#define GORT__ASAN_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* The words every spawn, exit or park writes each have a cache line, away
 * from each other and from those every spawn only reads (configuration,
 * the backend): under the M:N backend one worker spawns while another
 * exits, and a shared line moved between them on every task. */
#define GORT__OWN_LINE _Alignas(64)
GORT__OWN_LINE pthread_mutex_t gort__reg_lock = PTHREAD_MUTEX_INITIALIZER;
gort__task *gort__reg_head;
GORT__OWN_LINE static _Atomic uint64_t next_id = 1;
static _Atomic int64_t peak_live; /* beside next_id: both the spawner's */
GORT__OWN_LINE _Atomic int64_t gort__live_count;
GORT__OWN_LINE _Atomic int64_t gort__parked_count;
GORT__OWN_LINE _Atomic int64_t gort__adopted_alive;
static _Atomic int64_t timers_pending;
static _Atomic int fail_thread_creates;
static _Atomic bool spawn_traces;
static _Atomic size_t stack_size;

_Thread_local gort__task *gort__tls_task;
static pthread_key_t adopted_key;
static pthread_once_t adopted_key_once = PTHREAD_ONCE_INIT;

const gort__backend *gort__be = &gort__threads_backend;

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

static void reg_count_live(void) {
  int64_t n = atomic_fetch_add(&gort__live_count, 1) + 1;
  int64_t peak = atomic_load(&peak_live);
  while (n > peak && !atomic_compare_exchange_weak(&peak_live, &peak, n)) {
  }
}

/* Publish t, filled in, as a live task. A record from the cache is listed
 * already: a release store publishes it, without the registry lock. */
static void reg_insert(gort__task *t, bool listed) {
  if (listed) {
    GORT__HB_BEFORE(&t->reg_alive);
    atomic_store_explicit(&t->reg_alive, true, memory_order_release);
  } else {
    GORT__HB_ATOMIC(&t->reg_alive, sizeof t->reg_alive);
    pthread_mutex_lock(&gort__reg_lock);
    atomic_store_explicit(&t->reg_alive, true, memory_order_relaxed);
    t->reg_prev = NULL;
    t->reg_next = gort__reg_head;
    if (gort__reg_head) gort__reg_head->reg_prev = t;
    gort__reg_head = t;
    pthread_mutex_unlock(&gort__reg_lock);
  }
  reg_count_live();
}

static void reg_unlink(gort__task *t) {
  if (t->reg_prev)
    t->reg_prev->reg_next = t->reg_next;
  else
    gort__reg_head = t->reg_next;
  if (t->reg_next) t->reg_next->reg_prev = t->reg_prev;
}

/* Set while a reader walks the list and reads live records' fields (a
 * snapshot, a dump), under gort__reg_lock; read by reg_remove. */
static _Atomic bool reg_reading;

/* Readers are rare (a snapshot, a dump) and exits are not: with the
 * kernel's membarrier, a reader makes every running thread of the process
 * execute a full barrier, and an exit needs only a compiler barrier
 * between its store and its load (the asymmetric fence of liburcu). Chosen
 * once at load, before any task: both sides read it unchanged. */
static bool reg_membarrier;

static void reg_membarrier_init(void) {
  long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
  if (cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
      syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0)
    reg_membarrier = true;
}

void gort__reg_read_begin(void) {
  atomic_store(&reg_reading, true); /* seq_cst, before any reg_alive load */
  if (reg_membarrier && syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
    gort__fatal("registry: membarrier failed after it was registered");
}

void gort__reg_read_end(void) {
  GORT__HB_BEFORE(&reg_reading);
  atomic_store_explicit(&reg_reading, false, memory_order_release);
}

/* t is no longer a live task; once this returns no reader is reading its
 * fields. keep: it stays listed, for the cache.
 *
 * Kept, it needs no lock (a spawn/exit pair took the registry lock twice,
 * a tenth of a green spawn's CPU, and it was the one lock every worker's
 * exits shared). The exit stores reg_alive false, then loads reg_reading; a
 * reader stores reg_reading true, then loads reg_alive (gort__reg_alive).
 * All four are seq_cst (Dekker; no fences, which ThreadSanitizer does not
 * model), or, with membarrier (above), the reader's barrier on every
 * thread stands in for the exit's: either the reader sees false and skips
 * t, or this sees the reader and waits for it by taking the lock. Seeing
 * false from a reader's end acquires that reader's reads of t. */
static void reg_remove(gort__task *t, bool keep) {
  if (keep) {
    if (reg_membarrier) {
      atomic_store_explicit(&t->reg_alive, false, memory_order_relaxed);
      __asm__ __volatile__("" ::: "memory"); /* the reader's membarrier is the fence */
    } else {
      atomic_store(&t->reg_alive, false);
    }
    if (atomic_load(&reg_reading)) {
      pthread_mutex_lock(&gort__reg_lock);
      pthread_mutex_unlock(&gort__reg_lock);
    } else {
      GORT__HB_AFTER(&reg_reading);
    }
  } else {
    pthread_mutex_lock(&gort__reg_lock);
    atomic_store_explicit(&t->reg_alive, false, memory_order_relaxed);
    reg_unlink(t);
    pthread_mutex_unlock(&gort__reg_lock);
  }
  atomic_fetch_sub(&gort__live_count, 1);
}

/* ---- adoption of threads gort did not start ---- */

/* An adopted thread's task and the thread record it blocks on, in one
 * allocation (the task first, so freeing the task frees both). */
typedef struct {
  gort__task task;
  gort__thread thread;
} adopted_rec;

static void adopted_exit(void *p) {
  gort__task *t = p;
  reg_remove(t, false);
  atomic_fetch_sub(&gort__adopted_alive, 1);
  gort__tls_task = NULL;
  gort__free(t);
}

static void make_adopted_key(void) { pthread_key_create(&adopted_key, adopted_exit); }

/* The fields a snapshot or a waker reads while the task runs are atomics
 * with no happens-before edge to carry: Valgrind's thread checkers, which do
 * not know atomics, must not race-check them (hb.h). */
static void task_atomics_unchecked(gort__task *t) {
  GORT__HB_ATOMIC(&t->tid, sizeof t->tid);
  GORT__HB_ATOMIC(&t->state, sizeof t->state);
  GORT__HB_ATOMIC(&t->wait_reason, sizeof t->wait_reason);
  GORT__HB_ATOMIC(&t->waiting_since, sizeof t->waiting_since);
  GORT__HB_ATOMIC(&t->select_done, sizeof t->select_done);
}

static gort__task *adopt(void) {
  adopted_rec *r = gort__calloc(1, sizeof *r);
  if (!r) return NULL;
  gort__task *t = &r->task;
  task_atomics_unchecked(t);
  t->id = atomic_fetch_add(&next_id, 1);
  t->adopted = true;
  gort__thread_record_init(&r->thread);
  r->thread.tid = gettid_();
  t->thread = &r->thread;
  atomic_store_explicit(&t->tid, r->thread.tid, memory_order_relaxed);
  t->spawned_at = gort__nanotime_coarse();
  gort__tls_task = t;
  atomic_fetch_add(&gort__adopted_alive, 1);
  reg_insert(t, false);
  /* The main thread's record lives until exit; others go with their thread. */
  if (atomic_load_explicit(&t->tid, memory_order_relaxed) != getpid()) {
    pthread_once(&adopted_key_once, make_adopted_key);
    pthread_setspecific(adopted_key, t);
  }
  return t;
}

gort__task *gort__current(void) {
  gort__task *t = gort__tls_task;
  return t ? t : adopt();
}

/* ---- configuration ---- */

static size_t parse_size(const char *s) {
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (*end == 'k' || *end == 'K') v <<= 10;
  if (*end == 'm' || *end == 'M') v <<= 20;
  return (size_t)v;
}

size_t gort_get_stack_size(void) {
  size_t s = atomic_load(&stack_size);
  if (s == 0) {
    const char *env = getenv("GORT_STACK_SIZE");
    s = env ? parse_size(env) : 0;
    if (s == 0) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
      s = 1u << 20; /* sanitizers grow frames and need shadow room */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
      s = 1u << 20;
#else
      s = 256u << 10;
#endif
#else
      s = 256u << 10;
#endif
    }
    if (s < (size_t)PTHREAD_STACK_MIN) s = (size_t)PTHREAD_STACK_MIN;
    atomic_store(&stack_size, s);
  }
  return s;
}

int gort_set_stack_size(size_t bytes) {
  if (bytes == 0) return GORT_EINVAL;
  if (bytes < (size_t)PTHREAD_STACK_MIN) bytes = (size_t)PTHREAD_STACK_MIN;
  atomic_store(&stack_size, bytes);
  return 0;
}

const char *gort_backend_name(void) { return gort__be->name; }

/* Set once a task was spawned: the backend is fixed from then on. */
static _Atomic bool spawned_any;

static const gort__backend *backend_named(const char *name) {
  if (!name) return NULL;
  if (strcmp(name, "thread") == 0 || strcmp(name, "threads") == 0) return &gort__threads_backend;
  if (strcmp(name, "mn") == 0) return &gort__mn_backend;
  return NULL;
}

int gort_set_backend(const char *name) {
  const gort__backend *b = backend_named(name);
  if (!b || atomic_load(&spawned_any)) return GORT_EINVAL;
  gort__be = b;
  return 0;
}

void gort_syscall_enter(void) { gort__be->syscall_enter(); }
void gort_syscall_exit(void) { gort__be->syscall_exit(); }

void gort_set_spawn_traces(bool on) { atomic_store(&spawn_traces, on); }
void gort_debug_fail_thread_create(int n) { atomic_store(&fail_thread_creates, n); }

/* ---- task records ---- */

/* Freed task records are kept per thread for the next spawn there, as Go
 * reuses its gs: malloc and free cost a fifth of a green spawn, and a record
 * freed on another worker than the one that allocated it contends for
 * malloc's arena lock. A cached record stays on the registry list (not
 * alive), as Go's allgs keeps dead gs, so its next spawn publishes it
 * without the registry lock. The cache is bounded, drained when its thread
 * exits, bypassed while a user allocator is set, and its records count as
 * freed (gort_counters); ASan sees all but the link and the registry fields
 * as freed memory. The cache itself is per-thread state (local.c). */

/* The fields a spawn fills in: everything before the registry's. */
#define TASK_FIELDS offsetof(gort__task, reg_prev)

/* A thread's cached records, taken back when it exits (local.c): off the
 * list and freed (they were counted freed when cached). */
void gort__reg_drop_cached(void *list) {
  if (!list) return;
  pthread_mutex_lock(&gort__reg_lock);
  for (void *c = list; c; c = *(void **)c) {
    GORT__ASAN_UNPOISON(c, sizeof(gort__task));
    reg_unlink(c);
  }
  pthread_mutex_unlock(&gort__reg_lock);
  while (list) {
    void *c = list;
    list = *(void **)c;
    free(c); /* malloc's: the cache holds no other */
  }
}

/* The shared pool of cached records, as Go's sched.gFree behind each P's
 * gFree: a task spawned on one thread often exits on another (NaiveSpawn's
 * spawner never exits anything, the worker that runs its tasks exits them
 * all), so per-thread caches alone run dry on one side and overflow on the
 * other, back to malloc, free and the registry lock. A full cache moves half
 * of itself here, an empty one takes a batch back, one lock per REC_BATCH
 * records. Pooled records stay listed (not alive) and count as freed, as
 * cached ones do. Bounded (beyond 16384 they are unlisted and freed);
 * a forked child forgets it. */
#define REC_BATCH (GORT__TASK_CACHE_MAX / 2)
#define REC_POOL_BATCHES (16384 / REC_BATCH) /* 16384 records */
/* A stack of whole batches: a lock holds for a push or a pop, never for a
 * walk through records another thread wrote last (a cache miss each). */
static gort__lock rec_pool_lock;
static void *rec_pool[REC_POOL_BATCHES]; /* rec_pool_lock; each a chain through first words */
static int rec_pool_len[REC_POOL_BATCHES], rec_pool_batches; /* rec_pool_lock */
static _Atomic int rec_pool_n; /* records; written under rec_pool_lock, read alone as a hint */

/* The calling thread's cache is full: move a batch to the pool. */
static void rec_pool_spill(void) {
  void *batch = NULL;
  int n = 0;
  for (void *c; n < REC_BATCH && (c = gort__task_cache_get()) != NULL; n++) {
    *(void **)c = batch;
    batch = c;
  }
  if (!batch) return;
  gort__lock_acquire(&rec_pool_lock);
  bool pooled = rec_pool_batches < REC_POOL_BATCHES;
  if (pooled) {
    rec_pool[rec_pool_batches] = batch;
    rec_pool_len[rec_pool_batches++] = n;
    atomic_store_explicit(&rec_pool_n, atomic_load_explicit(&rec_pool_n, memory_order_relaxed) + n,
                          memory_order_relaxed);
  }
  gort__lock_release(&rec_pool_lock);
  if (!pooled) gort__reg_drop_cached(batch);
}

/* The calling thread's cache is empty: take a batch from the pool. */
static void rec_pool_refill(void) {
  if (atomic_load_explicit(&rec_pool_n, memory_order_relaxed) == 0) return; /* a hint */
  void *batch = NULL;
  gort__lock_acquire(&rec_pool_lock);
  if (rec_pool_batches > 0) {
    batch = rec_pool[--rec_pool_batches];
    atomic_store_explicit(&rec_pool_n,
                          atomic_load_explicit(&rec_pool_n, memory_order_relaxed) -
                              rec_pool_len[rec_pool_batches],
                          memory_order_relaxed);
  }
  gort__lock_release(&rec_pool_lock);
  while (batch) {
    void *c = batch;
    batch = *(void **)c;
    gort__task_cache_put(c); /* it was empty: room for a batch */
  }
}

/* A record for a spawn, its fields (not the links) cleared; *listed: it is
 * on the registry list already (from the cache). */
static gort__task *task_alloc(bool *listed) {
  gort__task *t = NULL;
  if (gort__allocator_default() && !(t = gort__task_cache_get())) {
    rec_pool_refill();
    t = gort__task_cache_get();
  }
  if (t) {
    GORT__ASAN_UNPOISON(t, TASK_FIELDS);
    gort__count_alloc(sizeof *t);
    *listed = true;
  } else {
    if (!(t = gort__malloc(sizeof *t))) return NULL;
    *listed = false;
  }
  memset(t, 0, TASK_FIELDS);
  return t;
}

/* Retire a task's record: unregister it, then cache or free it. */
static void task_retire(gort__task *t) {
  bool keep = gort__allocator_default();
  reg_remove(t, keep);
  gort__free(t->spawn_stack);
  if (keep && !gort__task_cache_put(t)) {
    rec_pool_spill();
    if (!gort__task_cache_put(t)) { /* cannot happen: room was made */
      pthread_mutex_lock(&gort__reg_lock);
      reg_unlink(t);
      pthread_mutex_unlock(&gort__reg_lock);
      keep = false;
    }
  }
  if (keep) {
    gort__count_free();
    GORT__ASAN_POISON((char *)t + sizeof(void *), TASK_FIELDS - sizeof(void *));
    return;
  }
  gort__free(t);
}

/* ---- spawn and exit ---- */

int gort_go_at(gort_task_fn fn, void *arg, const char *name, const char *file, int line) {
  if (!fn) return GORT_EINVAL;
  int fail = atomic_load_explicit(&fail_thread_creates, memory_order_relaxed);
  while (fail > 0) {
    if (atomic_compare_exchange_weak(&fail_thread_creates, &fail, fail - 1)) return GORT_ETHREAD;
  }
  if (!atomic_load_explicit(&spawned_any, memory_order_relaxed)) atomic_store(&spawned_any, true);
  gort__task *parent = gort__tls_task; /* no adoption: a spawn never blocks (task.h) */
  bool listed;
  gort__task *t = task_alloc(&listed);
  if (!t) return GORT_ENOMEM;
  task_atomics_unchecked(t);
  t->id = gort__id_next(&next_id);
  if (name) snprintf(t->name, sizeof t->name, "%s", name);
  t->fn = fn;
  t->arg = arg;
  t->parent_id = parent ? parent->id : 0;
  t->file = file;
  t->line = line;
  t->spawn_pc = __builtin_return_address(0);
  if (atomic_load_explicit(&spawn_traces, memory_order_relaxed))
    if ((t->spawn_stack = gort__malloc(GORT_SPAWN_FRAMES * sizeof(void *))) != NULL)
      t->spawn_depth = backtrace(t->spawn_stack, GORT_SPAWN_FRAMES);
  t->spawned_at = gort__nanotime_coarse(); /* 3 ns; the precise clock costs 20 */
  reg_insert(t, listed);
  int rc = gort__be->start(t);
  if (rc != 0) {
    task_retire(t);
    return rc;
  }
  gort__stat_add(GORT__STAT_SPAWNED, 1);
  return 0;
}

void gort__task_exit(gort__task *t) {
  task_retire(t);
  gort__stat_add(GORT__STAT_EXITED, 1);
  /* The last running task may be this one (Go checks when an M exits too). */
  gort__deadlock_check();
}

uint64_t gort_task_id(void) {
  gort__task *t = gort__current();
  return t ? t->id : 0;
}

int gort_num_tasks(void) {
  gort__current(); /* the caller counts, as main does in Go */
  return (int)atomic_load(&gort__live_count);
}

void gort_yield(void) { gort__be->yield(); }

/* ---- runtime helper threads ---- */

void gort_runtime_quiesce(void) {
  gort__be->quiesce();
  gort__timer_thread_quiesce();
}

size_t gort_runtime_threads(pid_t *out, size_t max) {
  size_t n = gort__be->list_threads(out, max, 0);
  pid_t timer = gort__timer_thread_tid();
  if (timer) {
    if (out && n < max) out[n] = timer;
    n++;
  }
  return n;
}

/* ---- counters, snapshot ---- */

void gort__timers_pending_add(int delta) { atomic_fetch_add(&timers_pending, delta); }
int64_t gort__timers_pending(void) { return atomic_load(&timers_pending); }

void gort_get_counters(gort_counters *c) {
  if (gort__nil(c)) return;
  uint64_t st[GORT__STAT__COUNT];
  gort__stats_sum(st);
  c->spawned = st[GORT__STAT_SPAWNED];
  c->exited = st[GORT__STAT_EXITED];
  c->live = (uint64_t)atomic_load(&gort__live_count);
  c->peak_live = (uint64_t)atomic_load(&peak_live);
  int64_t parked = atomic_load(&gort__parked_count);
  c->parked = parked > 0 ? (uint64_t)parked : 0;
  gort__be->counters(c); /* threads_created, threads_reused, threads_idle */
  int64_t tp = atomic_load(&timers_pending);
  c->timers_pending = tp > 0 ? (uint64_t)tp : 0;
  c->allocs = st[GORT__STAT_ALLOCS];
  c->frees = st[GORT__STAT_FREES];
  c->alloc_bytes = st[GORT__STAT_BYTES];
}

void gort_reset_peak_live(void) { atomic_store(&peak_live, atomic_load(&gort__live_count)); }

void gort__task_info_fill(gort_task_info *o, const gort__task *t) {
  memset(o, 0, sizeof *o);
  o->id = t->id;
  memcpy(o->name, t->name, sizeof o->name);
  o->tid = atomic_load_explicit(&t->tid, memory_order_relaxed);
  o->adopted = t->adopted;
  o->entry = t->fn ? *(void **)(void *)&t->fn : NULL;
  o->parent_id = t->parent_id;
  o->file = t->file;
  o->line = t->line;
  o->spawn_pc = t->spawn_pc;
  o->spawn_depth = t->spawn_depth;
  if (t->spawn_stack) memcpy(o->spawn_stack, t->spawn_stack, sizeof o->spawn_stack);
  o->state = (gort_task_state)atomic_load_explicit(&t->state, memory_order_acquire);
  o->wait_reason = (gort_wait_reason)atomic_load_explicit(&t->wait_reason, memory_order_relaxed);
  o->waiting_since = atomic_load_explicit(&t->waiting_since, memory_order_relaxed);
  if (o->state != GORT_TASK_WAITING) {
    o->wait_reason = GORT_WAIT_NONE;
    o->waiting_since = 0;
  }
  o->spawned_at = t->spawned_at;
}

static int cmp_id(const void *a, const void *b) {
  uint64_t x = ((const gort_task_info *)a)->id, y = ((const gort_task_info *)b)->id;
  return x < y ? -1 : x > y;
}

size_t gort_task_snapshot(gort_task_info *out, size_t max) {
  gort__current();
  size_t n = 0;
  pthread_mutex_lock(&gort__reg_lock);
  /* A short buffer gets the lowest ids: a reused record keeps its place in
   * the list, so list order is not id order. Once the buffer is full, a
   * lower id replaces the highest taken (task 1, listed first, stays). */
  gort__reg_read_begin();
  size_t top = 0; /* out[top] has the highest id taken, once full */
  gort__task *t = gort__reg_head;
  while (t && t->reg_next) t = t->reg_next;
  for (; t; t = t->reg_prev) {
    if (!gort__reg_alive(t)) continue;
    if (out && n < max) {
      gort__task_info_fill(&out[n], t);
    } else if (out && max > 0 && t->id < out[top].id) {
      gort__task_info_fill(&out[top], t);
    }
    n++;
    if (out && max > 0 && n >= max)
      for (size_t i = 0; i < max; i++)
        if (out[i].id > out[top].id) top = i;
  }
  gort__reg_read_end();
  pthread_mutex_unlock(&gort__reg_lock);
  if (out) qsort(out, n < max ? n : max, sizeof *out, cmp_id);
  return n;
}

/* ---- fork and process start ---- */

/* fork() copies only the calling thread: in the child, forget every other
 * task (and the backend its threads). Their records are leaked on purpose
 * (they may be mid-use). */
static void atfork_prepare(void) {
  pthread_mutex_lock(&gort__reg_lock);
  gort__lock_acquire(&rec_pool_lock);
  gort__be->atfork_prepare();
  gort__stats_fork_lock();
}

static void atfork_parent(void) {
  gort__stats_fork_unlock();
  gort__be->atfork_parent();
  gort__lock_release(&rec_pool_lock);
  pthread_mutex_unlock(&gort__reg_lock);
}

static void atfork_child(void) {
  gort__task *self = gort__tls_task;
  if (self) {
    self->reg_prev = self->reg_next = NULL;
    pid_t tid = gettid_();
    if (self->thread) self->thread->tid = tid;
    atomic_store_explicit(&self->tid, tid, memory_order_relaxed);
  }
  gort__reg_head = self;
  /* The cache's records were listed; the list is gone: forget them. */
  (void)gort__task_cache_take();
  rec_pool_batches = 0;
  atomic_store(&rec_pool_n, 0);
  atomic_store(&reg_reading, false);
  atomic_store(&gort__live_count, self ? 1 : 0);
  atomic_store(&gort__adopted_alive, self && self->adopted ? 1 : 0);
  atomic_store(&gort__parked_count, 0);
  gort__stats_fork_unlock();
  gort__be->atfork_child();
  gort__lock_release(&rec_pool_lock);
  pthread_mutex_unlock(&gort__reg_lock);
}

__attribute__((constructor)) static void gort__init(void) {
  /* Read without the lock: a hint, and the reader flag whose edge
   * reg_remove states (hb.h). */
  GORT__HB_ATOMIC(&rec_pool_n, sizeof rec_pool_n);
  GORT__HB_ATOMIC(&reg_reading, sizeof reg_reading);
  reg_membarrier_init();
  pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
  gort__current(); /* the loading thread (main) becomes task 1 */
  const char *tb = getenv("GORT_TRACEBACK");
  if (tb && atoi(tb) > 0) atomic_store(&spawn_traces, true);
  gort__install_sigquit();
  const char *be = getenv("GORT_BACKEND");
  if (be && *be && gort_set_backend(be) != 0) {
    fprintf(stderr, "gort: GORT_BACKEND=%s: unknown backend (use threads or mn)\n", be);
    _exit(2);
  }
}
