/* watchdog.c - per-test timeouts and test selection for every cmocka test
 * program of the tree.
 *
 * Test programs are linked with -Wl,--wrap=_cmocka_run_group_tests (see
 * TEST_LDLIBS in the Makefile), so every group - GORT_TEST_MAIN's, leakcheck's
 * or a hand-written main's - comes through here first. From the environment:
 *
 *   GORT_TEST_RUN=<regex>    run only the tests whose name matches (POSIX ERE);
 *                            `make test RUN=<regex>` sets it
 *   GORT_TEST_SKIP=<regex>   skip the tests whose name matches
 *   GORT_TEST_START=<k>      skip the first k selected tests (the runner
 *                            resumes after a test that hung)
 *   GORT_TEST_TIMEOUT=<s>    a test (setup, body, teardown) that runs longer
 *                            than s seconds prints
 *                                [ TIMEOUT  ] <name> (test <k> of <n>) after <s> s
 *                            on stderr and raises SIGQUIT: gort prints its task
 *                            dump and exits. ci/run-tests.sh then runs the
 *                            program again from test k+1, so one hang costs
 *                            one test, named, not the rest of the binary.
 *
 * The timer is alarm(2): no thread, so leakcheck sees nothing new. Tests run
 * one after the other, so "the current test" is a counter the per-test
 * setup wrapper advances.
 */
#include <regex.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

int __real__cmocka_run_group_tests(const char *group_name, const struct CMUnitTest *tests,
                                   size_t n, CMFixtureFunction group_setup,
                                   CMFixtureFunction group_teardown);
int __wrap__cmocka_run_group_tests(const char *group_name, const struct CMUnitTest *tests,
                                   size_t n, CMFixtureFunction group_setup,
                                   CMFixtureFunction group_teardown);

/* The selected tests with their own fixtures, for the wrappers below. Set
 * before the group runs; the wrappers and the signal handler only read. */
static struct CMUnitTest *selected;
static size_t n_selected, first_index, current;
static unsigned timeout_s;
/* The alarm message, built before the alarm is armed: the handler only
 * write()s it. */
static char alarm_msg[512];
static size_t alarm_len;

/* First alarm: name the test and raise SIGQUIT (gort's handler prints the
 * task dump and exits). The handler may run only after this one returns
 * (ThreadSanitizer defers signals), so return; a second alarm 10 s later
 * stops a program whose SIGQUIT did nothing. */
static volatile sig_atomic_t alarm_fired;

static void on_alarm(int sig) {
  (void)sig;
  if (alarm_fired) _exit(124);
  alarm_fired = 1;
  ssize_t w = write(STDERR_FILENO, alarm_msg, alarm_len);
  (void)w;
  alarm(10);
  raise(SIGQUIT);
}

static void arm(const struct CMUnitTest *t, size_t k) {
  if (timeout_s == 0) return;
  int len = snprintf(alarm_msg, sizeof alarm_msg,
                     "\n[ TIMEOUT  ] %s (test %zu of %zu) after %u s\n", t->name, k + 1,
                     first_index + n_selected, timeout_s);
  alarm_len = len < 0 ? 0 : (size_t)len < sizeof alarm_msg ? (size_t)len : sizeof alarm_msg - 1;
  alarm(timeout_s);
}

static int watch_setup(void **state) {
  const struct CMUnitTest *t = &selected[current];
  arm(t, first_index + current);
  current++;
  return t->setup_func ? t->setup_func(state) : 0;
}

static int watch_teardown(void **state) {
  const struct CMUnitTest *t = &selected[current - 1];
  int rc = t->teardown_func ? t->teardown_func(state) : 0;
  alarm(0);
  return rc;
}

/* True when name matches the ERE in environment variable var (unset: dflt). */
static bool env_match(const char *var, const char *name, bool dflt) {
  const char *re = getenv(var);
  if (!re || !*re) return dflt;
  regex_t rx;
  if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0) {
    fprintf(stderr, "%s: bad regular expression: %s\n", var, re);
    exit(2);
  }
  bool m = regexec(&rx, name, 0, NULL, 0) == 0;
  regfree(&rx);
  return m;
}

static unsigned env_unsigned(const char *var) {
  const char *s = getenv(var);
  return s ? (unsigned)strtoul(s, NULL, 10) : 0;
}

int __wrap__cmocka_run_group_tests(const char *group_name, const struct CMUnitTest *tests,
                                   size_t n, CMFixtureFunction group_setup,
                                   CMFixtureFunction group_teardown) {
  struct CMUnitTest *sel = calloc(n ? n : 1, sizeof *sel);
  if (!sel) return -1;
  size_t start = env_unsigned("GORT_TEST_START"), k = 0, m = 0;
  for (size_t i = 0; i < n; i++) {
    const char *name = tests[i].name ? tests[i].name : "";
    if (!env_match("GORT_TEST_RUN", name, true) || env_match("GORT_TEST_SKIP", name, false))
      continue;
    if (k++ < start) continue;
    sel[m++] = tests[i];
  }
  selected = sel;
  n_selected = m;
  first_index = start;
  current = 0;
  timeout_s = env_unsigned("GORT_TEST_TIMEOUT");
  struct CMUnitTest *run = calloc(m ? m : 1, sizeof *run);
  if (!run) {
    free(sel);
    return -1;
  }
  for (size_t i = 0; i < m; i++) {
    run[i] = sel[i];
    run[i].setup_func = watch_setup;
    run[i].teardown_func = watch_teardown;
  }
  if (timeout_s) signal(SIGALRM, on_alarm);
  int rc = __real__cmocka_run_group_tests(group_name, run, m, group_setup, group_teardown);
  alarm(0);
  selected = NULL;
  free(run);
  free(sel);
  return rc;
}
