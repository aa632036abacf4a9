/* gort/leakcheck_cmocka.h - leakcheck for cmocka test programs.
 *
 * Three ways in, from least to most typing:
 *
 *   GORT_LEAKCHECK_TEST_MAIN(tests)   -- a whole main(): every test verifies
 *                                        none at its end, and the binary is
 *                                        verified once more after the group
 *                                        (goleak's VerifyTestMain).
 *
 *   return gort_leakcheck_test_main(
 *       gort_leakcheck_run_group_tests(tests, group_setup, group_teardown));
 *                                     -- the same, keeping your fixtures.
 *
 *   cmocka_unit_test_setup_teardown(test_x, gort_leakcheck_cmocka_setup,
 *                                   gort_leakcheck_cmocka_teardown)
 *                                     -- one test at a time.
 *
 * A test's check covers tasks, threads and fds created between the start of
 * its setup and the end of its teardown (your own per-test setup and
 * teardown still run, inside that window). A leak fails the test ("Test
 * teardown failed") after printing goleak's report.
 */
#ifndef GORT_LEAKCHECK_CMOCKA_H
#define GORT_LEAKCHECK_CMOCKA_H

#include "gort/export.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "gort/leakcheck.h"

#ifdef __cplusplus
extern "C" {
#endif

/* cmocka_run_group_tests with a leak check around every test. Tests' own
 * setup/teardown/initial_state and the group fixtures keep their meaning. */
GORT_API int gort_leakcheck_cmocka_run_group(const char *group_name, const struct CMUnitTest *tests,
                                             size_t n_tests, CMFixtureFunction group_setup,
                                             CMFixtureFunction group_teardown);

#define gort_leakcheck_run_group_tests(tests, group_setup, group_teardown)             \
  gort_leakcheck_cmocka_run_group(#tests, (tests), sizeof(tests) / sizeof((tests)[0]), \
                                  (group_setup), (group_teardown))

/* VerifyTestMain for a cmocka main: pass the group's result, return what
 * main should return (the failure count, or 1 when the binary leaked). */
GORT_API int gort_leakcheck_test_main(int group_result);

#define GORT_LEAKCHECK_TEST_MAIN(tests)                                              \
  int main(void) {                                                                   \
    return gort_leakcheck_test_main(gort_leakcheck_run_group_tests(tests, NULL, NULL)); \
  }

/* Per-test fixtures for hand-built test lists: setup takes the baseline,
 * teardown verifies none against it (returns -1 on leaks). They do not nest
 * with gort_leakcheck_cmocka_run_group, which installs its own. */
GORT_API int gort_leakcheck_cmocka_setup(void **state);
GORT_API int gort_leakcheck_cmocka_teardown(void **state);

#ifdef __cplusplus
}
#endif
#endif
