/* test_lc_installed.c - the installed gort-leakcheck, from outside: runs
 * test_lc_installed.sh (make install into an empty prefix, then plain C
 * programs that never heard of gort, each leak and its fixed twin) and
 * fails unless every case of the script passed. A C wrapper, so that the
 * test runner, the Valgrind sweep and the race sweep treat it like any test
 * binary (the script itself runs natively: it checks the plain build's
 * installed tools, and skips in sanitizer builds, SAN set). */
#include <spawn.h>
#include <sys/wait.h>

#include "support/gort_test.h"

extern char **environ;

static void installed_leakcheck_from_outside(void **state) {
  (void)state;
  char *argv[] = {"bash", LEAKCHECK_INSTALLED_SH, LEAKCHECK_SRCDIR, LEAKCHECK_CC, NULL};
  pid_t pid;
  assert_int_equal(posix_spawnp(&pid, "bash", NULL, NULL, argv, environ), 0);
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(installed_leakcheck_from_outside),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
