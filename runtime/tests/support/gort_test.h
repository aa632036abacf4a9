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
void gort_test_misuse_abort_mode(void);

/* Wait (polling with a short sleep, up to timeout_ms) until cond(arg) is true.
 * For observing state that has no event to wait on, such as "task N is parked":
 * returns false on timeout so the test fails instead of hanging. */
bool gort_test_eventually(bool (*cond)(void *), void *arg, int timeout_ms);

/* True when `n` tasks other than the caller are parked. */
bool gort_test_parked_at_least(void *n_as_intptr);

/* Group setup/teardown used by GORT_TEST_MAIN: teardown checks that no task
 * started by the group is still alive and quiesces the runtime's threads. */
int gort_test_group_setup(void **state);
int gort_test_group_teardown(void **state);

/* main() for a test program: runs the group with the setup/teardown above. */
#define GORT_TEST_MAIN(tests)                                                       \
  int main(void) {                                                                  \
    return cmocka_run_group_tests(tests, gort_test_group_setup, gort_test_group_teardown); \
  }

#endif
