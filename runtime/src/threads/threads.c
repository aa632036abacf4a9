/* threads.c - the thread backend: one OS thread per running task, idle
 * threads kept for reuse, parks on the thread's wake token.
 *
 * Invariants:
 *  - A task thread (gort__thread) runs one task at a time. Between tasks it
 *    is idle: on the idle stack (idle_lock), waiting on its token for a
 *    hand-off in th->next_task. The spawner pops it under idle_lock, which
 *    makes the hand-off exclusive, then stores the task and gives the token.
 *    The same token serves the parks of the task it runs: a task never
 *    parks while its thread is idle, and each park consumes its one ready.
 *  - threads_alive counts task threads from just before pthread_create to the
 *    end of their start routine.
 * Lock order: idle_lock is never held with the registry lock (except by
 * fork's handlers: registry lock, idle_lock, exiting_lock, in that order).
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "local.h"
#include "threads/token.h"

#define EXIT_TASK ((gort__task *)(uintptr_t)1)

static _Atomic int64_t threads_created, threads_reused, threads_alive;
/* Task threads whose task has finished but which are not yet on the idle
 * stack (or are on their way out): neither a task nor idle, so quiesce waits
 * for them to settle. */
static _Atomic int64_t threads_between;

static pthread_mutex_t idle_lock = PTHREAD_MUTEX_INITIALIZER;
static gort__thread *idle_head; /* idle_lock */
static int idle_count;          /* idle_lock */
static int max_idle = 64;
static int64_t idle_timeout_ns = 5 * GORT_SECOND;

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

/* ---- park ---- */

static void threads_block(gort__task *t) { gort__os_block(t); }
static void threads_wake(gort__task *t) { gort__os_wake(t); }

static void threads_yield(void) { sched_yield(); }
static void threads_syscall(void) {} /* the task owns its thread anyway */

/* ---- task threads ---- */

static void run_task(gort__thread *th, gort__task *t) {
  t->thread = th;
  atomic_store_explicit(&t->tid, th->tid, memory_order_relaxed);
  gort__tls_task = t;
  t->fn(t->arg);
  gort__tls_task = NULL;
  atomic_fetch_add(&threads_between, 1);
  gort__task_exit(t);
}

/* Take th off the idle stack if it is still there; false when a spawner
 * popped it first (and will hand it a task). */
static bool idle_unlink(gort__thread *th) {
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
  return still_idle;
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
  int64_t spin = 50 * GORT_MICROSECOND;
  while (!gort__wait_token(&th->wake, spin, idle_timeout_ns)) {
    if (idle_unlink(th)) {
      atomic_fetch_add(&threads_between, 1); /* on its way out */
      return NULL;
    }
    spin = 0; /* a spawner popped us and is about to hand over: wait for it */
  }
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
  gort__local_thread_exit(); /* before it counts as gone from the pool */
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

static int threads_start(gort__task *t) {
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
  gort__thread_record_init(th);
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

/* ---- helper threads, counters, fork ---- */

/* True once the kernel has reaped the thread (glibc clears the tid). */
static bool thread_gone(pid_t tid) {
  return syscall(SYS_tgkill, getpid(), tid, 0) == -1 && errno == ESRCH;
}

static void threads_quiesce(void) {
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

static size_t threads_list(pid_t *out, size_t max, size_t n) {
  pthread_mutex_lock(&idle_lock);
  for (gort__thread *th = idle_head; th; th = th->idle_next, n++)
    if (out && n < max) out[n] = th->tid;
  pthread_mutex_unlock(&idle_lock);
  return n;
}

static long threads_alive_count(void) { return (long)atomic_load(&threads_alive); }

static void threads_counters(gort_counters *c) {
  c->threads_created = (uint64_t)atomic_load(&threads_created);
  c->threads_reused = (uint64_t)atomic_load(&threads_reused);
  pthread_mutex_lock(&idle_lock);
  c->threads_idle = (uint64_t)idle_count;
  pthread_mutex_unlock(&idle_lock);
}

static void threads_atfork_prepare(void) {
  pthread_mutex_lock(&idle_lock);
  pthread_mutex_lock(&exiting_lock);
}

static void threads_atfork_parent(void) {
  pthread_mutex_unlock(&exiting_lock);
  pthread_mutex_unlock(&idle_lock);
}

/* The child has only the forking thread: no idle thread exists there. */
static void threads_atfork_child(void) {
  idle_head = NULL;
  idle_count = 0;
  gort__task *self = gort__tls_task;
  atomic_store(&threads_alive, self && !self->adopted ? 1 : 0);
  atomic_store(&threads_between, 0);
  n_exiting = 0;
  pthread_mutex_unlock(&exiting_lock);
  pthread_mutex_unlock(&idle_lock);
}

const gort__backend gort__threads_backend = {
    .name = "thread",
    .start = threads_start,
    .block = threads_block,
    .wake = threads_wake,
    .yield = threads_yield,
    .syscall_enter = threads_syscall,
    .syscall_exit = threads_syscall,
    .threads_alive = threads_alive_count,
    .quiesce = threads_quiesce,
    .list_threads = threads_list,
    .counters = threads_counters,
    .atfork_prepare = threads_atfork_prepare,
    .atfork_parent = threads_atfork_parent,
    .atfork_child = threads_atfork_child,
};
