/* test_lc_cmocka.c - the cmocka integration, seen from outside: runs
 * helper_cmocka_group in each of its modes and checks its exit status, its
 * output (goleak-shaped reports naming the leaky tests) and the records it
 * leaves in GORT_LEAKCHECK_OUT for the leakcheck command. */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/gort_test.h"

extern char **environ;

typedef struct {
  int status;
  char output[65536];
  char records[65536];
} helper_run;

static void read_into(const char *path, char *buf, size_t size) {
  buf[0] = '\0';
  FILE *f = fopen(path, "r");
  if (!f) return;
  size_t n = fread(buf, 1, size - 1, f);
  buf[n] = '\0';
  fclose(f);
}

static void run_helper_argv(char **argv, helper_run *r);

static void run_helper(const char *mode, helper_run *r) {
  char *argv[] = {LEAKCHECK_HELPER, (char *)mode, NULL};
  run_helper_argv(argv, r);
}

static void run_helper_argv(char **argv, helper_run *r) {
  char out[] = "/tmp/gort-lc-test-out-XXXXXX", rec[] = "/tmp/gort-lc-test-rec-XXXXXX";
  int ofd = mkstemp(out), rfd = mkstemp(rec);
  assert_true(ofd >= 0 && rfd >= 0);
  close(rfd);
  char env_out[128];
  snprintf(env_out, sizeof env_out, "GORT_LEAKCHECK_OUT=%s", rec);
  /* The helper's environment: ours, with its own records file, and without
   * the runner's cmocka XML settings (this test reads the helper's text). */
  size_t n = 0;
  while (environ[n]) n++;
  char **env = calloc(n + 2, sizeof *env);
  assert_non_null(env);
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (strncmp(environ[i], "GORT_LEAKCHECK_", 15) != 0 && strncmp(environ[i], "CMOCKA_", 7) != 0)
      env[k++] = environ[i];
  env[k++] = env_out;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, ofd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&fa, ofd, STDERR_FILENO);
  pid_t pid;
  assert_int_equal(posix_spawnp(&pid, argv[0], &fa, NULL, argv, env), 0);
  posix_spawn_file_actions_destroy(&fa);
  free(env);
  close(ofd);
  assert_int_equal(waitpid(pid, &r->status, 0), pid);
  read_into(out, r->output, sizeof r->output);
  read_into(rec, r->records, sizeof r->records);
  unlink(out);
  unlink(rec);
}

static int exit_code(const helper_run *r) {
  return WIFEXITED(r->status) ? WEXITSTATUS(r->status) : 128 + WTERMSIG(r->status);
}

#define assert_contains(hay, needle)                                                  \
  do {                                                                                \
    if (!strstr((hay), (needle))) fail_msg("missing \"%s\" in:\n%s", (needle), (hay)); \
  } while (0)

static void cmocka_clean_group(void **state) {
  (void)state;
  static helper_run r;
  run_helper("clean", &r);
  assert_int_equal(exit_code(&r), 0);
  assert_contains(r.output, "[  PASSED  ] 2 test(s).");
  assert_null(strstr(r.output, "leakcheck:"));
  assert_contains(r.records, "\"record\":\"run\"");
  assert_contains(r.records, "\"scope\":\"binary\"");
  assert_contains(r.records, "\"checked\":true");
  assert_contains(r.records, "\"tests_checked\":2");
  assert_null(strstr(r.records, "\"record\":\"finding\""));
}

static void cmocka_leaky_tests_fail(void **state) {
  (void)state;
  static helper_run r;
  run_helper("leaky", &r);
  assert_int_equal(exit_code(&r), 2); /* two tests failed */
  assert_contains(r.output, "[  FAILED  ] 2 test(s), listed below:");
  assert_contains(r.output, "leakcheck: leaks_task leaked:");
  assert_contains(r.output, "leakcheck: found unexpected tasks:");
  assert_contains(r.output, "with blocked_forever on top of the stack:");
  assert_contains(r.output, "created by leaks_task in task 1");
  assert_contains(r.output, "leakcheck: leaks_fd leaked:");
  assert_contains(r.output, "leakcheck: found unexpected file descriptors:");
  assert_contains(r.output, "(pipe, read end");
  assert_contains(r.output, "[       OK ] clean_after_leaks");
  assert_contains(r.output, "[       OK ] clean_with_fixtures");
  assert_contains(r.records, "\"test\":\"leaks_task\"");
  assert_contains(r.records, "\"test\":\"leaks_fd\"");
  /* A failed run is not judged at binary level, and says so. */
  assert_contains(r.records, "\"checked\":false");
}

static void cmocka_group_state_kept(void **state) {
  (void)state;
  static helper_run r;
  run_helper("group", &r);
  if (exit_code(&r) != 0) fail_msg("exit %d:\n%s", exit_code(&r), r.output);
  assert_contains(r.output, "[  PASSED  ] 2 test(s).");
}

static void cmocka_binary_level_check(void **state) {
  (void)state;
  static helper_run r;
  run_helper("binary", &r);
  assert_int_equal(exit_code(&r), 1);
  assert_contains(r.output, "[  PASSED  ] 1 test(s).");
  assert_contains(r.output, "leakcheck: errors on successful test run:");
  assert_contains(r.output, "created by leaky_group_setup");
  assert_contains(r.records, "\"scope\":\"binary\",\"finding\":{\"kind\":\"task\"");
}

/* Under a plain Valgrind run the binary-level heap check is Valgrind's own
 * verdict (the leak errors by --errors-for-leak-kinds): the DTVs glibc keeps
 * for threads that ran are no leak, a dropped block is. Sanitizer builds
 * cannot run under Valgrind. */
static void valgrind_helper(const char *mode, helper_run *r) {
  char *argv[] = {"valgrind", "-q", "--leak-check=full", "--errors-for-leak-kinds=definite",
                  LEAKCHECK_HELPER, (char *)mode, NULL};
  run_helper_argv(argv, r);
}

/* From the compiler, not only from $SAN: a sanitizer binary run without
 * SAN in its environment (make report's race sweep, gort-race) would put a
 * TSan helper under Valgrind, which never finishes. */
static bool sanitizer_build(void) {
#if GORT_TEST_TSAN || defined(__SANITIZE_ADDRESS__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return true;
#endif
#endif
  const char *san = getenv("SAN");
  return san && san[0];
}

static void cmocka_valgrind_threads_are_no_heap_leak(void **state) {
  (void)state;
  if (sanitizer_build()) skip();
  static helper_run r;
  valgrind_helper("threads_ran", &r);
  if (exit_code(&r) != 0) fail_msg("exit %d:\n%s", exit_code(&r), r.output);
  assert_contains(r.records, "\"heap_checker\":\"valgrind\"");
  assert_null(strstr(r.records, "\"record\":\"finding\""));
}

static void cmocka_valgrind_dropped_block_is(void **state) {
  (void)state;
  if (sanitizer_build()) skip();
  static helper_run r;
  valgrind_helper("heap_leak", &r);
  assert_int_equal(exit_code(&r), 1);
  assert_contains(r.output, "leakcheck: found heap leaks:");
  assert_contains(r.output, "definitely lost: 1000 byte(s)");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(cmocka_clean_group),
    cmocka_unit_test(cmocka_leaky_tests_fail),
    cmocka_unit_test(cmocka_group_state_kept),
    cmocka_unit_test(cmocka_binary_level_check),
    cmocka_unit_test(cmocka_valgrind_threads_are_no_heap_leak),
    cmocka_unit_test(cmocka_valgrind_dropped_block_is),
};

GORT_TEST_MAIN(tests)
