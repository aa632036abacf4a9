/* task.c - tasks on the thread backend: spawn, the registry, idle-thread
 * reuse, adoption of foreign threads, dumps, deadlock detection, SIGQUIT.
 *
 * Invariants:
 *  - Every live task is on the registry list (reg_lock). A spawned task is
 *    registered before its thread can run it and unregistered by that thread
 *    after fn returns; then the record is freed.
 *  - A task thread (struct gort__thread) runs one task at a time. Between
 *    tasks it is idle: on the idle stack (idle_lock), waiting on th->wake for
 *    a hand-off in th->next_task. The spawner pops it under idle_lock, which
 *    makes the hand-off exclusive, then stores the task and gives the token.
 *  - threads_alive counts task threads from just before pthread_create to the
 *    end of their start routine; adopted threads (main = task 1, and foreign
 *    threads that call into gort) are counted in adopted_alive.
 * Lock order: reg_lock and idle_lock are never held together (except by
 * fork's handlers: reg_lock, idle_lock, exiting_lock, in that order).
 */
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

typedef struct gort__thread {
  pthread_t pt;
  pid_t tid;                     /* written by the thread before any task runs */
  _Atomic(gort__task *) next_task; /* the hand-off slot; EXIT_TASK asks it to exit */
  _Atomic uint32_t wake;         /* token for the hand-off (see park.c) */
  size_t stack_size;             /* fixed at creation */
  bool in_idle;                  /* idle_lock: on the idle stack */
  struct gort__thread *idle_next; /* idle_lock */
} gort__thread;

#define EXIT_TASK ((gort__task *)(uintptr_t)1)

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static gort__task *reg_head; /* reg_lock */
static _Atomic uint64_t next_id = 1;

_Atomic int64_t gort__parked_count;
static _Atomic int64_t live_count, peak_live, spawned_count, exited_count;
static _Atomic int64_t threads_created, threads_reused, threads_alive, adopted_alive;
/* Task threads whose task has finished but which are not yet on the idle
 * stack (or are on their way out): neither a task nor idle, so quiesce waits
 * for them to settle. */
static _Atomic int64_t threads_between;
static _Atomic int64_t timers_pending;
static _Atomic int fail_thread_creates;
static _Atomic bool spawn_traces;

static pthread_mutex_t idle_lock = PTHREAD_MUTEX_INITIALIZER;
static gort__thread *idle_head; /* idle_lock */
static int idle_count;          /* idle_lock */
static int max_idle = 64;
static int64_t idle_timeout_ns = 5 * GORT_SECOND;

static _Atomic size_t stack_size;
static _Thread_local gort__task *tls_task;
static pthread_key_t adopted_key;
static pthread_once_t adopted_key_once = PTHREAD_ONCE_INIT;

static _Atomic(gort_deadlock_handler) deadlock_handler;
static _Atomic(void *) deadlock_arg;
_Atomic bool gort__deadlock_reported; /* cleared by any ready */

extern _Atomic uint64_t gort__allocs, gort__frees, gort__alloc_bytes;

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

/* ---- registry ---- */

static void reg_insert(gort__task *t) {
  pthread_mutex_lock(&reg_lock);
  t->reg_prev = NULL;
  t->reg_next = reg_head;
  if (reg_head) reg_head->reg_prev = t;
  reg_head = t;
  pthread_mutex_unlock(&reg_lock);
  int64_t n = atomic_fetch_add(&live_count, 1) + 1;
  int64_t peak = atomic_load(&peak_live);
  while (n > peak && !atomic_compare_exchange_weak(&peak_live, &peak, n)) {
  }
}

static void reg_remove(gort__task *t) {
  pthread_mutex_lock(&reg_lock);
  if (t->reg_prev)
    t->reg_prev->reg_next = t->reg_next;
  else
    reg_head = t->reg_next;
  if (t->reg_next) t->reg_next->reg_prev = t->reg_prev;
  pthread_mutex_unlock(&reg_lock);
  atomic_fetch_sub(&live_count, 1);
}

/* ---- adoption of threads gort did not start ---- */

static void adopted_exit(void *p) {
  gort__task *t = p;
  reg_remove(t);
  atomic_fetch_sub(&adopted_alive, 1);
  tls_task = NULL;
  gort__free(t);
}

static void make_adopted_key(void) { pthread_key_create(&adopted_key, adopted_exit); }

static gort__task *adopt(void) {
  gort__task *t = gort__calloc(1, sizeof *t);
  if (!t) return NULL;
  t->id = atomic_fetch_add(&next_id, 1);
  t->adopted = true;
  atomic_store_explicit(&t->tid, gettid_(), memory_order_relaxed);
  t->spawned_at = gort__nanotime();
  tls_task = t;
  atomic_fetch_add(&adopted_alive, 1);
  reg_insert(t);
  /* The main thread's record lives until exit; others go with their thread. */
  if (atomic_load_explicit(&t->tid, memory_order_relaxed) != getpid()) {
    pthread_once(&adopted_key_once, make_adopted_key);
    pthread_setspecific(adopted_key, t);
  }
  return t;
}

gort__task *gort__current(void) {
  gort__task *t = tls_task;
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

const char *gort_backend_name(void) { return "thread"; }

void gort_set_spawn_traces(bool on) { atomic_store(&spawn_traces, on); }
void gort_debug_fail_thread_create(int n) { atomic_store(&fail_thread_creates, n); }

void gort_set_deadlock_handler(gort_deadlock_handler handler, void *arg) {
  atomic_store(&deadlock_arg, arg);
  atomic_store(&deadlock_handler, handler);
}

/* ---- task threads ---- */

static void run_task(gort__thread *th, gort__task *t) {
  atomic_store_explicit(&t->tid, th->tid, memory_order_relaxed);
  tls_task = t;
  t->fn(t->arg);
  tls_task = NULL;
  atomic_fetch_add(&threads_between, 1);
  reg_remove(t);
  atomic_fetch_add(&exited_count, 1);
  gort__free(t->spawn_stack);
  gort__free(t);
  /* The last running task may be this one (Go checks when an M exits too). */
  gort__deadlock_check();
}

/* Wait on the idle stack for the next task. NULL: time to exit (timed out
 * while still idle, asked to exit, or the idle stack is full). */
static gort__task *idle_wait(gort__thread *th) {
  pthread_mutex_lock(&idle_lock);
  if (idle_count >= max_idle) {
    pthread_mutex_unlock(&idle_lock);
    return NULL; /* still "between": thread_main settles the count at exit */
  }
  th->in_idle = true;
  th->idle_next = idle_head;
  idle_head = th;
  idle_count++;
  atomic_fetch_sub(&threads_between, 1);
  pthread_mutex_unlock(&idle_lock);

  /* Spin for a short while first: a burst of spawns (a pool starting its
   * workers each op) then finds a thread that needs no wake-up. */
  gort__spin_until(&th->wake, 1, 50 * GORT_MICROSECOND);
  uint32_t expected = 0;
  if (atomic_compare_exchange_strong(&th->wake, &expected, 2)) {
    struct timespec ts = {(time_t)(idle_timeout_ns / GORT_SECOND), 0};
    while (atomic_load(&th->wake) == 2) {
      long r = syscall(SYS_futex, (uint32_t *)&th->wake, FUTEX_WAIT_PRIVATE, 2, &ts, NULL, 0);
      if (r == -1 && errno == ETIMEDOUT) {
        pthread_mutex_lock(&idle_lock);
        bool still_idle = th->in_idle;
        if (still_idle) {
          gort__thread **pp = &idle_head;
          while (*pp != th) pp = &(*pp)->idle_next;
          *pp = th->idle_next;
          th->in_idle = false;
          idle_count--;
        }
        pthread_mutex_unlock(&idle_lock);
        if (still_idle) {
          atomic_fetch_add(&threads_between, 1); /* on its way out */
          return NULL;
        }
        /* A spawner popped us and is about to hand over: wait for it. */
      }
    }
  }
  uint32_t got = atomic_exchange_explicit(&th->wake, 0, memory_order_acquire);
  if (got != 1) gort__fatal("idle thread woken without a token (%u)", got);
  gort__task *t = atomic_exchange_explicit(&th->next_task, NULL, memory_order_acquire);
  if (t == EXIT_TASK) {
    atomic_fetch_add(&threads_between, 1); /* on its way out */
    return NULL;
  }
  return t;
}

static void exiting_add(pid_t tid);

static void *thread_main(void *arg) {
  gort__thread *th = arg;
  th->tid = gettid_();
  /* The first task was stored before pthread_create, which orders it. */
  gort__task *t = atomic_exchange(&th->next_task, NULL);
  while (t) {
    run_task(th, t);
    t = idle_wait(th);
  }
  exiting_add(th->tid);
  gort__free(th);
  atomic_fetch_sub(&threads_alive, 1);
  atomic_fetch_sub(&threads_between, 1);
  return NULL;
}

static gort__thread *idle_pop(void) {
  pthread_mutex_lock(&idle_lock);
  gort__thread *th = idle_head;
  if (th) {
    idle_head = th->idle_next;
    th->in_idle = false;
    idle_count--;
  }
  pthread_mutex_unlock(&idle_lock);
  return th;
}

static int start_thread(gort__task *t) {
  size_t want = gort_get_stack_size();
  gort__thread *th = idle_pop();
  if (th && th->stack_size < want) {
    /* Its stack is smaller than gort_set_stack_size now asks: retire it. */
    atomic_store_explicit(&th->next_task, EXIT_TASK, memory_order_release);
    gort__give_token(&th->wake);
    th = NULL;
  }
  if (th) {
    atomic_store_explicit(&th->next_task, t, memory_order_release);
    gort__give_token(&th->wake);
    atomic_fetch_add_explicit(&threads_reused, 1, memory_order_relaxed);
    return 0;
  }
  th = gort__calloc(1, sizeof *th);
  if (!th) return GORT_ENOMEM;
  atomic_store(&th->next_task, t);
  th->stack_size = want;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, want);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  atomic_fetch_add(&threads_alive, 1);
  int rc = pthread_create(&th->pt, &attr, thread_main, th);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    atomic_fetch_sub(&threads_alive, 1);
    gort__free(th);
    return GORT_ETHREAD;
  }
  atomic_fetch_add_explicit(&threads_created, 1, memory_order_relaxed);
  return 0;
}

int gort_go_at(gort_task_fn fn, void *arg, const char *name, const char *file, int line) {
  if (!fn) return GORT_EINVAL;
  int fail = atomic_load_explicit(&fail_thread_creates, memory_order_relaxed);
  while (fail > 0) {
    if (atomic_compare_exchange_weak(&fail_thread_creates, &fail, fail - 1)) return GORT_ETHREAD;
  }
  gort__task *parent = tls_task; /* no adoption: a spawn never blocks (task.h) */
  gort__task *t = gort__malloc(sizeof *t);
  if (!t) return GORT_ENOMEM;
  memset(t, 0, sizeof *t);
  t->id = atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed);
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
  t->spawned_at = gort__nanotime();
  reg_insert(t);
  int rc = start_thread(t);
  if (rc != 0) {
    reg_remove(t);
    gort__free(t->spawn_stack);
    gort__free(t);
    return rc;
  }
  atomic_fetch_add_explicit(&spawned_count, 1, memory_order_relaxed);
  return 0;
}

uint64_t gort_task_id(void) {
  gort__task *t = gort__current();
  return t ? t->id : 0;
}

int gort_num_tasks(void) {
  gort__current(); /* the caller counts, as main does in Go */
  return (int)atomic_load(&live_count);
}

void gort_yield(void) { sched_yield(); }

/* ---- runtime helper threads ---- */

/* True once the kernel has reaped the thread (glibc clears the tid). */
static bool thread_gone(pid_t tid) {
  return syscall(SYS_tgkill, getpid(), tid, 0) == -1 && errno == ESRCH;
}

void gort_runtime_quiesce(void) {
  pid_t tids[256];
  /* A thread whose task just returned is not idle yet: let it get there (or
   * out), so that none is missed below. Bounded, in case of a stuck thread. */
  for (int spins = 0; atomic_load(&threads_between) > 0 && spins < 20000; spins++) {
    struct timespec ts = {0, 50000};
    nanosleep(&ts, NULL);
  }
  for (;;) {
    size_t n = 0;
    gort__thread *th;
    while (n < 256 && (th = idle_pop()) != NULL) {
      tids[n++] = th->tid;
      atomic_store_explicit(&th->next_task, EXIT_TASK, memory_order_release);
      gort__give_token(&th->wake);
    }
    for (size_t i = 0; i < n; i++) {
      for (int spins = 0; !thread_gone(tids[i]) && spins < 20000; spins++) {
        struct timespec ts = {0, 50000};
        nanosleep(&ts, NULL);
      }
    }
    if (n < 256) break;
  }
  gort__timer_thread_quiesce();
}

/* Task threads that have left thread_main but that the kernel may not have
 * reaped yet: glibc's and the sanitizers' thread teardown and do_exit can
 * take long on a loaded machine (a sanitizer unmapping shadow memory waits
 * in "D" state). A leak check waits for these instead of calling them
 * foreign. Reaped threads are pruned when the list is read or full; a tid
 * the kernel reused for a new thread before a prune can only make a check
 * wait longer, never skip a thread (see gort/introspect.h). */
#define EXITING_MAX 512
static pthread_mutex_t exiting_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t exiting[EXITING_MAX]; /* exiting_lock; oldest first */
static size_t n_exiting;           /* exiting_lock */

/* exiting_lock held. */
static void exiting_prune(void) {
  size_t k = 0;
  for (size_t i = 0; i < n_exiting; i++)
    if (!thread_gone(exiting[i])) exiting[k++] = exiting[i];
  n_exiting = k;
}

static void exiting_add(pid_t tid) {
  pthread_mutex_lock(&exiting_lock);
  if (n_exiting == EXITING_MAX) exiting_prune();
  if (n_exiting == EXITING_MAX) { /* all still there: forget the oldest */
    memmove(exiting, exiting + 1, (EXITING_MAX - 1) * sizeof *exiting);
    n_exiting--;
  }
  exiting[n_exiting++] = tid;
  pthread_mutex_unlock(&exiting_lock);
}

size_t gort_runtime_exiting_threads(pid_t *out, size_t max) {
  pthread_mutex_lock(&exiting_lock);
  exiting_prune();
  size_t n = n_exiting;
  if (out) memcpy(out, exiting, (n < max ? n : max) * sizeof *out);
  pthread_mutex_unlock(&exiting_lock);
  return n;
}

size_t gort_runtime_threads(pid_t *out, size_t max) {
  size_t n = 0;
  pthread_mutex_lock(&idle_lock);
  for (gort__thread *th = idle_head; th; th = th->idle_next, n++)
    if (out && n < max) out[n] = th->tid;
  pthread_mutex_unlock(&idle_lock);
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
  c->spawned = (uint64_t)atomic_load(&spawned_count);
  c->exited = (uint64_t)atomic_load(&exited_count);
  c->live = (uint64_t)atomic_load(&live_count);
  c->peak_live = (uint64_t)atomic_load(&peak_live);
  int64_t parked = atomic_load(&gort__parked_count);
  c->parked = parked > 0 ? (uint64_t)parked : 0;
  c->threads_created = (uint64_t)atomic_load(&threads_created);
  c->threads_reused = (uint64_t)atomic_load(&threads_reused);
  pthread_mutex_lock(&idle_lock);
  c->threads_idle = (uint64_t)idle_count;
  pthread_mutex_unlock(&idle_lock);
  int64_t tp = atomic_load(&timers_pending);
  c->timers_pending = tp > 0 ? (uint64_t)tp : 0;
  c->allocs = atomic_load(&gort__allocs);
  c->frees = atomic_load(&gort__frees);
  c->alloc_bytes = atomic_load(&gort__alloc_bytes);
}

void gort_reset_peak_live(void) { atomic_store(&peak_live, atomic_load(&live_count)); }

static void fill_info(gort_task_info *o, const gort__task *t) {
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
  pthread_mutex_lock(&reg_lock);
  /* Oldest first, so a short buffer gets the lowest ids (task 1 first). */
  gort__task *t = reg_head;
  while (t && t->reg_next) t = t->reg_next;
  for (; t; t = t->reg_prev, n++)
    if (out && n < max) fill_info(&out[n], t);
  pthread_mutex_unlock(&reg_lock);
  if (out) qsort(out, n < max ? n : max, sizeof *out, cmp_id);
  return n;
}

static const char *const reason_names[GORT_WAIT__COUNT] = {
    [GORT_WAIT_NONE] = "running",
    [GORT_WAIT_CHAN_SEND] = "chan send",
    [GORT_WAIT_CHAN_RECV] = "chan receive",
    [GORT_WAIT_CHAN_SEND_NIL] = "chan send (nil chan)",
    [GORT_WAIT_CHAN_RECV_NIL] = "chan receive (nil chan)",
    [GORT_WAIT_SELECT] = "select",
    [GORT_WAIT_SELECT_NO_CASES] = "select (no cases)",
    [GORT_WAIT_SLEEP] = "sleep",
    [GORT_WAIT_SEMACQUIRE] = "semacquire",
    [GORT_WAIT_WAITGROUP] = "sync.WaitGroup.Wait",
    [GORT_WAIT_MUTEX] = "sync.Mutex.Lock",
    [GORT_WAIT_RWMUTEX_R] = "sync.RWMutex.RLock",
    [GORT_WAIT_RWMUTEX_W] = "sync.RWMutex.Lock",
    [GORT_WAIT_COND] = "sync.Cond.Wait",
    [GORT_WAIT_IDLE] = "idle",
};

const char *gort_wait_reason_string(gort_wait_reason r) {
  return (r >= 0 && r < GORT_WAIT__COUNT && reason_names[r]) ? reason_names[r] : "unknown";
}

/* ---- dumps ---- */

/* Dumps format each line into a stack buffer and hand it to a sink: a FILE,
 * or (from the SIGQUIT handler) a raw fd, since stdio may allocate and is not
 * async-signal-safe. */
typedef struct {
  FILE *file;
  int fd;
} dump_sink;

__attribute__((format(printf, 2, 3))) static void emit(const dump_sink *s, const char *fmt, ...) {
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
  if (s->file) {
    fwrite(line, 1, len, s->file);
    return;
  }
  for (size_t off = 0; off < len;) {
    ssize_t w = write(s->fd, line + off, len - off);
    if (w <= 0) return;
    off += (size_t)w;
  }
}

/* A code address by name. Outside signal handlers (a FILE sink) through
 * gort__symbolize: static functions named, and file:line when asked; from
 * the SIGQUIT handler only dladdr, which is what is safe enough there. */
static void emit_symbol(const dump_sink *s, const char *prefix, void *pc, bool return_address,
                        bool with_line, const char *suffix) {
  if (s->file && pc) {
    gort__symbol sym;
    gort__symbolize(pc, return_address, &sym);
    if (sym.function[0])
      emit(s, "%s%s%s", prefix, sym.function, suffix);
    else
      emit(s, "%s%p (%s+0x%lx)%s", prefix, pc, sym.object, (unsigned long)sym.offset, suffix);
    if (with_line && sym.file[0]) emit(s, "\n\t\t%s:%d", sym.file, sym.line); /* spawn stack */
    return;
  }
  Dl_info info;
  if (pc && dladdr(pc, &info) && info.dli_sname)
    emit(s, "%s%s+0x%lx%s", prefix, info.dli_sname,
         (unsigned long)((char *)pc - (char *)info.dli_saddr), suffix);
  else
    emit(s, "%s%p%s", prefix, pc, suffix);
}

static void dump_one(const dump_sink *s, const gort__task *t, int64_t now) {
  gort_task_info i;
  fill_info(&i, t);
  /* The header keeps Go's exact shape, "goroutine N [reason, T]:" with
   * "task" for "goroutine", so Go-dump parsers read it; the name follows. */
  if (i.state == GORT_TASK_WAITING)
    emit(s, "task %llu [%s, %lld ms]:\n", (unsigned long long)i.id,
         gort_wait_reason_string(i.wait_reason), (long long)((now - i.waiting_since) / GORT_MILLISECOND));
  else
    emit(s, "task %llu [running]:\n", (unsigned long long)i.id);
  if (i.name[0]) emit(s, "\tname \"%s\"\n", i.name);
  if (i.adopted) {
    emit(s, "\t(%s thread, tid %d)\n", i.tid == getpid() ? "main" : "adopted", (int)i.tid);
    return;
  }
  /* Go's "main.worker(0x...)" then its file:line: here the entry function. */
  emit_symbol(s, "\t", i.entry, false, false, "");
  emit(s, "(%p), tid %d\n", t->arg, (int)i.tid);
  emit_symbol(s, "created by ", i.spawn_pc, true, false, "");
  emit(s, " in task %llu\n\t%s:%d\n", (unsigned long long)i.parent_id, i.file ? i.file : "?", i.line);
  for (int k = 1; k < i.spawn_depth; k++) {
    emit_symbol(s, "\t", i.spawn_stack[k], true, true, "");
    emit(s, "\n");
  }
}

static void dump_all(const dump_sink *s) {
  int64_t now = gort__nanotime();
  /* A dump may come from a signal handler or a fatal path that interrupted a
   * registry operation: do not wait forever for the lock. */
  bool locked = false;
  for (int i = 0; i < 1000 && !locked; i++) {
    locked = pthread_mutex_trylock(&reg_lock) == 0;
    if (!locked) {
      struct timespec ts = {0, 100000};
      nanosleep(&ts, NULL);
    }
  }
  if (!locked) emit(s, "(registry busy; dump may be inconsistent)\n");
  /* Oldest first, as Go lists goroutine 1 first: walk to the tail. */
  gort__task *t = reg_head;
  while (t && t->reg_next) t = t->reg_next;
  for (; t; t = t->reg_prev) {
    dump_one(s, t, now);
    emit(s, "\n");
  }
  if (locked) pthread_mutex_unlock(&reg_lock);
}

void gort_dump_tasks(FILE *out) {
  dump_sink s = {out, -1};
  dump_all(&s);
  fflush(out);
}

/* ---- deadlock detection ---- */

static long proc_threads(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long n = -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "Threads: %ld", &n) == 1) break;
  fclose(f);
  return n;
}

/* Threads a sanitizer runtime starts on its own (TSan's background thread):
 * they never wake a task, so they must not veto a deadlock verdict. */
#if defined(__SANITIZE_THREAD__)
#define SANITIZER_THREADS 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SANITIZER_THREADS 1
#endif
#endif
#ifndef SANITIZER_THREADS
#define SANITIZER_THREADS 0
#endif

static bool all_asleep(void) {
  return atomic_load(&gort__parked_count) >= atomic_load(&live_count) &&
         atomic_load(&timers_pending) <= 0;
}

/* Called by every park after it published its waiter. Cheap unless every
 * task is parked. Threads gort does not know (a raw pthread, a library's
 * I/O thread) might still wake a task, so they veto the verdict. */
void gort__deadlock_check(void) {
  if (!all_asleep()) return;
  for (int attempt = 0; attempt < 20; attempt++) {
    long known = (long)atomic_load(&threads_alive) + (long)atomic_load(&adopted_alive) +
                 (gort__timer_thread_tid() ? 1 : 0) + SANITIZER_THREADS;
    long actual = proc_threads();
    if (!all_asleep()) return;
    if (actual >= 0 && actual <= known) {
      bool expected = false;
      if (!atomic_compare_exchange_strong(&gort__deadlock_reported, &expected, true)) return;
      gort_deadlock_handler h = atomic_load(&deadlock_handler);
      if (h) {
        h(atomic_load(&deadlock_arg));
        return;
      }
      fprintf(stderr, "fatal error: %s\n\n", gort_strerror(GORT_EDEADLOCK));
      gort_dump_tasks(stderr);
      abort();
    }
    /* A thread of ours may be between its last task and its exit. */
    struct timespec ts = {0, 500000};
    nanosleep(&ts, NULL);
  }
}

/* ---- process start ---- */

static void on_sigquit(int sig) {
  (void)sig;
  dump_sink s = {NULL, STDERR_FILENO};
  emit(&s, "SIGQUIT: quit\n\n");
  dump_all(&s);
  _exit(2);
}

/* fork() copies only the calling thread: in the child, forget every other
 * task and every idle thread, or a spawn would hand work to a thread that
 * does not exist. Their records are leaked on purpose (they may be mid-use). */
static void atfork_prepare(void) {
  pthread_mutex_lock(&reg_lock);
  pthread_mutex_lock(&idle_lock);
  pthread_mutex_lock(&exiting_lock);
}

static void atfork_parent(void) {
  pthread_mutex_unlock(&exiting_lock);
  pthread_mutex_unlock(&idle_lock);
  pthread_mutex_unlock(&reg_lock);
}

static void atfork_child(void) {
  idle_head = NULL;
  idle_count = 0;
  gort__task *self = tls_task;
  if (self) {
    self->reg_prev = self->reg_next = NULL;
    atomic_store_explicit(&self->tid, gettid_(), memory_order_relaxed);
  }
  reg_head = self;
  atomic_store(&live_count, self ? 1 : 0);
  atomic_store(&threads_alive, self && !self->adopted ? 1 : 0);
  atomic_store(&adopted_alive, self && self->adopted ? 1 : 0);
  atomic_store(&gort__parked_count, 0);
  atomic_store(&threads_between, 0);
  n_exiting = 0;
  pthread_mutex_unlock(&exiting_lock);
  pthread_mutex_unlock(&idle_lock);
  pthread_mutex_unlock(&reg_lock);
}

__attribute__((constructor)) static void gort__init(void) {
  pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
  gort__current(); /* the loading thread (main) becomes task 1 */
  const char *tb = getenv("GORT_TRACEBACK");
  if (tb && atoi(tb) > 0) atomic_store(&spawn_traces, true);
  /* As Go's runtime: an inherited SIG_IGN is respected only for SIGHUP and
   * SIGINT (sigInstallGoHandler), so SIGQUIT dumps even when the process
   * was started with it ignored (nohup, background jobs, CI runners). A
   * handler someone else installed before us is kept: a C library must not
   * take a signal from its host program. */
  if (!getenv("GORT_NO_SIGQUIT")) {
    struct sigaction old;
    if (sigaction(SIGQUIT, NULL, &old) == 0 && !(old.sa_flags & SA_SIGINFO) &&
        (old.sa_handler == SIG_DFL || old.sa_handler == SIG_IGN)) {
      struct sigaction sa;
      memset(&sa, 0, sizeof sa);
      sa.sa_handler = on_sigquit;
      sigemptyset(&sa.sa_mask);
      sigaction(SIGQUIT, &sa, NULL);
    }
  }
}

