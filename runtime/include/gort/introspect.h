/* gort/introspect.h - the runtime's introspection API, for the harness
 * (leakcheck, bench, deadlock tooling). Not for patterns: they use only the
 * user API. Everything here is a snapshot: it may be stale when it returns.
 */
#ifndef GORT_INTROSPECT_H
#define GORT_INTROSPECT_H

#include "gort/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gort/task.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  GORT_TASK_RUNNING = 0, /* running or runnable */
  GORT_TASK_WAITING = 1, /* parked; see wait_reason */
} gort_task_state;

/* Go's wait reasons, as strings in dumps ("chan send", "select", ...). */
typedef enum {
  GORT_WAIT_NONE = 0,
  GORT_WAIT_CHAN_SEND,
  GORT_WAIT_CHAN_RECV,
  GORT_WAIT_CHAN_SEND_NIL,
  GORT_WAIT_CHAN_RECV_NIL,
  GORT_WAIT_SELECT,
  GORT_WAIT_SELECT_NO_CASES,
  GORT_WAIT_SLEEP,
  GORT_WAIT_SEMACQUIRE,
  GORT_WAIT_WAITGROUP,
  GORT_WAIT_MUTEX,
  GORT_WAIT_RWMUTEX_R,
  GORT_WAIT_RWMUTEX_W,
  GORT_WAIT_COND,
  GORT_WAIT_IDLE, /* reserved for runtime-internal idle parking */
  GORT_WAIT__COUNT
} gort_wait_reason;

GORT_API const char *gort_wait_reason_string(gort_wait_reason r);

#define GORT_SPAWN_FRAMES 16

typedef struct {
  uint64_t id;
  char name[32];        /* "" when unnamed */
  pid_t tid;            /* OS thread id (thread backend) */
  bool adopted;         /* a thread gort did not start (e.g. main = task 1) */
  void *entry;          /* entry function address (NULL for adopted) */
  uint64_t parent_id;   /* the task that called gort_go (0 for adopted) */
  const char *file;     /* spawn site: gort_go's caller, from __FILE__ */
  int line;
  void *spawn_pc;       /* return address of the gort_go_at call */
  int spawn_depth;      /* frames in spawn_stack (0 unless spawn traces on) */
  void *spawn_stack[GORT_SPAWN_FRAMES];
  gort_task_state state;
  gort_wait_reason wait_reason;
  int64_t waiting_since; /* gort_now() when it parked; 0 when running */
  /* The spawn's (adoption's) time on gort_now()'s clock as of the kernel's
   * last timekeeping update (CLOCK_MONOTONIC_COARSE, a sixth of the cost):
   * a tick (4 ms here) early, more when that update runs late. */
  int64_t spawned_at;
} gort_task_info;

/* Copy up to max entries into out; returns the number of live tasks (which
 * may exceed max). Sorted by id; a short buffer gets the oldest tasks
 * (task 1 first). */
GORT_API size_t gort_task_snapshot(gort_task_info *out, size_t max);

/* The backend that runs tasks: "thread" (one OS thread per task, the
 * default) or "mn" (green tasks on one worker thread per core, Go's G/M/P;
 * GORT_MAXPROCS sets the number of processors). */
GORT_API const char *gort_backend_name(void);
/* Choose the backend by name ("thread" or "threads", "mn") before the first
 * task is spawned; also GORT_BACKEND in the environment. GORT_EINVAL for an
 * unknown name or once a task has been spawned. */
GORT_API int gort_set_backend(const char *name);

/* Record a full backtrace at every spawn (costs ~1 us per gort_go). Also
 * enabled by GORT_TRACEBACK=1 in the environment. */
GORT_API void gort_set_spawn_traces(bool on);

typedef struct {
  uint64_t spawned;       /* gort_go successes */
  uint64_t exited;
  uint64_t live;          /* tasks in the registry, adopted threads included */
  uint64_t peak_live;
  uint64_t parked;        /* tasks parked now */
  uint64_t threads_created; /* pthread_create calls that succeeded */
  uint64_t threads_reused;  /* spawns served by an idle thread */
  uint64_t threads_idle;    /* idle task threads now */
  uint64_t timers_pending;
  uint64_t allocs;        /* allocations made through the runtime allocator */
  uint64_t frees;
  uint64_t alloc_bytes;
} gort_counters;

/* out NULL is misuse (GORT_ENILPTR). */
GORT_API void gort_get_counters(gort_counters *out);
GORT_API void gort_reset_peak_live(void);

/* OS thread ids of the runtime's own helper threads (idle task threads and the
 * timer thread): copy up to max, return how many there are. */
GORT_API size_t gort_runtime_threads(pid_t *out, size_t max);

/* OS thread ids of task threads on their way out: they have left gort's code
 * but the kernel has not reaped them yet (glibc's and a sanitizer's thread
 * teardown, exit). Copy up to max, return how many there are. A tid the
 * kernel already reused for a new thread may linger until the next call, so
 * a leak check should wait for these threads, not exempt them. */
GORT_API size_t gort_runtime_exiting_threads(pid_t *out, size_t max);

/* Pending timers: what a leak checker needs to name a timer nobody stopped
 * (time.After in a loop, a context never cancelled, a ticker never stopped)
 * and the code that created it. */
typedef enum {
  GORT_TIMER_INTERNAL = 0, /* started by the runtime for its own use */
  GORT_TIMER_SLEEP,        /* gort_sleep: owned by the sleeping task */
  GORT_TIMER_AFTER,        /* gort_after (time.After) */
  GORT_TIMER_TIMER,        /* gort_timer_new (time.NewTimer) */
  GORT_TIMER_AFTER_FUNC,   /* gort_timer_after_func (time.AfterFunc) */
  GORT_TIMER_TICKER,       /* gort_ticker_new (time.NewTicker) */
  GORT_TIMER_CONTEXT,      /* a context's deadline (WithDeadline/WithTimeout) */
  GORT_TIMER__COUNT
} gort_timer_kind;

/* Go's names: "time.After", "time.NewTimer", "context deadline", ... */
GORT_API const char *gort_timer_kind_string(gort_timer_kind k);

typedef struct {
  uint64_t id;          /* unique in the process */
  gort_timer_kind kind;
  void *site;           /* return address into the function that created the
                         * timer (symbolize at site - 1); NULL when unknown */
  int64_t created_at;   /* gort_now() when it was first started */
  int64_t when;         /* gort_now() time of the next fire */
  int64_t period;       /* tickers: the period; 0 otherwise */
} gort_timer_info;

/* Copy up to max of the timers waiting in the timer heap into out (in heap
 * order); returns how many are pending (which may exceed max). A one-shot
 * timer whose fire is running is no longer listed. */
GORT_API size_t gort_timer_snapshot(gort_timer_info *out, size_t max);

/* Replaceable allocator, so every byte the runtime takes can be counted or
 * made to fail. NULLs restore libc's. Set it before creating objects. */
typedef struct {
  void *(*malloc)(size_t);
  void *(*calloc)(size_t, size_t);
  void (*free)(void *);
} gort_allocator;
GORT_API void gort_set_allocator(const gort_allocator *a);

/* Fault injection for tests: the next n thread creations fail as if the OS
 * refused (n = 0 turns it off). Spawns served by idle threads are affected
 * too, so the failure is observable deterministically. */
GORT_API void gort_debug_fail_thread_create(int n);

#ifdef __cplusplus
}
#endif
#endif
