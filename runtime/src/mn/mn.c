/* mn.c - the M:N backend: green tasks (G) on worker threads (M), at most
 * GORT_MAXPROCS of them running at once (P, one per core by default), as in
 * Go's scheduler.
 *
 * Run queues. Each P has a bounded local queue (RUNQ_SIZE, a lock-free
 * multi-producer ring: a task readied by a worker goes to that worker's P
 * even while the P changes hands) and a `runnext` slot: the task most
 * recently readied or spawned by the P's running task, run next, so a woken
 * receiver runs right after its sender parks, on the same core, without a
 * syscall. A task readied from outside (the timer thread, an adopted thread)
 * or a full local queue goes to the global queue (sched lock). A worker
 * looks at runnext, its local queue, the global queue (first every 61st
 * tick, for fairness), then spins stealing from the other Ps, then gives its
 * P back and sleeps on its futex token.
 *
 * Spinning. At most half the busy Ps' worth of Ms spin (Go's rule), each for
 * at most SPIN_NS; a readier wakes an idle M only when a P is idle and no M
 * spins (wakep). No wake-up is lost: a readier publishes the task, then
 * (seq_cst fence) reads nmspinning and npidle; a worker giving up publishes
 * npidle and nmspinning, then (fence) looks at every queue once more.
 *
 * Park/ready (scheduler.h's protocol). A G's status is RUNNING while a
 * worker runs it. gort__park switches to the worker's scheduler context
 * (g0), which then CASes RUNNING -> WAITING; a ready that came earlier left
 * TOKEN instead (RUNNING -> TOKEN), and then the park returns at once, or g0
 * resumes the G. A ready of a WAITING G CASes it to RUNNABLE and queues it.
 * The CASes are release/acquire, and the queues hand G pointers over with
 * release/acquire, so the waker's writes are visible to the woken task.
 *
 * Blocking outside gort. gort_syscall_enter hands the P to another worker at
 * once (Go's entersyscallblock); gort_syscall_exit takes an idle P back or
 * queues the task and parks the worker. The monitor thread (sysmon) retakes
 * the P of a worker whose P has not scheduled for RETAKE_NS while work
 * waits: a task stuck in an unannotated blocking call or computing without
 * parking. Its worker keeps running that task without a P and gives it up
 * at the task's next switch. Tasks are not preempted.
 *
 * Adopted threads (main, foreign threads) have no G: they block on their OS
 * token exactly as under the thread backend.
 *
 * A deterministic mode fits without redesign: every scheduling decision is
 * made in find_runnable (which G next) and ready_g (where a readied G goes),
 * both on g0 or the readier. With GORT_MAXPROCS=1 and no sysmon retake, a
 * strategy object can replace the body of find_runnable (pick among runnext,
 * local and global queue, recorded as an index), and ready_g can append to
 * one queue the strategy orders; timers would then fire from the scheduler
 * loop on a virtual clock instead of the timer thread.
 *
 * Lifecycle: started by the first green spawn (state ON), stopped by
 * gort_runtime_quiesce when no green task lives (workers and sysmon exit,
 * cached stacks are unmapped; state OFF), restarted on demand.
 * fork() from an adopted thread resets the backend in the child; a child
 * forked from a green task may only exec or _exit.
 */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "hb.h"
#include "mn/mn.h"
#include "lock.h"

#ifdef GORT_MN_TSAN
#include <sanitizer/tsan_interface.h>
#endif
#ifdef GORT_MN_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

/* ThreadSanitizer sees tasks as fibers. Go's race detector is the model:
 * the scheduler is not instrumented (Makefile, TSAN_UNINSTRUMENTED), a
 * fiber switch carries no happens-before (no_sync; with it, every task
 * would be ordered after the one that ran before it on the worker, and
 * races between them would go unseen), and the scheduler states the edges
 * that are real: a spawn before the task's first instruction, a ready
 * before the readied park returns, a task's end before the scheduler frees
 * its record, all on the task record; and a worker's start (TSan counts
 * its thread-local storage as written then) before any task runs on it. */
#ifdef GORT_MN_TSAN
#define TSAN_SWITCH(fiber) __tsan_switch_to_fiber((fiber), __tsan_switch_to_fiber_no_sync)
#endif

/* Helgrind and DRD have no fibers: to them a worker is one thread that runs
 * its tasks one after the other, and they see neither the atomics nor the
 * futex tokens that hand a task from one worker to the next (hb.h). The
 * scheduler states those hand-offs to them (hb.h's GORT__HB_*: no-ops
 * natively but for a predicted branch on a read-mostly flag):
 *  - a task's context moves with it: everything a task, and its spawner,
 *    wrote before it switched out (its stack, its frames' saved registers,
 *    the G record) is ordered before it next runs, on whichever worker:
 *    HANDOFF(g) when its spawner queues it and when it switches out,
 *    TAKEOVER(g) before a worker touches it to run it, HANDOFF_END(g) when
 *    it has ended. The real edge is the status CAS and the run queue
 *    hand-off that follow the switch-out;
 *  - a run queue cell hands its G pointer over through the cell's seq
 *    (release/acquire), both ways round the ring: BEFORE(cell) before each
 *    release of seq, AFTER(cell) once an acquire of seq let the caller in;
 *  - a ready before the readied park returns: park.c, on the task record;
 *  - a worker's token hands it its P (m->nextp): token.c.
 * The scheduler's other atomics (queue indexes, runnext, counters, states)
 * carry no data and are not race-checked (GORT__HB_ATOMIC). */

enum { AFTER_NONE, AFTER_PARK, AFTER_YIELD, AFTER_EXIT, AFTER_SYSCALL };
enum { S_OFF, S_ON, S_QUIESCING, S_STOPPING };

#define RUNQ_SIZE 256
#define SPIN_NS (30 * GORT_MICROSECOND)
#define STEAL_RUNNEXT_NS (5 * GORT_MICROSECOND)
#define RETAKE_NS (10 * GORT_MILLISECOND)
#define M_STACK_SIZE (1u << 20)

typedef struct {
  _Atomic size_t seq;
  gort__g *g; /* published by seq (release), read after it (acquire) */
} runq_cell;

struct gort__p {
  int id;
  _Atomic(gort__m *) owner;    /* the M running it; NULL while idle */
  _Atomic uint64_t schedtick;  /* Gs started on it */
  uint64_t tick_seen;          /* sysmon only */
  gort__m *owner_seen;         /* sysmon only */
  int64_t tick_since;          /* sysmon only */
  /* runnext picks in a row; relaxed: a retaken P may briefly have two Ms */
  _Atomic uint32_t nextcount;
  gort__p *idle_next;          /* sched lock */
  _Atomic(gort__g *) runnext;
  _Atomic size_t enq, deq;
  runq_cell cell[RUNQ_SIZE];
};

static struct {
  gort__lock lock;           /* spin-then-futex: held for a few dozen instructions */
  gort__g *gq_head, *gq_tail; /* lock; the first and last batch */
  _Atomic int64_t gq_len;
  gort__p *pidle;             /* lock */
  _Atomic int npidle;
  gort__m *midle;             /* lock */
  int nmidle;                 /* lock */
  gort__m *allm;              /* lock */
  unsigned epoch;             /* lock; a start resets the Ps: a P taken before belongs to no one */
  _Atomic int nmspinning;
  int nprocs;
  gort__p *allp;
  _Atomic int state;
  /* Written by every spawn and exit: on a line of its own, away from the
   * words every wakep and spinner reads. */
  _Alignas(64) _Atomic int64_t green_live;
  _Alignas(64) char green_live_pad_;
  _Atomic int64_t m_alive, m_created;
  sigset_t sigmask;           /* workers run tasks with the first spawner's mask */
  pthread_t sysmon;
  bool sysmon_on;             /* life_lock */
  _Atomic uint32_t sysmon_wake;
  _Atomic pid_t sysmon_tid;
} sched;

static pthread_mutex_t life_lock = PTHREAD_MUTEX_INITIALIZER;

/* Store-load ordering for the no-lost-wake-up argument (see the top).
 * ThreadSanitizer does not model fences; under it a seq_cst read-modify-
 * write stands in (a full barrier on x86-64, the only TSan target here). */
#ifdef GORT_MN_TSAN
static _Atomic int fence_word;
static inline void full_fence(void) { atomic_fetch_add(&fence_word, 0); }
#else
static inline void full_fence(void) { atomic_thread_fence(memory_order_seq_cst); }
#endif

static _Thread_local gort__m *tls_m;

/* The worker running the caller. Never cached across a switch: a task may
 * resume on another worker, so every read goes through this opaque call. */
__attribute__((noinline)) static gort__m *getm(void) {
  __asm__ __volatile__("" ::: "memory");
  return tls_m;
}

gort__g *gort__mn_current_g(void) { return tls_m ? tls_m->curg : NULL; }

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

/* ---- context switches, with the sanitizers' fiber hooks ---- */

#ifdef GORT_MN_ASAN
static size_t g_stack_size(const gort__g *g) { return g->map_size - g->guard; }
#endif

/* On g's stack: to the scheduler. Returns when g is resumed, possibly on
 * another worker. A dying g never returns. */
static void switch_to_g0(gort__m *m, gort__g *g, bool dying) {
#ifdef GORT_MN_ASAN
  __sanitizer_start_switch_fiber(dying ? NULL : &g->asan_fake, m->g0_lo, m->g0_size);
#endif
#ifdef GORT_MN_TSAN
  TSAN_SWITCH(m->g0_tsan_fiber);
#endif
  (void)dying;
  gort__ctx_switch(&g->sp, m->g0_sp);
#ifdef GORT_MN_ASAN
  __sanitizer_finish_switch_fiber(g->asan_fake, NULL, NULL);
#endif
  GORT__TSAN_ACQUIRE(getm()); /* this worker's start */
}

/* On the scheduler's stack: run g until it switches back. */
static void switch_to_g(gort__m *m, gort__g *g) {
#ifdef GORT_MN_ASAN
  __sanitizer_start_switch_fiber(&m->g0_asan_fake, g->map + g->guard, g_stack_size(g));
#endif
#ifdef GORT_MN_TSAN
  TSAN_SWITCH(g->tsan_fiber);
#endif
  gort__ctx_switch(&m->g0_sp, g->sp);
#ifdef GORT_MN_ASAN
  __sanitizer_finish_switch_fiber(m->g0_asan_fake, NULL, NULL);
#endif
}

static void g_main(void *arg) {
  gort__g *g = arg;
#ifdef GORT_MN_ASAN
  __sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
  GORT__TSAN_ACQUIRE(getm()); /* this worker's start */
  GORT__TSAN_ACQUIRE(g->task); /* the spawner's past */
  g->task->fn(g->task->arg);
  GORT__TSAN_RELEASE(g->task); /* to g_exit */
  gort__m *m = getm();
  m->after = AFTER_EXIT;
  switch_to_g0(m, g, true);
  gort__fatal("mn: a finished task was resumed");
}

/* ---- run queues ---- */

static void runq_init(gort__p *p) {
  for (size_t i = 0; i < RUNQ_SIZE; i++) {
    GORT__HB_ATOMIC(&p->cell[i].seq, sizeof p->cell[i].seq);
    atomic_init(&p->cell[i].seq, i);
  }
  atomic_init(&p->enq, 0);
  atomic_init(&p->deq, 0);
  atomic_init(&p->runnext, NULL);
}

/* Bounded MPMC ring (Vyukov): each cell's seq says whose turn it is. */
static bool runq_put(gort__p *p, gort__g *g) {
  size_t pos = atomic_load_explicit(&p->enq, memory_order_relaxed);
  for (;;) {
    runq_cell *c = &p->cell[pos % RUNQ_SIZE];
    size_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
    intptr_t dif = (intptr_t)seq - (intptr_t)pos;
    if (dif == 0) {
      if (atomic_compare_exchange_weak_explicit(&p->enq, &pos, pos + 1, memory_order_relaxed,
                                                memory_order_relaxed)) {
        GORT__HB_AFTER(c); /* the pop that emptied the cell read its last g */
        c->g = g;
        GORT__HB_BEFORE(c);
        atomic_store_explicit(&c->seq, pos + 1, memory_order_release);
        return true;
      }
    } else if (dif < 0) {
      return false; /* full */
    } else {
      pos = atomic_load_explicit(&p->enq, memory_order_relaxed);
    }
  }
}

static gort__g *runq_pop(gort__p *p) {
  size_t pos = atomic_load_explicit(&p->deq, memory_order_relaxed);
  for (;;) {
    runq_cell *c = &p->cell[pos % RUNQ_SIZE];
    size_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
    intptr_t dif = (intptr_t)seq - (intptr_t)(pos + 1);
    if (dif == 0) {
      if (atomic_compare_exchange_weak_explicit(&p->deq, &pos, pos + 1, memory_order_relaxed,
                                                memory_order_relaxed)) {
        GORT__HB_AFTER(c); /* the put that filled it */
        gort__g *g = c->g;
        GORT__HB_BEFORE(c);
        atomic_store_explicit(&c->seq, pos + RUNQ_SIZE, memory_order_release);
        return g;
      }
    } else if (dif < 0) {
      return NULL; /* empty */
    } else {
      pos = atomic_load_explicit(&p->deq, memory_order_relaxed);
    }
  }
}

static bool runq_has_work(gort__p *p) {
  return atomic_load_explicit(&p->enq, memory_order_acquire) !=
             atomic_load_explicit(&p->deq, memory_order_acquire) ||
         atomic_load_explicit(&p->runnext, memory_order_acquire) != NULL;
}

/* The global queue is a list of batches: a batch is the Gs one put moved
 * (linked through next), its first G holding the batch's link, last G and
 * length. A put or a get is then a few pointer moves under the lock; the
 * walk through a batch's Gs (a cache miss each: another worker wrote them
 * last) is done by the worker that took it, after the lock is dropped. */
static void global_batch_init(gort__g *head, gort__g *tail, int64_t n) {
  tail->next = NULL;
  head->gq_next = NULL;
  head->gq_last = tail;
  head->gq_n = n;
}

/* Append the n Gs head..tail (linked through next) to the global queue. */
static void global_put_list(gort__g *head, gort__g *tail, int64_t n) {
  global_batch_init(head, tail, n);
  gort__lock_acquire(&sched.lock);
  if (sched.gq_tail)
    sched.gq_tail->gq_next = head;
  else
    sched.gq_head = head;
  sched.gq_tail = head;
  atomic_fetch_add(&sched.gq_len, n);
  gort__lock_release(&sched.lock);
}

static void global_put(gort__g *g) { global_put_list(g, g, 1); }

/* p's local queue is full: move half of it, then g, to the global queue
 * under one lock, as Go's runqputslow (a spawner that outruns the workers,
 * NaiveSpawn's, took the sched lock for every task past the 256th). */
static void runq_put_slow(gort__p *p, gort__g *g) {
  gort__g *head = NULL, **tail = &head;
  int64_t n = 0;
  for (gort__g *x; n < RUNQ_SIZE / 2 && (x = runq_pop(p)) != NULL; n++) {
    *tail = x;
    tail = &x->next;
  }
  *tail = g;
  global_put_list(head, g, n + 1);
}

/* Take one G for p's worker, and a fair share more into p's local queue
 * (Go's globrunqget): the first batch is taken whole, what p does not take
 * of it goes back to the front. */
static gort__g *global_get(gort__p *p) {
  if (atomic_load(&sched.gq_len) == 0) return NULL;
  gort__lock_acquire(&sched.lock);
  gort__g *g = sched.gq_head;
  int64_t len = atomic_load(&sched.gq_len);
  if (g) {
    sched.gq_head = g->gq_next;
    if (!sched.gq_head) sched.gq_tail = NULL;
    atomic_store(&sched.gq_len, len - g->gq_n);
  }
  gort__lock_release(&sched.lock);
  if (!g) return NULL;
  gort__g *last = g->gq_last, *x = g->next;
  int64_t n = g->gq_n, taken = 1, extra = len / sched.nprocs;
  if (extra > RUNQ_SIZE / 2) extra = RUNQ_SIZE / 2;
  for (; x && extra > 0; extra--, taken++) {
    gort__g *next = x->next; /* x is not ours once queued */
    if (!runq_put(p, x)) break;
    x = next;
  }
  if (x) {
    global_batch_init(x, last, n - taken);
    gort__lock_acquire(&sched.lock);
    x->gq_next = sched.gq_head;
    sched.gq_head = x;
    if (!sched.gq_tail) sched.gq_tail = x;
    atomic_fetch_add(&sched.gq_len, n - taken);
    gort__lock_release(&sched.lock);
  }
  return g;
}

static bool work_anywhere(void) {
  if (atomic_load(&sched.gq_len) > 0) return true;
  for (int i = 0; i < sched.nprocs; i++)
    if (runq_has_work(&sched.allp[i])) return true;
  return false;
}

/* ---- Ms and Ps ---- */

static void *m_main(void *arg);

static void pidle_put_locked(gort__p *p) {
  atomic_store(&p->owner, NULL);
  p->idle_next = sched.pidle;
  sched.pidle = p;
  atomic_fetch_add(&sched.npidle, 1);
}

static gort__p *pidle_get_locked(gort__m *m) {
  gort__p *p = sched.pidle;
  if (p) {
    sched.pidle = p->idle_next;
    atomic_fetch_sub(&sched.npidle, 1);
    atomic_store(&p->owner, m);
  }
  return p;
}

static bool acquire_idle_p(gort__m *m) {
  gort__lock_acquire(&sched.lock);
  gort__p *p = pidle_get_locked(m);
  gort__lock_release(&sched.lock);
  m->p = p;
  return p != NULL;
}

/* Start an M for p, taken in the given epoch. Refused once a quiesce has
 * taken the list of Ms to join (state STOPPING, or OFF after it): an M made
 * then would never be joined. On failure p goes back to the idle list,
 * unless a restart has already reset the Ps. */
static gort__m *newm(gort__p *p, bool spinning, unsigned epoch) {
  gort__m *m = calloc(1, sizeof *m); /* runtime infrastructure: libc, not counted */
  if (m) gort__thread_record_init(&m->th);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, M_STACK_SIZE);
  gort__lock_acquire(&sched.lock);
  int state = atomic_load(&sched.state);
  bool ok = m && sched.epoch == epoch && state != S_STOPPING && state != S_OFF;
  if (ok) {
    m->nextp = p;
    m->spinning = spinning;
    atomic_store(&p->owner, m);
    atomic_fetch_add(&sched.m_alive, 1);
    m->all_next = sched.allm;
    sched.allm = m;
    if (pthread_create(&m->th.pt, &attr, m_main, m) != 0) {
      sched.allm = m->all_next;
      atomic_fetch_sub(&sched.m_alive, 1);
      ok = false;
    }
  }
  if (!ok && sched.epoch == epoch) pidle_put_locked(p);
  gort__lock_release(&sched.lock);
  pthread_attr_destroy(&attr);
  if (!ok) {
    free(m);
    return NULL;
  }
  atomic_fetch_add(&sched.m_created, 1);
  return m;
}

/* Give p (or an idle P when p is NULL) to an idle or new M. */
static bool startm(gort__p *p, bool spinning) {
  gort__lock_acquire(&sched.lock);
  unsigned epoch = sched.epoch;
  if (!p && !(p = pidle_get_locked(NULL))) {
    gort__lock_release(&sched.lock);
    return false;
  }
  gort__m *m = sched.midle;
  if (m) {
    sched.midle = m->idle_next;
    sched.nmidle--;
  }
  gort__lock_release(&sched.lock);
  if (m) {
    atomic_store(&p->owner, m);
    m->nextp = p;
    m->spinning = spinning;
    gort__give_token(&m->th.wake);
    return true;
  }
  return newm(p, spinning, epoch) != NULL;
}

/* Work was published: make sure some M will look for it. */
static void wakep(void) {
  if (atomic_load(&sched.npidle) == 0) return;
  int zero = 0;
  if (atomic_load(&sched.nmspinning) != 0 ||
      !atomic_compare_exchange_strong(&sched.nmspinning, &zero, 1))
    return;
  if (!startm(NULL, true)) atomic_fetch_sub(&sched.nmspinning, 1);
}

/* p was taken from its M: hand it to a worker if work waits, else idle. */
static void handoffp(gort__p *p) {
  if (work_anywhere() && startm(p, false)) return;
  gort__lock_acquire(&sched.lock);
  pidle_put_locked(p);
  gort__lock_release(&sched.lock);
  full_fence();
  if (work_anywhere()) wakep();
}

/* Sleep until handed a P (m->p set) or told to stop (m->p NULL). */
static void stopm(gort__m *m) {
  gort__lock_acquire(&sched.lock);
  if (atomic_load(&sched.state) == S_STOPPING) {
    gort__lock_release(&sched.lock);
    return;
  }
  m->idle_next = sched.midle;
  sched.midle = m;
  sched.nmidle++;
  gort__lock_release(&sched.lock);
  gort__wait_token(&m->th.wake, 0, 0);
  m->p = m->nextp;
  m->nextp = NULL;
}

/* m stops spinning: it found work, or lost its P. As the last spinner it
 * hands the duty on (there may be more work), or readiers would skip wakep. */
static void resetspinning(gort__m *m) {
  if (!m->spinning) return;
  m->spinning = false;
  if (atomic_fetch_sub(&sched.nmspinning, 1) == 1) {
    full_fence();
    wakep();
  }
}

/* ---- choosing the next G (see the note on a deterministic mode) ---- */

static gort__g *local_get(gort__p *p) {
  /* runnext inherits the time of the task that readied it; after 16 in a
   * row let the queue go first, so a ping-pong pair cannot starve it. */
  uint32_t streak = atomic_load_explicit(&p->nextcount, memory_order_relaxed);
  if (streak < 16 || !runq_has_work(p)) {
    gort__g *g = atomic_exchange(&p->runnext, NULL);
    if (g) {
      atomic_store_explicit(&p->nextcount, streak + 1, memory_order_relaxed);
      return g;
    }
  }
  atomic_store_explicit(&p->nextcount, 0, memory_order_relaxed);
  gort__g *g = runq_pop(p);
  if (!g) g = atomic_exchange(&p->runnext, NULL);
  return g;
}

static gort__g *steal(gort__p *p, bool take_runnext) {
  int n = sched.nprocs;
  int start = (int)gort__fastrandn((uint32_t)n);
  for (int i = 0; i < n; i++) {
    gort__p *v = &sched.allp[(start + i) % n];
    if (v == p) continue;
    gort__g *g = runq_pop(v);
    if (!g && take_runnext) g = atomic_exchange(&v->runnext, NULL);
    if (g) return g;
  }
  return NULL;
}

static gort__g *spin_for_work(gort__m *m, gort__p *p) {
  if (!m->spinning) {
    int busy = sched.nprocs - atomic_load(&sched.npidle);
    if (2 * atomic_load(&sched.nmspinning) >= busy) return NULL;
    m->spinning = true;
    atomic_fetch_add(&sched.nmspinning, 1);
  }
  int64_t start = gort__nanotime();
  for (int round = 0;; round++) {
    int64_t spent = gort__nanotime() - start;
    /* A victim's runnext is about to run there; take it only when its
     * owner is evidently busy with something else. */
    gort__g *g = steal(p, spent >= STEAL_RUNNEXT_NS);
    if (!g) g = local_get(p);
    if (!g) g = global_get(p);
    if (g) return g;
    if (spent >= SPIN_NS || atomic_load(&sched.state) == S_STOPPING) return NULL;
    for (int i = 0; i < 32; i++) gort__cpu_relax();
    if ((round & 15) == 15) sched_yield(); /* with more threads than CPUs, let them run */
  }
}

/* Give p back and sleep, unless a last look finds work. */
static void drop_p_and_sleep(gort__m *m) {
  gort__p *p = m->p;
  gort__lock_acquire(&sched.lock);
  if (atomic_load(&sched.gq_len) > 0) {
    gort__lock_release(&sched.lock);
    return;
  }
  gort__m *me = m;
  if (atomic_compare_exchange_strong(&p->owner, &me, NULL)) pidle_put_locked(p);
  gort__lock_release(&sched.lock);
  m->p = NULL;
  bool was_spinning = m->spinning;
  if (was_spinning) {
    m->spinning = false;
    atomic_fetch_sub(&sched.nmspinning, 1);
  }
  full_fence();
  if (work_anywhere() && acquire_idle_p(m)) {
    if (was_spinning) {
      m->spinning = true;
      atomic_fetch_add(&sched.nmspinning, 1);
    }
    return;
  }
  stopm(m);
}

static gort__g *find_runnable(gort__m *m) {
  for (;;) {
    if (atomic_load(&sched.state) == S_STOPPING) return NULL;
    gort__p *p = m->p;
    if (p && atomic_load(&p->owner) != m) p = m->p = NULL; /* retaken */
    if (!p) {
      resetspinning(m); /* a spinning M holds a P */
      if (!acquire_idle_p(m)) stopm(m);
      continue;
    }
    gort__g *g = NULL;
    if (atomic_load_explicit(&p->schedtick, memory_order_relaxed) % 61 == 0) g = global_get(p);
    if (!g) g = local_get(p);
    if (!g) g = global_get(p);
    if (!g) g = spin_for_work(m, p);
    if (g) {
      resetspinning(m);
      return g;
    }
    drop_p_and_sleep(m);
  }
}

/* Queue a runnable g: on the caller's P (in runnext when next), else global. */
static void ready_g(gort__g *g, bool next) {
  gort__m *m = getm();
  gort__p *p = m ? m->p : NULL;
  if (p && next) {
    /* The exchange is a seq_cst read-modify-write: it orders the publication
     * before wakep's loads as the fence does (the top's no-lost-wake-up
     * argument), so no fence follows it. The old runnext goes to the queue,
     * and is visible to the Ms that look once the new one is. */
    g = atomic_exchange(&p->runnext, g);
    if (g && !runq_put(p, g)) runq_put_slow(p, g);
    wakep();
    return;
  }
  if (!p)
    global_put(g);
  else if (!runq_put(p, g))
    runq_put_slow(p, g);
  full_fence();
  wakep();
}

static void g_exit(gort__m *m, gort__g *g) {
  GORT__TSAN_ACQUIRE(g->task);
  GORT__HB_HANDOFF_END(g); /* not resumed again: its slot goes back (stack.c) */
#ifdef GORT_MN_TSAN
  __tsan_destroy_fiber(g->tsan_fiber);
#endif
  gort__task *t = g->task;
  atomic_fetch_sub(&sched.green_live, 1);
  gort__stack_put(m, g);
  gort__task_exit(t);
}

/* Run g, and after it switches out, do what it asked (m->after). */
static void execute(gort__m *m, gort__g *g) {
  for (;;) {
    GORT__HB_TAKEOVER(g); /* its record and context, from where it last ran (the top) */
    atomic_store_explicit(&g->status, G_RUNNING, memory_order_relaxed);
    m->curg = g;
    m->after = AFTER_NONE;
    gort__tls_task = g->task;
    atomic_store_explicit(&g->task->tid, m->th.tid, memory_order_relaxed);
    if (m->p) { /* only its owner counts (sysmon looks for a change): no RMW */
      uint64_t tick = atomic_load_explicit(&m->p->schedtick, memory_order_relaxed);
      atomic_store_explicit(&m->p->schedtick, tick + 1, memory_order_relaxed);
    }
    switch_to_g(m, g);
    GORT__HB_HANDOFF(g); /* to the worker that runs it next */
    gort__tls_task = NULL;
    m->curg = NULL;
    if (m->p && atomic_load(&m->p->owner) != m) m->p = NULL; /* retaken meanwhile */
    switch (m->after) {
    case AFTER_PARK: {
      uint32_t expected = G_RUNNING;
      if (atomic_compare_exchange_strong_explicit(&g->status, &expected, G_WAITING,
                                                  memory_order_acq_rel, memory_order_acquire))
        return;
      if (expected != G_TOKEN) gort__fatal("mn: parked task in status %u", expected);
      if (m->p) continue; /* a ready came during the switch: run on */
      atomic_store_explicit(&g->status, G_RUNNABLE, memory_order_relaxed);
      global_put(g);
      full_fence();
      wakep();
      return;
    }
    case AFTER_YIELD:
    case AFTER_SYSCALL: /* syscall exit found no P */
      atomic_store_explicit(&g->status, G_RUNNABLE, memory_order_relaxed);
      global_put(g);
      full_fence();
      wakep();
      return;
    case AFTER_EXIT:
      g_exit(m, g);
      return;
    default:
      gort__fatal("mn: task switched out without a reason");
    }
  }
}

static void m_init_thread(gort__m *m) {
  tls_m = m;
  pid_t tid = gettid_();
  gort__lock_acquire(&sched.lock); /* mn_list_threads reads it */
  m->th.tid = tid;
  gort__lock_release(&sched.lock);
  pthread_sigmask(SIG_SETMASK, &sched.sigmask, NULL);
  pthread_setname_np(pthread_self(), "gort-m");
  pthread_attr_t a;
  if (pthread_getattr_np(pthread_self(), &a) == 0) {
    void *lo;
    size_t size;
    if (pthread_attr_getstack(&a, &lo, &size) == 0) {
      m->g0_lo = lo;
      m->g0_size = size;
    }
    pthread_attr_destroy(&a);
  }
#ifdef GORT_MN_TSAN
  m->g0_tsan_fiber = __tsan_get_current_fiber();
#endif
  gort__stack_guard_thread_init(m);
}

static void *m_main(void *arg) {
  gort__m *m = arg;
  GORT__TSAN_RELEASE(m); /* first: its thread-local storage, for its tasks */
  m_init_thread(m);
  m->p = m->nextp;
  m->nextp = NULL;
  for (;;) {
    gort__g *g = find_runnable(m);
    if (!g) break;
    execute(m, g);
  }
  gort__stack_cache_drain(m);
  gort__stack_guard_thread_exit(m);
  atomic_fetch_sub(&sched.m_alive, 1);
  return NULL;
}

/* ---- sysmon ---- */

static void retake(int64_t now) {
  for (int i = 0; i < sched.nprocs; i++) {
    gort__p *p = &sched.allp[i];
    gort__m *m = atomic_load(&p->owner);
    uint64_t tick = atomic_load_explicit(&p->schedtick, memory_order_relaxed);
    if (!m || m != p->owner_seen || tick != p->tick_seen) {
      p->tick_seen = tick;
      p->owner_seen = m;
      p->tick_since = now;
      continue;
    }
    if (now - p->tick_since < RETAKE_NS || !work_anywhere()) continue;
    if (atomic_compare_exchange_strong(&p->owner, &m, NULL)) handoffp(p);
    p->tick_since = now;
  }
}

static void *sysmon_main(void *unused) {
  (void)unused;
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, NULL);
  pthread_setname_np(pthread_self(), "gort-sysmon");
  atomic_store(&sched.sysmon_tid, gettid_());
  int64_t idle_since = 0;
  while (atomic_load(&sched.state) != S_STOPPING) {
    bool busy = atomic_load(&sched.npidle) < sched.nprocs;
    if (gort__wait_token(&sched.sysmon_wake, 0, (busy ? 2 : 20) * GORT_MILLISECOND)) continue;
    int64_t now = gort__nanotime();
    retake(now);
    if (busy) {
      idle_since = 0;
    } else if (idle_since == 0) {
      idle_since = now;
    } else if (now - idle_since > GORT_SECOND) {
      gort__stack_cache_trim(MN_STACK_CACHE_IDLE); /* a past burst's stacks */
    }
  }
  return NULL;
}

/* ---- lifecycle ---- */

static int nprocs_config(void) {
  const char *env = getenv("GORT_MAXPROCS");
  int n = env ? atoi(env) : 0;
  if (n <= 0) {
    cpu_set_t set;
    n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
    if (n <= 0) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
  }
  return n > 0 ? n : 1;
}

static void reset_ps(void) {
  sched.pidle = NULL;
  atomic_store(&sched.npidle, 0);
  for (int i = sched.nprocs - 1; i >= 0; i--) {
    gort__p *p = &sched.allp[i];
    runq_init(p);
    atomic_store_explicit(&p->nextcount, 0, memory_order_relaxed);
    pidle_put_locked(p);
  }
}

/* Atomics that carry no data, or whose edges are stated where they are
 * (the top), are not race-checked by Helgrind and DRD (hb.h). Once: the
 * Ps and sched live as long as the process. */
static void p_atomics_unchecked(gort__p *p) {
  GORT__HB_ATOMIC(&p->owner, sizeof p->owner);
  GORT__HB_ATOMIC(&p->schedtick, sizeof p->schedtick);
  GORT__HB_ATOMIC(&p->nextcount, sizeof p->nextcount);
  GORT__HB_ATOMIC(&p->runnext, sizeof p->runnext);
  GORT__HB_ATOMIC(&p->enq, sizeof p->enq);
  GORT__HB_ATOMIC(&p->deq, sizeof p->deq);
}

static void sched_atomics_unchecked(void) {
  GORT__HB_ATOMIC(&sched.gq_len, sizeof sched.gq_len);
  GORT__HB_ATOMIC(&sched.npidle, sizeof sched.npidle);
  GORT__HB_ATOMIC(&sched.nmspinning, sizeof sched.nmspinning);
  GORT__HB_ATOMIC(&sched.state, sizeof sched.state);
  GORT__HB_ATOMIC(&sched.green_live, sizeof sched.green_live);
  GORT__HB_ATOMIC(&sched.m_alive, sizeof sched.m_alive);
  GORT__HB_ATOMIC(&sched.m_created, sizeof sched.m_created);
  GORT__HB_ATOMIC(&sched.sysmon_wake, sizeof sched.sysmon_wake);
  GORT__HB_ATOMIC(&sched.sysmon_tid, sizeof sched.sysmon_tid);
}

/* Under life_lock, state OFF: set up Ps and the monitor. */
static int start_locked(void) {
  if (!sched.allp) {
    int n = nprocs_config();
    gort__p *ps = calloc((size_t)n, sizeof *ps);
    if (!ps) return GORT_ENOMEM;
    for (int i = 0; i < n; i++) {
      ps[i].id = i;
      p_atomics_unchecked(&ps[i]);
    }
    sched.allp = ps;
    sched.nprocs = n;
    sched_atomics_unchecked();
  }
  pthread_sigmask(SIG_SETMASK, NULL, &sched.sigmask);
  gort__lock_acquire(&sched.lock);
  reset_ps();
  sched.epoch++;
  atomic_store(&sched.state, S_ON);
  gort__lock_release(&sched.lock);
  atomic_store(&sched.sysmon_wake, 0);
  if (pthread_create(&sched.sysmon, NULL, sysmon_main, NULL) != 0) {
    atomic_store(&sched.state, S_OFF);
    return GORT_ETHREAD;
  }
  sched.sysmon_on = true;
  /* Publish its tid before any thread listing can ask (bounded). */
  for (int i = 0; i < 20000 && atomic_load(&sched.sysmon_tid) == 0; i++) {
    struct timespec ts = {0, 20000};
    nanosleep(&ts, NULL);
  }
  return 0;
}

static int ensure_started(void) {
  if (atomic_load(&sched.state) == S_ON) return 0;
  pthread_mutex_lock(&life_lock); /* waits for a quiesce in progress */
  int rc = atomic_load(&sched.state) == S_ON ? 0 : start_locked();
  pthread_mutex_unlock(&life_lock);
  return rc;
}

static void mn_quiesce(void) {
  pthread_mutex_lock(&life_lock);
  if (atomic_load(&sched.state) != S_ON) {
    pthread_mutex_unlock(&life_lock);
    return;
  }
  /* A spawner counts itself in green_live, then checks the state; we set
   * the state, then check green_live (both seq_cst): one of us sees the
   * other, and a spawner that sees QUIESCING waits for life_lock. */
  /* Tasks that are still running (a joined task between its last signal
   * and its return) settle first; parked ones keep the workers. Bounded. */
  for (int i = 0; i < 20000 && atomic_load(&sched.green_live) > 0 &&
                  (atomic_load(&sched.npidle) < sched.nprocs || atomic_load(&sched.gq_len) > 0);
       i++) {
    struct timespec ts = {0, 50000};
    nanosleep(&ts, NULL);
  }
  atomic_store(&sched.state, S_QUIESCING);
  if (atomic_load(&sched.green_live) > 0) {
    atomic_store(&sched.state, S_ON);
    pthread_mutex_unlock(&life_lock);
    return;
  }
  atomic_store(&sched.state, S_STOPPING);
  gort__lock_acquire(&sched.lock);
  gort__m *idle = sched.midle;
  sched.midle = NULL;
  sched.nmidle = 0;
  gort__m *all = sched.allm;
  sched.allm = NULL;
  gort__lock_release(&sched.lock);
  for (gort__m *m = idle; m; m = m->idle_next) {
    m->nextp = NULL;
    gort__give_token(&m->th.wake);
  }
  gort__give_token(&sched.sysmon_wake);
  for (gort__m *m = all, *next; m; m = next) {
    next = m->all_next;
    pthread_join(m->th.pt, NULL);
    free(m);
  }
  if (sched.sysmon_on) pthread_join(sched.sysmon, NULL);
  sched.sysmon_on = false;
  atomic_store(&sched.sysmon_tid, 0);
  atomic_store(&sched.nmspinning, 0);
  gort__stack_cache_drain(NULL);
  atomic_store(&sched.state, S_OFF);
  pthread_mutex_unlock(&life_lock);
}

/* ---- the backend interface ---- */

static int mn_start(gort__task *t) {
  atomic_fetch_add(&sched.green_live, 1);
  int rc = ensure_started();
  gort__m *m = getm();
  gort__g *g = NULL;
  if (rc == 0) rc = gort__stack_get(m, &g);
  if (rc != 0) {
    atomic_fetch_sub(&sched.green_live, 1);
    return rc;
  }
  g->task = t;
  t->g = g;
  /* The stack starts 256 bytes below its slot's end, where the next slot's
   * guard begins: DRD (3.19) dies of an internal SIGSEGV when a task's first
   * frame sits right against it (test_select under GORT_BACKEND=mn). */
  g->sp = gort__ctx_make(g->map + g->map_size - 256, g_main, g);
#ifdef GORT_MN_TSAN
  g->tsan_fiber = __tsan_create_fiber(0);
#endif
  atomic_store_explicit(&g->status, G_RUNNABLE, memory_order_relaxed);
  GORT__TSAN_RELEASE(t);
  GORT__HB_HANDOFF(g); /* its record and fresh context, to the worker that runs it */
  ready_g(g, true); /* the new task runs next on this P, as Go's newproc */
  return 0;
}

static void mn_block(gort__task *t) {
  gort__g *g = t->g;
  if (!g) {
    gort__os_block(t);
    return;
  }
  uint32_t expected = G_TOKEN;
  if (atomic_compare_exchange_strong_explicit(&g->status, &expected, G_RUNNING,
                                              memory_order_acquire, memory_order_relaxed)) {
    GORT__TSAN_ACQUIRE(t); /* the ready came first */
    return;
  }
  gort__m *m = getm();
  m->after = AFTER_PARK;
  switch_to_g0(m, g, false);
  GORT__TSAN_ACQUIRE(t); /* the readier's past */
}

static void mn_wake(gort__task *t) {
  gort__g *g = t->g;
  if (!g) {
    gort__os_wake(t);
    return;
  }
  GORT__TSAN_RELEASE(t); /* before the task can see the ready */
  uint32_t s = atomic_load_explicit(&g->status, memory_order_relaxed);
  for (;;) {
    if (s == G_RUNNING) {
      if (atomic_compare_exchange_weak_explicit(&g->status, &s, G_TOKEN, memory_order_release,
                                                memory_order_relaxed))
        return;
    } else if (s == G_WAITING) {
      if (atomic_compare_exchange_weak_explicit(&g->status, &s, G_RUNNABLE, memory_order_acq_rel,
                                                memory_order_relaxed))
        break;
    } else {
      gort__fatal("ready: task %llu is not parked (status %u)", (unsigned long long)t->id, s);
    }
  }
  ready_g(g, true);
}

static void mn_yield(void) {
  gort__m *m = getm();
  if (!m || !m->curg) {
    sched_yield();
    return;
  }
  m->after = AFTER_YIELD;
  switch_to_g0(m, m->curg, false);
}

static void mn_syscall_enter(void) {
  gort__m *m = getm();
  if (!m || !m->curg || !m->p) return;
  gort__p *p = m->p;
  m->p = NULL;
  gort__m *me = m;
  if (atomic_compare_exchange_strong(&p->owner, &me, NULL)) handoffp(p);
}

static void mn_syscall_exit(void) {
  gort__m *m = getm();
  if (!m || !m->curg || m->p) return;
  if (acquire_idle_p(m)) return;
  m->after = AFTER_SYSCALL;
  switch_to_g0(m, m->curg, false);
}

static long mn_threads_alive(void) {
  return (long)atomic_load(&sched.m_alive) + (atomic_load(&sched.sysmon_tid) ? 1 : 0);
}

/* true when every M has published its tid (a just-created one has not). */
static bool all_tids_known_locked(void) {
  for (gort__m *m = sched.allm; m; m = m->all_next)
    if (m->th.tid == 0) return false;
  return true;
}

static size_t mn_list_threads(pid_t *out, size_t max, size_t n) {
  gort__lock_acquire(&sched.lock);
  /* A thread listing must not miss a worker that exists: wait (bounded)
   * for new ones to publish their tid. */
  for (int i = 0; i < 20000 && !all_tids_known_locked(); i++) {
    gort__lock_release(&sched.lock);
    struct timespec ts = {0, 50000};
    nanosleep(&ts, NULL);
    gort__lock_acquire(&sched.lock);
  }
  for (gort__m *m = sched.allm; m; m = m->all_next, n++)
    if (out && n < max) out[n] = m->th.tid;
  gort__lock_release(&sched.lock);
  pid_t s = atomic_load(&sched.sysmon_tid);
  if (s) {
    if (out && n < max) out[n] = s;
    n++;
  }
  return n;
}

static void mn_counters(gort_counters *c) {
  c->threads_created = (uint64_t)atomic_load(&sched.m_created);
  c->threads_reused = 0;
  gort__lock_acquire(&sched.lock);
  c->threads_idle = (uint64_t)sched.nmidle;
  gort__lock_release(&sched.lock);
}

static void mn_atfork_prepare(void) {
  pthread_mutex_lock(&life_lock);
  gort__lock_acquire(&sched.lock);
}

static void mn_atfork_parent(void) {
  gort__lock_release(&sched.lock);
  pthread_mutex_unlock(&life_lock);
}

/* The child has no worker and no monitor: start afresh on demand. */
static void mn_atfork_child(void) {
  sched.allm = sched.midle = NULL;
  sched.nmidle = 0;
  sched.gq_head = sched.gq_tail = NULL;
  atomic_store(&sched.gq_len, 0);
  atomic_store(&sched.m_alive, 0);
  atomic_store(&sched.nmspinning, 0);
  atomic_store(&sched.green_live, 0);
  atomic_store(&sched.sysmon_tid, 0);
  sched.sysmon_on = false;
  sched.epoch++;
  if (sched.allp) reset_ps();
  atomic_store(&sched.state, S_OFF);
  tls_m = NULL;
  gort__lock_release(&sched.lock);
  pthread_mutex_unlock(&life_lock);
}

const gort__backend gort__mn_backend = {
    .name = "mn",
    .start = mn_start,
    .block = mn_block,
    .wake = mn_wake,
    .yield = mn_yield,
    .syscall_enter = mn_syscall_enter,
    .syscall_exit = mn_syscall_exit,
    .threads_alive = mn_threads_alive,
    .quiesce = mn_quiesce,
    .list_threads = mn_list_threads,
    .counters = mn_counters,
    .atfork_prepare = mn_atfork_prepare,
    .atfork_parent = mn_atfork_parent,
    .atfork_child = mn_atfork_child,
};
