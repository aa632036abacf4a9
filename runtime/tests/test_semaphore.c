/* test_semaphore.c - gort_semaphore: golang.org/x/sync/semaphore.Weighted.
 *
 * Ports semaphore_test.go (TestWeighted, TestWeightedPanic,
 * TestWeightedTryAcquire, TestWeightedAcquire, TestWeightedDoesntBlockIfTooBig,
 * TestLargeAcquireDoesntStarve, TestAllocCancelDoesntStarve) and adds the
 * FIFO, cancellation and error cases. Tasks never call cmocka asserts; they
 * record what they see and the test asserts on it.
 */
#include "support/gort_test.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "gort/gort.h"
#include "gort/introspect.h"

static gort_context *bg(void) { return gort_context_background(); }

static gort_context *timeout_ctx(gort_duration d) {
  gort_context *ctx = NULL;
  assert_int_equal(gort_context_with_timeout(bg(), d, &ctx), 0);
  return ctx;
}

static gort_context *cancel_ctx(void) {
  gort_context *ctx = NULL;
  assert_int_equal(gort_context_with_cancel(bg(), &ctx), 0);
  return ctx;
}

/* ---- an acquire task: acquires n under ctx, reports rc on its channel ---- */

typedef struct {
  gort_semaphore *s;
  gort_context *ctx;
  int64_t n;
  int id;
  gort_chan *out; /* receives the id (rc == 0) or the error code */
} acq_arg;

static void acquirer(void *p) {
  acq_arg *a = p;
  int rc = gort_semaphore_acquire(a->s, a->ctx, a->n);
  int v = rc == 0 ? a->id : rc;
  gort_chan_send(a->out, &v);
}

static int recv_int(gort_chan *c) {
  int v = 0;
  assert_int_equal(gort_chan_recv(c, &v, NULL), 0);
  return v;
}

static bool waiters_at_least(void *p) {
  acq_arg *a = p;
  return gort_semaphore_waiters(a->s) >= (int)a->n;
}

/* Wait until s has n queued waiters. */
static void wait_waiters(gort_semaphore *s, int n) {
  acq_arg q = {.s = s, .n = n};
  assert_true(gort_test_eventually(waiters_at_least, &q, 5000));
}

/* ---- TestWeightedTryAcquire ---- */

static void semaphore_try_acquire(void **state) {
  (void)state;
  gort_semaphore *s;
  assert_int_equal(gort_semaphore_new(&s, 2), 0);
  assert_int_equal(gort_semaphore_acquire(s, bg(), 1), 0);
  assert_int_equal(gort_semaphore_try_acquire(s, 1), 0);
  assert_int_equal(gort_semaphore_try_acquire(s, 1), GORT_EAGAIN);
  assert_int_equal(gort_semaphore_release(s, 2), 0);
  assert_int_equal(gort_semaphore_try_acquire(s, 1), 0);
  assert_int_equal(gort_semaphore_acquire(s, bg(), 1), 0);
  assert_int_equal(gort_semaphore_try_acquire(s, 1), GORT_EAGAIN);
  assert_int_equal(gort_semaphore_held(s), 2);
  assert_int_equal(gort_semaphore_release(s, 2), 0);
  gort_semaphore_free(s);
}

/* ---- TestWeightedAcquire: acquire with a timeout (Go's 10 ms, raised).
 * A done ctx fails the acquire even when the weight is free (as x/sync), so
 * the calls that must succeed get a timeout no stall can outlast (they do
 * not wait: its length costs nothing); the calls that must time out get
 * 100 ms and wait for it. ---- */

enum { TIMES_OUT_MS = 100, SUCCEEDS_MS = 10000 };

static int try_with_timeout(gort_semaphore *s, int64_t n, int timeout_ms) {
  gort_context *ctx = timeout_ctx((gort_duration)timeout_ms * GORT_MILLISECOND);
  int rc = gort_semaphore_acquire(s, ctx, n);
  gort_context_free(ctx);
  return rc;
}

static void semaphore_acquire_timeout(void **state) {
  (void)state;
  gort_semaphore *s;
  assert_int_equal(gort_semaphore_new(&s, 2), 0);
  assert_int_equal(gort_semaphore_acquire(s, bg(), 1), 0);
  assert_int_equal(try_with_timeout(s, 1, SUCCEEDS_MS), 0);
  assert_int_equal(try_with_timeout(s, 1, TIMES_OUT_MS), GORT_EDEADLINE);
  assert_int_equal(gort_semaphore_release(s, 2), 0);
  assert_int_equal(try_with_timeout(s, 1, SUCCEEDS_MS), 0);
  assert_int_equal(gort_semaphore_acquire(s, bg(), 1), 0);
  assert_int_equal(try_with_timeout(s, 1, TIMES_OUT_MS), GORT_EDEADLINE);
  /* The timed-out waiters left nothing behind. */
  assert_int_equal(gort_semaphore_held(s), 2);
  assert_int_equal(gort_semaphore_waiters(s), 0);
  assert_int_equal(gort_semaphore_release(s, 2), 0);
  gort_semaphore_free(s);
}

/* ---- TestWeightedPanic: release more than held, both misuse modes ---- */

static void release_unheld(void *arg) {
  (void)arg;
  gort_semaphore *s;
  if (gort_semaphore_new(&s, 1) != 0) return;
  gort_semaphore_release(s, 1);
}

static void semaphore_release_more_than_held(void **state) {
  (void)state;
  assert_true(gort_test_child_aborts(release_unheld, NULL, "semaphore: released more than held"));

  int *calls = gort_test_misuse_return_mode();
  gort_semaphore *s;
  assert_int_equal(gort_semaphore_new(&s, 3), 0);
  assert_int_equal(gort_semaphore_release(s, 1), GORT_ESEMRELEASE);
  assert_int_equal(*calls, 1);
  assert_int_equal(gort_test_misuse_last(), GORT_ESEMRELEASE);
  assert_int_equal(gort_semaphore_acquire(s, bg(), 2), 0);
  assert_int_equal(gort_semaphore_release(s, 3), GORT_ESEMRELEASE);
  assert_int_equal(*calls, 2);
  assert_int_equal(gort_semaphore_held(s), 2); /* unchanged */
  assert_int_equal(gort_semaphore_release(s, 2), 0);
  gort_test_misuse_abort_mode();
  gort_semaphore_free(s);
}

/* ---- TestWeighted: tasks of different weights hammer one semaphore ---- */

typedef struct {
  gort_semaphore *s;
  int64_t size, n;
  long loops;
  atomic_long *in_use;
  atomic_int *over; /* times in_use exceeded size */
  atomic_int *errs;
  gort_waitgroup *wg;
} hammer_arg;

static void hammer(void *p) {
  hammer_arg *a = p;
  for (long i = 0; i < a->loops; i++) {
    if (gort_semaphore_acquire(a->s, bg(), a->n) != 0) atomic_fetch_add(a->errs, 1);
    if (atomic_fetch_add(a->in_use, a->n) + a->n > a->size) atomic_fetch_add(a->over, 1);
    for (int k = rand() % 4; k > 0; k--) gort_yield();
    atomic_fetch_sub(a->in_use, a->n);
    if (gort_semaphore_release(a->s, a->n) != 0) atomic_fetch_add(a->errs, 1);
  }
  gort_waitgroup_done(a->wg);
}

static void semaphore_hammer_weighted(void **state) {
  (void)state;
  enum { N = 4 };
  gort_semaphore *s;
  assert_int_equal(gort_semaphore_new(&s, N), 0);
  atomic_long in_use = 0;
  atomic_int over = 0, errs = 0;
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  hammer_arg args[N];
  assert_int_equal(gort_waitgroup_add(&wg, N), 0);
  for (int i = 0; i < N; i++) {
    args[i] = (hammer_arg){s, N, i + 1, gort_test_scaled(1000, 50), &in_use, &over, &errs, &wg};
    assert_int_equal(gort_go(hammer, &args[i]), 0);
  }
  assert_int_equal(gort_waitgroup_wait(&wg), 0);
  assert_int_equal(atomic_load(&over), 0);
  assert_int_equal(atomic_load(&errs), 0);
  assert_int_equal(gort_semaphore_held(s), 0);
  assert_int_equal(gort_semaphore_waiters(s), 0);
  gort_waitgroup_destroy(&wg);
  gort_semaphore_free(s);
}

/* ---- strict FIFO: a large waiter at the head holds back small ones ---- */

static void semaphore_fifo_large_head_blocks_small(void **state) {
  (void)state;
  gort_semaphore *s;
  gort_chan *out;
  assert_int_equal(gort_semaphore_new(&s, 3), 0);
  assert_int_equal(GORT_CHAN_MAKE(&out, int, 4), 0);
  assert_int_equal(gort_semaphore_acquire(s, bg(), 2), 0); /* 1 free */

  acq_arg big = {s, bg(), 2, 1, out};
  assert_int_equal(gort_go(acquirer, &big), 0);
  wait_waiters(s, 1);
  /* 1 is free, but the queue is not empty: nobody may jump it. */
  assert_int_equal(gort_semaphore_try_acquire(s, 1), GORT_EAGAIN);
  acq_arg small = {s, bg(), 1, 2, out};
  assert_int_equal(gort_go(acquirer, &small), 0);
  wait_waiters(s, 2);
  assert_int_equal(gort_chan_len(out), 0);

  /* Free 1: the head (2) fits now, the small one behind it does not. */
  assert_int_equal(gort_semaphore_release(s, 1), 0);
  assert_int_equal(recv_int(out), 1);
  assert_int_equal(gort_semaphore_held(s), 3);
  assert_int_equal(gort_semaphore_waiters(s), 1);
  /* Free 1 more: the small one gets it. */
  assert_int_equal(gort_semaphore_release(s, 1), 0);
  assert_int_equal(recv_int(out), 2);
  assert_int_equal(gort_semaphore_held(s), 3);
  assert_int_equal(gort_semaphore_release(s, 3), 0);
  gort_chan_release(out);
  gort_semaphore_free(s);
}

/* ---- waiters are granted in arrival order ---- */

static void semaphore_fifo_order(void **state) {
  (void)state;
  enum { N = 5 };
  gort_semaphore *s;
  gort_chan *out;
  assert_int_equal(gort_semaphore_new(&s, 1), 0);
  assert_int_equal(GORT_CHAN_MAKE(&out, int, N), 0);
  assert_int_equal(gort_semaphore_acquire(s, bg(), 1), 0);
  acq_arg args[N];
  for (int i = 0; i < N; i++) {
    args[i] = (acq_arg){s, bg(), 1, i + 1, out};
    assert_int_equal(gort_go(acquirer, &args[i]), 0);
    wait_waiters(s, i + 1); /* queue them one by one, in order */
  }
  for (int i = 0; i < N; i++) {
    assert_int_equal(gort_semaphore_release(s, 1), 0);
    assert_int_equal(recv_int(out), i + 1);
  }
  assert_int_equal(gort_semaphore_release(s, 1), 0);
  gort_chan_release(out);
  gort_semaphore_free(s);
}

/* ---- a blocked acquire is parked in select ---- */

static void semaphore_waiter_is_parked_in_select(void **state) {
  (void)state;
  gort_semaphore *s;
  gort_chan *out;
  assert_int_equal(gort_semaphore_new(&s, 1), 0);
  assert_int_equal(GORT_CHAN_MAKE(&out, int, 1), 0);
  assert_int_equal(gort_semaphore_acquire(s, bg(), 1), 0);
  acq_arg a = {s, bg(), 1, 7, out};
  assert_int_equal(gort_go(acquirer, &a), 0);
  assert_true(gort_test_wait_parked(acquirer, GORT_WAIT_SELECT, 1, 5000));
  assert_int_equal(gort_semaphore_release(s, 1), 0);
  assert_int_equal(recv_int(out), 7);
  assert_int_equal(gort_semaphore_release(s, 1), 0);
  gort_chan_release(out);
  gort_semaphore_free(s);
}

/* ---- cancellation ---- */

static void semaphore_cancel_leaves_unchanged(void **state) {
  (void)state;
  gort_semaphore *s;
  gort_chan *out;
  assert_int_equal(gort_semaphore_new(&s, 2), 0);
  assert_int_equal(GORT_CHAN_MAKE(&out, int, 1), 0);
  assert_int_equal(gort_semaphore_acquire(s, bg(), 2), 0);
  gort_context *ctx = cancel_ctx();
  acq_arg a = {s, ctx, 1, 1, out};
  assert_int_equal(gort_go(acquirer, &a), 0);
  wait_waiters(s, 1);
  gort_context_cancel(ctx);
  assert_int_equal(recv_int(out), GORT_ECANCELED);
  assert_int_equal(gort_semaphore_held(s), 2);
  assert_int_equal(gort_semaphore_waiters(s), 0);
  assert_int_equal(gort_semaphore_release(s, 2), 0);
  assert_int_equal(gort_semaphore_try_acquire(s, 2), 0);
  assert_int_equal(gort_semaphore_release(s, 2), 0);
  gort_context_free(ctx);
  gort_chan_release(out);
  gort_semaphore_free(s);
}

/* A cancelled head leaves: the waiters behind it that fit get in. */
static void semaphore_cancelled_head_lets_next_in(void **state) {
  (void)state;
  gort_semaphore *s;
  gort_chan *out;
  assert_int_equal(gort_semaphore_new(&s, 2), 0);
  assert_int_equal(GORT_CHAN_MAKE(&out, int, 2), 0);
  assert_int_equal(gort_semaphore_acquire(s, bg(), 1), 0);
  gort_context *ctx = cancel_ctx();
  acq_arg big = {s, ctx, 2, 1, out};
  assert_int_equal(gort_go(acquirer, &big), 0);
  wait_waiters(s, 1);
  acq_arg small = {s, bg(), 1, 2, out};
  assert_int_equal(gort_go(acquirer, &small), 0);
  wait_waiters(s, 2);
  gort_context_cancel(ctx);
  int a = recv_int(out), b = recv_int(out);
  assert_true((a == GORT_ECANCELED && b == 2) || (a == 2 && b == GORT_ECANCELED));
  assert_int_equal(gort_semaphore_held(s), 2);
  assert_int_equal(gort_semaphore_release(s, 2), 0);
  gort_context_free(ctx);
  gort_chan_release(out);
  gort_semaphore_free(s);
}

/* x/sync: a context that is already done fails even if the weight is free. */
static void semaphore_done_ctx_fails_even_if_free(void **state) {
  (void)state;
  gort_semaphore *s;
  assert_int_equal(gort_semaphore_new(&s, 2), 0);
  gort_context *ctx = cancel_ctx();
  gort_context_cancel(ctx);
  assert_int_equal(gort_semaphore_acquire(s, ctx, 1), GORT_ECANCELED);
  assert_int_equal(gort_semaphore_held(s), 0);
  gort_context_free(ctx);
  gort_semaphore_free(s);
}

/* Grant and cancellation racing: whatever wins, the semaphore stays
 * consistent: a failed acquire holds nothing, a successful one holds n. */
static void semaphore_grant_cancel_race(void **state) {
  (void)state;
  long rounds = gort_test_scaled(200, 20);
  gort_semaphore *s;
  gort_chan *out;
  assert_int_equal(gort_semaphore_new(&s, 1), 0);
  assert_int_equal(GORT_CHAN_MAKE(&out, int, 1), 0);
  int ok = 0, cancelled = 0;
  for (long i = 0; i < rounds; i++) {
    assert_int_equal(gort_semaphore_acquire(s, bg(), 1), 0);
    gort_context *ctx = cancel_ctx();
    acq_arg a = {s, ctx, 1, 1, out};
    assert_int_equal(gort_go(acquirer, &a), 0);
    wait_waiters(s, 1);
    if (i % 2) {
      gort_context_cancel(ctx);
      assert_int_equal(gort_semaphore_release(s, 1), 0);
    } else {
      assert_int_equal(gort_semaphore_release(s, 1), 0);
      gort_context_cancel(ctx);
    }
    int rc = recv_int(out);
    if (rc == 1) {
      ok++;
      assert_int_equal(gort_semaphore_held(s), 1);
      assert_int_equal(gort_semaphore_release(s, 1), 0);
    } else {
      cancelled++;
      assert_int_equal(rc, GORT_ECANCELED);
      assert_int_equal(gort_semaphore_held(s), 0);
    }
    assert_int_equal(gort_semaphore_waiters(s), 0);
    gort_context_free(ctx);
  }
  assert_int_equal(ok + cancelled, rounds);
  gort_chan_release(out);
  gort_semaphore_free(s);
}

/* ---- more than the size: waits for ctx, blocks nobody ---- */

static void semaphore_too_big_waits_for_ctx(void **state) {
  (void)state;
  gort_semaphore *s;
  assert_int_equal(gort_semaphore_new(&s, 2), 0);
  int64_t t0 = gort_now();
  gort_context *ctx = timeout_ctx(20 * GORT_MILLISECOND);
  assert_int_equal(gort_semaphore_acquire(s, ctx, 3), GORT_EDEADLINE);
  assert_true(gort_now() - t0 >= 20 * GORT_MILLISECOND);
  assert_int_equal(gort_semaphore_held(s), 0);
  gort_context_free(ctx);
  gort_semaphore_free(s);
}

typedef struct {
  gort_semaphore *s;
} sem_only;

static int acquire_one_release(gort_context *ctx, void *p) {
  sem_only *a = p;
  int err = gort_semaphore_acquire(a->s, ctx, 1);
  if (err == 0) {
    gort_sleep(GORT_MILLISECOND);
    gort_semaphore_release(a->s, 1);
  }
  return err;
}

/* TestWeightedDoesntBlockIfTooBig */
static void semaphore_too_big_does_not_block_others(void **state) {
  (void)state;
  enum { N = 2 };
  gort_semaphore *s;
  gort_chan *out;
  assert_int_equal(gort_semaphore_new(&s, N), 0);
  assert_int_equal(GORT_CHAN_MAKE(&out, int, 1), 0);
  gort_context *big_ctx = cancel_ctx();
  acq_arg big = {s, big_ctx, N + 1, 1, out};
  assert_int_equal(gort_go(acquirer, &big), 0);

  gort_errgroup *g;
  gort_context *gctx;
  assert_int_equal(gort_errgroup_with_context(bg(), &g, &gctx), 0);
  sem_only a = {s};
  for (int i = N * 3; i > 0; i--) assert_int_equal(gort_errgroup_go(g, acquire_one_release, &a), 0);
  assert_int_equal(gort_errgroup_wait(g), 0);
  gort_errgroup_free(g);

  gort_context_cancel(big_ctx);
  assert_int_equal(recv_int(out), GORT_ECANCELED);
  assert_int_equal(gort_semaphore_held(s), 0);
  gort_context_free(big_ctx);
  gort_chan_release(out);
  gort_semaphore_free(s);
}

/* ---- TestLargeAcquireDoesntStarve ---- */

typedef struct {
  gort_semaphore *s;
  atomic_bool *running;
  gort_waitgroup *wg;
} starve_arg;

static void cycler(void *p) {
  starve_arg *a = p;
  while (atomic_load(a->running)) {
    gort_sleep(GORT_MILLISECOND);
    gort_semaphore_release(a->s, 1);
    gort_semaphore_acquire(a->s, bg(), 1);
  }
  gort_semaphore_release(a->s, 1);
  gort_waitgroup_done(a->wg);
}

static void semaphore_large_acquire_does_not_starve(void **state) {
  (void)state;
  enum { N = 4 };
  gort_semaphore *s;
  assert_int_equal(gort_semaphore_new(&s, N), 0);
  atomic_bool running = true;
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  starve_arg a = {s, &running, &wg};
  assert_int_equal(gort_waitgroup_add(&wg, N), 0);
  for (int i = N; i > 0; i--) {
    assert_int_equal(gort_semaphore_acquire(s, bg(), 1), 0);
    assert_int_equal(gort_go(cycler, &a), 0);
  }
  /* Returning at all is the test: the cyclers never let all N go at once,
   * so only FIFO lets this through. */
  gort_context *ctx = timeout_ctx(10 * GORT_SECOND);
  assert_int_equal(gort_semaphore_acquire(s, ctx, N), 0);
  atomic_store(&running, false);
  assert_int_equal(gort_semaphore_release(s, N), 0);
  assert_int_equal(gort_waitgroup_wait(&wg), 0);
  assert_int_equal(gort_semaphore_held(s), 0);
  gort_context_free(ctx);
  gort_waitgroup_destroy(&wg);
  gort_semaphore_free(s);
}

/* ---- TestAllocCancelDoesntStarve ---- */

/* Cancels ctx and drops the reference the spawner took for it. */
static void cancel_it(void *p) {
  gort_context_cancel(p);
  gort_context_release(p);
}

static void semaphore_cancel_does_not_starve(void **state) {
  (void)state;
  gort_semaphore *s;
  gort_chan *out;
  assert_int_equal(gort_semaphore_new(&s, 10), 0);
  assert_int_equal(GORT_CHAN_MAKE(&out, int, 1), 0);
  assert_int_equal(gort_semaphore_acquire(s, bg(), 1), 0);
  gort_context *ctx = cancel_ctx();
  acq_arg big = {s, ctx, 10, 1, out};
  assert_int_equal(gort_go(acquirer, &big), 0);
  /* Wait until the Acquire(10) blocks. */
  while (gort_semaphore_try_acquire(s, 1) == 0) {
    assert_int_equal(gort_semaphore_release(s, 1), 0);
    gort_yield();
  }
  /* Cancel it while asking for 1: both must return. */
  gort_context_retain(ctx);
  assert_int_equal(gort_go(cancel_it, ctx), 0);
  assert_int_equal(gort_semaphore_acquire(s, bg(), 1), 0);
  assert_int_equal(gort_semaphore_release(s, 1), 0);
  assert_int_equal(recv_int(out), GORT_ECANCELED);
  assert_int_equal(gort_semaphore_release(s, 1), 0);
  assert_int_equal(gort_semaphore_held(s), 0);
  gort_context_free(ctx);
  gort_chan_release(out);
  gort_semaphore_free(s);
}

/* ---- weight 0, as x/sync accepts it ---- */

static void semaphore_weight_zero(void **state) {
  (void)state;
  gort_semaphore *s;
  gort_chan *out;
  assert_int_equal(gort_semaphore_new(&s, 2), 0);
  assert_int_equal(GORT_CHAN_MAKE(&out, int, 4), 0);
  /* Nothing queued: weight 0 is granted at once, even when s is full, and
   * holds nothing; releasing 0 is fine even with nothing held. */
  assert_int_equal(gort_semaphore_release(s, 0), 0);
  assert_int_equal(gort_semaphore_acquire(s, bg(), 0), 0);
  assert_int_equal(gort_semaphore_try_acquire(s, 0), 0);
  assert_int_equal(gort_semaphore_held(s), 0);
  assert_int_equal(gort_semaphore_acquire(s, bg(), 2), 0);
  assert_int_equal(gort_semaphore_acquire(s, bg(), 0), 0);
  assert_int_equal(gort_semaphore_try_acquire(s, 0), 0);
  /* A done ctx fails it, as any acquire (x/sync checks done first). */
  gort_context *done = cancel_ctx();
  gort_context_cancel(done);
  assert_int_equal(gort_semaphore_acquire(s, done, 0), GORT_ECANCELED);
  gort_context_free(done);
  /* Others queued: weight 0 does not jump the queue (FIFO), and is granted
   * as soon as it reaches the head. */
  acq_arg big = {s, bg(), 1, 1, out}, zero = {s, bg(), 0, 2, out};
  assert_int_equal(gort_go(acquirer, &big), 0);
  wait_waiters(s, 1);
  assert_int_equal(gort_semaphore_try_acquire(s, 0), GORT_EAGAIN);
  assert_int_equal(gort_go(acquirer, &zero), 0);
  wait_waiters(s, 2);
  assert_int_equal(gort_chan_len(out), 0);
  assert_int_equal(gort_semaphore_release(s, 1), 0);
  int first = recv_int(out), second = recv_int(out); /* both granted, in any order */
  assert_int_equal(first + second, 3);
  assert_int_not_equal(first, second);
  assert_int_equal(gort_semaphore_held(s), 2);
  assert_int_equal(gort_semaphore_waiters(s), 0);
  assert_int_equal(gort_semaphore_release(s, 2), 0);
  gort_chan_release(out);
  gort_semaphore_free(s);
}

/* NewWeighted(0) is a valid semaphore in Go: a weight of 0 always fits,
 * any other weight is doomed and waits for the context. */
static void semaphore_size_zero(void **state) {
  (void)state;
  gort_semaphore *s = NULL;
  assert_int_equal(gort_semaphore_new(&s, 0), 0);
  assert_int_equal(gort_semaphore_size(s), 0);
  assert_int_equal(gort_semaphore_acquire(s, bg(), 0), 0);
  assert_int_equal(gort_semaphore_try_acquire(s, 0), 0);
  assert_int_equal(gort_semaphore_try_acquire(s, 1), GORT_EAGAIN);
  assert_int_equal(try_with_timeout(s, 1, TIMES_OUT_MS), GORT_EDEADLINE);
  assert_int_equal(gort_semaphore_waiters(s), 0);
  assert_int_equal(gort_semaphore_held(s), 0);
  assert_int_equal(gort_semaphore_release(s, 0), 0);
  gort_semaphore_free(s);
}

/* ---- bad input and allocation failure ---- */

static void semaphore_invalid_arguments(void **state) {
  (void)state;
  gort_semaphore *s = NULL;
  assert_int_equal(gort_semaphore_new(NULL, 1), GORT_EINVAL);
  assert_int_equal(gort_semaphore_new(&s, -3), GORT_EINVAL);
  assert_null(s);
  assert_int_equal(gort_semaphore_new(&s, 2), 0);
  assert_int_equal(gort_semaphore_acquire(NULL, bg(), 1), GORT_EINVAL);
  assert_int_equal(gort_semaphore_acquire(s, NULL, 1), GORT_EINVAL);
  assert_int_equal(gort_semaphore_acquire(s, bg(), -1), GORT_EINVAL);
  assert_int_equal(gort_semaphore_try_acquire(NULL, 1), GORT_EINVAL);
  assert_int_equal(gort_semaphore_try_acquire(s, -1), GORT_EINVAL);
  assert_int_equal(gort_semaphore_release(NULL, 1), GORT_EINVAL);
  assert_int_equal(gort_semaphore_release(s, -2), GORT_EINVAL);
  assert_int_equal(gort_semaphore_held(s), 0);
  assert_int_equal(gort_semaphore_size(s), 2);
  assert_int_equal(gort_semaphore_size(NULL), 0);
  gort_semaphore_free(NULL);
  gort_semaphore_free(s);
}

static void semaphore_enomem(void **state) {
  (void)state;
  gort_semaphore *s = NULL;
  gort_test_fail_allocs_after(0);
  int rc = gort_semaphore_new(&s, 1);
  gort_test_allocator_restore();
  assert_int_equal(rc, GORT_ENOMEM);
  assert_null(s);

  assert_int_equal(gort_semaphore_new(&s, 1), 0);
  assert_int_equal(gort_semaphore_acquire(s, bg(), 1), 0);
  /* A waiter needs its wake-up channel: no memory, no change. The fast
   * paths allocate nothing. */
  gort_test_fail_allocs_after(0);
  rc = gort_semaphore_acquire(s, bg(), 1);
  int rc2 = gort_semaphore_try_acquire(s, 1);
  int rc3 = gort_semaphore_release(s, 1);
  int rc4 = gort_semaphore_acquire(s, bg(), 1);
  gort_test_allocator_restore();
  assert_int_equal(rc, GORT_ENOMEM);
  assert_int_equal(rc2, GORT_EAGAIN);
  assert_int_equal(rc3, 0);
  assert_int_equal(rc4, 0);
  assert_int_equal(gort_semaphore_waiters(s), 0);
  assert_int_equal(gort_semaphore_held(s), 1);
  assert_int_equal(gort_semaphore_release(s, 1), 0);
  gort_semaphore_free(s);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(semaphore_try_acquire),
    cmocka_unit_test(semaphore_acquire_timeout),
    cmocka_unit_test(semaphore_release_more_than_held),
    cmocka_unit_test(semaphore_hammer_weighted),
    cmocka_unit_test(semaphore_fifo_large_head_blocks_small),
    cmocka_unit_test(semaphore_fifo_order),
    cmocka_unit_test(semaphore_waiter_is_parked_in_select),
    cmocka_unit_test(semaphore_cancel_leaves_unchanged),
    cmocka_unit_test(semaphore_cancelled_head_lets_next_in),
    cmocka_unit_test(semaphore_done_ctx_fails_even_if_free),
    cmocka_unit_test(semaphore_grant_cancel_race),
    cmocka_unit_test(semaphore_too_big_waits_for_ctx),
    cmocka_unit_test(semaphore_too_big_does_not_block_others),
    cmocka_unit_test(semaphore_large_acquire_does_not_starve),
    cmocka_unit_test(semaphore_cancel_does_not_starve),
    cmocka_unit_test(semaphore_weight_zero),
    cmocka_unit_test(semaphore_size_zero),
    cmocka_unit_test(semaphore_invalid_arguments),
    cmocka_unit_test(semaphore_enomem),
};

GORT_TEST_MAIN(tests)
