/* test_counter.c - seed 001's channel vs mutex: ten tasks increment one
 * counter 1000 times each; every correct way ends at 10000. */
#include "ptest.h"

#include "gortp/counter.h"

enum { TASKS = 10, EACH = 1000 };

typedef enum { BY_MUTEX, BY_ATOMIC, BY_OWNER, BY_CHANLOCK } kind;

typedef struct {
  kind k;
  gortp_counter_mutex *mc;
  gort_atomic_i64 *ac;
  gortp_counter_owned *oc;
  gortp_counter_chanlock *cc;
  int errors;
} inc_arg;

static void incrementer(void *p) {
  inc_arg *a = p;
  for (int i = 0; i < EACH; i++) {
    switch (a->k) {
    case BY_MUTEX: gortp_counter_mutex_add(a->mc, 1); break;
    case BY_ATOMIC: gort_atomic_add(a->ac, 1); break;
    case BY_OWNER: a->errors += gortp_counter_owned_add(a->oc, 1) != 0; break;
    case BY_CHANLOCK: gortp_counter_chanlock_add(a->cc, 1); break;
    }
  }
}

static void run(inc_arg proto) {
  inc_arg args[TASKS];
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  for (int i = 0; i < TASKS; i++) {
    args[i] = proto;
    assert_int_equal(gort_waitgroup_go(&wg, incrementer, &args[i]), 0);
  }
  gort_waitgroup_wait(&wg);
  for (int i = 0; i < TASKS; i++) assert_int_equal(args[i].errors, 0);
}

static void counter_mutex(void **state) {
  (void)state;
  gortp_counter_mutex mc = GORTP_COUNTER_MUTEX_INIT;
  run((inc_arg){BY_MUTEX, &mc, NULL, NULL, NULL, 0});
  assert_int_equal(gortp_counter_mutex_get(&mc), TASKS * EACH);
}

static void counter_atomic(void **state) {
  (void)state;
  gort_atomic_i64 ac = GORT_ATOMIC_I64_INIT(0);
  run((inc_arg){BY_ATOMIC, NULL, &ac, NULL, NULL, 0});
  assert_int_equal(gort_atomic_load(&ac), TASKS * EACH);
}

static void counter_owned_by_a_task(void **state) {
  (void)state;
  int base = gort_num_tasks();
  gortp_counter_owned *oc;
  assert_int_equal(gortp_counter_owned_new(&oc), 0);
  run((inc_arg){BY_OWNER, NULL, NULL, oc, NULL, 0});
  int64_t v = -1;
  assert_int_equal(gortp_counter_owned_get(oc, &v), 0);
  assert_int_equal(v, TASKS * EACH);
  assert_int_equal(gortp_counter_owned_add(oc, -5), 0);
  assert_int_equal(gortp_counter_owned_get(oc, &v), 0);
  assert_int_equal(v, TASKS * EACH - 5); /* a task sees its own earlier add */
  gortp_counter_owned_free(oc);
  assert_true(ptest_tasks_settle(base)); /* the owner has a way to stop */
}

static void counter_channel_as_mutex(void **state) {
  (void)state;
  gortp_counter_chanlock cc;
  assert_int_equal(gortp_counter_chanlock_init(&cc), 0);
  run((inc_arg){BY_CHANLOCK, NULL, NULL, NULL, &cc, 0});
  assert_int_equal(gortp_counter_chanlock_get(&cc), TASKS * EACH);
  gortp_counter_chanlock_destroy(&cc);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(counter_mutex),
    cmocka_unit_test(counter_atomic),
    cmocka_unit_test(counter_owned_by_a_task),
    cmocka_unit_test(counter_channel_as_mutex),
};

GORT_TEST_MAIN(tests)
