/* test_lc_find.c - leakcheck's checks on live leaks: tasks, foreign and
 * adopted threads, fds; ignore rules; IgnoreCurrent; retries; verify_main;
 * the report's text and JSON. Every leak a test makes is undone before it
 * ends. Checks that are expected to find something use a 1 ms max sleep and
 * few retries, as goleak's own tests do, so they report quickly. */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "gort/gort.h"
#include "gort/introspect.h"
#include "gort/leakcheck.h"
#include "support/gort_test.h"

/* These tests leak on purpose; keep their findings out of a leakcheck
 * command's records when one runs this binary. */
__attribute__((constructor)) static void no_records(void) { unsetenv("GORT_LEAKCHECK_OUT"); }

static void fast_opts(gort_leakcheck_opts *o) {
  gort_leakcheck_opts_init(o);
  o->max_retries = 3;
  o->max_sleep_ns = GORT_MILLISECOND;
}

static int64_t ms_since(int64_t t0) { return (gort_now() - t0) / GORT_MILLISECOND; }

/* ---- a task blocked until released ---- */

typedef struct {
  gort_chan *ch;
  gort_waitgroup wg;
} blocker;

static void blocked_receiver(void *arg) {
  blocker *b = arg;
  gort_chan_recv(b->ch, NULL, NULL); /* until the channel is closed */
  gort_waitgroup_done(&b->wg);
}

static void blocker_init(blocker *b) {
  assert_int_equal(GORT_CHAN_MAKE(&b->ch, int, 0), 0);
  gort_waitgroup_init(&b->wg);
}

/* Close the channel, wait for every task that used it, free it. */
static void blocker_release(blocker *b) {
  gort_chan_close(b->ch);
  gort_waitgroup_wait(&b->wg);
  gort_chan_release(b->ch);
}

static void wait_parked(int n) {
  assert_true(gort_test_eventually(gort_test_parked_at_least, (void *)(intptr_t)n, 5000));
}

/* ---- tests ---- */

static void find_clean_returns_at_once(void **state) {
  (void)state;
  int64_t t0 = gort_now();
  gort_leakcheck_report *r = (void *)1;
  assert_int_equal(gort_leakcheck_find(NULL, &r), 0);
  assert_null(r);
  /* A dirty check sleeps ~0.45 s before it reports; a clean one does not. */
  assert_true(ms_since(t0) < 100);
}

static void find_reports_blocked_task(void **state) {
  (void)state;
  blocker b;
  blocker_init(&b);
  gort_waitgroup_add(&b.wg, 1);
  int line = __LINE__ + 1;
  assert_int_equal(gort_go(blocked_receiver, &b), 0);
  wait_parked(1);
  gort_leakcheck_opts o;
  fast_opts(&o);
  gort_leakcheck_report *r = NULL;
  assert_int_equal(gort_leakcheck_find(&o, &r), GORT_ELEAK);
  assert_int_equal(gort_leakcheck_report_count(r), 1);
  assert_int_equal(gort_leakcheck_report_count_kind(r, GORT_LEAK_TASK), 1);
  const gort_leakcheck_finding *f = gort_leakcheck_report_finding(r, 0);
  assert_int_equal(f->kind, GORT_LEAK_TASK);
  assert_string_equal(f->state, "chan receive");
  assert_true(f->waiting_ms >= 0);
  assert_string_equal(f->top_function, "blocked_receiver"); /* static: by name */
  /* The entry's own file:line, from DWARF (libdw): where blocked_receiver is. */
  assert_non_null(strstr(f->entry_file, "test_lc_find.c"));
  assert_true(f->entry_line > 0 && f->entry_line < line);
  assert_string_equal(f->site_function, "find_reports_blocked_task");
  assert_non_null(strstr(f->site_file, "test_lc_find.c"));
  assert_int_equal(f->site_line, line);
  assert_int_equal(f->parent_id, gort_task_id());
  assert_true(f->tid > 0);

  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  gort_leakcheck_report_print(r, m);
  fclose(m);
  assert_non_null(strstr(text, "leakcheck: found unexpected tasks:"));
  assert_non_null(strstr(text, "in state [chan receive, "));
  assert_non_null(strstr(text, "with blocked_receiver on top of the stack:"));
  assert_non_null(strstr(text, "created by find_reports_blocked_task in task "));
  free(text);
  m = open_memstream(&text, &len);
  assert_int_equal(gort_leakcheck_report_write_json(r, m), 0);
  fclose(m);
  assert_non_null(strstr(text, "\"schema\":\"gort.leakcheck/1\""));
  assert_non_null(strstr(text, "\"kind\":\"task\""));
  assert_non_null(strstr(text, "\"wait_reason\"") == NULL ? "ok" : NULL);
  assert_non_null(strstr(text, "\"state\":{\"state\":\"chan receive\""));
  free(text);
  gort_leakcheck_report_free(r);

  blocker_release(&b);
  assert_int_equal(gort_leakcheck_find(NULL, NULL), 0);
}

static void sleep_then_exit(void *arg) {
  (void)arg;
  gort_sleep(5 * GORT_MILLISECOND);
}

static void find_retries_until_task_exits(void **state) {
  (void)state;
  /* goleak's TestFindRetry: a task on its way out is not a leak. */
  assert_int_equal(gort_go(sleep_then_exit, NULL), 0);
  assert_int_equal(gort_leakcheck_find(NULL, NULL), 0);
}

static void find_ignore_top_function(void **state) {
  (void)state;
  blocker b;
  blocker_init(&b);
  gort_waitgroup_add(&b.wg, 1);
  assert_int_equal(gort_go(blocked_receiver, &b), 0);
  wait_parked(1);
  gort_leakcheck_opts o;
  fast_opts(&o);
  assert_int_equal(gort_leakcheck_ignore_top_function(&o, "blocked_receiver"), 0);
  assert_int_equal(gort_leakcheck_find(&o, NULL), 0);
  fast_opts(&o);
  assert_int_equal(gort_leakcheck_ignore_top_function(&o, "blocked_*"), 0); /* globs */
  assert_int_equal(gort_leakcheck_find(&o, NULL), 0);
  fast_opts(&o);
  assert_int_equal(gort_leakcheck_ignore_top_function(&o, "something_else"), 0);
  assert_int_equal(gort_leakcheck_find(&o, NULL), GORT_ELEAK);
  blocker_release(&b);
}

__attribute__((noinline)) static int spawn_via_helper(blocker *b) {
  int rc = gort_go(blocked_receiver, b);
  __asm__ volatile("" ::: "memory"); /* no tail call: keep this frame */
  return rc;
}

static void find_ignore_any_function(void **state) {
  (void)state;
  gort_set_spawn_traces(true);
  blocker b;
  blocker_init(&b);
  gort_waitgroup_add(&b.wg, 1);
  assert_int_equal(spawn_via_helper(&b), 0);
  wait_parked(1);
  gort_leakcheck_opts o;
  fast_opts(&o);
  gort_leakcheck_report *r = NULL;
  assert_int_equal(gort_leakcheck_find(&o, &r), GORT_ELEAK);
  /* The spawn stack runs from the helper up through this test. */
  const gort_leakcheck_finding *f = gort_leakcheck_report_finding(r, 0);
  bool helper = false, test = false;
  for (size_t i = 0; i < f->n_frames; i++) {
    helper |= strcmp(f->frames[i].function, "spawn_via_helper") == 0;
    test |= strcmp(f->frames[i].function, "find_ignore_any_function") == 0;
  }
  assert_true(helper && test);
  gort_leakcheck_report_free(r);
  assert_int_equal(gort_leakcheck_ignore_any_function(&o, "find_ignore_any_function"), 0);
  assert_int_equal(gort_leakcheck_find(&o, NULL), 0);
  fast_opts(&o);
  assert_int_equal(gort_leakcheck_ignore_any_function(&o, "blocked_receiver"), 0); /* entry */
  assert_int_equal(gort_leakcheck_find(&o, NULL), 0);
  gort_set_spawn_traces(false);
  blocker_release(&b);
}

typedef struct {
  blocker inner;
  blocker outer;
} family;

static void parent_task(void *arg) {
  family *fam = arg;
  gort_go(blocked_receiver, &fam->inner);
  blocked_receiver(&fam->outer); /* then block too */
}

static void find_ignore_creator(void **state) {
  (void)state;
  family fam;
  blocker_init(&fam.inner);
  blocker_init(&fam.outer);
  gort_waitgroup_add(&fam.inner.wg, 1);
  gort_waitgroup_add(&fam.outer.wg, 1);
  assert_int_equal(gort_go(parent_task, &fam), 0);
  wait_parked(2);
  gort_leakcheck_opts o;
  fast_opts(&o);
  /* Created by parent_task (its entry) / at a call site in parent_task. */
  assert_int_equal(gort_leakcheck_ignore_creator(&o, "parent_task"), 0);
  gort_leakcheck_report *r = NULL;
  assert_int_equal(gort_leakcheck_find(&o, &r), GORT_ELEAK);
  assert_int_equal(gort_leakcheck_report_count(r), 1);
  assert_string_equal(gort_leakcheck_report_finding(r, 0)->top_function, "parent_task");
  gort_leakcheck_report_free(r);
  assert_int_equal(gort_leakcheck_ignore_creator(&o, "find_ignore_creator"), 0);
  assert_int_equal(gort_leakcheck_find(&o, NULL), 0);
  blocker_release(&fam.inner);
  blocker_release(&fam.outer);
}

static void find_ignore_name(void **state) {
  (void)state;
  blocker b;
  blocker_init(&b);
  gort_waitgroup_add(&b.wg, 1);
  assert_int_equal(gort_go_named("ignored-worker", blocked_receiver, &b), 0);
  wait_parked(1);
  gort_leakcheck_opts o;
  fast_opts(&o);
  gort_leakcheck_report *r = NULL;
  assert_int_equal(gort_leakcheck_find(&o, &r), GORT_ELEAK);
  assert_string_equal(gort_leakcheck_report_finding(r, 0)->name, "ignored-worker");
  gort_leakcheck_report_free(r);
  assert_int_equal(gort_leakcheck_ignore_name(&o, "ignored-*"), 0);
  assert_int_equal(gort_leakcheck_find(&o, NULL), 0);
  blocker_release(&b);
}

static void ignore_rules_validate(void **state) {
  (void)state;
  gort_leakcheck_opts o;
  gort_leakcheck_opts_init(&o);
  assert_int_equal(gort_leakcheck_ignore_name(&o, ""), GORT_EINVAL);
  assert_int_equal(gort_leakcheck_ignore_name(&o, NULL), GORT_EINVAL);
  assert_int_equal(gort_leakcheck_ignore(&o, (gort_leakcheck_ignore_kind)99, "x"), GORT_EINVAL);
  char big[GORT_LEAKCHECK_PATTERN_MAX + 1];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  assert_int_equal(gort_leakcheck_ignore_name(&o, big), GORT_EINVAL);
  for (int i = 0; i < GORT_LEAKCHECK_MAX_IGNORES; i++)
    assert_int_equal(gort_leakcheck_ignore_name(&o, "n"), 0);
  assert_int_equal(gort_leakcheck_ignore_name(&o, "n"), GORT_EFULL);
  gort_leakcheck_opts_destroy(&o);
}

static void ignore_current(void **state) {
  (void)state;
  /* goleak's "Should detect new leaks". */
  blocker first, second;
  blocker_init(&first);
  blocker_init(&second);
  gort_waitgroup_add(&first.wg, 1);
  assert_int_equal(gort_go(blocked_receiver, &first), 0);
  wait_parked(1);
  gort_leakcheck_opts o;
  fast_opts(&o);
  assert_int_equal(gort_leakcheck_find(&o, NULL), GORT_ELEAK);
  assert_int_equal(gort_leakcheck_ignore_current(&o), 0);
  assert_int_equal(gort_leakcheck_find(&o, NULL), 0);
  gort_waitgroup_add(&second.wg, 1);
  assert_int_equal(gort_go(blocked_receiver, &second), 0); /* started after: a leak */
  wait_parked(2);
  gort_leakcheck_report *r = NULL;
  assert_int_equal(gort_leakcheck_find(&o, &r), GORT_ELEAK);
  assert_int_equal(gort_leakcheck_report_count(r), 1);
  gort_leakcheck_report_free(r);
  gort_leakcheck_opts_destroy(&o);
  blocker_release(&first);
  blocker_release(&second);
}

static void snapshot_as_baseline(void **state) {
  (void)state;
  gort_leakcheck_snapshot *s = NULL;
  assert_int_equal(gort_leakcheck_snapshot_take(&s), 0);
  assert_int_equal(gort_leakcheck_snapshot_take(NULL), GORT_EINVAL);
  gort_leakcheck_opts o;
  fast_opts(&o);
  o.baseline = s;
  assert_int_equal(gort_leakcheck_find(&o, NULL), 0);
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  assert_int_equal(gort_leakcheck_find(&o, NULL), GORT_ELEAK);
  close(fds[0]);
  close(fds[1]);
  assert_int_equal(gort_leakcheck_find(&o, NULL), 0);
  gort_leakcheck_snapshot_free(s);
}

/* ---- threads ---- */

/* ThreadSanitizer holds a signal back while the thread sits in a call it
 * does not treat as blocking (a futex wait, say), so stacks taken by signal
 * are best-effort there. */
#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#ifndef UNDER_TSAN
#define UNDER_TSAN 0
#endif

static atomic_bool poller_stop;
static atomic_bool poller_running; /* set once raw_poller's loop is entered */

static void *raw_poller(void *arg) {
  (void)arg;
  atomic_store(&poller_running, true);
  while (!atomic_load(&poller_stop)) {
    struct timespec ts = {0, 500000};
    nanosleep(&ts, NULL);
  }
  return NULL;
}

static void find_foreign_thread(void **state) {
  (void)state;
  gort_leakcheck_opts o;
  fast_opts(&o);
  o.layers = GORT_LEAKCHECK_THREADS;
  atomic_store(&poller_stop, false);
  atomic_store(&poller_running, false);
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, raw_poller, NULL), 0);
  pthread_setname_np(t, "lc-raw-poller");
  /* Interrupted before it reaches its loop, the thread's stack would not
   * show raw_poller yet: wait until it runs there. */
  while (!atomic_load(&poller_running)) sched_yield();
  gort_leakcheck_report *r = NULL;
  int rc = gort_leakcheck_find(&o, &r);
  gort_leakcheck_finding f;
  memset(&f, 0, sizeof f);
  size_t threads = gort_leakcheck_report_count_kind(r, GORT_LEAK_THREAD);
  if (r) f = *gort_leakcheck_report_finding(r, 0);
  f.frames = NULL;
  gort_leakcheck_report_free(r);
  gort_leakcheck_opts by_name, by_top;
  fast_opts(&by_name);
  by_name.layers = GORT_LEAKCHECK_THREADS;
  assert_int_equal(gort_leakcheck_ignore_name(&by_name, "lc-raw-*"), 0);
  int rc_name = gort_leakcheck_find(&by_name, NULL);
  fast_opts(&by_top);
  by_top.layers = GORT_LEAKCHECK_THREADS;
  assert_int_equal(gort_leakcheck_ignore_top_function(&by_top, "raw_poller"), 0);
  int rc_top = gort_leakcheck_find(&by_top, NULL);
  /* Undo the leak before asserting, so a failure here cannot spill over. */
  atomic_store(&poller_stop, true);
  pthread_join(t, NULL);

  assert_int_equal(rc, GORT_ELEAK);
  assert_int_equal(threads, 1);
  assert_string_equal(f.name, "lc-raw-poller");
  assert_true(f.tid > 0);
  /* Its stack, taken by interrupting it: nanosleep called by raw_poller. */
  assert_true(f.n_frames > 0);
  assert_string_equal(f.top_function, "raw_poller");
  assert_string_equal(f.site_function, "raw_poller");
  assert_int_equal(rc_name, 0);
  assert_int_equal(rc_top, 0);
  assert_int_equal(gort_leakcheck_find(NULL, NULL), 0);
}

typedef struct {
  gort_chan *ch;
} adopted_arg;

static void *adopted_reader(void *arg) {
  adopted_arg *a = arg;
  gort_chan_recv(a->ch, NULL, NULL); /* gort adopts this thread as a task */
  return NULL;
}

static void find_adopted_thread(void **state) {
  (void)state;
  adopted_arg a;
  assert_int_equal(GORT_CHAN_MAKE(&a.ch, int, 0), 0);
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, adopted_reader, &a), 0);
  wait_parked(1);
  gort_leakcheck_opts o;
  fast_opts(&o);
  gort_leakcheck_report *r = NULL;
  int rc = gort_leakcheck_find(&o, &r);
  size_t n = gort_leakcheck_report_count(r);
  gort_leakcheck_finding f;
  memset(&f, 0, sizeof f);
  if (r) f = *gort_leakcheck_report_finding(r, 0);
  f.frames = NULL;
  gort_leakcheck_report_free(r);
  gort_chan_close(a.ch);
  pthread_join(t, NULL);
  gort_chan_release(a.ch);

  assert_int_equal(rc, GORT_ELEAK);
  /* A task (it is parked in gort), not also a thread. */
  assert_int_equal(n, 1);
  assert_int_equal(f.kind, GORT_LEAK_TASK);
  assert_string_equal(f.state, "chan receive");
  assert_non_null(strstr(f.detail, "adopted"));
  if (!UNDER_TSAN) assert_string_equal(f.site_function, "adopted_reader");
  assert_int_equal(gort_leakcheck_find(NULL, NULL), 0);
}

/* ---- fds ---- */

static bool has_fd(const gort_leakcheck_report *r, int fd, const char *type, const char *state) {
  for (size_t i = 0; i < gort_leakcheck_report_count(r); i++) {
    const gort_leakcheck_finding *f = gort_leakcheck_report_finding(r, i);
    if (f->kind == GORT_LEAK_FD && f->fd == fd && strcmp(f->name, type) == 0 &&
        strncmp(f->state, state, strlen(state)) == 0)
      return true;
  }
  return false;
}

static void find_fds_by_type(void **state) {
  (void)state;
  gort_leakcheck_opts o;
  fast_opts(&o);
  o.layers = GORT_LEAKCHECK_FDS;
  assert_int_equal(gort_leakcheck_ignore_current(&o), 0);
  int p[2];
  assert_int_equal(pipe(p), 0);
  int ev = eventfd(0, EFD_CLOEXEC);
  int tf = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
  int so = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int fi = open("/dev/null", O_RDONLY | O_CLOEXEC);
  assert_true(ev >= 0 && tf >= 0 && so >= 0 && fi >= 0);
  gort_leakcheck_report *r = NULL;
  assert_int_equal(gort_leakcheck_find(&o, &r), GORT_ELEAK);
  assert_int_equal(gort_leakcheck_report_count_kind(r, GORT_LEAK_FD), 6);
  assert_true(has_fd(r, p[0], "pipe", "read end"));
  assert_true(has_fd(r, p[1], "pipe", "write end"));
  assert_true(has_fd(r, ev, "eventfd", "read-write"));
  assert_true(has_fd(r, tf, "timerfd", ""));
  assert_true(has_fd(r, so, "socket", "read-write"));
  assert_true(has_fd(r, fi, "file", "read end"));
  gort_leakcheck_report_free(r);
  close(p[0]);
  close(p[1]);
  close(ev);
  close(tf);
  close(so);
  close(fi);
  assert_int_equal(gort_leakcheck_find(&o, NULL), 0);
  gort_leakcheck_opts_destroy(&o);
}

/* ---- verify ---- */

static void verify_none_and_main(void **state) {
  (void)state;
  blocker b;
  blocker_init(&b);
  gort_waitgroup_add(&b.wg, 1);
  assert_int_equal(gort_go(blocked_receiver, &b), 0);
  wait_parked(1);
  gort_leakcheck_opts o;
  fast_opts(&o);
  assert_int_equal(gort_leakcheck_verify_none(&o), GORT_ELEAK);
  /* As goleak's VerifyTestMain: a failed run keeps its code unchecked... */
  assert_int_equal(gort_leakcheck_verify_main(7, &o), 7);
  /* ...a successful one with leaks becomes 1. */
  assert_int_equal(gort_leakcheck_verify_main(0, &o), 1);
  blocker_release(&b);
  assert_int_equal(gort_leakcheck_verify_none(NULL), 0);
  o.layers = GORT_LEAKCHECK_DEFAULT; /* heap is whole-process: not here */
  assert_int_equal(gort_leakcheck_verify_main(0, &o), 0);
}

/* ---- inlined spawn sites ---- */

__attribute__((always_inline)) static inline int spawn_inline(blocker *b) {
  return gort_go(blocked_receiver, b);
}

static void created_by_inlined_function(void **state) {
  (void)state;
  blocker b;
  blocker_init(&b);
  gort_waitgroup_add(&b.wg, 1);
  assert_int_equal(spawn_inline(&b), 0);
  wait_parked(1);
  gort_leakcheck_opts o;
  fast_opts(&o);
  gort_leakcheck_report *r = NULL;
  assert_int_equal(gort_leakcheck_find(&o, &r), GORT_ELEAK);
  const gort_leakcheck_finding *f = gort_leakcheck_report_finding(r, 0);
  bool have_debug_info = f->entry_file[0] != '\0';
  char site[128];
  snprintf(site, sizeof site, "%s", f->site_function);
  gort_leakcheck_report_free(r);
  blocker_release(&b);
  if (!have_debug_info) skip(); /* built without -g: no inline records */
  assert_string_equal(site, "spawn_inline");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(find_clean_returns_at_once),
    cmocka_unit_test(find_reports_blocked_task),
    cmocka_unit_test(find_retries_until_task_exits),
    cmocka_unit_test(find_ignore_top_function),
    cmocka_unit_test(find_ignore_any_function),
    cmocka_unit_test(find_ignore_creator),
    cmocka_unit_test(find_ignore_name),
    cmocka_unit_test(ignore_rules_validate),
    cmocka_unit_test(ignore_current),
    cmocka_unit_test(snapshot_as_baseline),
    cmocka_unit_test(find_foreign_thread),
    cmocka_unit_test(find_adopted_thread),
    cmocka_unit_test(find_fds_by_type),
    cmocka_unit_test(verify_none_and_main),
    cmocka_unit_test(created_by_inlined_function),
};

GORT_TEST_MAIN(tests)
