/* lc_cmocka.c - a leak check around every cmocka test.
 *
 * cmocka fixtures get only `void **state`, so the wrapper passes each test's
 * record through initial_state: the wrapped test list has our setup and
 * teardown on every test and &recs[i] as its initial state. Our setup swaps
 * the user's state back in (group state if the group setup made one, else
 * the test's own initial_state, which is cmocka's rule), takes the baseline
 * and runs the test's own setup; our teardown runs the test's own teardown,
 * then verifies none against the baseline. When the test has no teardown of
 * its own, the check runs at the end of the test function instead (same
 * window, nothing runs in between), so that cmocka counts a leak as a failed
 * test rather than a fixture error; a test that failed or skipped is
 * still checked, in our teardown.
 *
 * cmocka gives every test the group state instead of its initial_state when
 * the group setup leaves one, which would hide our records; so the group
 * fixtures are wrapped too and keep the user's group state to themselves.
 *
 * Invariants: cmocka runs fixtures and tests one at a time on the calling
 * thread, so `current` and `group` need no lock; they are only valid during
 * gort_leakcheck_cmocka_run_group.
 */
#include <stdlib.h>
#include <string.h>

#include "gort/leakcheck_cmocka.h"
#include "lc_internal.h"

typedef struct {
  const struct CMUnitTest *test; /* the caller's entry */
  gort_leakcheck_snapshot *baseline;
  bool checked; /* this run of the test has been checked */
} lc_rec;

static struct {
  CMFixtureFunction setup, teardown;
  void *state;
} group;
static lc_rec *current;
/* For the stand-alone fixtures. */
static gort_leakcheck_snapshot *solo_baseline;

static int check_against(gort_leakcheck_snapshot *base, const char *name) {
  gort_leakcheck_opts o;
  gort_leakcheck_opts_init(&o);
  o.baseline = base;
  gort_leakcheck_report *r = NULL;
  int rc = gort_leakcheck_find(&o, &r);
  gort__lc_count_test();
  if (rc != GORT_ELEAK) return 0;
  fprintf(stderr, "leakcheck: %s leaked:\n", name && name[0] ? name : "test");
  gort_leakcheck_report_print(r, stderr);
  gort__lc_record_findings(r, "test");
  gort_leakcheck_report_free(r);
  return -1;
}

static int rec_setup(void **state) {
  lc_rec *rec = *state;
  current = rec;
  rec->checked = false;
  *state = group.state ? group.state : rec->test->initial_state;
  gort_leakcheck_set_test_name(rec->test->name);
  gort_leakcheck_snapshot_free(rec->baseline);
  rec->baseline = NULL;
  if (gort_leakcheck_snapshot_take(&rec->baseline) != 0) return -1;
  return rec->test->setup_func ? rec->test->setup_func(state) : 0;
}

static void rec_test(void **state) {
  lc_rec *rec = current;
  rec->test->test_func(state);
  if (rec->test->teardown_func) return;
  rec->checked = true;
  if (check_against(rec->baseline, rec->test->name) != 0)
    fail_msg("leakcheck: %s leaked (report above)", rec->test->name);
}

static int rec_teardown(void **state) {
  lc_rec *rec = current;
  int rc = rec->test->teardown_func ? rec->test->teardown_func(state) : 0;
  if (!rec->checked && check_against(rec->baseline, rec->test->name) != 0) rc = -1;
  gort_leakcheck_snapshot_free(rec->baseline);
  rec->baseline = NULL;
  gort_leakcheck_set_test_name(NULL);
  current = NULL;
  return rc;
}

static int wrap_group_setup(void **state) {
  void *s = NULL;
  int rc = group.setup ? group.setup(&s) : 0;
  group.state = s;
  *state = NULL; /* so cmocka hands each test its initial_state: our record */
  return rc;
}

static int wrap_group_teardown(void **state) {
  *state = group.state;
  int rc = group.teardown ? group.teardown(state) : 0;
  group.state = NULL;
  return rc;
}

int gort_leakcheck_cmocka_run_group(const char *group_name, const struct CMUnitTest *tests,
                                    size_t n, CMFixtureFunction group_setup,
                                    CMFixtureFunction group_teardown) {
  struct CMUnitTest *w = calloc(n ? n : 1, sizeof *w);
  lc_rec *recs = calloc(n ? n : 1, sizeof *recs);
  if (!w || !recs) {
    free(w);
    free(recs);
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    w[i] = tests[i];
    if (!tests[i].name || !tests[i].test_func) continue;
    recs[i].test = &tests[i];
    w[i].test_func = rec_test;
    w[i].setup_func = rec_setup;
    w[i].teardown_func = rec_teardown;
    w[i].initial_state = &recs[i];
  }
  group.setup = group_setup;
  group.teardown = group_teardown;
  group.state = NULL;
  int rc = _cmocka_run_group_tests(group_name, w, n, wrap_group_setup, wrap_group_teardown);
  for (size_t i = 0; i < n; i++) gort_leakcheck_snapshot_free(recs[i].baseline);
  free(recs);
  free(w);
  return rc;
}

int gort_leakcheck_test_main(int group_result) {
  return gort_leakcheck_verify_main(group_result, NULL);
}

int gort_leakcheck_cmocka_setup(void **state) {
  (void)state;
  gort_leakcheck_snapshot_free(solo_baseline);
  solo_baseline = NULL;
  return gort_leakcheck_snapshot_take(&solo_baseline) == 0 ? 0 : -1;
}

int gort_leakcheck_cmocka_teardown(void **state) {
  (void)state;
  int rc = check_against(solo_baseline, NULL);
  gort_leakcheck_snapshot_free(solo_baseline);
  solo_baseline = NULL;
  return rc;
}
