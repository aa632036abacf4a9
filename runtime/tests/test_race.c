/* test_race.c - ThreadSanitizer sees races between green tasks.
 *
 * Under the M:N backend two tasks can run one after the other on the same
 * worker thread. TSan must still see them as concurrent unless the program
 * orders them: a fiber switch is not synchronisation (runtime/src/mn/mn.c).
 * Each case runs in a fresh process that chooses mn with one processor
 * (GORT_MAXPROCS=1): a spawner task starts two writers, which therefore
 * run one after the other on the one worker once it parks. TSan writes
 * its reports to files (log_path) in a directory of the test's own, and
 * the test judges those: the planted race must be reported with both
 * writers' stacks, its fixed twins (a mutex, a channel between the
 * writers) must produce no report at all. ThreadSanitizer builds only.
 */
#include "support/gort_test.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gort/gort.h"

enum { RACY, FIXED_MUTEX, FIXED_CHAN };

static int planted; /* written by both writers */

static struct {
  int mode;
  gort_waitgroup wg;
  gort_mutex mu;
  gort_chan *order; /* FIXED_CHAN: first -> second */
  pid_t tid[2];     /* the OS thread each writer ran on */
} w = {.wg = GORT_WAITGROUP_INIT, .mu = GORT_MUTEX_INIT};

static void first_writer(void *arg) {
  (void)arg;
  w.tid[0] = (pid_t)syscall(SYS_gettid);
  if (w.mode == FIXED_MUTEX) gort_mutex_lock(&w.mu);
  planted = 1; /* the planted race: second_writer writes it too */
  if (w.mode == FIXED_MUTEX) gort_mutex_unlock(&w.mu);
  if (w.mode == FIXED_CHAN) gort_chan_send(w.order, &(char){1});
  gort_waitgroup_done(&w.wg);
}

static void second_writer(void *arg) {
  (void)arg;
  w.tid[1] = (pid_t)syscall(SYS_gettid);
  if (w.mode == FIXED_CHAN) gort_chan_recv(w.order, NULL, NULL);
  if (w.mode == FIXED_MUTEX) gort_mutex_lock(&w.mu);
  planted = 2;
  if (w.mode == FIXED_MUTEX) gort_mutex_unlock(&w.mu);
  gort_waitgroup_done(&w.wg);
}

/* With one processor, neither writer runs before this task parks. */
static void spawner(void *done) {
  gort_waitgroup_add(&w.wg, 2);
  if (gort_go(first_writer, NULL) != 0 || gort_go(second_writer, NULL) != 0) _exit(4);
  gort_waitgroup_wait(&w.wg);
  gort_test_signal_done(done);
}

/* Exit 5: the writers did not run on one worker (the monitor gave the
 * processor to another worker while the spawner ran: a loaded machine),
 * so the run shows nothing about tasks that share a worker. */
static void run_writers(int mode) {
  setenv("GORT_MAXPROCS", "1", 1);
  if (gort_set_backend("mn") != 0) _exit(3);
  w.mode = mode;
  w.order = gort_test_make_chan(1, 0);
  gort_chan *done = gort_test_make_chan(1, 1);
  if (gort_go(spawner, done) != 0) _exit(4);
  gort_test_join(done, 1);
  if (w.tid[0] == 0 || w.tid[0] != w.tid[1]) _exit(5);
  if (planted != 1 && planted != 2) _exit(6); /* read: the writes are not dead stores */
  gort_chan_release(done);
  gort_chan_release(w.order);
}

GORT_TEST_SCENARIO(race_planted) { run_writers(RACY); }
GORT_TEST_SCENARIO(race_fixed_mutex) { run_writers(FIXED_MUTEX); }
GORT_TEST_SCENARIO(race_fixed_chan) { run_writers(FIXED_CHAN); }

/* What TSan wrote for one run: every log file's text, concatenated. */
static char tsan_log[1 << 16];

/* TSan's exit status for a process it reported on (its exitcode flag). */
#define TSAN_EXITCODE 66

static bool exited_with(const gort_test_child_result *r, int code) {
  return !r->timed_out && WIFEXITED(r->status) && WEXITSTATUS(r->status) == code;
}

/* Run a scenario with TSan's reports going to files in a new directory;
 * retried (bounded) while the writers did not share a worker. Asserts the
 * child exited with want. */
static void run_and_collect(const char *scenario, int want) {
  char dir[] = "/tmp/gort-race-XXXXXX";
  assert_non_null(mkdtemp(dir));
  const char *old = getenv("TSAN_OPTIONS");
  char *saved = old ? strdup(old) : NULL;
  char opts[4096];
  snprintf(opts, sizeof opts, "%s halt_on_error=0 log_path=%s/tsan", old ? old : "", dir);
  setenv("TSAN_OPTIONS", opts, 1);
  gort_test_child_result *r = malloc(sizeof *r);
  assert_non_null(r);
  bool started = false;
  for (int attempt = 0; attempt < 3; attempt++) {
    started = gort_test_exec_run(scenario, 60000, 0, r);
    if (!started || !exited_with(r, 5)) break;
  }
  if (saved) {
    setenv("TSAN_OPTIONS", saved, 1);
    free(saved);
  } else {
    unsetenv("TSAN_OPTIONS");
  }
  size_t len = 0;
  tsan_log[0] = '\0';
  DIR *d = opendir(dir);
  assert_non_null(d);
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (e->d_name[0] == '.') continue;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    FILE *f = fopen(path, "r");
    if (f) {
      len += fread(tsan_log + len, 1, sizeof tsan_log - 1 - len, f);
      tsan_log[len] = '\0';
      fclose(f);
    }
    unlink(path);
  }
  closedir(d);
  rmdir(dir);
  bool ok = started && exited_with(r, want);
  if (!ok)
    fprintf(stderr, "%s: status 0x%x, expected exit %d (5: the writers never shared a worker)\n%s\n",
            scenario, r->status, want, r->err);
  free(r);
  assert_true(ok);
}

/* The planted race: one TSan data race report whose two stacks start in
 * the two writers, on the global. */
static void race_between_tasks_on_one_worker_is_reported(void **state) {
  (void)state;
  if (!GORT_TEST_TSAN) {
    fprintf(stderr, "skipped: not a ThreadSanitizer build (make SAN=thread test)\n");
    skip();
  }
  run_and_collect("race_planted", TSAN_EXITCODE);
  const char *report = strstr(tsan_log, "WARNING: ThreadSanitizer: data race");
  const char *end = report ? strstr(report, "SUMMARY: ThreadSanitizer") : NULL;
  bool found = false;
  if (report && end) {
    char one[8192];
    size_t n = (size_t)(end - report) < sizeof one - 1 ? (size_t)(end - report) : sizeof one - 1;
    memcpy(one, report, n);
    one[n] = '\0';
    /* Both accesses (each "#0" frame is one of the two stacks' tops). */
    const char *a = strstr(one, "#0 first_writer");
    const char *b = strstr(one, "#0 second_writer");
    found = a && b && strstr(one, "Location is global 'planted'");
  }
  if (!found) fprintf(stderr, "expected the planted race; TSan wrote:\n%s\n", tsan_log);
  assert_true(found);
}

static void fixed_twin_is_clean(const char *scenario) {
  if (!GORT_TEST_TSAN) {
    fprintf(stderr, "skipped: not a ThreadSanitizer build (make SAN=thread test)\n");
    skip();
  }
  run_and_collect(scenario, 0);
  if (tsan_log[0] != '\0') fprintf(stderr, "expected no report; TSan wrote:\n%s\n", tsan_log);
  assert_true(tsan_log[0] == '\0');
}

static void race_fixed_by_mutex_is_clean(void **state) {
  (void)state;
  fixed_twin_is_clean("race_fixed_mutex");
}

static void race_fixed_by_channel_is_clean(void **state) {
  (void)state;
  fixed_twin_is_clean("race_fixed_chan");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(race_between_tasks_on_one_worker_is_reported),
    cmocka_unit_test(race_fixed_by_mutex_is_clean),
    cmocka_unit_test(race_fixed_by_channel_is_clean),
};

GORT_TEST_MAIN(tests)
