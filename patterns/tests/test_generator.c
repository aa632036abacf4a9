/* test_generator.c - seed 000's fibonacci generator: values on demand, and
 * cancellation stops the task without a leak. */
#include "ptest.h"

#include "gortp/generator.h"

static void generator_fibonacci_until_over_1000(void **state) {
  (void)state;
  int base = gort_num_tasks();
  gort_context *ctx;
  assert_int_equal(gort_context_with_cancel(gort_context_background(), &ctx), 0);
  gort_chan *ch;
  assert_int_equal(gortp_generator_fibonacci(ctx, &ch), 0);
  const int64_t want[] = {0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, 1597};
  size_t n = 0;
  for (int64_t v; GORT_CHAN_RANGE(ch, &v);) {
    assert_true(n < sizeof want / sizeof *want);
    assert_int_equal(v, want[n++]);
    if (v > 1000) {
      gort_context_cancel(ctx); /* stop the generator */
      break;
    }
  }
  assert_int_equal(n, 18);
  /* The generator exits and closes its channel (at most one more value
   * might win the race against the cancellation). */
  assert_true(ptest_tasks_settle(base));
  int64_t v;
  int extra = 0;
  while (gort_chan_recv(ch, &v, NULL) == 0) extra++;
  assert_true(extra <= 1);
  gort_chan_release(ch);
  gort_context_free(ctx);
}

/* A consumer that breaks without cancelling leaves the task parked in its
 * select for good; cancelling (here, late) is what frees it. */
static void generator_break_without_cancel_parks_forever(void **state) {
  (void)state;
  int base = gort_num_tasks();
  gort_context *ctx;
  assert_int_equal(gort_context_with_cancel(gort_context_background(), &ctx), 0);
  gort_chan *ch;
  assert_int_equal(gortp_generator_fibonacci(ctx, &ch), 0);
  int64_t v;
  assert_int_equal(gort_chan_recv(ch, &v, NULL), 0);
  assert_true(ptest_parked(1));
  assert_true(ptest_waiting(GORT_WAIT_SELECT, 1));
  assert_int_equal(gort_num_tasks(), base + 1);
  gort_context_free(ctx); /* defer cancel() */
  assert_true(ptest_tasks_settle(base));
  gort_chan_release(ch);
}

/* Values are computed on demand: never more than one ahead of the consumer. */
typedef struct {
  int next;
  _Atomic int *produced;
} count_state;

static int count_next(void *state, void *out) {
  count_state *s = state;
  atomic_fetch_add(s->produced, 1);
  *(int *)out = s->next++;
  return s->next > 100; /* 0..99, then done */
}

static void generator_lazy_and_finite(void **state) {
  (void)state;
  int base = gort_num_tasks();
  _Atomic int produced = 0;
  gort_context *ctx;
  assert_int_equal(gort_context_with_cancel(gort_context_background(), &ctx), 0);
  count_state cs = {0, &produced};
  gort_chan *ch;
  assert_int_equal(gortp_generator_new(ctx, sizeof(int), count_next, &cs, sizeof cs, &ch), 0);
  for (int i = 0; i < 10; i++) {
    int v;
    assert_int_equal(gort_chan_recv(ch, &v, NULL), 0);
    assert_int_equal(v, i);
  }
  /* Ten taken, one computed and offered; the task then waits in select.
   * (The parked counter is exact; a snapshot's wait reason may be stale.) */
  assert_true(ptest_parked(1));
  assert_int_equal(atomic_load(&produced), 11);
  int count = 10;
  for (int v; GORT_CHAN_RANGE(ch, &v);) count++;
  assert_int_equal(count, 100);
  gort_chan_release(ch);
  gort_context_free(ctx);
  assert_true(ptest_tasks_settle(base));
}

static void generator_fibonacci_ends_before_overflow(void **state) {
  (void)state;
  gort_context *ctx;
  assert_int_equal(gort_context_with_cancel(gort_context_background(), &ctx), 0);
  gort_chan *ch;
  assert_int_equal(gortp_generator_fibonacci(ctx, &ch), 0);
  int n = 0;
  int64_t prev = -1, last = 0;
  for (int64_t v; GORT_CHAN_RANGE(ch, &v); n++) {
    assert_true(v >= prev);
    prev = last = v;
  }
  assert_int_equal(n, 93);
  assert_int_equal(last, INT64_C(7540113804746346429)); /* F(92) */
  gort_chan_release(ch);
  gort_context_free(ctx);
  /* A NULL ctx is Background (patterns/README.md): it runs to the end. */
  assert_int_equal(gortp_generator_fibonacci(NULL, &ch), 0);
  n = 0;
  for (int64_t v; GORT_CHAN_RANGE(ch, &v); n++) {
  }
  assert_int_equal(n, 93);
  gort_chan_release(ch);
  assert_int_equal(gortp_generator_fibonacci(NULL, NULL), GORT_EINVAL);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(generator_fibonacci_until_over_1000),
    cmocka_unit_test(generator_break_without_cancel_parks_forever),
    cmocka_unit_test(generator_lazy_and_finite),
    cmocka_unit_test(generator_fibonacci_ends_before_overflow),
};

GORT_TEST_MAIN(tests)
