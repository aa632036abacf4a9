/* test_version.c - gort_version() and the GORT_VERSION_* macros agree. */
#include "support/gort_test.h"

#include <stdio.h>

#include "gort/gort.h"

static void version_string_matches_macros(void **state) {
  (void)state;
  char want[64];
  snprintf(want, sizeof want, "%d.%d.%d", GORT_VERSION_MAJOR, GORT_VERSION_MINOR,
           GORT_VERSION_PATCH);
  assert_string_equal(GORT_VERSION_STRING, want);
  /* The library this test links is the one its headers describe. */
  assert_string_equal(gort_version(), want);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(version_string_matches_macros),
};

GORT_TEST_MAIN(tests)
