/* test_backend.c - choosing the backend, and what the M:N backend adds:
 * gort_set_backend's rules, gort_syscall_enter/exit handing the processor
 * over so blocked tasks never stall the rest, and a stack overflow reported
 * with the task's name. Every test runs under whichever backend
 * GORT_BACKEND chose; the M:N-only ones run in a fresh process that picks
 * "mn" itself. Tasks never call cmocka asserts.
 */
#include "support/gort_test.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gort/gort.h"
#include "gort/introspect.h"

static void backend_name_matches_environment(void **state) {
  (void)state;
  const char *env = getenv("GORT_BACKEND");
  const char *name = gort_backend_name();
  if (env && strcmp(env, "mn") == 0)
    assert_string_equal(name, "mn");
  else
    assert_string_equal(name, "thread");
}

static void noop(void *arg) { gort_test_signal_done(arg); }

static void set_backend_rules(void **state) {
  (void)state;
  assert_int_equal(gort_set_backend("bogus"), GORT_EINVAL);
  assert_int_equal(gort_set_backend(NULL), GORT_EINVAL);
  gort_chan *done = gort_test_make_chan(1, 1);
  assert_int_equal(gort_go(noop, done), 0);
  gort_test_join(done, 1);
  gort_chan_release(done);
  /* Tasks were spawned (by this test at the latest): the choice is fixed. */
  assert_int_equal(gort_set_backend("mn"), GORT_EINVAL);
  assert_int_equal(gort_set_backend("thread"), GORT_EINVAL);
}

/* ---- blocked tasks do not stall the others ---- */

enum { PINGS = 2000 };

typedef struct {
  int pipefd[2];
  gort_chan *done;
  atomic_int blocked, errors;
} blockers;

/* Blocks in read() until main writes: a call gort cannot see into. */
static void blocker(void *arg) {
  blockers *b = arg;
  char c;
  gort_syscall_enter();
  atomic_fetch_add(&b->blocked, 1);
  ssize_t n;
  while ((n = read(b->pipefd[0], &c, 1)) < 0 && errno == EINTR) {
  }
  gort_syscall_exit();
  if (n != 1) atomic_fetch_add(&b->errors, 1);
  gort_test_signal_done(b->done);
}

typedef struct {
  gort_chan *ping, *pong, *done;
} pingpong;

static void ponger(void *arg) {
  pingpong *p = arg;
  long v;
  while (gort_chan_recv(p->ping, &v, NULL) == 0) gort_chan_send(p->pong, &v);
  gort_test_signal_done(p->done);
}

static void pinger(void *arg) {
  pingpong *p = arg;
  for (long i = 0; i < PINGS; i++) {
    long v;
    gort_chan_send(p->ping, &i);
    gort_chan_recv(p->pong, &v, NULL);
  }
  gort_chan_close(p->ping);
  gort_test_signal_done(p->done);
}

static bool blocked_at_least(void *arg) {
  blockers *b = arg;
  return atomic_load(&b->blocked) >= 8;
}

static void blocked_tasks_do_not_stall_others(void **state) {
  (void)state;
  /* More blocked tasks than any machine here has cores, so under mn every
   * processor would be held by a blocked task without the hand-off. */
  enum { BLOCKERS = 8 };
  blockers b = {.done = gort_test_make_chan(1, BLOCKERS)};
  assert_int_equal(pipe(b.pipefd), 0);
  for (int i = 0; i < BLOCKERS; i++) assert_int_equal(gort_go(blocker, &b), 0);
  assert_true(gort_test_eventually(blocked_at_least, &b, 10000));
  pingpong p = {gort_test_make_chan(sizeof(long), 0), gort_test_make_chan(sizeof(long), 0),
                gort_test_make_chan(1, 2)};
  assert_int_equal(gort_go(ponger, &p), 0);
  assert_int_equal(gort_go(pinger, &p), 0);
  gort_test_join(p.done, 2); /* hangs (and the runner times out) if stalled */
  char bytes[BLOCKERS] = {0};
  assert_int_equal(write(b.pipefd[1], bytes, sizeof bytes), BLOCKERS);
  gort_test_join(b.done, BLOCKERS);
  assert_int_equal(atomic_load(&b.errors), 0);
  close(b.pipefd[0]);
  close(b.pipefd[1]);
  gort_chan_release(p.ping);
  gort_chan_release(p.pong);
  gort_chan_release(p.done);
  gort_chan_release(b.done);
}

/* ---- M:N only, each in a fresh process that chooses mn ---- */

static int recurse(int n) {
  volatile char frame[512];
  frame[0] = (char)n;
  return n == 0 ? 0 : recurse(n - 1) + frame[0];
}

static void deep(void *arg) {
  (void)arg;
  printf("%d\n", recurse(1 << 22));
}

GORT_TEST_SCENARIO(mn_stack_overflow) {
  if (gort_set_backend("mn") != 0) _exit(3);
  gort_chan *never = gort_test_make_chan(1, 0);
  gort_go_named("deep-recursion", deep, NULL);
  gort_chan_recv(never, NULL, NULL);
}

static void mn_stack_overflow_names_the_task(void **state) {
  (void)state;
  gort_test_child_result *r = malloc(sizeof *r);
  assert_non_null(r);
  assert_true(gort_test_exec_run("mn_stack_overflow", 20000, 0, r));
  /* Sanitizers install their own SIGSEGV handler and report it themselves. */
#if !defined(__SANITIZE_ADDRESS__) && !GORT_TEST_TSAN
  assert_true(gort_test_child_signaled(r, SIGSEGV));
  assert_non_null(strstr(r->err, "stack overflow in task"));
  assert_non_null(strstr(r->err, "\"deep-recursion\""));
#else
  assert_false(gort_test_child_exited(r, 0));
#endif
  free(r);
}

typedef struct {
  gort_chan *gate, *done;
} gated;

static void wait_at_gate(void *arg) {
  gated *g = arg;
  gort_chan_recv(g->gate, NULL, NULL);
  gort_test_signal_done(g->done);
}

GORT_TEST_SCENARIO(mn_one_thousand_parked) {
  if (gort_set_backend("mn") != 0) _exit(3);
  enum { N = 1000 };
  gated g = {gort_test_make_chan(1, 0), gort_test_make_chan(1, N)};
  for (int i = 0; i < N; i++)
    if (gort_go(wait_at_gate, &g) != 0) _exit(4);
  if (!gort_test_wait_parked(wait_at_gate, GORT_WAIT_CHAN_RECV, N, 30000)) _exit(5);
  /* Tasks are not threads: a handful of workers and the monitor. */
  if (gort_runtime_threads(NULL, 0) >= 64) _exit(6);
  gort_chan_close(g.gate);
  gort_test_join(g.done, N);
  gort_chan_release(g.gate);
  gort_chan_release(g.done);
}

static void mn_tasks_are_not_threads(void **state) {
  (void)state;
  gort_test_child_result *r = malloc(sizeof *r);
  assert_non_null(r);
  assert_true(gort_test_exec_run("mn_one_thousand_parked", 60000, 0, r));
  assert_true(gort_test_child_exited(r, 0));
  free(r);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(backend_name_matches_environment),
    cmocka_unit_test(set_backend_rules),
    cmocka_unit_test(blocked_tasks_do_not_stall_others),
    cmocka_unit_test(mn_stack_overflow_names_the_task),
    cmocka_unit_test(mn_tasks_are_not_threads),
};

GORT_TEST_MAIN(tests)
