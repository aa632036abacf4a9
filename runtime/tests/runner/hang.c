/* runtime/tests/runner/hang.c - a test program for ci/check-runner.sh, not a
 * test of gort: one test hangs, one fails, two pass. Not in TEST_BINS. */
#include "support/gort_test.h"
#include "gort/gort.h"
static void first_passes(void **s) { (void)s; assert_true(1); }
static void second_hangs(void **s) { (void)s; for (;;) gort_sleep(GORT_SECOND); }
static void third_passes(void **s) { (void)s; assert_true(1); }
static void fourth_fails(void **s) { (void)s; assert_int_equal(1, 2); }
static const struct CMUnitTest tests[] = {
    cmocka_unit_test(first_passes), cmocka_unit_test(second_hangs),
    cmocka_unit_test(third_passes), cmocka_unit_test(fourth_fails),
};
GORT_TEST_MAIN(tests)
