/* test_deadlock.c - the deadlock detector: "all tasks are asleep - deadlock!"
 * when every task is parked, no timer is pending and no thread unknown to
 * gort could still wake one; no false positives otherwise.
 *
 * Every scenario runs in a fresh process (a real deadlock never ends), under a
 * timeout, so a detector that fails to fire is a test failure, not a hang.
 * Fresh (fork + exec), not merely forked: under ThreadSanitizer a forked child
 * gets an extra sanitizer thread that gort cannot tell from a user's raw
 * thread, and such a thread rightly vetoes the verdict.
 */
#include "support/gort_test.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gort/gort.h"
#include "gort/introspect.h"

#define CHILD_MS 20000
#define DEADLOCK_MSG "all tasks are asleep - deadlock!"

static gort_test_child_result *run_child(const char *scenario, int sig_on_ready) {
  gort_test_child_result *r = malloc(sizeof *r);
  assert_non_null(r);
  assert_true(gort_test_exec_run(scenario, CHILD_MS, sig_on_ready, r));
  return r;
}

static void expect_deadlock_abort(gort_test_child_result *r) {
  bool ok = gort_test_child_signaled(r, SIGABRT) && strstr(r->err, DEADLOCK_MSG) != NULL;
  if (!ok) fprintf(stderr, "expected the deadlock report; stderr:\n%s\n", r->err);
  free(r);
  assert_true(ok);
}

static void expect_clean_exit(gort_test_child_result *r) {
  bool ok = gort_test_child_exited(r, 0) && strstr(r->err, DEADLOCK_MSG) == NULL;
  if (!ok) fprintf(stderr, "expected no deadlock report; stderr:\n%s\n", r->err);
  free(r);
  assert_true(ok);
}

static gort_chan *child_chan(long cap) {
  gort_chan *c = NULL;
  if (gort_chan_make(&c, sizeof(int), cap) != 0) _exit(20);
  return c;
}

/* ---- real deadlocks ---- */

GORT_TEST_SCENARIO(main_recv_forever) {
  gort_chan *c = child_chan(0);
  gort_chan_recv(c, NULL, NULL);
  _exit(3); /* must not be reached */
}

static void deadlock_main_recv_aborts(void **state) {
  (void)state;
  expect_deadlock_abort(run_child("main_recv_forever", 0));
}

GORT_TEST_SCENARIO(main_send_forever) {
  gort_chan *c = child_chan(1);
  gort_chan_send(c, &(int){1}); /* fills the buffer */
  gort_chan_send(c, &(int){2}); /* blocks forever */
  _exit(3);
}

static void deadlock_main_send_aborts(void **state) {
  (void)state;
  expect_deadlock_abort(run_child("main_send_forever", 0));
}

static void recv_on(void *arg) { gort_chan_recv((gort_chan *)arg, NULL, NULL); }

GORT_TEST_SCENARIO(all_blocked) {
  gort_chan *a = child_chan(0), *b = child_chan(0);
  for (int i = 0; i < 3; i++)
    if (gort_go(recv_on, a) != 0) _exit(21);
  gort_chan_recv(b, NULL, NULL);
  _exit(3);
}

/* Several tasks, each blocked on a channel nobody will use: the report comes
 * with a dump that shows them. */
static void deadlock_all_tasks_blocked(void **state) {
  (void)state;
  gort_test_child_result *r = run_child("all_blocked", 0);
  bool dump = strstr(r->err, "[chan receive") != NULL;
  if (!dump) fprintf(stderr, "no dump in:\n%s\n", r->err);
  expect_deadlock_abort(r);
  assert_true(dump);
}

GORT_TEST_SCENARIO(main_select_no_cases) {
  gort_select(NULL, 0); /* select {} */
  _exit(3);
}

static void deadlock_main_select_no_cases(void **state) {
  (void)state;
  expect_deadlock_abort(run_child("main_select_no_cases", 0));
}

GORT_TEST_SCENARIO(main_select_blocked) {
  gort_chan *a = child_chan(0), *b = child_chan(0);
  int v;
  gort_select_case cs[] = {gort_case_recv(a, &v), gort_case_send(b, &v), gort_case_recv(NULL, &v)};
  gort_select(cs, 3);
  _exit(3);
}

static void deadlock_main_select_blocked(void **state) {
  (void)state;
  expect_deadlock_abort(run_child("main_select_blocked", 0));
}

/* The last running task exits while everyone else is parked: the detector must
 * notice on the exit, not only on a park. */
static void sleep_then_exit(void *arg) {
  (void)arg;
  gort_sleep(30 * GORT_MILLISECOND);
}

GORT_TEST_SCENARIO(last_runner_exits) {
  gort_chan *c = child_chan(0);
  if (gort_go(sleep_then_exit, NULL) != 0) _exit(21);
  gort_chan_recv(c, NULL, NULL);
  _exit(3);
}

static void deadlock_detected_when_last_runner_exits(void **state) {
  (void)state;
  expect_deadlock_abort(run_child("last_runner_exits", 0));
}

/* After a timer has fired, nothing is pending any more. */
GORT_TEST_SCENARIO(deadlock_after_timer) {
  gort_sleep(10 * GORT_MILLISECOND);
  gort_chan *t = NULL;
  if (gort_after(5 * GORT_MILLISECOND, &t) != 0) _exit(21);
  gort_chan_recv(t, NULL, NULL); /* fires */
  gort_chan_release(t);
  gort_chan *c = child_chan(0);
  gort_chan_recv(c, NULL, NULL);
  _exit(3);
}

static void deadlock_detected_after_timers_fired(void **state) {
  (void)state;
  expect_deadlock_abort(run_child("deadlock_after_timer", 0));
}

/* ---- the handler ---- */

static int handler_token;

static void exit_handler(void *arg) {
  /* The handler replaces the abort; show it ran with the right argument. */
  _exit(arg == &handler_token ? 7 : 8);
}

GORT_TEST_SCENARIO(handler_child) {
  gort_set_deadlock_handler(exit_handler, &handler_token);
  gort_chan *c = child_chan(0);
  gort_chan_recv(c, NULL, NULL);
  _exit(3);
}

static void deadlock_handler_called(void **state) {
  (void)state;
  gort_test_child_result *r = run_child("handler_child", 0);
  bool ok = gort_test_child_exited(r, 7);
  free(r);
  assert_true(ok);
}

static atomic_int handler_calls;

/* A handler that returns: the task stays parked and nothing aborts. It tells
 * the parent, which then ends the child with SIGTERM. */
static void returning_handler(void *arg) {
  (void)arg;
  atomic_fetch_add(&handler_calls, 1);
  gort_test_child_ready();
}

GORT_TEST_SCENARIO(returning_handler_child) {
  gort_set_deadlock_handler(returning_handler, NULL);
  gort_chan *c = child_chan(0);
  gort_chan_recv(c, NULL, NULL);
  _exit(3);
}

static void deadlock_handler_replaces_abort(void **state) {
  (void)state;
  gort_test_child_result *r = run_child("returning_handler_child", SIGTERM);
  bool ok = gort_test_child_signaled(r, SIGTERM); /* not SIGABRT, not exit 3 */
  free(r);
  assert_true(ok);
}

/* ---- no false positives ---- */

typedef struct {
  gort_chan *c;
  int delay_ms;
} raw_arg;

static void *raw_sender(void *arg) {
  raw_arg *ra = arg;
  struct timespec ts = {0, (long)ra->delay_ms * 1000000L};
  nanosleep(&ts, NULL); /* the scenario: a thread unknown to gort acts later */
  gort_chan_send(ra->c, &(int){42});
  return NULL;
}

GORT_TEST_SCENARIO(raw_thread_sends_later) {
  static raw_arg ra;
  ra.c = child_chan(0);
  ra.delay_ms = 100;
  pthread_t t;
  if (pthread_create(&t, NULL, raw_sender, &ra) != 0) _exit(21);
  int v = 0;
  if (gort_chan_recv(ra.c, &v, NULL) != 0) _exit(22);
  if (v != 42) _exit(23);
  pthread_join(t, NULL);
  _exit(0);
}

static void deadlock_no_false_positive_raw_thread(void **state) {
  (void)state;
  expect_clean_exit(run_child("raw_thread_sends_later", 0));
}

/* A thread unknown to gort that never calls gort: while it lives it vetoes
 * the verdict (it might wake a task); once it has exited, nothing can. */
static void *raw_sleeper(void *arg) {
  (void)arg;
  struct timespec ts = {0, 300 * 1000000L};
  nanosleep(&ts, NULL);
  return NULL;
}

GORT_TEST_SCENARIO(foreign_thread_comes_and_goes) {
  pthread_t t;
  if (pthread_create(&t, NULL, raw_sleeper, NULL) != 0) _exit(21);
  pthread_detach(t);
  gort_chan *c = child_chan(0);
  gort_chan_recv(c, NULL, NULL); /* parks while the thread lives */
  _exit(3); /* must not be reached */
}

/* The check is vetoed when main parks; it must run again once the foreign
 * thread is gone (before: nobody re-checked, and the program hung). */
static void deadlock_detected_after_foreign_thread_exits(void **state) {
  (void)state;
  expect_deadlock_abort(run_child("foreign_thread_comes_and_goes", 0));
}

typedef struct {
  gort_chan *c;
} sleeper_arg;

static void sleep_then_send(void *arg) {
  sleeper_arg *sa = arg;
  gort_sleep(100 * GORT_MILLISECOND);
  gort_chan_send(sa->c, &(int){5});
}

GORT_TEST_SCENARIO(sleeper_wakes_main) {
  static sleeper_arg sa;
  sa.c = child_chan(0);
  if (gort_go(sleep_then_send, &sa) != 0) _exit(21);
  int v = 0;
  if (gort_chan_recv(sa.c, &v, NULL) != 0 || v != 5) _exit(22);
  _exit(0);
}

static void deadlock_no_false_positive_sleep(void **state) {
  (void)state;
  expect_clean_exit(run_child("sleeper_wakes_main", 0));
}

GORT_TEST_SCENARIO(main_waits_on_after) {
  gort_chan *c = child_chan(0), *t = NULL;
  if (gort_after(100 * GORT_MILLISECOND, &t) != 0) _exit(21);
  int64_t fired = 0;
  gort_select_case cs[] = {gort_case_recv(c, NULL), gort_case_recv(t, &fired)};
  if (gort_select(cs, 2) != 1) _exit(22);
  if (fired <= 0) _exit(23);
  gort_chan_release(t);
  _exit(0);
}

static void deadlock_no_false_positive_pending_timer(void **state) {
  (void)state;
  expect_clean_exit(run_child("main_waits_on_after", 0));
}

static gort_chan *after_func_chan;

static void after_func_send(void *arg) {
  (void)arg;
  gort_chan_send(after_func_chan, &(int){9});
}

GORT_TEST_SCENARIO(main_waits_on_after_func) {
  after_func_chan = child_chan(0);
  gort_timer *t = NULL;
  if (gort_timer_after_func(&t, 100 * GORT_MILLISECOND, after_func_send, NULL) != 0) _exit(21);
  int v = 0;
  if (gort_chan_recv(after_func_chan, &v, NULL) != 0 || v != 9) _exit(22);
  gort_timer_free(t);
  _exit(0);
}

static void deadlock_no_false_positive_after_func(void **state) {
  (void)state;
  expect_clean_exit(run_child("main_waits_on_after_func", 0));
}

/* A task that computes (runs, never parks) for a while before it sends. */
static void busy_then_send(void *arg) {
  int64_t until = gort_now() + 100 * GORT_MILLISECOND;
  volatile unsigned x = 0;
  while (gort_now() < until) x++;
  gort_chan_send((gort_chan *)arg, &(int){1});
}

GORT_TEST_SCENARIO(main_waits_on_busy_task) {
  gort_chan *c = child_chan(0);
  if (gort_go(busy_then_send, c) != 0) _exit(21);
  if (gort_chan_recv(c, NULL, NULL) != 0) _exit(22);
  _exit(0);
}

static void deadlock_no_false_positive_running_task(void **state) {
  (void)state;
  expect_clean_exit(run_child("main_waits_on_busy_task", 0));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(deadlock_main_recv_aborts),
    cmocka_unit_test(deadlock_main_send_aborts),
    cmocka_unit_test(deadlock_all_tasks_blocked),
    cmocka_unit_test(deadlock_main_select_no_cases),
    cmocka_unit_test(deadlock_main_select_blocked),
    cmocka_unit_test(deadlock_detected_when_last_runner_exits),
    cmocka_unit_test(deadlock_detected_after_timers_fired),
    cmocka_unit_test(deadlock_handler_called),
    cmocka_unit_test(deadlock_handler_replaces_abort),
    cmocka_unit_test(deadlock_no_false_positive_raw_thread),
    cmocka_unit_test(deadlock_detected_after_foreign_thread_exits),
    cmocka_unit_test(deadlock_no_false_positive_sleep),
    cmocka_unit_test(deadlock_no_false_positive_pending_timer),
    cmocka_unit_test(deadlock_no_false_positive_after_func),
    cmocka_unit_test(deadlock_no_false_positive_running_task),
};

GORT_TEST_MAIN(tests)
