/* test_antipatterns.c - the anti-pattern catalog (patterns/antipatterns/):
 * every mistake the seeds name, run in a child process (it may abort,
 * deadlock, race or leak), must behave as its detector expects it to, and
 * its fixed twin must exit 0 with no sanitizer, panic or deadlock report -
 * under SAN=thread and SAN=address too.
 *
 * This is the quick check of the programs. The verdicts come from the
 * detectors themselves, run on each entry 20 times each way by `make
 * antipatterns-check` (leakcheck judges the leaks, which here only have to
 * exit 0 with their leak in place).
 *
 * The expectations come from the catalog itself (`antipattern --list`); the
 * test functions name every entry, and a last test checks that the list,
 * the tests and patterns/antipatterns/README.md agree.
 */
#include "ptest.h"

#include "httptest.h"

#if defined(__SANITIZE_THREAD__)
#define AP_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define AP_TSAN 1
#endif
#endif

typedef struct {
  char name[64], detector[32], expected[256];
} listed_entry;

static listed_entry listed[128];
static int nlisted;

static const listed_entry *find(const char *name) {
  for (int i = 0; i < nlisted; i++)
    if (strcmp(listed[i].name, name) == 0) return &listed[i];
  return NULL;
}

typedef struct {
  int status;
  char out[32768];
} run_result;

/* Run the driver with args (NULL-terminated) and one optional env entry. */
static void run(run_result *r, const char *env, const char *a1, const char *a2) {
  char *argv[] = {ANTIPATTERN_BIN, (char *)a1, (char *)a2, NULL};
  httptest_child c;
  assert_true(httptest_child_start_env(&c, argv, env));
  r->status = httptest_child_finish(&c, 20000);
  memcpy(r->out, c.out, c.len + 1);
  assert_int_not_equal(r->status, -1); /* a hang is a failure */
}

/* text matches pattern, where '#' in pattern stands for one or more digits. */
static bool match(const char *pat, const char *text) {
  while (*pat) {
    if (*pat == '#') {
      if (!(*text >= '0' && *text <= '9')) return false;
      while (*text >= '0' && *text <= '9') text++;
      pat++;
    } else if (*pat++ != *text++) {
      return false;
    }
  }
  return *text == '\0';
}

/* The text of the "demonstration: " line, or NULL. */
static const char *shown(run_result *r, char *buf, size_t len) {
  const char *p = strstr(r->out, "demonstration: ");
  if (!p) return NULL;
  p += strlen("demonstration: ");
  size_t n = strcspn(p, "\n");
  if (n >= len) n = len - 1;
  memcpy(buf, p, n);
  buf[n] = '\0';
  return buf;
}

static void expect_signal(run_result *r, int sig, const char *needle) {
  if (!WIFSIGNALED(r->status) || WTERMSIG(r->status) != sig || !strstr(r->out, needle)) {
    fprintf(stderr, "expected signal %d and \"%s\"; status 0x%x, output:\n%s\n", sig, needle,
            r->status, r->out);
    fail();
  }
}

/* One result buffer for the test running now (tests run one at a time): a
 * failed check leaves its test by longjmp, which must not leak a buffer. */
static run_result current_result;

static void check_bad(const listed_entry *e) {
  run_result *r = &current_result;
  char want[320];
  run(r, NULL, e->name, NULL);
  const char *d = e->detector;
  if (strcmp(d, "leakcheck-task") == 0 || strcmp(d, "leakcheck-timer") == 0) {
    /* The leak is left in place for leakcheck: a normal exit. */
    if (!WIFEXITED(r->status) || WEXITSTATUS(r->status) != 0) {
      fprintf(stderr, "expected exit 0; status 0x%x, output:\n%s\n", r->status, r->out);
      fail();
    }
  } else if (strcmp(d, "misuse") == 0) {
    snprintf(want, sizeof want, "panic: %s\n", e->expected);
    expect_signal(r, SIGABRT, want);
    /* The other misuse mode: the call returns its code, the hook reports. */
    run(r, "GORT_MISUSE=return", e->name, NULL);
    snprintf(want, sizeof want, "misuse: %s\n", e->expected);
    if (!WIFEXITED(r->status) || WEXITSTATUS(r->status) != 0 || !strstr(r->out, want)) {
      fprintf(stderr, "expected exit 0 and \"%s\"; status 0x%x, output:\n%s\n", want,
              r->status, r->out);
      fail();
    }
  } else if (strcmp(d, "deadlock") == 0) {
    snprintf(want, sizeof want, "fatal error: %s\n", e->expected);
    expect_signal(r, SIGABRT, want);
  } else if (strcmp(d, "tsan") == 0) {
#ifdef AP_TSAN
    if (!strstr(r->out, "WARNING: ThreadSanitizer: data race") || r->status == 0) {
      fprintf(stderr, "expected a data race report; status 0x%x, output:\n%s\n", r->status,
              r->out);
      fail();
    }
#else
    assert_true(WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0);
#endif
  } else if (strcmp(d, "demonstration") == 0 && strcmp(e->name, "no_graceful_shutdown") == 0) {
    expect_signal(r, SIGTERM, "step 1 of 2 done\n");
    assert_null(strstr(r->out, "step 2 of 2 done"));
  } else if (strcmp(d, "demonstration") == 0) {
    char v[512];
    if (!WIFEXITED(r->status) || WEXITSTATUS(r->status) != 0 || !shown(r, v, sizeof v) ||
        !match(e->expected, v)) {
      fprintf(stderr, "expected exit 0 and \"demonstration: %s\"; status 0x%x, output:\n%s\n",
              e->expected, r->status, r->out);
      fail();
    }
  } else {
    fail_msg("unknown detector %s", d);
  }
}

static void check_fixed(const listed_entry *e) {
  run_result *r = &current_result;
  run(r, NULL, e->name, "--fixed");
  bool clean = WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0 &&
               !strstr(r->out, "WARNING:") && !strstr(r->out, "ERROR:") &&
               !strstr(r->out, "panic: ") && !strstr(r->out, "fatal error: ");
  if (!clean) {
    fprintf(stderr, "expected the fixed twin to exit 0 with no report; status 0x%x, output:\n%s\n",
            r->status, r->out);
    fail();
  }
}

static int tested;

static void check(const char *name) {
  const listed_entry *e = find(name);
  if (!e) fail_msg("%s is not in the catalog", name);
  tested++;
  check_bad(e);
  check_fixed(e);
}

#define AP_TEST(n)                          \
  static void antipatterns_##n(void **s) { \
    (void)s;                                \
    check(#n);                              \
  }

AP_TEST(leaky_send)
AP_TEST(forever_loop)
AP_TEST(recv_no_exit)
AP_TEST(forgotten_close)
AP_TEST(select_eval_blocks)
AP_TEST(time_after_loop)
AP_TEST(missing_cancel)
AP_TEST(ignores_cancel)
AP_TEST(double_close)
AP_TEST(send_after_close)
AP_TEST(wg_done_without_add)
AP_TEST(sem_release_unheld)
AP_TEST(nil_chan_send)
AP_TEST(unbuffered_no_receiver)
AP_TEST(mutex_copy)
AP_TEST(forgotten_unlock)
AP_TEST(loop_var_capture)
AP_TEST(wg_add_inside)
AP_TEST(sleep_sync)
AP_TEST(swallowed_errors)
AP_TEST(results_missing)
AP_TEST(shared_counter_race)
AP_TEST(channel_as_mutex)
AP_TEST(unbounded_spawn)
AP_TEST(buffer_accumulation)
AP_TEST(timeout_too_short)
AP_TEST(blocked_producer)
AP_TEST(errgroup_one_error)
AP_TEST(semaphore_too_strict)
AP_TEST(no_graceful_shutdown)

/* Runs last: every listed entry was tested, and README.md lists each one. */
static void antipatterns_catalog_is_complete(void **s) {
  (void)s;
  assert_true(nlisted > 0);
  assert_int_equal(tested, nlisted);
  FILE *f = fopen(ANTIPATTERN_README, "r");
  assert_non_null(f);
  static char readme[65536];
  size_t n = fread(readme, 1, sizeof readme - 1, f);
  readme[n] = '\0';
  fclose(f);
  for (int i = 0; i < nlisted; i++) {
    char want[80];
    snprintf(want, sizeof want, "`%.63s`", listed[i].name);
    if (!strstr(readme, want)) fail_msg("README.md does not list %s", listed[i].name);
  }
}

/* Read the catalog from `antipattern --list`. */
static int load_list(void **state) {
  (void)state;
  run_result *r = malloc(sizeof *r);
  char *argv[] = {ANTIPATTERN_BIN, "--list", NULL};
  httptest_child c;
  if (!httptest_child_start(&c, argv)) return -1;
  r->status = httptest_child_finish(&c, 20000);
  memcpy(r->out, c.out, c.len + 1);
  for (char *line = strtok(r->out, "\n"); line && nlisted < 128; line = strtok(NULL, "\n")) {
    listed_entry *e = &listed[nlisted];
    if (sscanf(line, "%63[^\t]\t%31[^\t]\t%255[^\t]", e->name, e->detector, e->expected) == 3)
      nlisted++;
  }
  int ok = WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0 && nlisted > 0;
  free(r);
  return ok ? gort_test_group_setup(state) : -1;
}

/* The children race on purpose and check_bad reads their TSan report from
 * their output: keep it there, out of the log_path a race sweep (gort-race)
 * sets for this test, which it must judge by this process's own races. */
static void children_report_to_stderr(void) {
  const char *old = getenv("TSAN_OPTIONS");
  char opts[4096];
  snprintf(opts, sizeof opts, "%s log_path=stderr", old ? old : "");
  setenv("TSAN_OPTIONS", opts, 1);
}

int main(void) {
  children_report_to_stderr();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(antipatterns_leaky_send),
      cmocka_unit_test(antipatterns_forever_loop),
      cmocka_unit_test(antipatterns_recv_no_exit),
      cmocka_unit_test(antipatterns_forgotten_close),
      cmocka_unit_test(antipatterns_select_eval_blocks),
      cmocka_unit_test(antipatterns_time_after_loop),
      cmocka_unit_test(antipatterns_missing_cancel),
      cmocka_unit_test(antipatterns_ignores_cancel),
      cmocka_unit_test(antipatterns_double_close),
      cmocka_unit_test(antipatterns_send_after_close),
      cmocka_unit_test(antipatterns_wg_done_without_add),
      cmocka_unit_test(antipatterns_sem_release_unheld),
      cmocka_unit_test(antipatterns_nil_chan_send),
      cmocka_unit_test(antipatterns_unbuffered_no_receiver),
      cmocka_unit_test(antipatterns_mutex_copy),
      cmocka_unit_test(antipatterns_forgotten_unlock),
      cmocka_unit_test(antipatterns_loop_var_capture),
      cmocka_unit_test(antipatterns_wg_add_inside),
      cmocka_unit_test(antipatterns_sleep_sync),
      cmocka_unit_test(antipatterns_swallowed_errors),
      cmocka_unit_test(antipatterns_results_missing),
      cmocka_unit_test(antipatterns_shared_counter_race),
      cmocka_unit_test(antipatterns_channel_as_mutex),
      cmocka_unit_test(antipatterns_unbounded_spawn),
      cmocka_unit_test(antipatterns_buffer_accumulation),
      cmocka_unit_test(antipatterns_timeout_too_short),
      cmocka_unit_test(antipatterns_blocked_producer),
      cmocka_unit_test(antipatterns_errgroup_one_error),
      cmocka_unit_test(antipatterns_semaphore_too_strict),
      cmocka_unit_test(antipatterns_no_graceful_shutdown),
      cmocka_unit_test(antipatterns_catalog_is_complete),
  };
  return cmocka_run_group_tests(tests, load_list, gort_test_group_teardown);
}
