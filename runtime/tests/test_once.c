/* test_once.c - gort_once and gort_once_value: Go's sync.Once, sync.OnceValue.
 *
 * Tasks never call cmocka asserts; they count what they see in atomics and
 * the test asserts on those.
 */
#include "support/gort_test.h"

#include <stdatomic.h>

#include "gort/gort.h"

/* ---- 100 tasks race into Do: fn runs once, and nobody returns early ---- */

typedef struct {
  gort_once once;
  atomic_int runs;
  int finished;           /* plain: written by fn, read after Do returns */
  atomic_int early;       /* callers that returned before fn finished */
  gort_waitgroup start;   /* holds the tasks so that they call Do together */
  gort_waitgroup wg;
} once_state;

static void slow_init(void *p) {
  once_state *s = p;
  atomic_fetch_add(&s->runs, 1);
  gort_sleep(20 * GORT_MILLISECOND); /* widen the window for the other callers */
  s->finished = 1;
}

static void once_caller(void *p) {
  once_state *s = p;
  gort_waitgroup_wait(&s->start);
  gort_once_do(&s->once, slow_init, s);
  if (s->finished != 1) atomic_fetch_add(&s->early, 1);
  gort_waitgroup_done(&s->wg);
}

static void once_runs_fn_once(void **state) {
  (void)state;
  enum { N = 100 };
  static once_state s = {.once = GORT_ONCE_INIT, .start = GORT_WAITGROUP_INIT, .wg = GORT_WAITGROUP_INIT};
  gort_waitgroup_add(&s.start, 1);
  gort_waitgroup_add(&s.wg, N);
  for (int i = 0; i < N; i++) assert_int_equal(gort_go(once_caller, &s), 0);
  gort_waitgroup_done(&s.start);
  gort_waitgroup_wait(&s.wg);
  assert_int_equal(atomic_load(&s.runs), 1);
  assert_int_equal(atomic_load(&s.early), 0);
  assert_int_equal(s.finished, 1);
  /* Later calls never run anything, even with another fn (as Go). */
  gort_once_do(&s.once, slow_init, &s);
  assert_int_equal(atomic_load(&s.runs), 1);
}

static void count_run(void *p) { (*(int *)p)++; }

static void once_sequential_calls(void **state) {
  (void)state;
  gort_once once = GORT_ONCE_INIT;
  int a = 0, b = 0;
  gort_once_do(&once, count_run, &a);
  gort_once_do(&once, count_run, &a);
  gort_once_do(&once, count_run, &b);
  assert_int_equal(a, 1);
  assert_int_equal(b, 0);
}

/* ---- OnceValue ---- */

typedef struct {
  gort_once_value ov;
  atomic_int computed;
  int payload;
  atomic_int mismatches;
  gort_waitgroup wg;
} value_state;

static void *compute(void *p) {
  value_state *s = p;
  atomic_fetch_add(&s->computed, 1);
  s->payload = 42; /* published to every caller with the value */
  return &s->payload;
}

static void value_caller(void *p) {
  value_state *s = p;
  int *v = gort_once_value_get(&s->ov, compute, s);
  if (v != &s->payload || *v != 42) atomic_fetch_add(&s->mismatches, 1);
  gort_waitgroup_done(&s->wg);
}

static void once_value_same_for_all(void **state) {
  (void)state;
  enum { N = 50 };
  static value_state s = {.ov = GORT_ONCE_VALUE_INIT, .wg = GORT_WAITGROUP_INIT};
  gort_waitgroup_add(&s.wg, N);
  for (int i = 0; i < N; i++) assert_int_equal(gort_go(value_caller, &s), 0);
  gort_waitgroup_wait(&s.wg);
  assert_int_equal(atomic_load(&s.computed), 1);
  assert_int_equal(atomic_load(&s.mismatches), 0);
  assert_ptr_equal(gort_once_value_get(&s.ov, compute, &s), &s.payload);
  assert_int_equal(atomic_load(&s.computed), 1);
}

static void *return_null(void *p) {
  (*(int *)p)++;
  return NULL;
}

static void once_value_null_is_cached(void **state) {
  (void)state;
  gort_once_value ov = GORT_ONCE_VALUE_INIT;
  int calls = 0;
  assert_null(gort_once_value_get(&ov, return_null, &calls));
  assert_null(gort_once_value_get(&ov, return_null, &calls));
  assert_int_equal(calls, 1);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(once_runs_fn_once),
    cmocka_unit_test(once_sequential_calls),
    cmocka_unit_test(once_value_same_for_all),
    cmocka_unit_test(once_value_null_is_cached),
};

GORT_TEST_MAIN(tests)
