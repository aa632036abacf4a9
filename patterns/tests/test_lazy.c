/* test_lazy.c - seed 001's once initialisation and seed 003's closeOnce. */
#include "ptest.h"

#include "gortp/lazy.h"

static _Atomic int dials;
static gort_chan *gate;
static int the_conn = 42;

static int dial(void *arg, void **value) {
  atomic_fetch_add(&dials, 1);
  if (gate) gort_chan_recv(gate, NULL, NULL);
  if (arg) return GORT_EIO;
  *value = &the_conn;
  return 0;
}

typedef struct {
  gortp_lazy *lazy;
  void *value;
  int err;
} getter_arg;

static void getter(void *p) {
  getter_arg *a = p;
  a->err = gortp_lazy_get(a->lazy, &a->value);
}

static void run_getters(gortp_lazy *lazy, getter_arg *args, int n) {
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  for (int i = 0; i < n; i++) {
    args[i] = (getter_arg){lazy, NULL, -99};
    assert_int_equal(gort_waitgroup_go(&wg, getter, &args[i]), 0);
  }
  /* Everyone is inside get: one dialling, the rest waiting on the once. */
  assert_true(ptest_parked(n));
  gort_chan_close(gate);
  gort_waitgroup_wait(&wg);
}

static void lazy_100_callers_one_dial(void **state) {
  (void)state;
  int base = gort_num_tasks();
  atomic_store(&dials, 0);
  assert_int_equal(GORT_CHAN_MAKE(&gate, int, 0), 0);
  gortp_lazy lazy = GORTP_LAZY_INIT(dial, NULL);
  getter_arg args[100];
  run_getters(&lazy, args, 100);
  assert_int_equal(atomic_load(&dials), 1);
  for (int i = 0; i < 100; i++) {
    assert_int_equal(args[i].err, 0);
    assert_ptr_equal(args[i].value, &the_conn);
  }
  void *v;
  assert_int_equal(gortp_lazy_get(&lazy, &v), 0);
  assert_ptr_equal(v, &the_conn);
  assert_int_equal(atomic_load(&dials), 1);
  gort_chan_release(gate);
  gate = NULL;
  assert_true(ptest_tasks_settle(base));
}

/* The first outcome is final, also when it is an error (sync.Once). */
static void lazy_error_is_kept(void **state) {
  (void)state;
  atomic_store(&dials, 0);
  assert_int_equal(GORT_CHAN_MAKE(&gate, int, 0), 0);
  gortp_lazy lazy = GORTP_LAZY_INIT(dial, (void *)1);
  getter_arg args[20];
  run_getters(&lazy, args, 20);
  for (int i = 0; i < 20; i++) {
    assert_int_equal(args[i].err, GORT_EIO);
    assert_null(args[i].value);
  }
  assert_int_equal(gortp_lazy_get(&lazy, NULL), GORT_EIO);
  assert_int_equal(atomic_load(&dials), 1);
  gort_chan_release(gate);
  gate = NULL;
}

static void closer(void *p) { gortp_lazy_close_once_do(p); }

/* Ten tasks all "call done()": one close, no "close of closed channel". */
static void lazy_close_once_from_many_tasks(void **state) {
  (void)state;
  int *misuses = gort_test_misuse_return_mode();
  gort_chan *done;
  assert_int_equal(GORT_CHAN_MAKE(&done, int, 0), 0);
  gortp_lazy_close_once co = GORTP_LAZY_CLOSE_ONCE_INIT(done);
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  for (int i = 0; i < 10; i++) assert_int_equal(gort_waitgroup_go(&wg, closer, &co), 0);
  gort_waitgroup_wait(&wg);
  assert_true(gort_chan_is_closed(done));
  assert_int_equal(*misuses, 0);
  /* Without the once, the second close is Go's panic. */
  assert_int_equal(gort_chan_close(done), GORT_ECLOSECLOSED);
  assert_int_equal(*misuses, 1);
  gort_test_misuse_abort_mode();
  gort_chan_release(done);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(lazy_100_callers_one_dial),
    cmocka_unit_test(lazy_error_is_kept),
    cmocka_unit_test(lazy_close_once_from_many_tasks),
};

GORT_TEST_MAIN(tests)
