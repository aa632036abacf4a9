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
#include <sys/mman.h>
#include <sys/resource.h>
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

typedef struct {
  gort_chan *gate, *done;
} gated;

static void wait_at_gate(void *arg) {
  gated *g = arg;
  gort_chan_recv(g->gate, NULL, NULL);
  gort_test_signal_done(g->done);
}

static void wait_forever(void *arg) { gort_chan_recv(arg, NULL, NULL); }

/* The overflowing stack lies among others in use (stacks share mappings):
 * 64 parked tasks first. */
static void overflow_among_parked(void) {
  if (gort_set_backend("mn") != 0) _exit(3);
  gort_chan *never = gort_test_make_chan(1, 0);
  for (int i = 0; i < 64; i++)
    if (gort_go(wait_forever, never) != 0) _exit(4);
  gort_go_named("deep-recursion", deep, NULL);
  gort_chan_recv(never, NULL, NULL);
}

GORT_TEST_SCENARIO(mn_stack_overflow) { overflow_among_parked(); }

/* Guard pages by mprotect, as on kernels before MADV_GUARD_INSTALL. */
GORT_TEST_SCENARIO(mn_stack_overflow_mprotect) {
  setenv("GORT_STACK_GUARD", "mprotect", 1);
  overflow_among_parked();
}

static void expect_overflow_report(const char *scenario) {
  gort_test_child_result *r = malloc(sizeof *r);
  assert_non_null(r);
  assert_true(gort_test_exec_run(scenario, 20000, 0, r));
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

static void mn_stack_overflow_names_the_task(void **state) {
  (void)state;
  expect_overflow_report("mn_stack_overflow");
}

static void mn_stack_overflow_names_the_task_mprotect_guard(void **state) {
  (void)state;
  expect_overflow_report("mn_stack_overflow_mprotect");
}

static long count_maps(void) {
  FILE *f = fopen("/proc/self/maps", "re");
  if (!f) return -1;
  long n = 0;
  for (int c; (c = getc(f)) != EOF;) n += c == '\n';
  fclose(f);
  return n;
}

/* 1 when this kernel has MADV_GUARD_INSTALL (Linux 6.13). */
static bool kernel_has_guard_regions(void) {
  size_t pg = (size_t)sysconf(_SC_PAGESIZE);
  void *p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return false;
  bool ok = madvise(p, pg, 102 /* MADV_GUARD_INSTALL */) == 0;
  munmap(p, 2 * pg);
  return ok;
}

GORT_TEST_SCENARIO(mn_parked_stacks_share_mappings) {
  if (gort_set_backend("mn") != 0) _exit(3);
  enum { N = 5000 };
  gated g = {gort_test_make_chan(1, 0), gort_test_make_chan(1, N)};
  long before = count_maps();
  for (int i = 0; i < N; i++)
    if (gort_go(wait_at_gate, &g) != 0) _exit(4);
  if (!gort_test_wait_parked(wait_at_gate, GORT_WAIT_CHAN_RECV, N, 60000)) _exit(5);
  long after = count_maps();
  /* One mapping per stack (guard and stack: two) would add 5000 or more. */
  if (before < 0 || after - before > 200) {
    fprintf(stderr, "mappings: %ld before, %ld with %d parked tasks\n", before, after, N);
    _exit(6);
  }
  gort_chan_close(g.gate);
  gort_test_join(g.done, N);
  gort_chan_release(g.gate);
  gort_chan_release(g.done);
}

/* On Linux 6.13+ guard regions do not split mappings, so parked tasks do not
 * count against vm.max_map_count (65530 by default: ~32k tasks otherwise). */
static void mn_parked_stacks_share_mappings_test(void **state) {
  (void)state;
  /* TSan maps four regions of its own per fiber (its thread state and
   * trace: 1 MiB + 15 MiB + 560 KiB + 784 KiB), whatever the stacks do. */
  if (!kernel_has_guard_regions() || GORT_TEST_TSAN) skip();
  gort_test_child_result *r = malloc(sizeof *r);
  assert_non_null(r);
  assert_true(gort_test_exec_run("mn_parked_stacks_share_mappings", 90000, 0, r));
  if (!gort_test_child_exited(r, 0)) fprintf(stderr, "%s", r->err);
  assert_true(gort_test_child_exited(r, 0));
  free(r);
}

static long vm_size_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "re");
  long pages = -1;
  if (f) {
    if (fscanf(f, "%ld", &pages) != 1) pages = -1;
    fclose(f);
  }
  return pages < 0 ? -1 : pages * sysconf(_SC_PAGESIZE);
}

/* Address space capped just above what the process uses: the spawn that
 * needs a new stack mapping fails with an error, and the started tasks
 * still finish. */
GORT_TEST_SCENARIO(mn_spawn_refused) {
  if (gort_set_backend("mn") != 0) _exit(3);
  enum { MAX = 100000 };
  gated g = {gort_test_make_chan(1, 0), gort_test_make_chan(1, MAX)};
  if (gort_go(wait_at_gate, &g) != 0) _exit(4); /* workers and the first arena */
  long vm = vm_size_bytes();
  struct rlimit lim = {(rlim_t)vm + ((rlim_t)16 << 20), (rlim_t)vm + ((rlim_t)16 << 20)};
  if (vm < 0 || setrlimit(RLIMIT_AS, &lim) != 0) _exit(5);
  int started = 1, rc = 0;
  while (started < MAX && (rc = gort_go(wait_at_gate, &g)) == 0) started++;
  gort_chan_close(g.gate);
  gort_test_join(g.done, started);
  if (rc != GORT_ENOMEM) _exit(6);
  if (started < 2) _exit(7); /* the rest of the first mapping was used */
}

static void mn_spawn_refused_is_an_error(void **state) {
  (void)state;
#if defined(__SANITIZE_ADDRESS__) || GORT_TEST_TSAN
  skip(); /* the sanitizers' allocators do not survive an address-space cap */
#endif
  gort_test_child_result *r = malloc(sizeof *r);
  assert_non_null(r);
  assert_true(gort_test_exec_run("mn_spawn_refused", 60000, 0, r));
  if (!gort_test_child_exited(r, 0)) fprintf(stderr, "%s", r->err);
  assert_true(gort_test_child_exited(r, 0));
  free(r);
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
    cmocka_unit_test(mn_stack_overflow_names_the_task_mprotect_guard),
    cmocka_unit_test(mn_parked_stacks_share_mappings_test),
    cmocka_unit_test(mn_spawn_refused_is_an_error),
    cmocka_unit_test(mn_tasks_are_not_threads),
};

GORT_TEST_MAIN(tests)
