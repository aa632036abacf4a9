/* runtime/tests/support/gort_test.h - shared helpers for gort's cmocka tests.
 *
 * Include after <setjmp.h>, <stdarg.h>, <stddef.h>, <stdint.h> and
 * <cmocka.h> (cmocka's requirement), or just include this header: it
 * includes them itself in the right order.
 */
#ifndef GORT_TEST_H
#define GORT_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>

/* Run fn(arg) in a forked child with misuse mode ABORT; assert that the child
 * died of SIGABRT and that its stderr contains expect (Go's panic message).
 * Returns true when both hold. */
bool gort_test_child_aborts(void (*fn)(void *), void *arg, const char *expect);

/* Switch misuse to RETURN mode and count hook calls; returns the counter
 * location. gort_test_misuse_last() is the last code the hook saw. */
int *gort_test_misuse_return_mode(void);
int gort_test_misuse_last(void);
/* The message the hook got with the last misuse (Go's text, numbers in). */
const char *gort_test_misuse_last_message(void);
void gort_test_misuse_abort_mode(void);

/* Wait (polling with a short sleep, up to timeout_ms) until cond(arg) is true.
 * For observing state that has no event to wait on, such as "task N is parked":
 * returns false on timeout so the test fails instead of hanging. */
bool gort_test_eventually(bool (*cond)(void *), void *arg, int timeout_ms);

/* True when `n` tasks other than the caller are parked. */
bool gort_test_parked_at_least(void *n_as_intptr);

/* Channels in tests: make one (asserting success), receive n completion
 * tokens, send one token (elem size 1). */
#include "gort/chan.h"
gort_chan *gort_test_make_chan(size_t elem, long cap);
void gort_test_join(gort_chan *done, int n);
void gort_test_signal_done(gort_chan *done);

/* Runtime counters, for tests that check nothing is left behind. */
uint64_t gort_test_live_allocs(void);    /* allocs - frees of the runtime */
uint64_t gort_test_timers_pending(void);
/* Wait (up to 10 s) until no timer is pending: a one-shot timer counts as
 * pending until its fire callback has returned, which may be just after the
 * task it woke has observed the fire. */
bool gort_test_timers_settle(void);
/* The runtime's live allocation count once earlier tests' tasks, timers and
 * helper threads have finished, so that only the calling test moves it.
 * Compare with <=: a late free elsewhere must not fail a test. */
uint64_t gort_test_quiet_allocs(void);

/* Allocation failure injection through gort_set_allocator: the next n
 * allocations of the runtime succeed (libc), every later one fails, until
 * gort_test_allocator_restore() puts libc's allocator back. */
void gort_test_fail_allocs_after(int n);
void gort_test_allocator_restore(void);

/* Group setup/teardown used by GORT_TEST_MAIN: teardown checks that no task
 * started by the group is still alive and quiesces the runtime's threads. */
int gort_test_group_setup(void **state);
int gort_test_group_teardown(void **state);

/* main() for a test program: runs the group with the setup/teardown above,
 * with leakcheck on: every test verifies that it left no task, thread or fd
 * behind (goleak's VerifyNone), and the binary is verified once more at the
 * end, heap included (VerifyTestMain). Test programs have leakcheck's include
 * path (TEST_CPPFLAGS). */
#include "gort/leakcheck_cmocka.h"
#define GORT_TEST_MAIN(tests)                                                       \
  int main(void) {                                                                  \
    return gort_leakcheck_test_main(gort_leakcheck_cmocka_run_group(                \
        #tests, tests, sizeof tests / sizeof tests[0], gort_test_group_setup,       \
        gort_test_group_teardown));                                                 \
  }

/* ---- Additions for the core suites (chan, select, task, err, deadlock,
 * stress). ---- */
#include <sys/types.h>

#include "gort/introspect.h"

/* Number of live tasks started with entry fn (NULL: any task) that are parked
 * with wait reason `reason`. */
int gort_test_count_parked(gort_task_fn fn, gort_wait_reason reason);
/* Wait up to timeout_ms until at least n tasks with entry fn (NULL: any) are
 * parked with `reason`. False on timeout. */
bool gort_test_wait_parked(gort_task_fn fn, gort_wait_reason reason, int n, int timeout_ms);
/* Copy the snapshot entry of task id into *out; false if it is not live. */
bool gort_test_task_info(uint64_t id, gort_task_info *out);

/* Result of a child process run by gort_test_child_run. */
typedef struct {
  int status;      /* waitpid() status */
  bool timed_out;  /* the child was killed with SIGKILL after the timeout */
  size_t err_len;
  char err[65536]; /* the child's stderr (NUL-terminated, truncated) */
} gort_test_child_result;

/* Fork a child that runs fn(arg) with stderr captured, then _exit(0) (unless
 * fn exits or dies first). The parent quiesces the runtime before forking so
 * that no helper thread holds a runtime lock across fork(). If sig_on_ready is
 * non-zero, the parent sends that signal once the child has called
 * gort_test_child_ready(). A child still running after timeout_ms is killed
 * with SIGKILL (r->timed_out). Returns false if fork/pipe failed. */
bool gort_test_child_run(void (*fn)(void *), void *arg, int timeout_ms, int sig_on_ready,
                         gort_test_child_result *r);
/* In a child of gort_test_child_run: tell the parent we are ready. */
void gort_test_child_ready(void);
/* Convenience predicates on a result. */
bool gort_test_child_exited(const gort_test_child_result *r, int code);
bool gort_test_child_signaled(const gort_test_child_result *r, int sig);

/* Scale factor for stress tests: GORT_STRESS_SCALE from the environment
 * (a positive number, default 1). */
double gort_test_stress_scale(void);
/* n * gort_test_stress_scale(), at least min. */
long gort_test_scaled(long n, long min);


/* Scenarios: a function a test binary can run in a fresh process (fork +
 * exec of the binary itself), for what a forked child cannot show faithfully:
 * e.g. under ThreadSanitizer a forked child gets an extra runtime thread that
 * gort does not know, which (rightly) vetoes the deadlock detector.
 *   GORT_TEST_SCENARIO(name) { ... }   defines and registers one;
 *   gort_test_exec_run("name", ...)    runs it in a new process.
 * The new process runs the scenario from gort_test_group_setup (stdout goes
 * to /dev/null, stderr is captured) and exits 0 when it returns. */
typedef void (*gort_test_scenario_fn)(void);
void gort_test_scenario_register(const char *name, gort_test_scenario_fn fn);
#define GORT_TEST_SCENARIO(name)                                                       \
  static void name(void);                                                              \
  __attribute__((constructor)) static void name##_register(void) {                     \
    gort_test_scenario_register(#name, name);                                          \
  }                                                                                    \
  static void name(void)
bool gort_test_exec_run(const char *scenario, int timeout_ms, int sig_on_ready,
                        gort_test_child_result *r);

/* 1 when built with ThreadSanitizer. */
#if defined(__SANITIZE_THREAD__)
#define GORT_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GORT_TEST_TSAN 1
#endif
#endif
#ifndef GORT_TEST_TSAN
#define GORT_TEST_TSAN 0
#endif

#endif
