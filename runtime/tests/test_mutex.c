/* test_mutex.c - gort_mutex: Go's sync.Mutex.
 *
 * Tasks never call cmocka asserts; they record what they see and the test
 * asserts after joining them.
 */
#include "support/gort_test.h"

#include <stdatomic.h>

#include "gort/gort.h"
#include "gort/introspect.h"

/* ---- mutual exclusion under contention ---- */

enum { STRESS_TASKS = 8, STRESS_ITERS = 100000 };

typedef struct {
  gort_mutex mu;
  long counter; /* plain: only the mutex protects it (TSan checks that) */
  gort_waitgroup wg;
} stress_state;

static void stress_task(void *p) {
  stress_state *s = p;
  for (int i = 0; i < STRESS_ITERS; i++) {
    gort_mutex_lock(&s->mu);
    s->counter++;
    gort_mutex_unlock(&s->mu);
  }
  gort_waitgroup_done(&s->wg);
}

static void mutex_exclusion_stress(void **state) {
  (void)state;
  stress_state s = {GORT_MUTEX_INIT, 0, GORT_WAITGROUP_INIT};
  gort_waitgroup_add(&s.wg, STRESS_TASKS);
  for (int i = 0; i < STRESS_TASKS; i++) assert_int_equal(gort_go(stress_task, &s), 0);
  gort_waitgroup_wait(&s.wg);
  gort_mutex_lock(&s.mu);
  assert_int_equal(s.counter, (long)STRESS_TASKS * STRESS_ITERS);
  gort_mutex_unlock(&s.mu);
  assert_int_equal(atomic_load(&s.mu.state), 0);
}

/* ---- trylock ---- */

typedef struct {
  gort_mutex *mu;
  atomic_int result; /* -1 until the task ran */
  gort_waitgroup wg;
} try_state;

static void try_task(void *p) {
  try_state *t = p;
  bool got = gort_mutex_trylock(t->mu);
  if (got) gort_mutex_unlock(t->mu);
  atomic_store(&t->result, got);
  gort_waitgroup_done(&t->wg);
}

static void mutex_trylock(void **state) {
  (void)state;
  gort_mutex mu;
  gort_mutex_init(&mu);
  assert_true(gort_mutex_trylock(&mu));
  assert_false(gort_mutex_trylock(&mu));
  assert_int_equal(gort_mutex_unlock(&mu), 0);
  assert_true(gort_mutex_trylock(&mu));

  /* Another task sees it held, then free. */
  try_state t = {&mu, -1, GORT_WAITGROUP_INIT};
  gort_waitgroup_add(&t.wg, 1);
  assert_int_equal(gort_go(try_task, &t), 0);
  gort_waitgroup_wait(&t.wg);
  assert_int_equal(atomic_load(&t.result), 0);
  assert_int_equal(gort_mutex_unlock(&mu), 0);
  gort_waitgroup_add(&t.wg, 1);
  assert_int_equal(gort_go(try_task, &t), 0);
  gort_waitgroup_wait(&t.wg);
  assert_int_equal(atomic_load(&t.result), 1);
  gort_mutex_destroy(&mu);
}

/* ---- unlock of an unlocked mutex: misuse in both modes ---- */

static void unlock_unlocked(void *unused) {
  (void)unused;
  gort_mutex mu = GORT_MUTEX_INIT;
  gort_mutex_unlock(&mu);
}

static void lock_unlock_unlock(void *unused) {
  (void)unused;
  gort_mutex mu = GORT_MUTEX_INIT;
  gort_mutex_lock(&mu);
  gort_mutex_unlock(&mu);
  gort_mutex_unlock(&mu);
}

static void mutex_unlock_unlocked_aborts(void **state) {
  (void)state;
  assert_true(
      gort_test_child_aborts(unlock_unlocked, NULL, "fatal error: sync: unlock of unlocked mutex"));
  assert_true(gort_test_child_aborts(lock_unlock_unlock, NULL,
                                     "fatal error: sync: unlock of unlocked mutex"));
}

static void mutex_unlock_unlocked_return_mode(void **state) {
  (void)state;
  int *calls = gort_test_misuse_return_mode();
  gort_mutex mu = GORT_MUTEX_INIT;
  assert_int_equal(gort_mutex_unlock(&mu), GORT_EUNLOCK);
  assert_int_equal(*calls, 1);
  assert_int_equal(gort_test_misuse_last(), GORT_EUNLOCK);
  assert_int_equal(atomic_load(&mu.state), 0);
  gort_mutex_lock(&mu);
  assert_int_equal(gort_mutex_unlock(&mu), 0);
  assert_int_equal(gort_mutex_unlock(&mu), GORT_EUNLOCK);
  assert_int_equal(*calls, 2);
  gort_test_misuse_abort_mode();
  /* Still a working mutex. */
  assert_true(gort_mutex_trylock(&mu));
  assert_int_equal(gort_mutex_unlock(&mu), 0);
}

/* ---- a blocked locker is parked, and visible as such ---- */

typedef struct {
  gort_mutex *mu;
  atomic_int entered;
  gort_waitgroup wg;
} locker_state;

static void locker(void *p) {
  locker_state *l = p;
  gort_mutex_lock(l->mu);
  atomic_fetch_add(&l->entered, 1);
  gort_mutex_unlock(l->mu);
  gort_waitgroup_done(&l->wg);
}

static int count_parked(gort_wait_reason reason) {
  gort_task_info info[128];
  size_t live = gort_task_snapshot(info, 128);
  int n = 0;
  for (size_t i = 0; i < live && i < 128; i++)
    if (info[i].state == GORT_TASK_WAITING && info[i].wait_reason == reason) n++;
  return n;
}

static bool mutex_parked_at_least(void *n) { return count_parked(GORT_WAIT_MUTEX) >= (int)(intptr_t)n; }

static void mutex_blocked_locker_is_parked(void **state) {
  (void)state;
  gort_mutex mu = GORT_MUTEX_INIT;
  locker_state l = {&mu, 0, GORT_WAITGROUP_INIT};
  gort_mutex_lock(&mu);
  gort_waitgroup_add(&l.wg, 1);
  assert_int_equal(gort_go(locker, &l), 0);
  assert_true(gort_test_eventually(mutex_parked_at_least, (void *)1, 10000));
  assert_string_equal(gort_wait_reason_string(GORT_WAIT_MUTEX), "sync.Mutex.Lock");
  assert_int_equal(atomic_load(&l.entered), 0);
  assert_int_equal(atomic_load(&mu.state), 2); /* locked, with a waiter */
  assert_int_equal(gort_mutex_unlock(&mu), 0);
  gort_waitgroup_wait(&l.wg);
  assert_int_equal(atomic_load(&l.entered), 1);
}

/* ---- many parked lockers: every unlock passes the wake-up on ---- */

static void mutex_queued_lockers_all_acquire(void **state) {
  (void)state;
  enum { N = 10 };
  gort_mutex mu = GORT_MUTEX_INIT;
  locker_state l = {&mu, 0, GORT_WAITGROUP_INIT};
  for (int round = 0; round < 3; round++) {
    atomic_store(&l.entered, 0);
    gort_mutex_lock(&mu);
    gort_waitgroup_add(&l.wg, N);
    for (int i = 0; i < N; i++) assert_int_equal(gort_go(locker, &l), 0);
    assert_true(gort_test_eventually(mutex_parked_at_least, (void *)(intptr_t)N, 10000));
    assert_int_equal(atomic_load(&l.entered), 0);
    gort_mutex_unlock(&mu);
    gort_waitgroup_wait(&l.wg); /* hangs if a wake-up were lost */
    assert_int_equal(atomic_load(&l.entered), N);
    assert_int_equal(count_parked(GORT_WAIT_MUTEX), 0);
  }
}

/* ---- hand-off between two tasks in strict alternation ---- */

typedef struct {
  gort_mutex mu;
  int turn; /* under mu */
  int log[2000]; /* under mu */
  int n;         /* under mu */
  gort_waitgroup wg;
} pingpong_state;

typedef struct {
  pingpong_state *s;
  int me;
} pingpong_arg;

static void pingpong(void *p) {
  pingpong_arg *a = p;
  pingpong_state *s = a->s;
  for (int done = 0; done < 1000;) {
    gort_mutex_lock(&s->mu);
    bool mine = s->turn == a->me;
    if (mine) {
      s->log[s->n++] = a->me;
      s->turn = 1 - a->me;
      done++;
    }
    gort_mutex_unlock(&s->mu);
    if (!mine) gort_yield();
  }
  gort_waitgroup_done(&s->wg);
}

static void mutex_pingpong_order(void **state) {
  (void)state;
  static pingpong_state s = {.mu = GORT_MUTEX_INIT, .wg = GORT_WAITGROUP_INIT};
  pingpong_arg a[2] = {{&s, 0}, {&s, 1}};
  gort_waitgroup_add(&s.wg, 2);
  assert_int_equal(gort_go(pingpong, &a[0]), 0);
  assert_int_equal(gort_go(pingpong, &a[1]), 0);
  gort_waitgroup_wait(&s.wg);
  assert_int_equal(s.n, 2000);
  for (int i = 0; i < 2000; i++) assert_int_equal(s.log[i], i % 2);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(mutex_exclusion_stress),
    cmocka_unit_test(mutex_trylock),
    cmocka_unit_test(mutex_unlock_unlocked_aborts),
    cmocka_unit_test(mutex_unlock_unlocked_return_mode),
    cmocka_unit_test(mutex_blocked_locker_is_parked),
    cmocka_unit_test(mutex_queued_lockers_all_acquire),
    cmocka_unit_test(mutex_pingpong_order),
};

GORT_TEST_MAIN(tests)
