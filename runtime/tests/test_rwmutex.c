/* test_rwmutex.c - gort_rwmutex: Go's sync.RWMutex (writer-preferring).
 *
 * Tasks never call cmocka asserts; they record what they see and the test
 * asserts after joining them.
 */
#include "support/gort_test.h"

#include <stdatomic.h>

#include "gort/gort.h"
#include "gort/introspect.h"

static int count_parked(gort_wait_reason reason) {
  gort_task_info info[128];
  size_t live = gort_task_snapshot(info, 128);
  int n = 0;
  for (size_t i = 0; i < live && i < 128; i++)
    if (info[i].state == GORT_TASK_WAITING && info[i].wait_reason == reason) n++;
  return n;
}

static bool readers_parked(void *n) { return count_parked(GORT_WAIT_RWMUTEX_R) >= (int)(intptr_t)n; }
static bool writers_parked(void *n) { return count_parked(GORT_WAIT_RWMUTEX_W) >= (int)(intptr_t)n; }

/* ---- many readers inside at once (Go's TestParallelReaders) ---- */

typedef struct {
  gort_rwmutex *rw;
  gort_waitgroup inside;  /* each reader checks in while holding the read lock */
  gort_waitgroup release; /* readers stay inside until the test opens this */
  gort_waitgroup exit;
  atomic_int now_inside;
  atomic_int max_inside;
} readers_state;

static void parallel_reader(void *p) {
  readers_state *s = p;
  gort_rwmutex_rlock(s->rw);
  int n = atomic_fetch_add(&s->now_inside, 1) + 1;
  int max = atomic_load(&s->max_inside);
  while (n > max && !atomic_compare_exchange_weak(&s->max_inside, &max, n)) {
  }
  gort_waitgroup_done(&s->inside);
  gort_waitgroup_wait(&s->release);
  atomic_fetch_sub(&s->now_inside, 1);
  gort_rwmutex_runlock(s->rw);
  gort_waitgroup_done(&s->exit);
}

static void rwmutex_parallel_readers(void **state) {
  (void)state;
  enum { N = 6 };
  gort_rwmutex rw;
  gort_rwmutex_init(&rw);
  readers_state s = {&rw, GORT_WAITGROUP_INIT, GORT_WAITGROUP_INIT, GORT_WAITGROUP_INIT, 0, 0};
  gort_waitgroup_add(&s.inside, N);
  gort_waitgroup_add(&s.release, 1);
  gort_waitgroup_add(&s.exit, N);
  for (int i = 0; i < N; i++) assert_int_equal(gort_go(parallel_reader, &s), 0);
  /* Each reader holds the read lock until release opens, so this returns
   * only if all N held it at the same time. */
  gort_waitgroup_wait(&s.inside);
  assert_int_equal(atomic_load(&s.now_inside), N);
  assert_int_equal(rw.readers, N);
  assert_false(gort_rwmutex_trylock(&rw));
  assert_true(gort_rwmutex_tryrlock(&rw)); /* no writer waits: one more is fine */
  assert_int_equal(gort_rwmutex_runlock(&rw), 0);
  gort_waitgroup_done(&s.release);
  gort_waitgroup_wait(&s.exit);
  assert_int_equal(atomic_load(&s.max_inside), N);
  assert_int_equal(rw.readers, 0);
  assert_true(gort_rwmutex_trylock(&rw));
  assert_int_equal(gort_rwmutex_unlock(&rw), 0);
  gort_rwmutex_destroy(&rw);
}

/* ---- a writer excludes readers and writers (Go's TestRWMutex hammer) ---- */

typedef struct {
  gort_rwmutex rw;
  atomic_int activity;   /* +1 per reader inside, +10000 per writer inside */
  atomic_int violations;
  int shared;            /* written by writers, read by readers: the rwmutex protects it */
  gort_waitgroup wg;
} hammer_state;

enum { HAMMER_ITERS = 2000 };

static void hammer_reader(void *p) {
  hammer_state *s = p;
  for (int i = 0; i < HAMMER_ITERS; i++) {
    gort_rwmutex_rlock(&s->rw);
    int n = atomic_fetch_add(&s->activity, 1) + 1;
    if (n < 1 || n >= 10000) atomic_fetch_add(&s->violations, 1);
    volatile int seen = s->shared;
    (void)seen;
    for (int k = 0; k < 20; k++) atomic_signal_fence(memory_order_seq_cst);
    atomic_fetch_sub(&s->activity, 1);
    gort_rwmutex_runlock(&s->rw);
  }
  gort_waitgroup_done(&s->wg);
}

static void hammer_writer(void *p) {
  hammer_state *s = p;
  for (int i = 0; i < HAMMER_ITERS; i++) {
    gort_rwmutex_lock(&s->rw);
    int n = atomic_fetch_add(&s->activity, 10000) + 10000;
    if (n != 10000) atomic_fetch_add(&s->violations, 1);
    s->shared++;
    for (int k = 0; k < 20; k++) atomic_signal_fence(memory_order_seq_cst);
    atomic_fetch_sub(&s->activity, 10000);
    gort_rwmutex_unlock(&s->rw);
  }
  gort_waitgroup_done(&s->wg);
}

static void rwmutex_writer_excludes_all(void **state) {
  (void)state;
  enum { READERS = 6, WRITERS = 2 };
  static hammer_state s = {.rw = GORT_RWMUTEX_INIT, .wg = GORT_WAITGROUP_INIT};
  gort_waitgroup_add(&s.wg, READERS + WRITERS);
  for (int i = 0; i < READERS + WRITERS; i++) {
    gort_task_fn fn = i % 4 == 1 ? hammer_writer : hammer_reader;
    assert_int_equal(gort_go(fn, &s), 0);
  }
  gort_waitgroup_wait(&s.wg);
  assert_int_equal(atomic_load(&s.violations), 0);
  assert_int_equal(s.shared, WRITERS * HAMMER_ITERS);
  assert_int_equal(s.rw.readers, 0);
  assert_false(s.rw.writer);
  assert_int_equal(s.rw.writers_waiting, 0);
}

/* ---- deterministic exclusion and writer preference ---- */

typedef struct {
  gort_rwmutex *rw;
  atomic_int seq;     /* order of entries */
  atomic_int writer_at, reader_at; /* seq value when each entered, 0 = not yet */
  gort_waitgroup wg;
} order_state;

static void order_writer(void *p) {
  order_state *s = p;
  gort_rwmutex_lock(s->rw);
  atomic_store(&s->writer_at, atomic_fetch_add(&s->seq, 1) + 1);
  gort_rwmutex_unlock(s->rw);
  gort_waitgroup_done(&s->wg);
}

static void order_reader(void *p) {
  order_state *s = p;
  gort_rwmutex_rlock(s->rw);
  atomic_store(&s->reader_at, atomic_fetch_add(&s->seq, 1) + 1);
  gort_rwmutex_runlock(s->rw);
  gort_waitgroup_done(&s->wg);
}

static void rwmutex_writer_preferred(void **state) {
  (void)state;
  gort_rwmutex rw = GORT_RWMUTEX_INIT;
  order_state s = {&rw, 0, 0, 0, GORT_WAITGROUP_INIT};
  gort_rwmutex_rlock(&rw);
  gort_waitgroup_add(&s.wg, 2);
  assert_int_equal(gort_go(order_writer, &s), 0);
  assert_true(gort_test_eventually(writers_parked, (void *)1, 10000));
  assert_string_equal(gort_wait_reason_string(GORT_WAIT_RWMUTEX_W), "sync.RWMutex.Lock");
  /* A writer waits: new readers must not get in, though only readers hold it. */
  assert_false(gort_rwmutex_tryrlock(&rw));
  assert_false(gort_rwmutex_trylock(&rw));
  assert_int_equal(gort_go(order_reader, &s), 0);
  assert_true(gort_test_eventually(readers_parked, (void *)1, 10000));
  assert_string_equal(gort_wait_reason_string(GORT_WAIT_RWMUTEX_R), "sync.RWMutex.RLock");
  assert_int_equal(atomic_load(&s.writer_at), 0);
  assert_int_equal(atomic_load(&s.reader_at), 0);
  assert_int_equal(gort_rwmutex_runlock(&rw), 0);
  gort_waitgroup_wait(&s.wg);
  assert_int_equal(atomic_load(&s.writer_at), 1); /* the writer went before the later reader */
  assert_int_equal(atomic_load(&s.reader_at), 2);
}

static void rwmutex_writer_blocks_readers(void **state) {
  (void)state;
  enum { N = 4 };
  gort_rwmutex rw = GORT_RWMUTEX_INIT;
  order_state s = {&rw, 0, 0, 0, GORT_WAITGROUP_INIT};
  gort_rwmutex_lock(&rw);
  assert_false(gort_rwmutex_tryrlock(&rw));
  assert_false(gort_rwmutex_trylock(&rw));
  gort_waitgroup_add(&s.wg, N + 1);
  for (int i = 0; i < N; i++) assert_int_equal(gort_go(order_reader, &s), 0);
  assert_true(gort_test_eventually(readers_parked, (void *)N, 10000));
  assert_int_equal(gort_go(order_writer, &s), 0);
  assert_true(gort_test_eventually(writers_parked, (void *)1, 10000));
  assert_int_equal(atomic_load(&s.seq), 0);
  /* As Go's Unlock: the readers that queued during the write go first, then
   * the waiting writer. */
  assert_int_equal(gort_rwmutex_unlock(&rw), 0);
  gort_waitgroup_wait(&s.wg);
  assert_int_equal(atomic_load(&s.seq), N + 1);
  assert_int_equal(atomic_load(&s.writer_at), N + 1);
  assert_true(gort_rwmutex_trylock(&rw));
  assert_int_equal(gort_rwmutex_unlock(&rw), 0);
}

/* ---- misuse in both modes ---- */

static void runlock_unlocked(void *unused) {
  (void)unused;
  gort_rwmutex rw = GORT_RWMUTEX_INIT;
  gort_rwmutex_runlock(&rw);
}

static void runlock_write_locked(void *unused) {
  (void)unused;
  gort_rwmutex rw = GORT_RWMUTEX_INIT;
  gort_rwmutex_lock(&rw);
  gort_rwmutex_runlock(&rw);
}

static void unlock_unlocked(void *unused) {
  (void)unused;
  gort_rwmutex rw = GORT_RWMUTEX_INIT;
  gort_rwmutex_unlock(&rw);
}

static void unlock_read_locked(void *unused) {
  (void)unused;
  gort_rwmutex rw = GORT_RWMUTEX_INIT;
  gort_rwmutex_rlock(&rw);
  gort_rwmutex_unlock(&rw);
}

static void rwmutex_misuse_aborts(void **state) {
  (void)state;
  assert_true(gort_test_child_aborts(runlock_unlocked, NULL, "fatal error: sync: RUnlock of unlocked RWMutex"));
  assert_true(gort_test_child_aborts(runlock_write_locked, NULL, "fatal error: sync: RUnlock of unlocked RWMutex"));
  assert_true(gort_test_child_aborts(unlock_unlocked, NULL, "fatal error: sync: Unlock of unlocked RWMutex"));
  assert_true(
      gort_test_child_aborts(unlock_read_locked, NULL, "fatal error: sync: Unlock of unlocked RWMutex"));
}

static void rwmutex_misuse_return_mode(void **state) {
  (void)state;
  int *calls = gort_test_misuse_return_mode();
  gort_rwmutex rw = GORT_RWMUTEX_INIT;
  assert_int_equal(gort_rwmutex_runlock(&rw), GORT_ERUNLOCK);
  assert_int_equal(gort_test_misuse_last(), GORT_ERUNLOCK);
  assert_int_equal(gort_rwmutex_unlock(&rw), GORT_ERWUNLOCK);
  assert_int_equal(gort_test_misuse_last(), GORT_ERWUNLOCK);
  assert_int_equal(*calls, 2);
  assert_int_equal(rw.readers, 0);
  assert_false(rw.writer);

  gort_rwmutex_rlock(&rw);
  assert_int_equal(gort_rwmutex_unlock(&rw), GORT_ERWUNLOCK);
  assert_int_equal(rw.readers, 1); /* the read lock is still held */
  assert_int_equal(gort_rwmutex_runlock(&rw), 0);

  gort_rwmutex_lock(&rw);
  assert_int_equal(gort_rwmutex_runlock(&rw), GORT_ERUNLOCK);
  assert_true(rw.writer); /* the write lock is still held */
  assert_int_equal(gort_rwmutex_unlock(&rw), 0);
  assert_int_equal(*calls, 4);
  gort_test_misuse_abort_mode();

  assert_true(gort_rwmutex_trylock(&rw));
  assert_int_equal(gort_rwmutex_unlock(&rw), 0);
}

static void rwmutex_trylock(void **state) {
  (void)state;
  gort_rwmutex rw = GORT_RWMUTEX_INIT;
  assert_true(gort_rwmutex_tryrlock(&rw));
  assert_true(gort_rwmutex_tryrlock(&rw));
  assert_false(gort_rwmutex_trylock(&rw));
  assert_int_equal(gort_rwmutex_runlock(&rw), 0);
  assert_false(gort_rwmutex_trylock(&rw));
  assert_int_equal(gort_rwmutex_runlock(&rw), 0);
  assert_true(gort_rwmutex_trylock(&rw));
  assert_false(gort_rwmutex_tryrlock(&rw));
  assert_false(gort_rwmutex_trylock(&rw));
  assert_int_equal(gort_rwmutex_unlock(&rw), 0);
  assert_true(gort_rwmutex_tryrlock(&rw));
  assert_int_equal(gort_rwmutex_runlock(&rw), 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(rwmutex_parallel_readers),
    cmocka_unit_test(rwmutex_writer_excludes_all),
    cmocka_unit_test(rwmutex_writer_preferred),
    cmocka_unit_test(rwmutex_writer_blocks_readers),
    cmocka_unit_test(rwmutex_misuse_aborts),
    cmocka_unit_test(rwmutex_misuse_return_mode),
    cmocka_unit_test(rwmutex_trylock),
};

GORT_TEST_MAIN(tests)
