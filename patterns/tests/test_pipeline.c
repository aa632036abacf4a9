/* test_pipeline.c - seed 000's generate/square/filter, seed 003's string
 * pipeline with cancellation, seed 001's context-aware transform stage. */
#include "ptest.h"

#include <stdlib.h>
#include <string.h>

#include "gortp/pipeline.h"

static void pipeline_square_filter_yields_16_25(void **state) {
  (void)state;
  int base = gort_num_tasks();
  const int nums[] = {1, 2, 3, 4, 5};
  gort_chan *g, *sq, *f;
  assert_int_equal(gortp_pipeline_gen_ints(NULL, nums, 5, &g), 0);
  assert_int_equal(gortp_pipeline_square(NULL, g, &sq), 0);
  assert_int_equal(gortp_pipeline_filter_above(NULL, sq, 10, &f), 0);
  gort_chan_release(g);
  gort_chan_release(sq);
  int got[8], n = 0;
  for (int v; GORT_CHAN_RANGE(f, &v);) {
    assert_true(n < 8);
    got[n++] = v;
  }
  assert_int_equal(n, 2);
  assert_int_equal(got[0], 16);
  assert_int_equal(got[1], 25);
  assert_true(gort_chan_is_closed(f));
  gort_chan_release(f);
  assert_true(ptest_tasks_settle(base));
}

static int times_ten(int n, void *arg) { return n * 10 + (int)(intptr_t)arg; }

static void pipeline_map_transforms_in_order(void **state) {
  (void)state;
  int base = gort_num_tasks();
  gort_context *ctx;
  assert_int_equal(gort_context_with_cancel(gort_context_background(), &ctx), 0);
  int nums[100];
  for (int i = 0; i < 100; i++) nums[i] = i;
  gort_chan *g, *m;
  assert_int_equal(gortp_pipeline_gen_ints(ctx, nums, 100, &g), 0);
  assert_int_equal(gortp_pipeline_map_int(ctx, g, times_ten, (void *)(intptr_t)3, &m), 0);
  gort_chan_release(g);
  int i = 0;
  for (int v; GORT_CHAN_RANGE(m, &v); i++) assert_int_equal(v, i * 10 + 3);
  assert_int_equal(i, 100);
  gort_chan_release(m);
  gort_context_free(ctx);
  assert_true(ptest_tasks_settle(base));
}

/* With a context, a consumer that stops early cancels and every stage exits. */
static void pipeline_int_cancel_stops_every_stage(void **state) {
  (void)state;
  int base = gort_num_tasks();
  gort_context *ctx;
  assert_int_equal(gort_context_with_cancel(gort_context_background(), &ctx), 0);
  int nums[1000];
  for (int i = 0; i < 1000; i++) nums[i] = i + 1;
  gort_chan *g, *sq, *f;
  assert_int_equal(gortp_pipeline_gen_ints(ctx, nums, 1000, &g), 0);
  assert_int_equal(gortp_pipeline_square(ctx, g, &sq), 0);
  assert_int_equal(gortp_pipeline_filter_above(ctx, sq, 10, &f), 0);
  gort_chan_release(g);
  gort_chan_release(sq);
  int v;
  assert_int_equal(gort_chan_recv(f, &v, NULL), 0);
  assert_int_equal(v, 16);
  assert_int_equal(gort_chan_recv(f, &v, NULL), 0);
  assert_int_equal(v, 25);
  gort_context_cancel(ctx);
  /* The last stage closes its output; at most a value or two that won the
   * race against cancellation come before the close. */
  int extra = 0;
  while (gort_chan_recv(f, &v, NULL) == 0) extra++;
  assert_true(extra <= 3);
  assert_true(ptest_tasks_settle(base));
  gort_chan_release(f);
  gort_context_free(ctx);
}

/* Seed 000's stages have no context: a consumer that stops reading leaves
 * the stage holding the next value blocked for good (with a longer input,
 * every stage). The test observes the leak, then plays
 * the consumer to the end so the tasks can exit. */
static void pipeline_without_ctx_leaks_when_consumer_stops(void **state) {
  (void)state;
  int base = gort_num_tasks();
  const int nums[] = {1, 2, 3, 4, 5};
  gort_chan *g, *sq, *f;
  assert_int_equal(gortp_pipeline_gen_ints(NULL, nums, 5, &g), 0);
  assert_int_equal(gortp_pipeline_square(NULL, g, &sq), 0);
  assert_int_equal(gortp_pipeline_filter_above(NULL, sq, 10, &f), 0);
  gort_chan_release(g);
  gort_chan_release(sq);
  int v;
  assert_int_equal(gort_chan_recv(f, &v, NULL), 0); /* 16, then walk away */
  assert_true(ptest_tasks_settle(base + 1)); /* generate and square are done */
  /* square has handed 25 to filter and exited; filter parks sending it. */
  assert_true(ptest_parked(1));
  assert_int_equal(gort_num_tasks(), base + 1);
  assert_true(ptest_waiting(GORT_WAIT_CHAN_SEND, 1));
  /* Clean up: finish consuming. */
  assert_int_equal(gort_chan_recv(f, &v, NULL), 0);
  assert_int_equal(v, 25);
  assert_int_equal(gort_chan_recv(f, &v, NULL), GORT_ECLOSED);
  gort_chan_release(f);
  assert_true(ptest_tasks_settle(base));
}

static void pipeline_strings_seed_output(void **state) {
  (void)state;
  int base = gort_num_tasks();
  gort_context *ctx;
  assert_int_equal(gort_context_with_cancel(gort_context_background(), &ctx), 0);
  const char *words[] = {"goroutines", "channels", "pipelines", "go"};
  gort_chan *w, *u, *p;
  assert_int_equal(gortp_pipeline_str_generate(ctx, words, 4, &w), 0);
  assert_int_equal(gortp_pipeline_str_to_upper(ctx, w, &u), 0);
  assert_int_equal(gortp_pipeline_str_add_prefix(ctx, ">> ", u, &p), 0);
  gort_chan_release(w);
  gort_chan_release(u);
  const char *want[] = {">> GOROUTINES", ">> CHANNELS", ">> PIPELINES", ">> GO"};
  int i = 0;
  for (char *s; GORT_CHAN_RANGE(p, &s); i++) {
    assert_true(i < 4);
    assert_string_equal(s, want[i]);
    free(s);
  }
  assert_int_equal(i, 4);
  gort_chan_release(p);
  gort_context_free(ctx);
  assert_true(ptest_tasks_settle(base));
}

/* Cancel a long string pipeline after two results: every stage stops, every
 * string is freed (ASan's leak check would see one that is not). */
static void pipeline_strings_cancel_frees_everything(void **state) {
  (void)state;
  int base = gort_num_tasks();
  gort_context *ctx;
  assert_int_equal(gort_context_with_cancel(gort_context_background(), &ctx), 0);
  enum { N = 500 };
  const char *words[N];
  for (int i = 0; i < N; i++) words[i] = (i % 2) ? "odd" : "even";
  gort_chan *w, *u, *p;
  assert_int_equal(gortp_pipeline_str_generate(ctx, words, N, &w), 0);
  assert_int_equal(gortp_pipeline_str_to_upper(ctx, w, &u), 0);
  assert_int_equal(gortp_pipeline_str_add_prefix(ctx, "# ", u, &p), 0);
  gort_chan_release(w);
  gort_chan_release(u);
  char *s;
  assert_int_equal(gort_chan_recv(p, &s, NULL), 0);
  assert_string_equal(s, "# EVEN");
  free(s);
  assert_int_equal(gort_chan_recv(p, &s, NULL), 0);
  assert_string_equal(s, "# ODD");
  free(s);
  gort_context_cancel(ctx);
  int extra = 0;
  while (gort_chan_recv(p, &s, NULL) == 0) {
    free(s);
    extra++;
  }
  assert_true(extra < N - 2); /* it stopped early */
  gort_chan_release(p);
  gort_context_free(ctx);
  assert_true(ptest_tasks_settle(base));
}

static void pipeline_rejects_bad_arguments(void **state) {
  (void)state;
  gort_chan *c = NULL;
  assert_int_equal(gortp_pipeline_square(NULL, NULL, &c), GORT_EINVAL);
  assert_int_equal(gortp_pipeline_gen_ints(NULL, NULL, 3, &c), GORT_EINVAL);
  assert_int_equal(gortp_pipeline_map_int(NULL, NULL, times_ten, NULL, &c), GORT_EINVAL);
  assert_int_equal(gortp_pipeline_str_add_prefix(NULL, NULL, NULL, &c), GORT_EINVAL);
  assert_null(c);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(pipeline_square_filter_yields_16_25),
    cmocka_unit_test(pipeline_map_transforms_in_order),
    cmocka_unit_test(pipeline_int_cancel_stops_every_stage),
    cmocka_unit_test(pipeline_without_ctx_leaks_when_consumer_stops),
    cmocka_unit_test(pipeline_strings_seed_output),
    cmocka_unit_test(pipeline_strings_cancel_frees_everything),
    cmocka_unit_test(pipeline_rejects_bad_arguments),
};

GORT_TEST_MAIN(tests)
