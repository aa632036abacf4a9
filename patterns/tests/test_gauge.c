/* test_gauge.c - seed 002's PressureGauge: runs up to `limit` at once and
 * rejects the rest immediately. */
#include "ptest.h"

#include "gortp/gauge.h"

static gort_chan *gate, *entered;
static _Atomic int inside, peak, ran;

static void work(void *arg) {
  (void)arg;
  int now = atomic_fetch_add(&inside, 1) + 1;
  int p = atomic_load(&peak);
  while (now > p && !atomic_compare_exchange_weak(&peak, &p, now)) {
  }
  atomic_fetch_add(&ran, 1);
  if (entered) gort_chan_send(entered, &(int){1});
  if (gate) gort_chan_recv(gate, NULL, NULL);
  atomic_fetch_sub(&inside, 1);
}

typedef struct {
  gortp_gauge *g;
  int result;
} req_arg;

static void request(void *p) {
  req_arg *a = p;
  a->result = gortp_gauge_do(a->g, work, NULL);
}

static void gauge_rejects_beyond_capacity(void **state) {
  (void)state;
  int base = gort_num_tasks();
  atomic_store(&ran, 0);
  assert_int_equal(GORT_CHAN_MAKE(&gate, int, 0), 0);
  assert_int_equal(GORT_CHAN_MAKE(&entered, int, 0), 0);
  gortp_gauge *g;
  assert_int_equal(gortp_gauge_new(&g, 2), 0);
  req_arg a[2] = {{g, -99}, {g, -99}};
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  for (int i = 0; i < 2; i++) assert_int_equal(gort_waitgroup_go(&wg, request, &a[i]), 0);
  for (int i = 0; i < 2; i++) assert_int_equal(gort_chan_recv(entered, NULL, NULL), 0);
  assert_int_equal(gortp_gauge_in_use(g), 2);
  /* Out of capacity: refused at once, fn not run. */
  for (int i = 0; i < 5; i++) assert_int_equal(gortp_gauge_do(g, work, NULL), GORT_EFULL);
  assert_int_equal(atomic_load(&ran), 2);
  assert_int_equal(gortp_gauge_rejected(g), 5);
  gort_chan_close(gate);
  gort_waitgroup_wait(&wg);
  assert_int_equal(a[0].result, 0);
  assert_int_equal(a[1].result, 0);
  assert_int_equal(gortp_gauge_in_use(g), 0);
  /* Capacity is back. */
  gort_chan_release(entered);
  entered = NULL;
  assert_int_equal(gortp_gauge_do(g, work, NULL), 0);
  gortp_gauge_free(g);
  gort_chan_release(gate);
  gate = NULL;
  assert_true(ptest_tasks_settle(base));
}

typedef struct {
  gortp_gauge *g;
  int ok, full;
} hammer_arg;

static void hammer(void *p) {
  hammer_arg *a = p;
  for (int i = 0; i < 500; i++) {
    if (gortp_gauge_do(a->g, work, NULL) == 0) a->ok++;
    else a->full++;
  }
}

static void gauge_concurrent_never_exceeds_limit(void **state) {
  (void)state;
  atomic_store(&peak, 0);
  atomic_store(&ran, 0);
  gortp_gauge *g;
  assert_int_equal(gortp_gauge_new(&g, 3), 0);
  hammer_arg args[8];
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  for (int i = 0; i < 8; i++) {
    args[i] = (hammer_arg){g, 0, 0};
    assert_int_equal(gort_waitgroup_go(&wg, hammer, &args[i]), 0);
  }
  gort_waitgroup_wait(&wg);
  int ok = 0, full = 0;
  for (int i = 0; i < 8; i++) ok += args[i].ok, full += args[i].full;
  assert_int_equal(ok + full, 8 * 500);
  assert_int_equal(ok, atomic_load(&ran));
  assert_int_equal((int)gortp_gauge_rejected(g), full);
  assert_true(atomic_load(&peak) <= 3);
  assert_int_equal(gortp_gauge_in_use(g), 0);
  gortp_gauge_free(g);
  assert_int_equal(gortp_gauge_new(&g, 0), GORT_EINVAL);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(gauge_rejects_beyond_capacity),
    cmocka_unit_test(gauge_concurrent_never_exceeds_limit),
};

GORT_TEST_MAIN(tests)
