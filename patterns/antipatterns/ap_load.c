/* ap_load.c - mistakes of sizing and flow: unbounded spawning, unbounded
 * queues, timeouts shorter than the work, a producer stuck behind a slow
 * consumer, expecting every error from errgroup, a semaphore too small for
 * its load. Most rows come from seed 004's troubleshooting table.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "antipattern.h"
#include "gort/errgroup.h"
#include "gort/gort.h"
#include "gort/semaphore.h"
#include "gortp/ctxchan.h"

/* ---- unbounded_spawn: seed 000 Best Practices 4, seed 001 "Unbounded
 * goroutines", seed 004 "Challenge 1: Unbounded Concurrency" ---- */

#define ITEMS 200

struct load {
  gort_chan *gate; /* "the downstream is slow": items wait here */
  atomic_int active, max_active;
};

static void process_item(struct load *l) {
  int a = atomic_fetch_add(&l->active, 1) + 1;
  for (int m = atomic_load(&l->max_active); a > m;)
    if (atomic_compare_exchange_weak(&l->max_active, &m, a)) break;
  gort_chan_recv(l->gate, NULL, NULL);
  atomic_fetch_sub(&l->active, 1);
}

static void process_one(void *arg) { process_item(arg); }

static void unbounded_spawn_bad(ap_out *o) {
  struct load l = {.active = 0, .max_active = 0};
  GORT_CHAN_MAKE(&l.gate, char, 0);
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  for (int i = 0; i < ITEMS; i++) gort_waitgroup_go(&wg, process_one, &l); /* go process(item) */
  ap_parked(ITEMS); /* every one of them is alive at once */
  int peak = atomic_load(&l.max_active);
  gort_chan_close(l.gate);
  gort_waitgroup_wait(&wg);
  gort_chan_release(l.gate);
  ap_show(o, "unbounded: %d tasks at once for %d items", peak, ITEMS);
}

struct pool {
  struct load *l;
  gort_chan *items;
};

static void pool_worker(void *arg) {
  struct pool *p = arg;
  for (int item; GORT_CHAN_RANGE(p->items, &item);) process_item(p->l);
}

static void unbounded_spawn_fixed(ap_out *o) {
  struct load l = {.active = 0, .max_active = 0};
  GORT_CHAN_MAKE(&l.gate, char, 0);
  gort_chan_close(l.gate); /* the same work, without the artificial stall */
  struct pool p = {&l, NULL};
  GORT_CHAN_MAKE(&p.items, int, 0);
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  for (int w = 0; w < 4; w++) gort_waitgroup_go(&wg, pool_worker, &p);
  for (int i = 0; i < ITEMS; i++) GORT_CHAN_SEND(p.items, int, i);
  gort_chan_close(p.items);
  gort_waitgroup_wait(&wg);
  gort_chan_release(p.items);
  gort_chan_release(l.gate);
  int peak = atomic_load(&l.max_active);
  if (peak <= 4)
    ap_show(o, "clean: at most 4 tasks at once for %d items", ITEMS);
  else
    ap_show(o, "unbounded: %d tasks at once for %d items", peak, ITEMS);
}

const ap_entry ap_unbounded_spawn = {
    "unbounded_spawn", "000 Best Practices 4; 001 Unbounded goroutines; 004 Challenge 1",
    "one task per item: as many tasks (threads, connections) as there are items", AP_DEMO,
    "unbounded: 200 tasks at once for 200 items", NULL, unbounded_spawn_bad, unbounded_spawn_fixed};

/* ---- buffer_accumulation: seed 004 troubleshooting "Memory keeps
 * growing: channel accumulation" ---- */

struct flow {
  gort_chan *ch;
  gort_chan *go_ahead; /* the consumer starts after this closes */
  size_t max_len;
  long consumed;
};

static void consume(void *arg) {
  struct flow *f = arg;
  gort_chan_recv(f->go_ahead, NULL, NULL);
  for (int v; GORT_CHAN_RANGE(f->ch, &v);) {
    size_t len = gort_chan_len(f->ch);
    if (len > f->max_len) f->max_len = len;
    f->consumed++;
  }
}

static void buffer_accumulation_bad(ap_out *o) {
  struct flow f = {0};
  GORT_CHAN_MAKE(&f.ch, int, 100000); /* "big enough" */
  GORT_CHAN_MAKE(&f.go_ahead, char, 0);
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  gort_waitgroup_go(&wg, consume, &f);
  for (int i = 0; i < 10000; i++) GORT_CHAN_SEND(f.ch, int, i); /* never waits */
  size_t queued = gort_chan_len(f.ch);
  gort_chan_close(f.go_ahead);
  gort_chan_close(f.ch);
  gort_waitgroup_wait(&wg);
  gort_chan_release(f.ch);
  gort_chan_release(f.go_ahead);
  ap_show(o, "accumulation: %zu items queued in a %d-slot channel", queued, 100000);
}

static void buffer_accumulation_fixed(ap_out *o) {
  struct flow f = {0};
  GORT_CHAN_MAKE(&f.ch, int, 16); /* small buffer: the producer waits */
  GORT_CHAN_MAKE(&f.go_ahead, char, 0);
  gort_chan_close(f.go_ahead);
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  gort_waitgroup_go(&wg, consume, &f);
  for (int i = 0; i < 10000; i++) GORT_CHAN_SEND(f.ch, int, i); /* backpressure */
  gort_chan_close(f.ch);
  gort_waitgroup_wait(&wg);
  gort_chan_release(f.ch);
  gort_chan_release(f.go_ahead);
  ap_show(o, "clean: %ld items through a 16-slot channel, never more than %s queued",
         f.consumed, f.max_len <= 16 ? "16" : "16 (violated)");
}

const ap_entry ap_buffer_accumulation = {
    "buffer_accumulation", "004 Error Troubleshooting: Memory keeps growing (channel accumulation)",
    "a huge channel buffer hides a slow consumer: items pile up in memory", AP_DEMO,
    "accumulation: 10000 items queued in a 100000-slot channel", NULL, buffer_accumulation_bad,
    buffer_accumulation_fixed};

/* ---- timeout_too_short: seed 004 troubleshooting "Frequent context
 * canceled errors: timeout too short" ---- */

static int call_with_timeout(gort_duration timeout) {
  gort_context *ctx;
  gort_context_with_timeout(gort_context_background(), timeout, &ctx);
  int rc = gortp_ctxchan_sleep(ctx, 20 * GORT_MILLISECOND); /* the call takes 20 ms */
  gort_context_free(ctx);
  return rc;
}

static void timeout_too_short_bad(ap_out *o) {
  int failed = 0, last = 0;
  for (int i = 0; i < 5; i++) {
    int rc = call_with_timeout(GORT_MILLISECOND);
    if (rc != 0) failed++, last = rc;
  }
  ap_show(o, "canceled: %d of 5 calls failed: %s", failed, failed ? gort_strerror(last) : "-");
}

static void timeout_too_short_fixed(ap_out *o) {
  int ok = 0;
  for (int i = 0; i < 5; i++) ok += call_with_timeout(GORT_SECOND) == 0;
  ap_show(o, "clean: %d of 5 calls succeeded within a timeout sized for the work", ok);
}

const ap_entry ap_timeout_too_short = {
    "timeout_too_short", "004 Error Troubleshooting: Frequent context canceled errors",
    "a timeout shorter than the work it bounds: every call ends in a deadline error",
    AP_DEMO, "canceled: 5 of 5 calls failed: context deadline exceeded", NULL,
    timeout_too_short_bad, timeout_too_short_fixed};

/* ---- blocked_producer: seed 004 troubleshooting "Channel blocked, no
 * response: producer/consumer speed mismatch" ---- */

struct stalled {
  gort_chan *ch;
  gort_chan *busy; /* the consumer is busy until this closes */
  int sent, refused;
  bool non_blocking;
};

static void stalled_consumer(void *arg) {
  struct stalled *s = arg;
  gort_chan_recv(s->busy, NULL, NULL);
  for (int v; GORT_CHAN_RANGE(s->ch, &v);) (void)v;
}

static void eager_producer(void *arg) {
  struct stalled *s = arg;
  for (int i = 0; i < 10; i++) {
    if (s->non_blocking) {
      /* select { case ch <- v: default: refuse } */
      if (GORT_CHAN_TRY_SEND(s->ch, int, i) == 0) s->sent++;
      else s->refused++;
    } else {
      GORT_CHAN_SEND(s->ch, int, i), s->sent++;
    }
  }
  gort_chan_close(s->ch);
}

static void blocked_producer_bad(ap_out *o) {
  struct stalled s = {.non_blocking = false};
  GORT_CHAN_MAKE(&s.ch, int, 0);
  GORT_CHAN_MAKE(&s.busy, char, 0);
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  gort_waitgroup_go(&wg, stalled_consumer, &s);
  gort_waitgroup_go(&wg, eager_producer, &s);
  ap_parked(2);
  int stuck = ap_count_waiting("chan send");
  gort_chan_close(s.busy);
  gort_waitgroup_wait(&wg);
  gort_chan_release(s.ch);
  gort_chan_release(s.busy);
  ap_show(o, "blocked: %d producer stuck in chan send while the consumer is busy", stuck);
}

static void blocked_producer_fixed(ap_out *o) {
  struct stalled s = {.non_blocking = true};
  GORT_CHAN_MAKE(&s.ch, int, 4);
  GORT_CHAN_MAKE(&s.busy, char, 0);
  gort_waitgroup prod = GORT_WAITGROUP_INIT, cons = GORT_WAITGROUP_INIT;
  gort_waitgroup_go(&cons, stalled_consumer, &s);
  gort_waitgroup_go(&prod, eager_producer, &s);
  gort_waitgroup_wait(&prod); /* returns while the consumer is still busy */
  gort_chan_close(s.busy);
  gort_waitgroup_wait(&cons);
  gort_chan_release(s.ch);
  gort_chan_release(s.busy);
  ap_show(o, "clean: the producer never blocked (%d queued, %d refused)", s.sent, s.refused);
}

const ap_entry ap_blocked_producer = {
    "blocked_producer", "004 Error Troubleshooting: Channel blocked, no response",
    "an unbuffered send to a consumer that is busy: the producer stalls with it", AP_DEMO,
    "blocked: 1 producer stuck in chan send while the consumer is busy", NULL, blocked_producer_bad,
    blocked_producer_fixed};

/* ---- errgroup_one_error: seed 004 troubleshooting "errgroup returns
 * only one error" ---- */

static const int codes[3] = {GORT_EIO, GORT_EFAILED, GORT_ENOTFOUND};

static int fail_i(gort_context *ctx, void *arg) {
  (void)ctx;
  return codes[(intptr_t)arg];
}

static void errgroup_one_error_bad(ap_out *o) {
  gort_errgroup *g;
  gort_errgroup_new(&g);
  for (intptr_t i = 0; i < 3; i++) gort_errgroup_go(g, fail_i, (void *)i);
  int rc = gort_errgroup_wait(g);
  gort_errgroup_free(g);
  ap_show(o, "by design: 3 tasks failed, Wait returned %d error", rc != 0 ? 1 : 0);
}

struct collect {
  int errs[3]; /* slot i written only by task i */
};

struct collect_arg {
  struct collect *c;
  int i;
};

static int record_i(gort_context *ctx, void *arg) {
  struct collect_arg *a = arg;
  a->c->errs[a->i] = fail_i(ctx, (void *)(intptr_t)a->i);
  return 0; /* collected, not propagated */
}

static void errgroup_one_error_fixed(ap_out *o) {
  struct collect c = {{0}};
  struct collect_arg args[3];
  gort_errgroup *g;
  gort_errgroup_new(&g);
  for (int i = 0; i < 3; i++) {
    args[i] = (struct collect_arg){&c, i};
    gort_errgroup_go(g, record_i, &args[i]);
  }
  gort_errgroup_wait(g);
  gort_errgroup_free(g);
  int n = 0;
  for (int i = 0; i < 3; i++) n += c.errs[i] == codes[i];
  ap_show(o, "clean: %d of 3 errors collected, by index", n);
}

const ap_entry ap_errgroup_one_error = {
    "errgroup_one_error", "004 Error Troubleshooting: errgroup returns only one error",
    "expecting every failure from errgroup.Wait, which returns the first only", AP_DEMO,
    "by design: 3 tasks failed, Wait returned 1 error", NULL, errgroup_one_error_bad,
    errgroup_one_error_fixed};

/* ---- semaphore_too_strict: seed 004 troubleshooting "Semaphore
 * acquisition timeout" ---- */

static int try_heavy_call(int64_t size, int64_t *held) {
  gort_semaphore *sem;
  gort_semaphore_new(&sem, size);
  gort_semaphore_acquire(sem, gort_context_background(), 8); /* long-running holders */
  gort_context *ctx; /* DoWithTimeout(ctx, 5, 50 ms, fn) */
  gort_context_with_timeout(gort_context_background(), 50 * GORT_MILLISECOND, &ctx);
  int rc = gort_semaphore_acquire(sem, ctx, 5);
  if (rc == 0) gort_semaphore_release(sem, 5);
  gort_context_free(ctx);
  *held = gort_semaphore_held(sem);
  gort_semaphore_release(sem, 8);
  gort_semaphore_free(sem);
  return rc;
}

static void semaphore_too_strict_bad(ap_out *o) {
  int64_t held;
  int rc = try_heavy_call(10, &held);
  ap_show(o, "timeout: acquire(5) with 8 of 10 held failed: %s",
         rc ? gort_strerror(rc) : "no error");
}

static void semaphore_too_strict_fixed(ap_out *o) {
  int64_t held;
  int rc = try_heavy_call(16, &held);
  ap_show(o, rc == 0 ? "clean: acquire(5) with 8 of 16 held succeeded"
                    : "timeout: acquire(5) failed even with capacity 16");
}

const ap_entry ap_semaphore_too_strict = {
    "semaphore_too_strict", "004 Error Troubleshooting: Semaphore acquisition timeout",
    "a semaphore sized below its load: weighted acquires time out while others hold it",
    AP_DEMO, "timeout: acquire(5) with 8 of 10 held failed: context deadline exceeded", NULL,
    semaphore_too_strict_bad, semaphore_too_strict_fixed};
