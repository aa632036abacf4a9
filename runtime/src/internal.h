/* runtime/src/internal.h - the runtime's private helpers shared by the
 * primitives: waiter queues, allocation, misuse, timers. Never included
 * outside runtime/src. How a task blocks and wakes is scheduler.h's seam
 * (park/ready, current, clock), included from here.
 */
#ifndef GORT_INTERNAL_H
#define GORT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gort/err.h"
#include "gort/introspect.h"
#include "gort/sync.h"
#include "gort/task.h"
#include "gort/timer.h"

#include "scheduler.h"

/* Convenience unlock callback for pthread mutexes. */
void gort__unlock_mutex(void *m);

/* Take one of the runtime's own pthread mutexes (see hb.h's GORT__HB_LOCKED). */
void gort__lock_mutex(pthread_mutex_t *m);

/* Waiter queues (FIFO, doubly linked), under the owner's lock. */
void gort__waitq_push(gort__waitq *q, gort__waiter *w);
gort__waiter *gort__waitq_pop(gort__waitq *q);
void gort__waitq_remove(gort__waitq *q, gort__waiter *w);
/* Pop the first waiter that may be woken: a select waiter only if this call
 * wins its task's select_done (Go's dequeue). */
gort__waiter *gort__waitq_dequeue(gort__waitq *q);

/* Misuse: aborts with "panic: <msg>" (Go's "fatal error: <msg>" for the
 * codes Go throws on) and a dump, or (RETURN mode) calls the hook and
 * returns code. misusef passes the values that GORT_ERR_GO_MAP's format for
 * code prints (none for a code without a format). */
int gort__misuse(int code);
int gort__misusef(int code, ...);
/* Return code, recording Go's text for it (the format's values follow) for
 * gort_errmsg. */
int gort__errorf(int code, ...);
/* For calls with no error return: true (after reporting misuse
 * GORT_ENILPTR, as Go panics on a nil pointer) when p is NULL. */
bool gort__nil(const void *p);
/* A broken internal invariant: always fatal, louder than misuse. */
_Noreturn void gort__fatal(const char *fmt, ...);

/* Symbols for dumps (symbolize.c): libdwfl, dlopen'ed on first use, else
 * dladdr. Not async-signal-safe. */
typedef struct {
  char function[128]; /* "" when unknown */
  char file[256];     /* "" when unknown */
  int line;
  char object[64];    /* basename of the binary or library */
  uintptr_t offset;   /* pc - the object's load address */
} gort__symbol;
/* pc is a return address (looked up at pc-1) or an exact code address. */
void gort__symbolize(const void *pc, bool return_address, gort__symbol *out);
/* "function(...)\n\tfile:line\n", or the address and object when unknown. */
void gort__print_symbol(FILE *out, const gort__symbol *s, const void *pc);
/* End the libdwfl session (the next call starts a new one): its memory
 * would otherwise be Valgrind's "possibly lost" at exit. */
void gort__symbolize_done(void);
/* The calling task's stack from the first frame outside the runtime (the
 * misuse site) on, one gort__print_symbol per frame. */
void gort__print_caller_stack(FILE *out);

/* Allocation through the replaceable, counted allocator. */
void *gort__malloc(size_t n);
void *gort__calloc(size_t n, size_t size);
void gort__free(void *p);
/* For a cache of freed objects kept by its owner (task records): true when
 * no allocator was set (the cache then holds malloc's memory, and bypasses
 * a user's allocator, which must see every allocation); and the counters,
 * so that an object taken from or given back to the cache counts as if it
 * were allocated and freed. */
bool gort__allocator_default(void);
void gort__count_alloc(size_t n);
void gort__count_free(void);

/* Report a deadlock if every task is parked, no timer is pending and no
 * unknown thread exists. Called after a park published its waiter, after a
 * task exits, and after the timer thread fired its last pending timer. */
void gort__deadlock_check(void);
/* The timer thread's deferred deadlock check (see deadlock.c), and the
 * timer side of it: run gort__deadlock_recheck on the timer thread after d,
 * without a heap entry (no timer counts as pending for it). */
void gort__deadlock_recheck(void);
void gort__timer_deadlock_recheck(gort_duration d);

/* Registry counters used by the deadlock detector and introspection. */
void gort__timers_pending_add(int delta);
int64_t gort__timers_pending(void);

/* Timer thread internals shared with sleep: a heap entry. */
typedef struct gort__timer_entry {
  int64_t when;
  int64_t period;  /* > 0 for tickers */
  void (*fire)(struct gort__timer_entry *e, int64_t now); /* called on the timer thread, unlocked */
  void *arg;
  long heap_index; /* -1 when not in the heap */
  _Atomic uint64_t seq; /* bumped on every stop/reset, so a late fire is ignored */
  /* For gort_timer_snapshot: immutable once the entry is first started. */
  uint64_t id;
  int kind;       /* gort_timer_kind */
  void *site;     /* return address into the code that created it, or NULL */
  int64_t created_at;
} gort__timer_entry;

/* kind GORT_TIMER_INTERNAL, no site: callers that create timers for a user
 * call gort__timer_entry_origin before the first start. */
void gort__timer_entry_init(gort__timer_entry *e, void (*fire)(gort__timer_entry *, int64_t), void *arg);
void gort__timer_entry_origin(gort__timer_entry *e, int kind, void *site);
/* Add or move e to fire at when (period > 0 repeats). */
int gort__timer_start(gort__timer_entry *e, int64_t when, int64_t period);
/* Remove e: true if it was pending. After it returns, fire is not running
 * for e and will not be called again (unless restarted). */
bool gort__timer_stop(gort__timer_entry *e);

/* Helper threads for gort_runtime_quiesce / gort_runtime_threads. */
void gort__timer_thread_quiesce(void);
pid_t gort__timer_thread_tid(void);

#endif
