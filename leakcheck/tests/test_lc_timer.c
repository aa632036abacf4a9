/* test_lc_timer.c - leakcheck's timer layer (lc_timer.c): a timer, ticker or
 * context deadline left pending is a finding of kind "timer" named after its
 * kind and the function that created it; a sleeping task's own timer is not
 * (the task layer reports the task); a baseline and ignore rules apply; the
 * JSON and the text carry it. Every timer a test leaks is stopped before it
 * ends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gort/gort.h"
#include "gort/introspect.h"
#include "gort/leakcheck.h"
#include "support/gort_test.h"

/* These tests leak on purpose; keep their findings out of a leakcheck
 * command's records when one runs this binary. */
__attribute__((constructor)) static void no_records(void) { unsetenv("GORT_LEAKCHECK_OUT"); }

static void timer_opts(gort_leakcheck_opts *o) {
  gort_leakcheck_opts_init(o);
  o->max_retries = 3;
  o->max_sleep_ns = GORT_MILLISECOND;
  o->layers = GORT_LEAKCHECK_TIMERS;
}

/* noinline: each is the "created by" function of its timer. */
__attribute__((noinline)) static gort_ticker *start_ticker(void) {
  gort_ticker *t = NULL;
  assert_int_equal(gort_ticker_new(&t, 3600 * GORT_SECOND), 0);
  return t;
}

__attribute__((noinline)) static gort_context *start_deadline(void) {
  gort_context *c = NULL;
  assert_int_equal(gort_context_with_timeout(gort_context_background(), 3600 * GORT_SECOND, &c), 0);
  return c;
}

static void finds_pending_ticker_and_deadline(void **state) {
  (void)state;
  gort_leakcheck_opts o;
  timer_opts(&o);
  assert_int_equal(gort_leakcheck_find(&o, NULL), 0);
  gort_ticker *t = start_ticker();
  gort_context *c = start_deadline();
  gort_leakcheck_report *r = NULL;
  assert_int_equal(gort_leakcheck_find(&o, &r), GORT_ELEAK);
  assert_int_equal(gort_leakcheck_report_count(r), 2);
  assert_int_equal(gort_leakcheck_report_count_kind(r, GORT_LEAK_TIMER), 2);
  bool ticker = false, deadline = false;
  for (size_t i = 0; i < 2; i++) {
    const gort_leakcheck_finding *f = gort_leakcheck_report_finding(r, i);
    assert_true(f->task_id > 0); /* the timer's id */
    if (strcmp(f->state, "time.NewTicker") == 0) {
      ticker = true;
      assert_string_equal(f->site_function, "start_ticker");
      assert_non_null(strstr(f->detail, "ticks every 3600000 ms"));
    } else {
      deadline = strcmp(f->state, "context deadline") == 0;
      assert_string_equal(f->site_function, "start_deadline");
    }
  }
  assert_true(ticker && deadline);
  /* The report's text and JSON say the same. */
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  gort_leakcheck_report_print(r, m);
  assert_int_equal(gort_leakcheck_report_write_json(r, m), 0);
  fclose(m);
  assert_non_null(strstr(text, "leakcheck: found pending timers:"));
  assert_non_null(strstr(text, "[time.NewTicker, created "));
  assert_non_null(strstr(text, "created by start_deadline"));
  assert_non_null(strstr(text, "\"kind\":\"timer\""));
  assert_non_null(strstr(text, "\"timer\":2"));
  free(text);
  gort_leakcheck_report_free(r);
  gort_ticker_free(t);
  gort_context_free(c);
  assert_int_equal(gort_leakcheck_find(&o, NULL), 0);
}

static void sleeper(void *arg) {
  gort_chan *started = arg;
  gort_chan_close(started);
  gort_sleep(100 * GORT_MILLISECOND);
}

/* A sleep's timer belongs to the sleeping task: not a timer finding. */
static void sleep_is_not_a_timer_leak(void **state) {
  (void)state;
  gort_chan *started = gort_test_make_chan(1, 0);
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  gort_waitgroup_go(&wg, sleeper, started);
  gort_chan_recv(started, NULL, NULL);
  gort_leakcheck_opts o;
  timer_opts(&o);
  o.max_retries = 0;
  assert_int_equal(gort_leakcheck_find(&o, NULL), 0);
  gort_waitgroup_wait(&wg);
  gort_chan_release(started);
}

static void baseline_and_ignore_rules_apply(void **state) {
  (void)state;
  gort_ticker *t = start_ticker();
  gort_leakcheck_opts o;
  timer_opts(&o);
  assert_int_equal(gort_leakcheck_ignore_current(&o), 0);
  assert_int_equal(gort_leakcheck_find(&o, NULL), 0); /* in the baseline */
  gort_context *c = start_deadline();
  assert_int_equal(gort_leakcheck_find(&o, NULL), GORT_ELEAK);
  assert_int_equal(gort_leakcheck_ignore_creator(&o, "start_deadline"), 0);
  assert_int_equal(gort_leakcheck_find(&o, NULL), 0);
  gort_leakcheck_opts_destroy(&o);
  gort_context_free(c);
  gort_ticker_free(t);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(finds_pending_ticker_and_deadline),
    cmocka_unit_test(sleep_is_not_a_timer_leak),
    cmocka_unit_test(baseline_and_ignore_rules_apply),
};

GORT_TEST_MAIN(tests)
