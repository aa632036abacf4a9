/* micro.c - gort's micro benchmarks, named after Go's runtime and sync
 * benchmarks where one exists. Each body matches bench/go/micro_test.go one
 * for one (same op, same number of tasks); the op is said above each.
 * Ops of a few ns use the b.N style (gort_bench_begin/end), which costs
 * nothing per op.
 */
#include <stdatomic.h>

#include "bench.h"
#include "gort/gort.h"
#include "gort/semaphore.h"

/* ---- RunParallel --------------------------------------------------------------
 * Go's b.RunParallel: the run's N ops are handed out in grains from a shared
 * counter to procs tasks; each task loops while gb_pb_next. */

#define PB_GRAIN 1000

typedef struct {
  _Atomic int64_t next; /* first op not yet handed out */
  int64_t total;        /* read-only */
  void (*body)(gb_pb *pb, void *arg);
  void *arg;
  gort_waitgroup wg;
} pb_shared;

struct gb_pb {
  pb_shared *sh;
  int64_t left; /* ops left in this task's grain */
};

bool gb_pb_next(gb_pb *pb) {
  if (pb->left > 0) {
    pb->left--;
    return true;
  }
  int64_t start = atomic_fetch_add_explicit(&pb->sh->next, PB_GRAIN, memory_order_relaxed);
  if (start >= pb->sh->total) return false;
  int64_t n = pb->sh->total - start;
  pb->left = (n < PB_GRAIN ? n : PB_GRAIN) - 1;
  return true;
}

static void pb_task(void *arg) {
  pb_shared *sh = arg;
  gb_pb pb = {sh, 0};
  sh->body(&pb, sh->arg);
  gort_waitgroup_done(&sh->wg);
}

void gb_run_parallel(gort_bench_state *st, int procs, void (*body)(gb_pb *pb, void *arg),
                     void *arg) {
  pb_shared sh = {.body = body, .arg = arg};
  gort_waitgroup_init(&sh.wg);
  int64_t n = gort_bench_begin(st);
  sh.total = n;
  int rc = 0;
  gort_waitgroup_add(&sh.wg, procs);
  for (int p = 0; p < procs; p++) {
    rc = gort_go(pb_task, &sh);
    if (rc != 0) {
      gort_waitgroup_add(&sh.wg, -(procs - p));
      break;
    }
  }
  gort_waitgroup_wait(&sh.wg);
  gort_bench_end(st);
  gort_waitgroup_destroy(&sh.wg);
  if (rc != 0) gb_skip(st, "gort_go", rc);
}

/* ---- channels -------------------------------------------------------------- */

typedef struct {
  gort_chan *ping, *pong; /* unbuffered, of long */
} echo_pair;

static void echo_task(void *arg) {
  echo_pair *e = arg;
  for (long v; GORT_CHAN_RANGE(e->ping, &v);) gort_chan_send(e->pong, &v);
  gort_chan_close(e->pong);
}

/* op = one round trip over two unbuffered channels to an echo task. */
static void bm_chan_sync(gort_bench_state *st, void *arg) {
  (void)arg;
  echo_pair e;
  GORT_CHAN_MAKE(&e.ping, long, 0);
  GORT_CHAN_MAKE(&e.pong, long, 0);
  int rc = gort_go(echo_task, &e);
  if (rc != 0) {
    gb_skip(st, "gort_go", rc);
  } else {
    int64_t n = gort_bench_begin(st);
    for (long i = 0; i < n; i++) {
      gort_chan_send(e.ping, &i);
      gort_chan_recv(e.pong, NULL, NULL);
    }
    gort_bench_end(st);
    gort_chan_close(e.ping);
    gort_chan_recv(e.pong, NULL, NULL); /* closed by the echo task on its way out */
  }
  gort_chan_release(e.ping);
  gort_chan_release(e.pong);
}

typedef struct {
  gort_chan *c;
  int64_t n;
} producer;

static void produce(void *arg) {
  producer *p = arg;
  for (long i = 0; i < p->n; i++) gort_chan_send(p->c, &i);
  gort_chan_close(p->c);
}

/* op = one element from one producer task to the body's task. */
static void bm_chan_prod_cons(gort_bench_state *st, void *arg) {
  long cap = (long)(intptr_t)arg;
  producer p;
  GORT_CHAN_MAKE(&p.c, long, cap);
  p.n = gort_bench_begin(st);
  int rc = gort_go(produce, &p);
  if (rc == 0) {
    for (long v; GORT_CHAN_RANGE(p.c, &v);) {
    }
  }
  gort_bench_end(st);
  if (rc != 0) gb_skip(st, "gort_go", rc);
  gort_chan_release(p.c);
}

typedef struct {
  gort_chan *c;       /* cap 100, of long */
  gort_waitgroup prod, cons;
  int64_t n;          /* ops in all */
  _Atomic int next_producer;
} mpmc;

#define MPMC_SIDE 4

static void mpmc_produce(void *arg) {
  mpmc *m = arg;
  int p = atomic_fetch_add(&m->next_producer, 1);
  int64_t n = m->n / MPMC_SIDE + (p == 0 ? m->n % MPMC_SIDE : 0);
  for (long i = 0; i < n; i++) gort_chan_send(m->c, &i);
  gort_waitgroup_done(&m->prod);
}

static void mpmc_consume(void *arg) {
  mpmc *m = arg;
  for (long v; GORT_CHAN_RANGE(m->c, &v);) {
  }
  gort_waitgroup_done(&m->cons);
}

/* op = one element through a channel of 100 shared by 4 producer and 4
 * consumer tasks. */
static void bm_chan_mpmc(gort_bench_state *st, void *arg) {
  (void)arg;
  mpmc m = {0};
  GORT_CHAN_MAKE(&m.c, long, 100);
  gort_waitgroup_init(&m.prod);
  gort_waitgroup_init(&m.cons);
  m.n = gort_bench_begin(st);
  gort_waitgroup_add(&m.prod, MPMC_SIDE);
  gort_waitgroup_add(&m.cons, MPMC_SIDE);
  int rc = 0;
  for (int k = 0; k < MPMC_SIDE; k++) {
    if (rc == 0) rc = gort_go(mpmc_produce, &m);
    if (rc != 0) { /* keep the counts honest: producers' share is lost */
      gort_waitgroup_done(&m.prod);
      atomic_fetch_add(&m.next_producer, 1);
    }
  }
  for (int k = 0; k < MPMC_SIDE; k++) {
    int r = gort_go(mpmc_consume, &m);
    if (r != 0) {
      gort_waitgroup_done(&m.cons);
      if (rc == 0) rc = r;
    }
  }
  gort_waitgroup_wait(&m.prod);
  gort_chan_close(m.c);
  gort_waitgroup_wait(&m.cons);
  gort_bench_end(st);
  if (rc != 0) gb_skip(st, "gort_go", rc);
  gort_waitgroup_destroy(&m.prod);
  gort_waitgroup_destroy(&m.cons);
  gort_chan_release(m.c);
}

/* op = one send and one receive on a buffered channel (cap 1) by the same
 * task: the uncontended path, no peer, no park. Deterministic on one task
 * (instruction counts, bench/README.md). */
static void bm_chan_buffered_send_recv(gort_bench_state *st, void *arg) {
  (void)arg;
  gort_chan *c;
  GORT_CHAN_MAKE(&c, long, 1);
  int64_t n = gort_bench_begin(st);
  for (long i = 0; i < n; i++) {
    gort_chan_send(c, &i);
    gort_chan_recv(c, NULL, NULL);
  }
  gort_bench_end(st);
  gort_chan_release(c);
}

/* ---- select ------------------------------------------------------------------ */

/* op = one select over k channels of capacity 1, one of which holds the
 * token, plus the send that passes the token on (2 channels: back and
 * forth, Go's SelectUncontended; 8: round a ring). One thread. */
static void bm_select_uncontended(gort_bench_state *st, void *arg) {
  int k = (int)(intptr_t)arg;
  gort_chan *cs[8] = {0};
  gort_select_case cases[8];
  long v = 0;
  for (int i = 0; i < k; i++) {
    GORT_CHAN_MAKE(&cs[i], long, 1);
    cases[i] = gort_case_recv(cs[i], &v);
  }
  GORT_CHAN_SEND(cs[0], long, 0);
  int64_t n = gort_bench_begin(st);
  for (int64_t i = 0; i < n; i++) {
    int r = gort_select(cases, k);
    gort_chan_send(cs[(r + 1) % k], &v);
  }
  gort_bench_end(st);
  for (int i = 0; i < k; i++) gort_chan_release(cs[i]);
}

/* op = one select with a default on an empty unbuffered channel. */
static void bm_select_nonblock(gort_bench_state *st, void *arg) {
  (void)arg;
  gort_chan *c;
  GORT_CHAN_MAKE(&c, long, 0);
  long v;
  gort_select_case cs[1] = {gort_case_recv(c, &v)};
  int64_t n = gort_bench_begin(st);
  for (int64_t i = 0; i < n; i++) gb_keep(gort_select_try(cs, 1));
  gort_bench_end(st);
  gort_chan_release(c);
}

/* ---- mutex ------------------------------------------------------------------- */

static void mutex_own(gb_pb *pb, void *arg) {
  (void)arg;
  struct {
    gort_mutex mu;
    char pad[64];
  } m;
  gort_mutex_init(&m.mu);
  while (gb_pb_next(pb)) {
    gort_mutex_lock(&m.mu);
    gort_mutex_unlock(&m.mu);
  }
  gort_mutex_destroy(&m.mu);
}

/* op = Lock and Unlock of a mutex no one else uses, on the benchmark's own
 * task (MutexUncontended's op without RunParallel: deterministic). */
static void bm_mutex_lock_unlock(gort_bench_state *st, void *arg) {
  (void)arg;
  gort_mutex mu;
  gort_mutex_init(&mu);
  int64_t n = gort_bench_begin(st);
  for (int64_t i = 0; i < n; i++) {
    gort_mutex_lock(&mu);
    gort_mutex_unlock(&mu);
  }
  gort_bench_end(st);
  gort_mutex_destroy(&mu);
}

/* RunParallel on every core, each task with its own mutex. */
static void bm_mutex_uncontended(gort_bench_state *st, void *arg) {
  (void)arg;
  gb_run_parallel(st, gb_cores(), mutex_own, NULL);
}

static void mutex_shared(gb_pb *pb, void *arg) {
  gort_mutex *mu = arg;
  while (gb_pb_next(pb)) {
    gort_mutex_lock(mu);
    gort_mutex_unlock(mu);
  }
}

/* RunParallel on every core, all tasks on one mutex. */
static void bm_mutex(gort_bench_state *st, void *arg) {
  (void)arg;
  gort_mutex mu;
  gort_mutex_init(&mu);
  gb_run_parallel(st, gb_cores(), mutex_shared, &mu);
  gort_mutex_destroy(&mu);
}

/* ---- tasks ------------------------------------------------------------------- */

typedef struct {
  _Atomic int64_t left; /* tasks still to start */
  gort_chan *done;      /* closed by the last one */
  _Atomic int err;      /* the first gort_go error */
} chain;

static void hop(void *arg) {
  chain *c = arg;
  if (atomic_fetch_sub(&c->left, 1) == 1) {
    gort_chan_close(c->done);
    return;
  }
  int rc = gort_go(hop, c);
  if (rc != 0) {
    atomic_store(&c->err, rc);
    gort_chan_close(c->done);
  }
}

/* op = one task created and exited: a chain where each task starts the next
 * and returns. */
static void bm_create_goroutines(gort_bench_state *st, void *arg) {
  (void)arg;
  chain c = {0};
  GORT_CHAN_MAKE(&c.done, char, 0);
  atomic_store(&c.left, gort_bench_begin(st));
  int rc = gort_go(hop, &c);
  if (rc == 0) gort_chan_recv(c.done, NULL, NULL);
  gort_bench_end(st);
  if (rc == 0) rc = atomic_load(&c.err);
  if (rc != 0) gb_skip(st, "gort_go", rc);
  gort_chan_release(c.done);
}

/* ---- context and x/sync ---------------------------------------------------------- */

/* op = WithCancel on Background, then cancel (and free: Go's GC). */
static void bm_context_with_cancel(gort_bench_state *st, void *arg) {
  (void)arg;
  gort_context *bg = gort_context_background();
  int64_t n = gort_bench_begin(st);
  for (int64_t i = 0; i < n; i++) {
    gort_context *c;
    if (gort_context_with_cancel(bg, &c) != 0) break;
    gort_context_free(c); /* cancel(), and the release Go's GC does */
  }
  gort_bench_end(st);
}

/* op = Acquire(1) and Release(1) on an uncontended weighted semaphore. */
static void bm_semaphore(gort_bench_state *st, void *arg) {
  (void)arg;
  gort_semaphore *s;
  int rc = gort_semaphore_new(&s, 1);
  if (rc != 0) {
    gb_skip(st, "gort_semaphore_new", rc);
    return;
  }
  gort_context *bg = gort_context_background();
  int64_t n = gort_bench_begin(st);
  for (int64_t i = 0; i < n; i++) {
    gort_semaphore_acquire(s, bg, 1);
    gort_semaphore_release(s, 1);
  }
  gort_bench_end(st);
  gort_semaphore_free(s);
}

void gb_register_micro(bool quick) {
  gort_bench_register("ChanSync", bm_chan_sync, NULL);
  gort_bench_register("ChanProdCons0", bm_chan_prod_cons, (void *)0);
  gort_bench_register("ChanProdCons100", bm_chan_prod_cons, (void *)100);
  gort_bench_register("MutexUncontended", bm_mutex_uncontended, NULL);
  gort_bench_register("CreateGoroutines", bm_create_goroutines, NULL);
  if (quick) return;
  gort_bench_register("ChanProdCons10", bm_chan_prod_cons, (void *)10);
  gort_bench_register("ChanMPMC4x4", bm_chan_mpmc, NULL);
  gort_bench_register("SelectUncontended", bm_select_uncontended, (void *)2);
  gort_bench_register("SelectUncontended8", bm_select_uncontended, (void *)8);
  gort_bench_register("SelectNonblock", bm_select_nonblock, NULL);
  gort_bench_register("Mutex", bm_mutex, NULL);
  gort_bench_register("ContextWithCancel", bm_context_with_cancel, NULL);
  gort_bench_register("SemaphoreAcquireRelease", bm_semaphore, NULL);
  gort_bench_register("ChanBufferedSendRecv", bm_chan_buffered_send_recv, NULL);
  gort_bench_register("MutexLockUnlock", bm_mutex_lock_unlock, NULL);
}
