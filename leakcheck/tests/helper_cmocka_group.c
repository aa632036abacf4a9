/* helper_cmocka_group.c - a cmocka program run by test_lc_cmocka: it uses
 * gort_leakcheck_run_group_tests the way a user's test program would.
 *   clean   two clean tests with fixtures and a prestate: exit 0
 *   leaky   a clean test, a test leaking a task, one leaking an fd, a clean
 *           test after them: the two leaky tests fail their teardown
 *   group   a group setup that makes a group state: tests see it
 *   binary  the group setup leaks a task: every test passes (their
 *           baselines include it), the binary-level check fails the run
 *   threads_ran  threads that ran and were joined, nothing leaked (run
 *           under Valgrind: their DTVs are no heap leak)
 *   heap_leak  the same, and a test that drops a malloc'd block (run under
 *           Valgrind: the binary-level heap check fails the run)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gort/gort.h"
#include "gort/leakcheck_cmocka.h"

static int value = 42, prestate = 5, group_value = 7;
static int teardowns;

static int user_setup(void **state) {
  *state = &value;
  return 0;
}

static int user_teardown(void **state) {
  teardowns++;
  return *state == &value ? 0 : -1;
}

static void clean_with_fixtures(void **state) { assert_ptr_equal(*state, &value); }
static void clean_with_prestate(void **state) { assert_ptr_equal(*state, &prestate); }

static void blocked_forever(void *arg) { gort_chan_recv(arg, NULL, NULL); }

static void leaks_task(void **state) {
  (void)state;
  gort_chan *ch;
  assert_int_equal(GORT_CHAN_MAKE(&ch, int, 0), 0);
  assert_int_equal(gort_go(blocked_forever, ch), 0);
}

static void leaks_fd(void **state) {
  (void)state;
  int p[2];
  assert_int_equal(pipe(p), 0);
}

static void clean_after_leaks(void **state) {
  (void)state;
  assert_int_equal(teardowns, 1);
}

static int make_group_state(void **state) {
  *state = &group_value;
  return 0;
}

static int check_group_state(void **state) { return *state == &group_value ? 0 : -1; }

static void sees_group_state(void **state) { assert_ptr_equal(*state, &group_value); }

static int leaky_group_setup(void **state) {
  (void)state;
  gort_chan *ch;
  if (GORT_CHAN_MAKE(&ch, int, 0) != 0) return -1;
  return gort_go(blocked_forever, ch);
}

static void trivial(void **state) { (void)state; }

/* Threads that ran and were joined: glibc keeps their DTVs (possibly lost
 * to Valgrind mid-run, through an interior pointer) in its stack cache. */
static void *returns(void *arg) { return arg; }
static void threads_ran(void **state) {
  (void)state;
  pthread_t t[8];
  for (int i = 0; i < 8; i++) assert_int_equal(pthread_create(&t[i], NULL, returns, NULL), 0);
  for (int i = 0; i < 8; i++) assert_int_equal(pthread_join(t[i], NULL), 0);
}

static void *volatile published; /* keeps the malloc */
__attribute__((noinline)) static void drops_a_block(void **state) {
  (void)state;
  published = malloc(1000);
  published = NULL;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "clean";
  if (strcmp(mode, "clean") == 0) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(clean_with_fixtures, user_setup, user_teardown),
        cmocka_unit_test_prestate(clean_with_prestate, &prestate),
    };
    return gort_leakcheck_test_main(gort_leakcheck_run_group_tests(tests, NULL, NULL));
  }
  if (strcmp(mode, "leaky") == 0) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(clean_with_fixtures, user_setup, user_teardown),
        cmocka_unit_test(leaks_task),
        cmocka_unit_test(leaks_fd),
        cmocka_unit_test(clean_after_leaks),
    };
    return gort_leakcheck_test_main(gort_leakcheck_run_group_tests(tests, NULL, NULL));
  }
  if (strcmp(mode, "group") == 0) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sees_group_state),
        cmocka_unit_test_prestate(sees_group_state, &prestate), /* group state wins */
    };
    return gort_leakcheck_test_main(
        gort_leakcheck_run_group_tests(tests, make_group_state, check_group_state));
  }
  if (strcmp(mode, "binary") == 0) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(trivial)};
    return gort_leakcheck_test_main(gort_leakcheck_run_group_tests(tests, leaky_group_setup, NULL));
  }
  if (strcmp(mode, "threads_ran") == 0 || strcmp(mode, "heap_leak") == 0) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(threads_ran),
                                       cmocka_unit_test(drops_a_block)};
    size_t n = strcmp(mode, "heap_leak") == 0 ? 2 : 1;
    return gort_leakcheck_test_main(gort_leakcheck_cmocka_run_group(mode, tests, n, NULL, NULL));
  }
  return 64;
}
