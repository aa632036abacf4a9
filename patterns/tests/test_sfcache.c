/* test_sfcache.c - seed 001's singleflight cache: 100 concurrent callers,
 * one load, one shared value; later callers hit the cache. */
#include "ptest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gortp/sfcache.h"

static gort_chan *gate;
static _Atomic int freed;

typedef struct {
  char name[32];
} user;

static int query_user(void *arg, const char *id, void **value) {
  (void)arg;
  if (gate) gort_chan_recv(gate, NULL, NULL); /* the DB is slow */
  if (strcmp(id, "missing") == 0) return GORT_ENOTFOUND;
  user *u = malloc(sizeof *u);
  if (!u) return GORT_ENOMEM;
  snprintf(u->name, sizeof u->name, "user-%s", id);
  *value = u;
  return 0;
}

static void free_user(void *u) {
  atomic_fetch_add(&freed, 1);
  free(u);
}

typedef struct {
  gortp_sfcache *c;
  const char *id;
  void *value;
  bool shared;
  int err;
} caller_arg;

static void caller(void *p) {
  caller_arg *a = p;
  a->err = gortp_sfcache_get(a->c, a->id, &a->value, &a->shared);
}

static void sfcache_100_callers_1_load(void **state) {
  (void)state;
  int base = gort_num_tasks();
  atomic_store(&freed, 0);
  assert_int_equal(GORT_CHAN_MAKE(&gate, int, 0), 0);
  gortp_sfcache *c;
  assert_int_equal(gortp_sfcache_new(&c, query_user, NULL, free_user), 0);
  static caller_arg args[100];
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  for (int i = 0; i < 100; i++) {
    args[i] = (caller_arg){c, "42", NULL, false, -99};
    assert_int_equal(gort_waitgroup_go(&wg, caller, &args[i]), 0);
  }
  /* All 100 are in: one in the query, 99 waiting for its flight. */
  assert_true(ptest_parked(100));
  assert_int_equal(gortp_sfcache_loads(c), 1);
  gort_chan_close(gate);
  gort_waitgroup_wait(&wg);
  for (int i = 0; i < 100; i++) {
    assert_int_equal(args[i].err, 0);
    assert_ptr_equal(args[i].value, args[0].value);
    assert_true(args[i].shared);
  }
  assert_string_equal(((user *)args[0].value)->name, "user-42");
  assert_int_equal(gortp_sfcache_loads(c), 1);
  /* Across time: a hit, no flight, not shared. */
  void *v;
  bool shared = true;
  assert_int_equal(gortp_sfcache_get(c, "42", &v, &shared), 0);
  assert_ptr_equal(v, args[0].value);
  assert_false(shared);
  assert_int_equal(gortp_sfcache_loads(c), 1);
  gortp_sfcache_free(c);
  assert_int_equal(atomic_load(&freed), 1);
  gort_chan_release(gate);
  gate = NULL;
  assert_true(ptest_tasks_settle(base));
}

static void sfcache_errors_are_not_cached(void **state) {
  (void)state;
  gortp_sfcache *c;
  assert_int_equal(gortp_sfcache_new(&c, query_user, NULL, free_user), 0);
  void *v = NULL;
  assert_int_equal(gortp_sfcache_get(c, "missing", &v, NULL), GORT_ENOTFOUND);
  assert_int_equal(gortp_sfcache_get(c, "missing", &v, NULL), GORT_ENOTFOUND);
  assert_int_equal(gortp_sfcache_loads(c), 2);
  assert_int_equal(gortp_sfcache_get(c, "7", &v, NULL), 0);
  assert_string_equal(((user *)v)->name, "user-7");
  gortp_sfcache_free(c);
}

/* Different keys load independently and concurrently. */
static void sfcache_distinct_keys(void **state) {
  (void)state;
  gortp_sfcache *c;
  assert_int_equal(gortp_sfcache_new(&c, query_user, NULL, free_user), 0);
  static caller_arg args[40];
  static char ids[40][8];
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  for (int i = 0; i < 40; i++) {
    snprintf(ids[i], sizeof ids[i], "%d", i % 10);
    args[i] = (caller_arg){c, ids[i], NULL, false, -99};
    assert_int_equal(gort_waitgroup_go(&wg, caller, &args[i]), 0);
  }
  gort_waitgroup_wait(&wg);
  for (int i = 0; i < 40; i++) {
    char want[32];
    snprintf(want, sizeof want, "user-%d", i % 10);
    assert_int_equal(args[i].err, 0);
    assert_string_equal(((user *)args[i].value)->name, want);
    assert_ptr_equal(args[i].value, args[i % 10].value);
  }
  assert_int_equal(gortp_sfcache_loads(c), 10); /* once per key */
  gortp_sfcache_free(c);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(sfcache_100_callers_1_load),
    cmocka_unit_test(sfcache_errors_are_not_cached),
    cmocka_unit_test(sfcache_distinct_keys),
};

GORT_TEST_MAIN(tests)
