/* test_cond.c - gort_cond: Go's sync.Cond (after Go's cond_test.go).
 *
 * Tasks never call cmocka asserts; they report through channels and atomics
 * and the test asserts on those.
 */
#include "support/gort_test.h"

#include <stdatomic.h>
#include <string.h>

#include "gort/gort.h"
#include "gort/introspect.h"

static int count_parked(gort_wait_reason reason) {
  gort_task_info info[256];
  size_t live = gort_task_snapshot(info, 256);
  int n = 0;
  for (size_t i = 0; i < live && i < 256; i++)
    if (info[i].state == GORT_TASK_WAITING && info[i].wait_reason == reason) n++;
  return n;
}

static bool cond_parked_exactly(void *n) { return count_parked(GORT_WAIT_COND) == (int)(intptr_t)n; }

/* ---- Signal wakes exactly one waiter (TestCondSignal) ---- */

typedef struct {
  gort_mutex m;
  gort_cond c;
  gort_chan *running, *awake;
  gort_waitgroup exit;
} signal_state;

static void signal_waiter(void *p) {
  signal_state *s = p;
  gort_mutex_lock(&s->m);
  GORT_CHAN_SEND(s->running, int, 1);
  gort_cond_wait(&s->c);
  GORT_CHAN_SEND(s->awake, int, 1);
  gort_mutex_unlock(&s->m);
  gort_waitgroup_done(&s->exit);
}

static void cond_signal_wakes_one(void **state) {
  (void)state;
  enum { N = 3 };
  signal_state s = {.m = GORT_MUTEX_INIT, .exit = GORT_WAITGROUP_INIT};
  gort_cond_init(&s.c, &s.m);
  assert_int_equal(GORT_CHAN_MAKE(&s.running, int, N), 0);
  assert_int_equal(GORT_CHAN_MAKE(&s.awake, int, N), 0);
  gort_waitgroup_add(&s.exit, N);
  for (int i = 0; i < N; i++) assert_int_equal(gort_go(signal_waiter, &s), 0);
  int v;
  for (int i = 0; i < N; i++) assert_int_equal(gort_chan_recv(s.running, &v, NULL), 0);
  /* Each sent "running" holding m and released m only inside Wait, after
   * queueing: so once we hold m, all N are waiting. */
  assert_true(gort_test_eventually(cond_parked_exactly, (void *)N, 10000));
  assert_string_equal(gort_wait_reason_string(GORT_WAIT_COND), "sync.Cond.Wait");
  for (int left = N; left > 0; left--) {
    assert_int_equal(gort_chan_try_recv(s.awake, &v, NULL), GORT_EAGAIN);
    gort_mutex_lock(&s.m);
    gort_cond_signal(&s.c);
    gort_mutex_unlock(&s.m);
    assert_int_equal(gort_chan_recv(s.awake, &v, NULL), 0);
    assert_int_equal(gort_chan_try_recv(s.awake, &v, NULL), GORT_EAGAIN);
    assert_true(gort_test_eventually(cond_parked_exactly, (void *)(intptr_t)(left - 1), 10000));
  }
  gort_cond_signal(&s.c); /* nobody waits: a no-op */
  gort_waitgroup_wait(&s.exit);
  gort_chan_release(s.running);
  gort_chan_release(s.awake);
  gort_cond_destroy(&s.c);
}

/* ---- Signal wakes waiters in arrival order (TestCondSignalGenerations) ---- */

typedef struct {
  signal_state *s;
  int id;
} gen_arg;

static void gen_waiter(void *p) {
  gen_arg *a = p;
  signal_state *s = a->s;
  gort_mutex_lock(&s->m);
  GORT_CHAN_SEND(s->running, int, a->id);
  gort_cond_wait(&s->c);
  GORT_CHAN_SEND(s->awake, int, a->id);
  gort_mutex_unlock(&s->m);
  gort_waitgroup_done(&s->exit);
}

static void cond_signal_fifo(void **state) {
  (void)state;
  enum { N = 50 };
  signal_state s = {.m = GORT_MUTEX_INIT, .exit = GORT_WAITGROUP_INIT};
  gort_cond_init(&s.c, &s.m);
  gen_arg args[N];
  assert_int_equal(GORT_CHAN_MAKE(&s.running, int, N), 0);
  assert_int_equal(GORT_CHAN_MAKE(&s.awake, int, N), 0);
  gort_waitgroup_add(&s.exit, N);
  int v, wrong = 0;
  for (int i = 0; i < N; i++) {
    args[i] = (gen_arg){&s, i};
    assert_int_equal(gort_go(gen_waiter, &args[i]), 0);
    if (i > 0) {
      assert_int_equal(gort_chan_recv(s.awake, &v, NULL), 0);
      if (v != i - 1) wrong++;
    }
    assert_int_equal(gort_chan_recv(s.running, &v, NULL), 0);
    gort_mutex_lock(&s.m);
    gort_cond_signal(&s.c);
    gort_mutex_unlock(&s.m);
  }
  assert_int_equal(gort_chan_recv(s.awake, &v, NULL), 0);
  assert_int_equal(v, N - 1);
  assert_int_equal(wrong, 0);
  gort_waitgroup_wait(&s.exit);
  gort_chan_release(s.running);
  gort_chan_release(s.awake);
}

/* ---- Broadcast wakes all (TestCondBroadcast) ---- */

enum { BCAST_N = 16 };

typedef struct {
  signal_state *s;
  int id;
  bool *exit_flag; /* under s->m */
} bcast_arg;

static void bcast_waiter(void *p) {
  bcast_arg *a = p;
  signal_state *s = a->s;
  gort_mutex_lock(&s->m);
  while (!*a->exit_flag) {
    GORT_CHAN_SEND(s->running, int, a->id);
    gort_cond_wait(&s->c);
    GORT_CHAN_SEND(s->awake, int, a->id);
  }
  gort_mutex_unlock(&s->m);
  gort_waitgroup_done(&s->exit);
}

static void cond_broadcast_wakes_all(void **state) {
  (void)state;
  enum { N = BCAST_N, ROUNDS = 8 };
  signal_state s = {.m = GORT_MUTEX_INIT, .exit = GORT_WAITGROUP_INIT};
  gort_cond_init(&s.c, &s.m);
  bool exit_flag = false;
  bcast_arg args[N];
  assert_int_equal(GORT_CHAN_MAKE(&s.running, int, N), 0);
  assert_int_equal(GORT_CHAN_MAKE(&s.awake, int, N), 0);
  gort_waitgroup_add(&s.exit, N);
  for (int i = 0; i < N; i++) {
    args[i] = (bcast_arg){&s, i, &exit_flag};
    assert_int_equal(gort_go(bcast_waiter, &args[i]), 0);
  }
  int v, twice = 0;
  for (int round = 0; round < ROUNDS; round++) {
    for (int i = 0; i < N; i++) assert_int_equal(gort_chan_recv(s.running, &v, NULL), 0);
    if (round == ROUNDS - 1) {
      gort_mutex_lock(&s.m);
      exit_flag = true;
      gort_mutex_unlock(&s.m);
    }
    assert_int_equal(gort_chan_try_recv(s.awake, &v, NULL), GORT_EAGAIN);
    gort_mutex_lock(&s.m);
    gort_cond_broadcast(&s.c);
    gort_mutex_unlock(&s.m);
    bool seen[N];
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < N; i++) {
      assert_int_equal(gort_chan_recv(s.awake, &v, NULL), 0);
      if (seen[v]) twice++;
      seen[v] = true;
    }
  }
  assert_int_equal(twice, 0);
  gort_waitgroup_wait(&s.exit);
  assert_int_equal(gort_chan_try_recv(s.running, &v, NULL), GORT_EAGAIN);
  gort_cond_broadcast(&s.c);
  gort_chan_release(s.running);
  gort_chan_release(s.awake);
}

/* ---- a bounded queue with two conditions ---- */

enum { QCAP = 4, PRODUCERS = 2, CONSUMERS = 2, ITEMS = 5000 };

typedef struct {
  gort_mutex m;
  gort_cond not_empty, not_full;
  int buf[QCAP]; /* all below under m */
  int head, len;
  int producers_left;
  long sum;
  int taken;
  gort_waitgroup wg;
} queue_state;

static void producer(void *p) {
  queue_state *q = p;
  for (int i = 1; i <= ITEMS; i++) {
    gort_mutex_lock(&q->m);
    while (q->len == QCAP) gort_cond_wait(&q->not_full);
    q->buf[(q->head + q->len) % QCAP] = i;
    q->len++;
    gort_cond_signal(&q->not_empty);
    gort_mutex_unlock(&q->m);
  }
  gort_mutex_lock(&q->m);
  if (--q->producers_left == 0) gort_cond_broadcast(&q->not_empty); /* consumers may stop */
  gort_mutex_unlock(&q->m);
  gort_waitgroup_done(&q->wg);
}

static void consumer(void *p) {
  queue_state *q = p;
  gort_mutex_lock(&q->m);
  for (;;) {
    while (q->len == 0 && q->producers_left > 0) gort_cond_wait(&q->not_empty);
    if (q->len == 0) break;
    int v = q->buf[q->head];
    q->head = (q->head + 1) % QCAP;
    q->len--;
    q->sum += v;
    q->taken++;
    gort_cond_signal(&q->not_full);
  }
  gort_mutex_unlock(&q->m);
  gort_waitgroup_done(&q->wg);
}

static void cond_producer_consumer(void **state) {
  (void)state;
  static queue_state q = {.m = GORT_MUTEX_INIT, .wg = GORT_WAITGROUP_INIT};
  gort_cond_init(&q.not_empty, &q.m);
  gort_cond_init(&q.not_full, &q.m);
  q.producers_left = PRODUCERS;
  gort_waitgroup_add(&q.wg, PRODUCERS + CONSUMERS);
  for (int i = 0; i < CONSUMERS; i++) assert_int_equal(gort_go(consumer, &q), 0);
  for (int i = 0; i < PRODUCERS; i++) assert_int_equal(gort_go(producer, &q), 0);
  gort_waitgroup_wait(&q.wg);
  assert_int_equal(q.taken, PRODUCERS * ITEMS);
  assert_int_equal(q.sum, (long)PRODUCERS * ITEMS * (ITEMS + 1) / 2);
  assert_int_equal(q.len, 0);
  gort_cond_destroy(&q.not_empty);
  gort_cond_destroy(&q.not_full);
}

/* ---- a Broadcast racing with a new Wait still wakes the old waiter
 * (TestCondSignalStealing) ---- */

typedef struct {
  gort_mutex m;
  gort_cond c;
  gort_chan *ch;
  bool done; /* under m */
  gort_waitgroup wg;
} steal_state;

static void steal_first(void *p) {
  steal_state *s = p;
  gort_mutex_lock(&s->m);
  GORT_CHAN_SEND(s->ch, int, 1);
  gort_cond_wait(&s->c);
  gort_mutex_unlock(&s->m);
  GORT_CHAN_SEND(s->ch, int, 2);
  gort_waitgroup_done(&s->wg);
}

static void steal_broadcast(void *p) {
  steal_state *s = p;
  gort_cond_broadcast(&s->c);
  gort_waitgroup_done(&s->wg);
}

static void steal_second(void *p) {
  steal_state *s = p;
  gort_mutex_lock(&s->m);
  while (!s->done) gort_cond_wait(&s->c);
  gort_mutex_unlock(&s->m);
  gort_waitgroup_done(&s->wg);
}

static void cond_broadcast_not_stolen(void **state) {
  (void)state;
  for (int iter = 0; iter < 100; iter++) {
    steal_state s = {.m = GORT_MUTEX_INIT, .wg = GORT_WAITGROUP_INIT};
    gort_cond_init(&s.c, &s.m);
    assert_int_equal(gort_chan_make(&s.ch, sizeof(int), 0), 0);
    gort_waitgroup_add(&s.wg, 3);
    int v;
    assert_int_equal(gort_go(steal_first, &s), 0);
    assert_int_equal(gort_chan_recv(s.ch, &v, NULL), 0);
    gort_mutex_lock(&s.m); /* now the first waiter is inside Wait */
    gort_mutex_unlock(&s.m);
    assert_int_equal(gort_go(steal_broadcast, &s), 0);
    assert_int_equal(gort_go(steal_second, &s), 0);
    /* Hangs (and the runner's timeout reports it) if the broadcast was lost. */
    assert_int_equal(gort_chan_recv(s.ch, &v, NULL), 0);
    assert_int_equal(v, 2);
    gort_mutex_lock(&s.m);
    s.done = true;
    gort_mutex_unlock(&s.m);
    gort_cond_broadcast(&s.c);
    gort_waitgroup_wait(&s.wg);
    gort_chan_release(s.ch);
    gort_cond_destroy(&s.c);
  }
}

/* ---- Wait without holding L is misuse (Go: unlock of unlocked mutex) ---- */

static void cond_wait_unlocked_return_mode(void **state) {
  (void)state;
  int *calls = gort_test_misuse_return_mode();
  gort_mutex m = GORT_MUTEX_INIT;
  gort_cond c = GORT_COND_INIT(&m);
  gort_cond_wait(&c); /* returns at once: L was not held */
  assert_int_equal(*calls, 1);
  assert_int_equal(gort_test_misuse_last(), GORT_EUNLOCK);
  assert_null(c.waiters.head); /* the waiter was taken off again */
  assert_int_equal(atomic_load(&m.state), 0);
  gort_test_misuse_abort_mode();
}

static void wait_unlocked(void *unused) {
  (void)unused;
  gort_mutex m = GORT_MUTEX_INIT;
  gort_cond c = GORT_COND_INIT(&m);
  gort_cond_wait(&c);
}

static void cond_wait_unlocked_aborts(void **state) {
  (void)state;
  assert_true(
      gort_test_child_aborts(wait_unlocked, NULL, "fatal error: sync: unlock of unlocked mutex"));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(cond_signal_wakes_one),
    cmocka_unit_test(cond_signal_fifo),
    cmocka_unit_test(cond_broadcast_wakes_all),
    cmocka_unit_test(cond_producer_consumer),
    cmocka_unit_test(cond_broadcast_not_stolen),
    cmocka_unit_test(cond_wait_unlocked_return_mode),
    cmocka_unit_test(cond_wait_unlocked_aborts),
};

GORT_TEST_MAIN(tests)
