/* runtime/src/timer.c - the timer thread and its heap; sleep, timers, tickers.
 *
 * Invariants:
 *  - There is at most one timer thread. tstate is TT_NONE when there is none,
 *    TT_RUNNING while it serves the heap, TT_STOPPING while quiesce waits for
 *    it to exit. It is started on demand by gort__timer_start and stopped only
 *    by gort__timer_thread_quiesce, and only when the heap is empty.
 *  - heap[0..heap_len) is a binary min-heap ordered by `when`; an entry's
 *    heap_index is its position in it, or -1 when it is not in it.
 *  - `firing` is the entry whose fire callback is running on the timer thread,
 *    or NULL. A one-shot entry leaves the heap before it fires; a ticker stays
 *    in it, already re-armed to its next period, while it fires.
 *  - recheck_at (under tmu) is when the timer thread runs the deadlock
 *    detector's recheck (deadlock.c), INT64_MAX when nobody asked; it is no
 *    heap entry, so it never counts as a pending timer.
 *  - gort__timers_pending() counts the entries in the heap plus a one-shot
 *    entry whose fire is still running. Counting the latter means the deadlock
 *    detector never sees "no timer pending" between the pop of a sleeper's
 *    entry and the wake-up its fire delivers.
 *  - After gort__timer_stop(e) returns, e is not in the heap and e's fire is
 *    not running (it waits on tfired for that), unless the caller is running
 *    on the timer thread: then the caller is that very fire, or another one,
 *    and in both cases e's fire is not running concurrently.
 *  - The timer thread never dereferences an entry after its fire returns:
 *    entries of gort_sleep live on the sleeper's stack, and gort_after's
 *    timer frees itself inside its fire.
 *
 * Locks: qmu (serialises quiesce) -> tmu (the heap, tstate, firing); both
 * are taken around fork() (see atfork_child). Fire callbacks run with no
 * timer lock held, so they may start and stop timers and take other locks.
 * Callers may hold their own locks around gort__timer_start (it never
 * waits), but never around gort__timer_stop when a fire callback might take
 * the same lock: stop may wait for that fire.
 *
 * Waiting for a running fire in gort__timer_stop uses a condition variable,
 * not park/ready: it is a bounded wait for a short callback that never
 * blocks (every fire here sends without blocking, readies, spawns or closes),
 * like waiting for a mutex, and stop is also called from threads that are
 * not tasks (the timer thread itself, when a deadline cancels a context
 * tree). The entry's seq is bumped by start and stop for observers; stop's
 * guarantee does not depend on it.
 *
 * The heap array uses libc's allocator, not the replaceable one: it is
 * runtime infrastructure that outlives any allocator swap (and is freed when
 * the timer thread is quiesced with an empty heap).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gort/chan.h"
#include "gort/timer.h"
#include "internal.h"

/* now + d, saturating instead of overflowing for huge durations. */
static int64_t when_after(int64_t now, gort_duration d) {
  if (d > 0 && now > INT64_MAX - d) return INT64_MAX;
  return now + d;
}

static struct timespec to_timespec(int64_t ns) {
  if (ns < 0) ns = 0;
  struct timespec ts = {(time_t)(ns / GORT_SECOND), (long)(ns % GORT_SECOND)};
  return ts;
}

/* ---- the heap and the timer thread --------------------------------------- */

typedef enum { TT_NONE, TT_RUNNING, TT_STOPPING } tt_state;

static pthread_mutex_t qmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t tmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t tonce = PTHREAD_ONCE_INIT;
static pthread_cond_t twake;  /* CLOCK_MONOTONIC; the timer thread sleeps on it */
static pthread_cond_t tfired; /* broadcast when a fire ends or the tid is known */

/* All protected by tmu. */
static gort__timer_entry **heap;
static size_t heap_len, heap_cap;
static gort__timer_entry *firing;
static int fire_waiters;    /* stoppers waiting on tfired */
static tt_state tstate;
static pthread_t tthread;   /* valid while tstate != TT_NONE */
static pid_t ttid;          /* 0 until the thread has published it */
/* When the timer thread will wake by itself: INT64_MAX when it waits for a
 * signal, INT64_MIN while it is awake (it rereads the heap before waiting).
 * A start signals only if the new top is earlier. */
static int64_t tsleep_until = INT64_MIN;
/* When the timer thread runs gort__deadlock_recheck; INT64_MAX: not asked. */
static int64_t recheck_at = INT64_MAX;

/* Only the timer thread sets it. */
static _Thread_local bool on_timer_thread;

static void init_conds(void) {
  pthread_condattr_t a;
  pthread_condattr_init(&a);
  pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
  pthread_cond_init(&twake, &a);
  pthread_cond_init(&tfired, &a);
  pthread_condattr_destroy(&a);
}

/* fork() copies only the calling thread, so the child has no timer thread.
 * Like POSIX timers, pending timers are not inherited: the child starts with
 * an empty heap (the entries belong to the parent's tasks, most of which do
 * not exist in the child) and a timer thread started on demand. */
static void atfork_prepare(void) {
  pthread_mutex_lock(&qmu);
  pthread_mutex_lock(&tmu);
}

static void atfork_parent(void) {
  pthread_mutex_unlock(&tmu);
  pthread_mutex_unlock(&qmu);
}

static void atfork_child(void) {
  int64_t dropped = (int64_t)heap_len + (firing && firing->period <= 0 ? 1 : 0);
  for (size_t i = 0; i < heap_len; i++) heap[i]->heap_index = -1;
  heap_len = 0;
  firing = NULL;
  fire_waiters = 0;
  tstate = TT_NONE;
  ttid = 0;
  tsleep_until = INT64_MIN;
  recheck_at = INT64_MAX;
  init_conds(); /* the parent's waiters are not in the child */
  gort__timers_pending_add((int)-dropped);
  pthread_mutex_unlock(&tmu);
  pthread_mutex_unlock(&qmu);
}

static void timer_once(void) {
  init_conds();
  pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

static void heap_set(size_t i, gort__timer_entry *e) {
  heap[i] = e;
  e->heap_index = (long)i;
}

/* Requires tmu. */
static void sift_up(size_t i) {
  gort__timer_entry *e = heap[i];
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (heap[p]->when <= e->when) break;
    heap_set(i, heap[p]);
    i = p;
  }
  heap_set(i, e);
}

/* Requires tmu. */
static void sift_down(size_t i) {
  gort__timer_entry *e = heap[i];
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= heap_len) break;
    if (c + 1 < heap_len && heap[c + 1]->when < heap[c]->when) c++;
    if (e->when <= heap[c]->when) break;
    heap_set(i, heap[c]);
    i = c;
  }
  heap_set(i, e);
}

/* Requires tmu: e's `when` changed while it is in the heap. */
static void heap_fix(gort__timer_entry *e) {
  size_t i = (size_t)e->heap_index;
  if (i > 0 && heap[(i - 1) / 2]->when > e->when)
    sift_up(i);
  else
    sift_down(i);
}

/* Requires tmu. */
static void heap_remove(gort__timer_entry *e) {
  size_t i = (size_t)e->heap_index;
  gort__timer_entry *last = heap[--heap_len];
  e->heap_index = -1;
  if (last == e) return;
  heap_set(i, last);
  heap_fix(last);
}

/* Requires tmu. Room for one more entry. */
static bool heap_reserve(void) {
  if (heap_len < heap_cap) return true;
  size_t cap = heap_cap ? heap_cap * 2 : 64;
  gort__timer_entry **h = realloc(heap, cap * sizeof *h);
  if (!h) return false;
  heap = h;
  heap_cap = cap;
  return true;
}

/* Next firing time of a ticker that was due at e->when and fired at now:
 * skip the periods that were missed, as Go does, instead of bursting. */
static int64_t ticker_next(const gort__timer_entry *e, int64_t now) {
  int64_t next = when_after(e->when, e->period);
  if (next <= now) {
    int64_t missed = (now - next) / e->period + 1;
    if (missed > (INT64_MAX - next) / e->period) return INT64_MAX;
    next += missed * e->period;
  }
  return next;
}

static void *timer_main(void *unused) {
  (void)unused;
  on_timer_thread = true;
  pthread_setname_np(pthread_self(), "gort-timer");
  pthread_mutex_lock(&tmu);
  ttid = gettid();
  pthread_cond_broadcast(&tfired); /* gort__timer_thread_tid may wait for it */
  while (tstate == TT_RUNNING) {
    int64_t now = gort__nanotime();
    if (recheck_at <= now) {
      recheck_at = INT64_MAX;
      pthread_mutex_unlock(&tmu);
      gort__deadlock_recheck(); /* may ask again */
      pthread_mutex_lock(&tmu);
      continue;
    }
    int64_t next = heap_len > 0 && heap[0]->when < recheck_at ? heap[0]->when : recheck_at;
    if (next == INT64_MAX) {
      tsleep_until = INT64_MAX;
      pthread_cond_wait(&twake, &tmu);
      tsleep_until = INT64_MIN;
      continue;
    }
    if (next > now) {
      tsleep_until = next;
      struct timespec ts = to_timespec(next);
      pthread_cond_timedwait(&twake, &tmu, &ts);
      tsleep_until = INT64_MIN;
      continue;
    }
    gort__timer_entry *e = heap[0];
    bool one_shot = e->period <= 0;
    if (one_shot) {
      heap_remove(e); /* still counted as pending until its fire returns */
    } else {
      e->when = ticker_next(e, now);
      sift_down(0);
    }
    firing = e;
    pthread_mutex_unlock(&tmu);
    e->fire(e, now); /* e may be gone once this returns */
    pthread_mutex_lock(&tmu);
    firing = NULL;
    if (one_shot) gort__timers_pending_add(-1);
    if (fire_waiters > 0) pthread_cond_broadcast(&tfired);
    if (gort__timers_pending() == 0) {
      /* The last timer has fired: if it woke nobody, every task may now be
       * parked for good. Check without tmu (the check reads our tid). */
      pthread_mutex_unlock(&tmu);
      gort__deadlock_check();
      pthread_mutex_lock(&tmu);
    }
  }
  pthread_mutex_unlock(&tmu);
  return NULL;
}

/* Requires tmu and tstate == TT_NONE. */
static int start_thread_locked(void) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, (size_t)256 * 1024);
  /* The timer thread takes no signals: they belong to the tasks. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  tstate = TT_RUNNING;
  ttid = 0;
  int rc = pthread_create(&tthread, &attr, timer_main, NULL);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    tstate = TT_NONE;
    return GORT_ETHREAD;
  }
  return 0;
}

void gort__timer_entry_init(gort__timer_entry *e, void (*fire)(gort__timer_entry *, int64_t),
                            void *arg) {
  e->when = 0;
  e->period = 0;
  e->fire = fire;
  e->arg = arg;
  e->heap_index = -1;
  atomic_init(&e->seq, 0);
  e->id = 0;
  e->kind = GORT_TIMER_INTERNAL;
  e->site = NULL;
  e->created_at = 0;
}

void gort__timer_entry_origin(gort__timer_entry *e, int kind, void *site) {
  e->kind = kind;
  e->site = site;
}

/* Relaxed: an id is a name, not a synchronisation (a seq_cst counter here
 * would order unrelated tasks for ThreadSanitizer and hide their races). */
static _Atomic uint64_t next_timer_id = 1;

int gort__timer_start(gort__timer_entry *e, int64_t when, int64_t period) {
  pthread_once(&tonce, timer_once);
  pthread_mutex_lock(&tmu);
  if (e->heap_index < 0 && !heap_reserve()) {
    pthread_mutex_unlock(&tmu);
    return GORT_ENOMEM;
  }
  /* While TT_STOPPING, quiesce restarts the thread after the join when it
   * finds the heap non-empty. */
  if (tstate == TT_NONE) {
    int rc = start_thread_locked();
    if (rc != 0) {
      pthread_mutex_unlock(&tmu);
      return rc;
    }
  }
  atomic_fetch_add_explicit(&e->seq, 1, memory_order_relaxed);
  if (e->id == 0) {
    e->id = atomic_fetch_add_explicit(&next_timer_id, 1, memory_order_relaxed);
    e->created_at = gort__nanotime();
  }
  e->when = when;
  e->period = period > 0 ? period : 0;
  if (e->heap_index >= 0) {
    heap_fix(e);
  } else {
    heap_set(heap_len++, e);
    sift_up(heap_len - 1);
    gort__timers_pending_add(+1);
  }
  if (heap[0] == e && e->when < tsleep_until) pthread_cond_signal(&twake);
  pthread_mutex_unlock(&tmu);
  return 0;
}

bool gort__timer_stop(gort__timer_entry *e) {
  pthread_mutex_lock(&tmu);
  bool pending = e->heap_index >= 0;
  if (pending) {
    heap_remove(e);
    gort__timers_pending_add(-1);
  }
  atomic_fetch_add_explicit(&e->seq, 1, memory_order_relaxed);
  /* On the timer thread the running fire is the caller itself (or another
   * entry's), so waiting would deadlock and is not needed. */
  while (firing == e && !on_timer_thread) {
    fire_waiters++;
    pthread_cond_wait(&tfired, &tmu);
    fire_waiters--;
  }
  pthread_mutex_unlock(&tmu);
  return pending;
}

void gort__timer_deadlock_recheck(gort_duration d) {
  pthread_once(&tonce, timer_once);
  pthread_mutex_lock(&tmu);
  int64_t when = when_after(gort__nanotime(), d);
  if (when < recheck_at) recheck_at = when;
  /* Without a thread (none yet, or it could not start) nobody rechecks:
   * the next park checks anew. */
  if (tstate == TT_NONE) (void)start_thread_locked();
  if (recheck_at < tsleep_until) pthread_cond_signal(&twake);
  pthread_mutex_unlock(&tmu);
}

void gort__timer_thread_quiesce(void) {
  pthread_once(&tonce, timer_once);
  pthread_mutex_lock(&qmu);
  pthread_mutex_lock(&tmu);
  /* A pending deadlock recheck is dropped: whoever quiesces is running, so
   * not every task is parked, and the next park checks anew. */
  recheck_at = INT64_MAX;
  if (tstate != TT_RUNNING || heap_len > 0) {
    pthread_mutex_unlock(&tmu);
    pthread_mutex_unlock(&qmu);
    return;
  }
  tstate = TT_STOPPING;
  pthread_cond_signal(&twake);
  pthread_t t = tthread;
  pthread_mutex_unlock(&tmu);
  pthread_join(t, NULL);
  pthread_mutex_lock(&tmu);
  tstate = TT_NONE;
  ttid = 0;
  if (heap_len > 0) {
    /* A timer was started while the thread was exiting. If the restart
     * fails those entries wait for the next start, which retries. */
    (void)start_thread_locked();
  } else {
    free(heap);
    heap = NULL;
    heap_cap = 0;
  }
  pthread_mutex_unlock(&tmu);
  pthread_mutex_unlock(&qmu);
}

size_t gort_timer_snapshot(gort_timer_info *out, size_t max) {
  pthread_once(&tonce, timer_once);
  pthread_mutex_lock(&tmu);
  size_t n = heap_len;
  for (size_t i = 0; i < n && i < max; i++) {
    const gort__timer_entry *e = heap[i];
    out[i] = (gort_timer_info){e->id, (gort_timer_kind)e->kind, e->site, e->created_at,
                               e->when, e->period};
  }
  pthread_mutex_unlock(&tmu);
  return n;
}

const char *gort_timer_kind_string(gort_timer_kind k) {
  static const char *const names[GORT_TIMER__COUNT] = {
      "internal", "sleep", "time.After", "time.NewTimer", "time.AfterFunc", "time.NewTicker",
      "context deadline"};
  return (unsigned)k < GORT_TIMER__COUNT ? names[k] : "unknown";
}

pid_t gort__timer_thread_tid(void) {
  pthread_once(&tonce, timer_once);
  pthread_mutex_lock(&tmu);
  /* A just-created thread publishes its tid almost at once; wait for it so
   * that a thread listing never misses the timer thread. */
  while (tstate == TT_RUNNING && ttid == 0) pthread_cond_wait(&tfired, &tmu);
  pid_t tid = tstate == TT_NONE ? 0 : ttid;
  pthread_mutex_unlock(&tmu);
  return tid;
}

/* ---- sleep ------------------------------------------------------------- */

static void sleep_fire(gort__timer_entry *e, int64_t now) {
  (void)now;
  gort__waiter *w = e->arg;
  /* Last touch: w and e live on the sleeper's stack. */
  gort__ready(w->task);
}

/* Without a task record or a timer (allocation or thread creation failed),
 * sleep on the OS clock: the caller still gets its lower bound. */
static void os_sleep_until(int64_t when) {
  struct timespec ts = to_timespec(when);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
  }
}

int gort_sleep(gort_duration d) {
  if (d <= 0) return 0;
  int64_t when = when_after(gort__nanotime(), d);
  gort__task *t = gort__current();
  if (t) {
    gort__waiter w;
    memset(&w, 0, sizeof w);
    w.task = t;
    gort__timer_entry e;
    gort__timer_entry_init(&e, sleep_fire, &w);
    gort__timer_entry_origin(&e, GORT_TIMER_SLEEP, __builtin_return_address(0));
    /* A fire before the park leaves a token, so no unlock step is needed. */
    if (gort__timer_start(&e, when, 0) == 0) {
      gort__park(GORT_WAIT_SLEEP, NULL, NULL);
      return 0;
    }
  }
  os_sleep_until(when);
  return 0;
}

/* ---- timers ------------------------------------------------------------ */

struct gort_timer {
  gort__timer_entry entry;
  gort_chan *c;           /* int64 fire times, cap 1; NULL for AfterFunc. Immutable. */
  void (*fn)(void *);     /* AfterFunc; immutable */
  void *arg;
  bool self_owned;        /* gort_after: the fire releases c and frees the timer */
};

/* Go 1.23: a value sent but not received before Stop/Reset is discarded.
 * Returns true when there was one. */
static bool chan_drain(gort_chan *c) {
  bool drained = false;
  int64_t v;
  while (gort_chan_try_recv(c, &v, NULL) == 0) drained = true;
  return drained;
}

static void chan_fire(gort__timer_entry *e, int64_t now) {
  gort_timer *t = e->arg;
  (void)gort_chan_try_send(t->c, &now); /* cap 1: never blocks */
  if (t->self_owned) {
    gort_chan_release(t->c);
    gort__free(t);
  }
}

static void func_fire(gort__timer_entry *e, int64_t now) {
  gort_timer *t = e->arg;
  /* fn runs in its own task, as Go's AfterFunc does. If the OS refuses a
   * thread, retry shortly rather than lose the call; the entry was just
   * popped, so the heap has room and the restart cannot fail. */
  if (gort_go(t->fn, t->arg) != 0) (void)gort__timer_start(e, when_after(now, GORT_MILLISECOND), 0);
}

/* A timer that is not started yet; with_chan: a channel timer. */
static int timer_alloc(gort_timer **out, bool with_chan, void (*fn)(void *), void *arg,
                       gort_timer_kind kind, void *site) {
  gort_timer *t = gort__calloc(1, sizeof *t);
  if (!t) return GORT_ENOMEM;
  if (with_chan) {
    int rc = gort_chan_make(&t->c, sizeof(int64_t), 1);
    if (rc != 0) {
      gort__free(t);
      return rc;
    }
  }
  t->fn = fn;
  t->arg = arg;
  gort__timer_entry_init(&t->entry, with_chan ? chan_fire : func_fire, t);
  gort__timer_entry_origin(&t->entry, kind, site);
  *out = t;
  return 0;
}

/* Frees a timer that was never started (or is stopped). */
static void timer_dispose(gort_timer *t) {
  gort_chan_release(t->c);
  gort__free(t);
}

int gort_after(gort_duration d, gort_chan **out) {
  if (!out) return GORT_EINVAL;
  gort_timer *t;
  int rc = timer_alloc(&t, true, NULL, NULL, GORT_TIMER_AFTER, __builtin_return_address(0));
  if (rc != 0) return rc;
  /* Two references: the caller's and the timer's, which chan_fire drops.
   * Do not touch t once the start succeeds: it may have fired and freed
   * itself already. */
  gort_chan *c = gort_chan_retain(t->c);
  t->self_owned = true;
  rc = gort__timer_start(&t->entry, when_after(gort__nanotime(), d), 0);
  if (rc != 0) {
    gort_chan_release(c);
    timer_dispose(t);
    return rc;
  }
  *out = c;
  return 0;
}

static int timer_start_new(gort_timer **out, gort_timer *t, gort_duration d) {
  int rc = gort__timer_start(&t->entry, when_after(gort__nanotime(), d), 0);
  if (rc != 0) {
    timer_dispose(t);
    return rc;
  }
  *out = t;
  return 0;
}

int gort_timer_new(gort_timer **out, gort_duration d) {
  if (!out) return GORT_EINVAL;
  gort_timer *t;
  int rc = timer_alloc(&t, true, NULL, NULL, GORT_TIMER_TIMER, __builtin_return_address(0));
  return rc != 0 ? rc : timer_start_new(out, t, d);
}

int gort_timer_after_func(gort_timer **out, gort_duration d, void (*fn)(void *), void *arg) {
  if (!out || !fn) return GORT_EINVAL;
  gort_timer *t;
  int rc = timer_alloc(&t, false, fn, arg, GORT_TIMER_AFTER_FUNC, __builtin_return_address(0));
  return rc != 0 ? rc : timer_start_new(out, t, d);
}

gort_chan *gort_timer_chan(gort_timer *t) { return t ? t->c : NULL; }

bool gort_timer_stop(gort_timer *t) {
  if (gort__nil(t)) return false; /* as Go's (*Timer)(nil).Stop() panics */
  bool pending = gort__timer_stop(&t->entry);
  /* A value waiting in the channel was never delivered (Go 1.23 treats the
   * channel as unbuffered), so the timer counts as stopped before firing. */
  if (t->c && chan_drain(t->c)) pending = true;
  return pending;
}

bool gort_timer_reset(gort_timer *t, gort_duration d) {
  if (gort__nil(t)) return false;
  bool pending = gort_timer_stop(t);
  /* Fails only when libc cannot grow the heap or the OS refuses the timer
   * thread; the timer then stays stopped (Reset has no way to report it). */
  (void)gort__timer_start(&t->entry, when_after(gort__nanotime(), d), 0);
  return pending;
}

void gort_timer_free(gort_timer *t) {
  if (!t) return;
  gort__timer_stop(&t->entry);
  timer_dispose(t);
}

/* ---- tickers ------------------------------------------------------------ */

struct gort_ticker {
  gort__timer_entry entry;
  gort_chan *c; /* int64 tick times, cap 1; immutable */
};

static void ticker_fire(gort__timer_entry *e, int64_t now) {
  gort_ticker *t = e->arg;
  (void)gort_chan_try_send(t->c, &now); /* full: the receiver is slow; drop */
}

int gort_ticker_new(gort_ticker **out, gort_duration period) {
  if (!out) return GORT_EINVAL;
  if (period <= 0) return gort__misuse(GORT_ENEGDELAY);
  gort_ticker *t = gort__calloc(1, sizeof *t);
  if (!t) return GORT_ENOMEM;
  int rc = gort_chan_make(&t->c, sizeof(int64_t), 1);
  if (rc != 0) {
    gort__free(t);
    return rc;
  }
  gort__timer_entry_init(&t->entry, ticker_fire, t);
  gort__timer_entry_origin(&t->entry, GORT_TIMER_TICKER, __builtin_return_address(0));
  rc = gort__timer_start(&t->entry, when_after(gort__nanotime(), period), period);
  if (rc != 0) {
    gort_chan_release(t->c);
    gort__free(t);
    return rc;
  }
  *out = t;
  return 0;
}

gort_chan *gort_ticker_chan(gort_ticker *t) { return t ? t->c : NULL; }

void gort_ticker_stop(gort_ticker *t) {
  if (gort__nil(t)) return;
  gort__timer_stop(&t->entry);
  chan_drain(t->c);
}

int gort_ticker_reset(gort_ticker *t, gort_duration period) {
  if (!t) return GORT_EINVAL;
  if (period <= 0) return gort__misuse(GORT_ENEGDELAY);
  gort_ticker_stop(t);
  return gort__timer_start(&t->entry, when_after(gort__nanotime(), period), period);
}

void gort_ticker_free(gort_ticker *t) {
  if (!t) return;
  gort__timer_stop(&t->entry);
  gort_chan_release(t->c);
  gort__free(t);
}
