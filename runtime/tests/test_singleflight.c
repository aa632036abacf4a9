/* test_singleflight.c - gort_singleflight: golang.org/x/sync/singleflight.
 *
 * Ports singleflight_test.go (TestDo, TestDoErr, TestDoDupSuppress,
 * TestForget, TestDoChan; the panic and Goexit tests have no C
 * counterpart) and adds: 100 callers of one key run fn once and share a
 * reference-counted value with no leak, do/do_chan mixing, sequential
 * calls, many keys in flight, bad input, allocation and spawn failure.
 * Tasks never call cmocka asserts.
 */
#include "support/gort_test.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gort/gort.h"
#include "gort/introspect.h"

enum { ESOME = -2001 };

/* ---- a reference-counted value: dup adds a reference ---- */

typedef struct {
  atomic_int refs;
  int value;
} rc_val;

static atomic_int rc_live; /* rc_vals not yet freed */

static rc_val *rc_new(int value) {
  rc_val *v = malloc(sizeof *v);
  if (v == NULL) return NULL;
  atomic_init(&v->refs, 1);
  v->value = value;
  atomic_fetch_add(&rc_live, 1);
  return v;
}

static void *rc_dup(void *p) {
  atomic_fetch_add(&((rc_val *)p)->refs, 1);
  return p;
}

static void rc_put(void *p) {
  rc_val *v = p;
  if (v && atomic_fetch_sub(&v->refs, 1) == 1) {
    free(v);
    atomic_fetch_sub(&rc_live, 1);
  }
}

static gort_singleflight *new_group(gort_singleflight_dup dup) {
  gort_singleflight *g = NULL;
  assert_int_equal(gort_singleflight_new(&g, dup), 0);
  return g;
}

/* ---- TestDo, TestDoErr ---- */

static int return_bar(void *arg, void **result) {
  (void)arg;
  *result = (void *)"bar";
  return 0;
}

static void singleflight_do(void **state) {
  (void)state;
  gort_singleflight *g = new_group(NULL);
  void *v = NULL;
  bool shared = true;
  assert_int_equal(gort_singleflight_do(g, "key", return_bar, NULL, &v, &shared), 0);
  assert_string_equal((const char *)v, "bar");
  assert_false(shared);
  gort_singleflight_free(g);
}

static int return_err(void *arg, void **result) {
  (void)arg;
  (void)result;
  return ESOME;
}

static void singleflight_do_err(void **state) {
  (void)state;
  gort_singleflight *g = new_group(NULL);
  void *v = (void *)"untouched";
  assert_int_equal(gort_singleflight_do(g, "key", return_err, NULL, &v, NULL), ESOME);
  assert_null(v);
  gort_singleflight_free(g);
}

/* ---- TestDoDupSuppress ---- */

enum { DUP_N = 10 }; /* callers */

typedef struct {
  gort_singleflight *g;
  gort_waitgroup wg1, wg2;
  gort_chan *c; /* of const char *, cap 1 */
  atomic_int calls;
  atomic_int bad;
} dup_arg;

static void dup_caller(void *p);

static int dup_fn(void *p, void **result) {
  dup_arg *a = p;
  bool first = atomic_fetch_add(&a->calls, 1) == 0;
  if (first) gort_waitgroup_done(&a->wg1); /* first invocation */
  const char *v = NULL;
  gort_chan_recv(a->c, &v, NULL);
  gort_chan_send(a->c, &v); /* pump: available for any later calls */
  /* Let more tasks enter do: the first invocation holds the flight open
   * until the other callers have joined it (parked on its WaitGroup), instead
   * of sleeping and hoping they got there (they may not get a CPU for a long
   * time on a loaded machine). Bounded: without suppression nobody joins,
   * and the wait ends so that the test can report the call count. */
  if (first) (void)gort_test_wait_parked(dup_caller, GORT_WAIT_WAITGROUP, DUP_N - 1, 10000);
  *result = (void *)v;
  return 0;
}

static void dup_caller(void *p) {
  dup_arg *a = p;
  gort_waitgroup_done(&a->wg1);
  void *v = NULL;
  int err = gort_singleflight_do(a->g, "key", dup_fn, a, &v, NULL);
  if (err != 0 || v == NULL || strcmp(v, "bar") != 0) atomic_fetch_add(&a->bad, 1);
  gort_waitgroup_done(&a->wg2);
}

static void singleflight_dup_suppress(void **state) {
  (void)state;
  enum { N = DUP_N };
  dup_arg a = {new_group(NULL), GORT_WAITGROUP_INIT, GORT_WAITGROUP_INIT, NULL, 0, 0};
  assert_int_equal(GORT_CHAN_MAKE(&a.c, const char *, 1), 0);
  assert_int_equal(gort_waitgroup_add(&a.wg1, 1), 0);
  for (int i = 0; i < N; i++) {
    assert_int_equal(gort_waitgroup_add(&a.wg1, 1), 0);
    assert_int_equal(gort_waitgroup_add(&a.wg2, 1), 0);
    assert_int_equal(gort_go(dup_caller, &a), 0);
  }
  assert_int_equal(gort_waitgroup_wait(&a.wg1), 0);
  /* At least one task is in fn now and all have at least reached do. */
  const char *bar = "bar";
  assert_int_equal(gort_chan_send(a.c, &bar), 0);
  assert_int_equal(gort_waitgroup_wait(&a.wg2), 0);
  int calls = atomic_load(&a.calls);
  if (calls <= 0 || calls >= N) fail_msg("number of calls = %d; want over 0 and less than %d", calls, N);
  assert_int_equal(atomic_load(&a.bad), 0);
  gort_chan_release(a.c);
  gort_waitgroup_destroy(&a.wg1);
  gort_waitgroup_destroy(&a.wg2);
  gort_singleflight_free(a.g);
}

/* ---- 100 callers blocked on a gate: fn runs once, all share the value ---- */

typedef struct {
  gort_singleflight *g;
  gort_chan *gate;
  atomic_int runs;
  atomic_int got;    /* callers that received value 42 */
  atomic_int shared; /* callers told shared = true */
  atomic_int errs;
  gort_waitgroup wg;
} herd_arg;

static int herd_fn(void *p, void **result) {
  herd_arg *a = p;
  atomic_fetch_add(&a->runs, 1);
  gort_chan_recv(a->gate, NULL, NULL);
  *result = rc_new(42);
  return 0;
}

static void herd_caller(void *p) {
  herd_arg *a = p;
  void *v = NULL;
  bool shared = false;
  if (gort_singleflight_do(a->g, "herd", herd_fn, a, &v, &shared) != 0) atomic_fetch_add(&a->errs, 1);
  if (v && ((rc_val *)v)->value == 42) atomic_fetch_add(&a->got, 1);
  if (shared) atomic_fetch_add(&a->shared, 1);
  rc_put(v); /* every caller owns one reference */
  gort_waitgroup_done(&a->wg);
}

static void singleflight_hundred_callers_run_once(void **state) {
  (void)state;
  enum { N = 100 };
  herd_arg a = {new_group(rc_dup), NULL, 0, 0, 0, 0, GORT_WAITGROUP_INIT};
  assert_int_equal(GORT_CHAN_MAKE(&a.gate, char, 0), 0);
  assert_int_equal(gort_waitgroup_add(&a.wg, N), 0);
  for (int i = 0; i < N; i++) assert_int_equal(gort_go(herd_caller, &a), 0);
  /* One caller runs fn and waits at the gate; the others join its flight. */
  assert_true(gort_test_wait_parked(herd_caller, GORT_WAIT_WAITGROUP, N - 1, 10000));
  assert_true(gort_test_wait_parked(herd_caller, GORT_WAIT_CHAN_RECV, 1, 10000));
  assert_int_equal(gort_chan_close(a.gate), 0);
  assert_int_equal(gort_waitgroup_wait(&a.wg), 0);
  assert_int_equal(atomic_load(&a.runs), 1);
  assert_int_equal(atomic_load(&a.got), N);
  assert_int_equal(atomic_load(&a.shared), N);
  assert_int_equal(atomic_load(&a.errs), 0);
  assert_int_equal(atomic_load(&rc_live), 0); /* the last reference freed it */
  gort_chan_release(a.gate);
  gort_waitgroup_destroy(&a.wg);
  gort_singleflight_free(a.g);
}

/* ---- TestForget ---- */

typedef struct {
  gort_singleflight *g;
  gort_chan *first_started, *unblock_first, *first_finished, *unblock_second;
  gort_waitgroup first_returned; /* done once the first do has returned */
} forget_arg;

static int first_fn(void *p, void **result) {
  forget_arg *a = p;
  (void)result;
  gort_chan_close(a->first_started);
  gort_chan_recv(a->unblock_first, NULL, NULL);
  gort_chan_close(a->first_finished);
  return 0;
}

static void first_caller(void *p) {
  forget_arg *a = p;
  void *v;
  gort_singleflight_do(a->g, "key", first_fn, a, &v, NULL);
  gort_waitgroup_done(&a->first_returned);
}

static int second_fn(void *p, void **result) {
  forget_arg *a = p;
  gort_chan_recv(a->unblock_second, NULL, NULL);
  *result = (void *)(intptr_t)2;
  return 0;
}

static int third_fn(void *p, void **result) {
  (void)p;
  *result = (void *)(intptr_t)3;
  return 0;
}

static void singleflight_forget(void **state) {
  (void)state;
  forget_arg a = {new_group(NULL), NULL, NULL, NULL, NULL, GORT_WAITGROUP_INIT};
  assert_int_equal(gort_waitgroup_add(&a.first_returned, 1), 0);
  assert_int_equal(GORT_CHAN_MAKE(&a.first_started, char, 0), 0);
  assert_int_equal(GORT_CHAN_MAKE(&a.unblock_first, char, 0), 0);
  assert_int_equal(GORT_CHAN_MAKE(&a.first_finished, char, 0), 0);
  assert_int_equal(GORT_CHAN_MAKE(&a.unblock_second, char, 0), 0);

  assert_int_equal(gort_go(first_caller, &a), 0);
  gort_chan_recv(a.first_started, NULL, NULL);
  assert_int_equal(gort_singleflight_forget(a.g, "key"), 0);

  gort_chan *second, *third;
  assert_int_equal(gort_singleflight_do_chan(a.g, "key", second_fn, &a, &second), 0);
  assert_int_equal(gort_chan_close(a.unblock_first), 0);
  gort_chan_recv(a.first_finished, NULL, NULL);
  /* first_finished is closed inside fn, before do's own clean-up: wait for
   * do to return, so that the clean-up has run (it must not have removed the
   * second flight) and so that the group is not freed under it (free
   * requires every do to have returned). */
  assert_int_equal(gort_waitgroup_wait(&a.first_returned), 0);
  /* The first flight finished; it must not have removed the second. */
  assert_int_equal(gort_singleflight_do_chan(a.g, "key", third_fn, &a, &third), 0);
  assert_int_equal(gort_chan_close(a.unblock_second), 0);

  gort_singleflight_result r2, r3;
  assert_int_equal(gort_chan_recv(second, &r2, NULL), 0);
  assert_int_equal(gort_chan_recv(third, &r3, NULL), 0);
  assert_int_equal((intptr_t)r3.val, 2); /* the result of the second call */
  assert_int_equal((intptr_t)r2.val, 2);
  assert_true(r2.shared && r3.shared);
  gort_chan_release(second);
  gort_chan_release(third);
  gort_chan_release(a.first_started);
  gort_chan_release(a.unblock_first);
  gort_chan_release(a.first_finished);
  gort_chan_release(a.unblock_second);
  gort_waitgroup_destroy(&a.first_returned);
  gort_singleflight_free(a.g);
}

/* ---- TestDoChan ---- */

static void singleflight_do_chan(void **state) {
  (void)state;
  gort_singleflight *g = new_group(NULL);
  gort_chan *ch;
  assert_int_equal(gort_singleflight_do_chan(g, "key", return_bar, NULL, &ch), 0);
  gort_singleflight_result r;
  assert_int_equal(gort_chan_recv(ch, &r, NULL), 0);
  assert_string_equal((const char *)r.val, "bar");
  assert_int_equal(r.err, 0);
  assert_false(r.shared);
  assert_int_equal(gort_chan_elem_size(ch), sizeof(gort_singleflight_result));
  gort_chan_release(ch);
  gort_singleflight_free(g);
}

/* ---- do and do_chan join each other's flights; every holder owns a ref ---- */

typedef struct {
  gort_chan *gate;
  atomic_int runs;
} gated_arg;

static int gated_rc(void *p, void **result) {
  gated_arg *a = p;
  atomic_fetch_add(&a->runs, 1);
  gort_chan_recv(a->gate, NULL, NULL);
  *result = rc_new(7);
  return ESOME; /* a value and an error travel together */
}

typedef struct {
  gort_singleflight *g;
  gated_arg *ga;
  gort_chan *out; /* receives the caller's value */
} do_caller_arg;

static void do_caller(void *p) {
  do_caller_arg *a = p;
  void *v = NULL;
  int err = gort_singleflight_do(a->g, "k", gated_rc, a->ga, &v, NULL);
  if (err != ESOME) v = NULL;
  gort_chan_send(a->out, &v);
}

static void singleflight_do_and_do_chan_share(void **state) {
  (void)state;
  gort_singleflight *g = new_group(rc_dup);
  gated_arg ga = {NULL, 0};
  assert_int_equal(GORT_CHAN_MAKE(&ga.gate, char, 0), 0);
  /* do_chan leads, then a do caller and a second do_chan join. */
  gort_chan *c1, *c2, *out;
  assert_int_equal(GORT_CHAN_MAKE(&out, void *, 1), 0);
  assert_int_equal(gort_singleflight_do_chan(g, "k", gated_rc, &ga, &c1), 0);
  do_caller_arg da = {g, &ga, out};
  assert_int_equal(gort_go(do_caller, &da), 0);
  assert_true(gort_test_wait_parked(do_caller, GORT_WAIT_WAITGROUP, 1, 5000));
  assert_int_equal(gort_singleflight_do_chan(g, "k", gated_rc, &ga, &c2), 0);
  assert_int_equal(gort_chan_close(ga.gate), 0);

  gort_singleflight_result r1, r2;
  void *v3 = NULL;
  assert_int_equal(gort_chan_recv(c1, &r1, NULL), 0);
  assert_int_equal(gort_chan_recv(c2, &r2, NULL), 0);
  assert_int_equal(gort_chan_recv(out, &v3, NULL), 0);
  assert_int_equal(atomic_load(&ga.runs), 1);
  assert_int_equal(r1.err, ESOME);
  assert_int_equal(r2.err, ESOME);
  assert_true(r1.shared && r2.shared);
  assert_non_null(v3);
  assert_ptr_equal(r1.val, r2.val);
  assert_ptr_equal(r1.val, v3);
  assert_int_equal(atomic_load(&((rc_val *)v3)->refs), 3);
  rc_put(r1.val);
  rc_put(r2.val);
  rc_put(v3);
  assert_int_equal(atomic_load(&rc_live), 0);
  gort_chan_release(c1);
  gort_chan_release(c2);
  gort_chan_release(out);
  gort_chan_release(ga.gate);
  gort_singleflight_free(g);
}

/* ---- finished flights are not a cache ---- */

static int count_calls(void *p, void **result) {
  *result = (void *)(intptr_t)(atomic_fetch_add((atomic_int *)p, 1) + 1);
  return 0;
}

static void singleflight_sequential_calls_run_again(void **state) {
  (void)state;
  gort_singleflight *g = new_group(NULL);
  atomic_int calls = 0;
  for (int i = 1; i <= 3; i++) {
    void *v = NULL;
    bool shared = true;
    assert_int_equal(gort_singleflight_do(g, "", count_calls, &calls, &v, &shared), 0);
    assert_int_equal((intptr_t)v, i);
    assert_false(shared);
  }
  /* Other keys are other flights. */
  void *v = NULL;
  assert_int_equal(gort_singleflight_do(g, "other", count_calls, &calls, &v, NULL), 0);
  assert_int_equal((intptr_t)v, 4);
  assert_int_equal(gort_singleflight_forget(g, "never-used"), 0);
  gort_singleflight_free(g);
}

/* ---- many keys in flight at once (the table grows under them) ---- */

static void singleflight_many_keys_in_flight(void **state) {
  (void)state;
  enum { N = 80 };
  gort_singleflight *g = new_group(rc_dup);
  gated_arg ga = {NULL, 0};
  assert_int_equal(GORT_CHAN_MAKE(&ga.gate, char, 0), 0);
  gort_chan *chans[N], *dups[N];
  char key[16];
  for (int i = 0; i < N; i++) {
    snprintf(key, sizeof key, "key-%d", i);
    assert_int_equal(gort_singleflight_do_chan(g, key, gated_rc, &ga, &chans[i]), 0);
  }
  for (int i = 0; i < N; i++) {
    snprintf(key, sizeof key, "key-%d", i);
    assert_int_equal(gort_singleflight_do_chan(g, key, gated_rc, &ga, &dups[i]), 0);
  }
  assert_int_equal(gort_chan_close(ga.gate), 0);
  for (int i = 0; i < N; i++) {
    gort_singleflight_result a, b;
    assert_int_equal(gort_chan_recv(chans[i], &a, NULL), 0);
    assert_int_equal(gort_chan_recv(dups[i], &b, NULL), 0);
    assert_ptr_equal(a.val, b.val);
    assert_true(a.shared && b.shared);
    rc_put(a.val);
    rc_put(b.val);
    gort_chan_release(chans[i]);
    gort_chan_release(dups[i]);
  }
  assert_int_equal(atomic_load(&ga.runs), N);
  assert_int_equal(atomic_load(&rc_live), 0);
  gort_chan_release(ga.gate);
  gort_singleflight_free(g);
}

/* ---- bad input, allocation and spawn failure ---- */

static void singleflight_invalid_arguments(void **state) {
  (void)state;
  gort_singleflight *g = new_group(NULL);
  void *v = (void *)"untouched";
  gort_chan *ch = NULL;
  assert_int_equal(gort_singleflight_new(NULL, NULL), GORT_EINVAL);
  assert_int_equal(gort_singleflight_do(NULL, "k", return_bar, NULL, &v, NULL), GORT_EINVAL);
  assert_int_equal(gort_singleflight_do(g, NULL, return_bar, NULL, &v, NULL), GORT_EINVAL);
  assert_int_equal(gort_singleflight_do(g, "k", NULL, NULL, &v, NULL), GORT_EINVAL);
  assert_int_equal(gort_singleflight_do(g, "k", return_bar, NULL, NULL, NULL), GORT_EINVAL);
  assert_string_equal((const char *)v, "untouched");
  assert_int_equal(gort_singleflight_do_chan(NULL, "k", return_bar, NULL, &ch), GORT_EINVAL);
  assert_int_equal(gort_singleflight_do_chan(g, NULL, return_bar, NULL, &ch), GORT_EINVAL);
  assert_int_equal(gort_singleflight_do_chan(g, "k", NULL, NULL, &ch), GORT_EINVAL);
  assert_int_equal(gort_singleflight_do_chan(g, "k", return_bar, NULL, NULL), GORT_EINVAL);
  assert_null(ch);
  assert_int_equal(gort_singleflight_forget(NULL, "k"), GORT_EINVAL);
  assert_int_equal(gort_singleflight_forget(g, NULL), GORT_EINVAL);
  gort_singleflight_free(NULL);
  gort_singleflight_free(g);
}

static void singleflight_enomem(void **state) {
  (void)state;
  for (int k = 0; k < 2; k++) { /* the group, then its table */
    gort_singleflight *g = NULL;
    gort_test_fail_allocs_after(k);
    int rc = gort_singleflight_new(&g, NULL);
    gort_test_allocator_restore();
    assert_int_equal(rc, GORT_ENOMEM);
    assert_null(g);
  }
  gort_singleflight *g = new_group(NULL);
  for (int k = 0; k < 2; k++) { /* the flight, then its key */
    void *v = (void *)"untouched";
    gort_test_fail_allocs_after(k);
    int rc = gort_singleflight_do(g, "key", return_bar, NULL, &v, NULL);
    gort_test_allocator_restore();
    assert_int_equal(rc, GORT_ENOMEM);
    assert_string_equal((const char *)v, "untouched");
  }
  /* do_chan: the channel, the list node, the flight, its key. */
  for (int k = 0; k < 4; k++) {
    gort_chan *ch = NULL;
    gort_test_fail_allocs_after(k);
    int rc = gort_singleflight_do_chan(g, "key", return_bar, NULL, &ch);
    gort_test_allocator_restore();
    assert_int_equal(rc, GORT_ENOMEM);
    assert_null(ch);
  }
  /* Nothing was left in flight: the key runs normally. */
  void *v = NULL;
  bool shared = true;
  assert_int_equal(gort_singleflight_do(g, "key", return_bar, NULL, &v, &shared), 0);
  assert_string_equal((const char *)v, "bar");
  assert_false(shared);
  gort_singleflight_free(g);
}

static void singleflight_do_chan_spawn_failure(void **state) {
  (void)state;
  gort_singleflight *g = new_group(NULL);
  gort_chan *ch = NULL;
  gort_debug_fail_thread_create(1);
  int rc = gort_singleflight_do_chan(g, "key", return_bar, NULL, &ch);
  gort_debug_fail_thread_create(0);
  assert_int_equal(rc, GORT_ETHREAD);
  assert_null(ch);
  void *v = NULL;
  bool shared = true;
  assert_int_equal(gort_singleflight_do(g, "key", return_bar, NULL, &v, &shared), 0);
  assert_false(shared);
  gort_singleflight_free(g);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(singleflight_do),
    cmocka_unit_test(singleflight_do_err),
    cmocka_unit_test(singleflight_dup_suppress),
    cmocka_unit_test(singleflight_hundred_callers_run_once),
    cmocka_unit_test(singleflight_forget),
    cmocka_unit_test(singleflight_do_chan),
    cmocka_unit_test(singleflight_do_and_do_chan_share),
    cmocka_unit_test(singleflight_sequential_calls_run_again),
    cmocka_unit_test(singleflight_many_keys_in_flight),
    cmocka_unit_test(singleflight_invalid_arguments),
    cmocka_unit_test(singleflight_enomem),
    cmocka_unit_test(singleflight_do_chan_spawn_failure),
};

GORT_TEST_MAIN(tests)
