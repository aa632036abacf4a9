/* test_task.c - tasks: gort_go, ids, the registry and its snapshot, dumps,
 * stack size, thread-creation failure, SIGQUIT.
 *
 * Every task a test starts has exited when the test returns: tasks report on
 * a `done` channel and the test receives from it once per task.
 */
#include "support/gort_test.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gort/gort.h"
#include "gort/introspect.h"

#define WAIT_MS 10000

#if defined(__SANITIZE_ADDRESS__)
#define GORT_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GORT_TEST_ASAN 1
#endif
#endif
#ifndef GORT_TEST_ASAN
#define GORT_TEST_ASAN 0
#endif

static bool num_tasks_is(void *n) { return gort_num_tasks() == (int)(intptr_t)n; }

/* Wait until only task 1 is left: a task of an earlier test may have sent its
 * last message but not yet exited. */
static void settle(void) {
  assert_true(gort_test_eventually(num_tasks_is, (void *)(intptr_t)1, WAIT_MS));
}

/* ---- gort_go ---- */

typedef struct {
  int in;
  int out;
  uint64_t id;
  gort_chan *done;
} job;

static void double_it(void *arg) {
  job *j = arg;
  j->out = j->in * 2;
  j->id = gort_task_id();
  gort_chan_send(j->done, &(char){1});
}

static void task_go_runs_fn_with_arg(void **state) {
  (void)state;
  job j = {.in = 21, .done = gort_test_make_chan(1, 0)};
  assert_int_equal(gort_go(double_it, &j), 0);
  gort_test_join(j.done, 1);
  assert_int_equal(j.out, 42);
  assert_true(j.id > 1);
  gort_chan_release(j.done);
}

static void task_main_is_task_1(void **state) {
  (void)state;
  assert_int_equal(gort_task_id(), 1);
  assert_int_equal(gort_task_id(), 1); /* stable */
  gort_task_info ti;
  assert_true(gort_test_task_info(1, &ti));
  assert_true(ti.adopted);
  assert_null(ti.entry);
  assert_int_equal(ti.parent_id, 0);
  /* The caller is running while it takes the snapshot. */
  assert_int_equal(ti.state, GORT_TASK_RUNNING);
  assert_int_equal(ti.wait_reason, GORT_WAIT_NONE);
  assert_int_equal(ti.waiting_since, 0);
  assert_true(ti.tid > 0);
  assert_string_equal(ti.name, ""); /* task 1 is unnamed */
}

static void task_ids_unique_increasing(void **state) {
  (void)state;
  enum { N = 20 };
  job jobs[N];
  gort_chan *done = gort_test_make_chan(1, N);
  for (int i = 0; i < N; i++) {
    jobs[i] = (job){.in = i, .done = done};
    assert_int_equal(gort_go(double_it, &jobs[i]), 0);
  }
  gort_test_join(done, N);
  for (int i = 0; i < N; i++) {
    assert_true(jobs[i].id > 1);
    assert_int_equal(jobs[i].out, 2 * i);
    if (i > 0) assert_true(jobs[i].id > jobs[i - 1].id); /* in spawn order */
  }
  gort_chan_release(done);
}

static void task_go_null_einval(void **state) {
  (void)state;
  settle();
  gort_counters before, after;
  gort_get_counters(&before);
  int n = gort_num_tasks();
  assert_int_equal(gort_go(NULL, NULL), GORT_EINVAL);
  assert_int_equal(gort_go_named("x", NULL, &n), GORT_EINVAL);
  assert_int_equal(gort_num_tasks(), n);
  gort_get_counters(&after);
  assert_int_equal(after.spawned, before.spawned);
}

static void task_yield_returns(void **state) {
  (void)state;
  for (int i = 0; i < 10; i++) gort_yield();
  assert_int_equal(gort_task_id(), 1);
}

/* ---- registry ---- */

typedef struct {
  gort_chan *gate; /* the task blocks receiving from it */
  gort_chan *ids;  /* where it reports its id first (buffered), may be NULL */
  gort_chan *done;
} blocker;

static void block_on_gate(void *arg) {
  blocker *b = arg;
  if (b->ids) {
    uint64_t id = gort_task_id();
    gort_chan_send(b->ids, &id);
  }
  gort_chan_recv(b->gate, NULL, NULL);
  gort_chan_send(b->done, &(char){1});
}

static void block_on_send(void *arg) {
  blocker *b = arg;
  if (b->ids) {
    uint64_t id = gort_task_id();
    gort_chan_send(b->ids, &id);
  }
  gort_chan_send(b->gate, &(char){7});
  gort_chan_send(b->done, &(char){1});
}

static void task_num_tasks_counts_live(void **state) {
  (void)state;
  settle();
  int base = gort_num_tasks();
  assert_int_equal(base, 1);
  blocker b = {gort_test_make_chan(1, 0), NULL, gort_test_make_chan(1, 3)};
  for (int i = 0; i < 3; i++) assert_int_equal(gort_go(block_on_gate, &b), 0);
  /* Started tasks are live at once, as in Go (NumGoroutine counts them). */
  assert_int_equal(gort_num_tasks(), base + 3);
  assert_true(gort_test_wait_parked(block_on_gate, GORT_WAIT_CHAN_RECV, 3, WAIT_MS));
  assert_int_equal(gort_num_tasks(), base + 3);
  gort_counters c;
  gort_get_counters(&c);
  assert_true(c.live >= 4);
  assert_true(c.parked >= 3);
  assert_int_equal(gort_chan_close(b.gate), 0);
  gort_test_join(b.done, 3);
  assert_true(gort_test_eventually(num_tasks_is, (void *)(intptr_t)base, WAIT_MS));
  gort_chan_release(b.gate);
  gort_chan_release(b.done);
}

static void task_snapshot_named_spawn_site(void **state) {
  (void)state;
  blocker b = {gort_test_make_chan(1, 0), gort_test_make_chan(sizeof(uint64_t), 1),
               gort_test_make_chan(1, 1)};
  char name[32];
  snprintf(name, sizeof name, "snap-worker");
  /* spawned_at is read from the coarse clock (introspect.h): it is not
   * before that clock's reading here, and not after gort_now()'s later. */
  struct timespec ts;
  assert_int_equal(clock_gettime(CLOCK_MONOTONIC_COARSE, &ts), 0);
  int64_t c0 = (int64_t)ts.tv_sec * GORT_SECOND + ts.tv_nsec;
  int line = __LINE__ + 1;
  assert_int_equal(gort_go_named(name, block_on_gate, &b), 0);
  strcpy(name, "overwritten"); /* the runtime copied it */
  uint64_t id = 0;
  assert_int_equal(gort_chan_recv(b.ids, &id, NULL), 0);
  assert_true(gort_test_wait_parked(block_on_gate, GORT_WAIT_CHAN_RECV, 1, WAIT_MS));
  int64_t t1 = gort_now();

  gort_task_info ti;
  assert_true(gort_test_task_info(id, &ti));
  assert_int_equal(ti.id, id);
  assert_string_equal(ti.name, "snap-worker");
  assert_ptr_equal(ti.entry, (void *)block_on_gate);
  assert_false(ti.adopted);
  assert_int_equal(ti.parent_id, 1);
  assert_non_null(ti.file);
  assert_non_null(strstr(ti.file, "test_task.c"));
  assert_int_equal(ti.line, line);
  assert_non_null(ti.spawn_pc);
  assert_true(ti.tid > 0);
  assert_int_not_equal(ti.tid, getpid()); /* its own thread, not main's */
  assert_int_equal(ti.state, GORT_TASK_WAITING);
  assert_int_equal(ti.wait_reason, GORT_WAIT_CHAN_RECV);
  assert_in_range(ti.spawned_at, c0, t1);
  assert_in_range(ti.waiting_since, ti.spawned_at, t1);

  assert_int_equal(gort_chan_send(b.gate, &(char){0}), 0);
  gort_test_join(b.done, 1);
  gort_chan_release(b.gate);
  gort_chan_release(b.ids);
  gort_chan_release(b.done);
}

static void task_snapshot_long_name_truncated(void **state) {
  (void)state;
  blocker b = {gort_test_make_chan(1, 0), gort_test_make_chan(sizeof(uint64_t), 1),
               gort_test_make_chan(1, 1)};
  const char *longname = "a-task-name-that-is-much-longer-than-thirty-one-characters";
  assert_int_equal(gort_go_named(longname, block_on_gate, &b), 0);
  uint64_t id = 0;
  assert_int_equal(gort_chan_recv(b.ids, &id, NULL), 0);
  gort_task_info ti;
  assert_true(gort_test_task_info(id, &ti));
  assert_int_equal(strnlen(ti.name, sizeof ti.name), sizeof ti.name - 1);
  assert_memory_equal(ti.name, longname, sizeof ti.name - 1);
  gort_chan_send(b.gate, &(char){0});
  gort_test_join(b.done, 1);
  /* Unnamed tasks have "" as name. */
  assert_int_equal(gort_go(block_on_gate, &b), 0);
  assert_int_equal(gort_chan_recv(b.ids, &id, NULL), 0);
  assert_true(gort_test_task_info(id, &ti));
  assert_string_equal(ti.name, "");
  gort_chan_send(b.gate, &(char){0});
  gort_test_join(b.done, 1);
  gort_chan_release(b.gate);
  gort_chan_release(b.ids);
  gort_chan_release(b.done);
}

static void task_snapshot_sorted_and_count(void **state) {
  (void)state;
  settle();
  blocker b = {gort_test_make_chan(1, 0), NULL, gort_test_make_chan(1, 3)};
  for (int i = 0; i < 3; i++) assert_int_equal(gort_go(block_on_gate, &b), 0);
  assert_int_equal(gort_task_snapshot(NULL, 0), 4);
  gort_task_info one[1];
  assert_int_equal(gort_task_snapshot(one, 1), 4);
  assert_true(one[0].id >= 1); /* which subset a short buffer gets is unspecified */
  gort_task_info all[8];
  assert_int_equal(gort_task_snapshot(all, 8), 4);
  for (int i = 1; i < 4; i++) assert_true(all[i].id > all[i - 1].id);
  assert_int_equal(gort_chan_close(b.gate), 0);
  gort_test_join(b.done, 3);
  gort_chan_release(b.gate);
  gort_chan_release(b.done);
}

typedef struct {
  gort_task_info self;
  bool found;
  gort_chan *done;
} parent_probe;

static void report_self(void *arg) {
  parent_probe *p = arg;
  p->found = gort_test_task_info(gort_task_id(), &p->self);
  gort_chan_send(p->done, &(char){1});
}

typedef struct {
  uint64_t id;
  parent_probe child;
  gort_chan *done;
} parent_job;

static void spawn_child(void *arg) {
  parent_job *pj = arg;
  pj->id = gort_task_id();
  if (gort_go(report_self, &pj->child) == 0) gort_chan_recv(pj->child.done, NULL, NULL);
  gort_chan_send(pj->done, &(char){1});
}

static void task_parent_id_and_running_state(void **state) {
  (void)state;
  parent_job pj = {.done = gort_test_make_chan(1, 0)};
  pj.child.done = gort_test_make_chan(1, 0);
  assert_int_equal(gort_go(spawn_child, &pj), 0);
  gort_test_join(pj.done, 1);
  assert_true(pj.child.found);
  assert_int_equal(pj.child.self.parent_id, pj.id);
  assert_ptr_equal(pj.child.self.entry, (void *)report_self);
  assert_int_equal(pj.child.self.state, GORT_TASK_RUNNING); /* it was running itself */
  assert_int_equal(pj.child.self.waiting_since, 0);
  gort_chan_release(pj.done);
  gort_chan_release(pj.child.done);
}

static void task_spawn_traces(void **state) {
  (void)state;
  gort_set_spawn_traces(true);
  blocker b = {gort_test_make_chan(1, 0), gort_test_make_chan(sizeof(uint64_t), 1),
               gort_test_make_chan(1, 1)};
  assert_int_equal(gort_go(block_on_gate, &b), 0);
  gort_set_spawn_traces(false);
  uint64_t id = 0;
  assert_int_equal(gort_chan_recv(b.ids, &id, NULL), 0);
  gort_task_info ti;
  assert_true(gort_test_task_info(id, &ti));
  assert_in_range(ti.spawn_depth, 1, GORT_SPAWN_FRAMES);
  assert_non_null(ti.spawn_stack[0]);
  gort_chan_send(b.gate, &(char){0});
  gort_test_join(b.done, 1);
  gort_chan_release(b.gate);
  gort_chan_release(b.ids);
  gort_chan_release(b.done);
}

static void task_wait_reason_strings(void **state) {
  (void)state;
  assert_string_equal(gort_wait_reason_string(GORT_WAIT_CHAN_SEND), "chan send");
  assert_string_equal(gort_wait_reason_string(GORT_WAIT_CHAN_RECV), "chan receive");
  assert_string_equal(gort_wait_reason_string(GORT_WAIT_CHAN_SEND_NIL), "chan send (nil chan)");
  assert_string_equal(gort_wait_reason_string(GORT_WAIT_CHAN_RECV_NIL),
                      "chan receive (nil chan)");
  assert_string_equal(gort_wait_reason_string(GORT_WAIT_SELECT), "select");
  assert_string_equal(gort_wait_reason_string(GORT_WAIT_SELECT_NO_CASES), "select (no cases)");
  assert_string_equal(gort_wait_reason_string(GORT_WAIT_SLEEP), "sleep");
  assert_string_equal(gort_wait_reason_string(GORT_WAIT_SEMACQUIRE), "semacquire");
  assert_string_equal(gort_wait_reason_string(GORT_WAIT_WAITGROUP), "sync.WaitGroup.Wait");
  assert_string_equal(gort_wait_reason_string(GORT_WAIT_MUTEX), "sync.Mutex.Lock");
  /* Every reason has a distinct, non-empty string; out of range is not NULL. */
  for (int i = 1; i < GORT_WAIT__COUNT; i++) {
    const char *a = gort_wait_reason_string((gort_wait_reason)i);
    assert_non_null(a);
    assert_true(a[0] != '\0');
    for (int j = i + 1; j < GORT_WAIT__COUNT; j++)
      assert_string_not_equal(a, gort_wait_reason_string((gort_wait_reason)j));
  }
  assert_non_null(gort_wait_reason_string(GORT_WAIT__COUNT));
  assert_non_null(gort_wait_reason_string((gort_wait_reason)-1));
}

/* ---- dumps ---- */

static char *read_all(FILE *f) {
  long n = ftell(f);
  assert_true(n > 0);
  char *buf = malloc((size_t)n + 1);
  assert_non_null(buf);
  rewind(f);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  buf[n] = '\0';
  return buf;
}

static void task_dump_go_like(void **state) {
  (void)state;
  blocker r = {gort_test_make_chan(1, 0), gort_test_make_chan(sizeof(uint64_t), 1),
               gort_test_make_chan(1, 2)};
  blocker s = {gort_test_make_chan(1, 0), gort_test_make_chan(sizeof(uint64_t), 1), r.done};
  assert_int_equal(gort_go_named("dump-receiver", block_on_gate, &r), 0);
  assert_int_equal(gort_go(block_on_send, &s), 0);
  uint64_t rid = 0, sid = 0;
  assert_int_equal(gort_chan_recv(r.ids, &rid, NULL), 0);
  assert_int_equal(gort_chan_recv(s.ids, &sid, NULL), 0);
  assert_true(gort_test_wait_parked(block_on_gate, GORT_WAIT_CHAN_RECV, 1, WAIT_MS));
  assert_true(gort_test_wait_parked(block_on_send, GORT_WAIT_CHAN_SEND, 1, WAIT_MS));

  FILE *f = tmpfile();
  assert_non_null(f);
  gort_dump_tasks(f);
  fflush(f);
  char *text = read_all(f);
  fclose(f);
  char want[64];
  /* Go's header shape, "goroutine N [reason, T]:", named or not. */
  snprintf(want, sizeof want, "task %llu [chan receive", (unsigned long long)rid);
  bool ok = strstr(text, want) != NULL;
  snprintf(want, sizeof want, "task %llu [chan send", (unsigned long long)sid);
  ok = ok && strstr(text, want) != NULL;
  ok = ok && strstr(text, "task 1 [") != NULL;
  ok = ok && strstr(text, "dump-receiver") != NULL; /* the name is shown */
  ok = ok && strstr(text, "test_task.c") != NULL;   /* so is the spawn site */
  if (!ok) fprintf(stderr, "dump was:\n%s\n", text);
  free(text);
  assert_true(ok);

  char v = 0;
  assert_int_equal(gort_chan_send(r.gate, &(char){0}), 0);
  assert_int_equal(gort_chan_recv(s.gate, &v, NULL), 0);
  assert_int_equal(v, 7);
  gort_test_join(r.done, 2);
  gort_chan_release(r.gate);
  gort_chan_release(r.ids);
  gort_chan_release(s.gate);
  gort_chan_release(s.ids);
  gort_chan_release(r.done);
}

/* Scenario of task_sigquit_dump: a task parks on a channel, main waits
 * outside gort (so no deadlock), the parent sends SIGQUIT. Run in a fresh
 * process (fork + exec): TSan forbids new threads in a forked child. */
GORT_TEST_SCENARIO(sigquit_child) {
  gort_chan *c = NULL;
  if (gort_chan_make(&c, 1, 0) != 0) _exit(10);
  static blocker b;
  b = (blocker){c, NULL, NULL};
  if (gort_go_named("quit-victim", block_on_gate, &b) != 0) _exit(11);
  if (!gort_test_wait_parked(block_on_gate, GORT_WAIT_CHAN_RECV, 1, WAIT_MS)) _exit(12);
  gort_test_child_ready();
  for (;;) pause();
}

/* The child starts with SIGQUIT in disposition `inherited` (exec keeps
 * SIG_IGN and resets handlers to SIG_DFL), whatever this process has. */
static void sigquit_dump_from(void (*inherited)(int)) {
  struct sigaction sa, saved;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = inherited;
  sigemptyset(&sa.sa_mask);
  assert_int_equal(sigaction(SIGQUIT, &sa, &saved), 0);
  gort_test_child_result *r = malloc(sizeof *r);
  assert_non_null(r);
  bool ran = gort_test_exec_run("sigquit_child", 20000, SIGQUIT, r);
  assert_int_equal(sigaction(SIGQUIT, &saved, NULL), 0);
  assert_true(ran);
  bool ok = gort_test_child_exited(r, 2);
  ok = ok && strstr(r->err, "[chan receive") != NULL && strstr(r->err, "quit-victim") != NULL &&
       strstr(r->err, "task 1 [") != NULL;
  if (!ok) fprintf(stderr, "status 0x%x, stderr:\n%s\n", r->status, r->err);
  free(r);
  assert_true(ok);
}

static void task_sigquit_dump(void **state) {
  (void)state;
  sigquit_dump_from(SIG_DFL);
}

/* Started with SIGQUIT ignored (nohup, a background job, a CI runner): Go
 * still dumps, and so does gort. */
static void task_sigquit_dump_when_inherited_ignored(void **state) {
  (void)state;
  sigquit_dump_from(SIG_IGN);
}

/* ---- thread creation failure ---- */

static atomic_int should_not_run;

static void must_not_run(void *arg) {
  (void)arg;
  atomic_fetch_add(&should_not_run, 1);
}

static void task_thread_create_failure(void **state) {
  (void)state;
  atomic_store(&should_not_run, 0);
  gort_counters before, after;

  /* 1. No idle thread: the spawn needs pthread_create, which "fails". With
   * no helper thread around, the allocation balance is stable to compare. */
  settle();
  gort_runtime_quiesce();
  gort_get_counters(&before);
  gort_debug_fail_thread_create(1);
  assert_int_equal(gort_go(must_not_run, NULL), GORT_ETHREAD);
  assert_int_equal(gort_num_tasks(), 1);
  gort_get_counters(&after);
  assert_int_equal(after.spawned, before.spawned);
  assert_int_equal(after.live, before.live);
  assert_int_equal(after.threads_created, before.threads_created);
  assert_int_equal(after.allocs - after.frees, before.allocs - before.frees); /* no leak */

  /* 2. With an idle thread ready to serve the spawn: the injection covers
   * that path too. */
  job j = {.in = 1, .done = gort_test_make_chan(1, 0)};
  assert_int_equal(gort_go(double_it, &j), 0);
  gort_test_join(j.done, 1);
  settle();
  gort_get_counters(&before);
  gort_debug_fail_thread_create(2);
  assert_int_equal(gort_go(must_not_run, NULL), GORT_ETHREAD);
  assert_int_equal(gort_go_named("nope", must_not_run, NULL), GORT_ETHREAD);
  assert_int_equal(gort_num_tasks(), 1);
  gort_get_counters(&after);
  assert_int_equal(after.spawned, before.spawned);
  assert_int_equal(after.live, before.live);

  /* The injection is used up: the next spawn works. */
  j.in = 5;
  assert_int_equal(gort_go(double_it, &j), 0);
  gort_test_join(j.done, 1);
  assert_int_equal(j.out, 10);
  assert_int_equal(atomic_load(&should_not_run), 0);

  /* n = 0 turns it off. */
  gort_debug_fail_thread_create(5);
  gort_debug_fail_thread_create(0);
  assert_int_equal(gort_go(double_it, &j), 0);
  gort_test_join(j.done, 1);
  assert_int_equal(atomic_load(&should_not_run), 0);
  gort_chan_release(j.done);
}

/* ---- stacks ---- */

typedef struct {
  size_t bytes;
  unsigned sum;
  gort_chan *done;
} stack_job;

/* Touch `bytes` of stack in a variable-length array, so the frame really is
 * that big. */
static __attribute__((noinline)) unsigned use_stack(size_t bytes) {
  volatile unsigned char buf[bytes];
  for (size_t i = 0; i < bytes; i++) buf[i] = (unsigned char)i;
  unsigned s = 0;
  for (size_t i = 0; i < bytes; i += 512) s += buf[i];
  return s;
}

static void stack_user(void *arg) {
  stack_job *sj = arg;
  sj->sum = use_stack(sj->bytes);
  gort_chan_send(sj->done, &(char){1});
}

static unsigned expected_sum(size_t bytes) {
  unsigned s = 0;
  for (size_t i = 0; i < bytes; i += 512) s += (unsigned char)i;
  return s;
}

static void task_stack_size_settings(void **state) {
  (void)state;
  size_t def = gort_get_stack_size();
  /* 256 KiB by contract; sanitizer builds may choose more (their frames are
   * bigger), never less. */
  if (getenv("GORT_STACK_SIZE") == NULL) {
    if (GORT_TEST_TSAN || GORT_TEST_ASAN)
      assert_true(def >= 256 * 1024);
    else
      assert_int_equal(def, 256 * 1024);
  }
  assert_int_equal(gort_set_stack_size(0), GORT_EINVAL);
  assert_int_equal(gort_get_stack_size(), def);
  /* Below the platform minimum: raised to it. */
  assert_int_equal(gort_set_stack_size(1), 0);
  assert_true(gort_get_stack_size() >= 16384);
  stack_job sj = {.bytes = 1024, .done = gort_test_make_chan(1, 0)};
  assert_int_equal(gort_go(stack_user, &sj), 0); /* a tiny stack still runs */
  gort_test_join(sj.done, 1);
  assert_int_equal(sj.sum, expected_sum(1024));
  assert_int_equal(gort_set_stack_size(def), 0);
  assert_int_equal(gort_get_stack_size(), def);
  gort_chan_release(sj.done);
}

static void task_stack_default_fits_100k(void **state) {
  (void)state;
  stack_job sj = {.bytes = 100 * 1024, .done = gort_test_make_chan(1, 0)};
  assert_int_equal(gort_go(stack_user, &sj), 0);
  gort_test_join(sj.done, 1);
  assert_int_equal(sj.sum, expected_sum(sj.bytes));
  gort_chan_release(sj.done);
}

/* In another process, because a stack overflow would kill the test process.
 * An idle thread with the old, smaller stack exists when the size is raised:
 * the spawn must still get the new size. */
GORT_TEST_SCENARIO(stack_honoured_child) {
  static stack_job sj;
  if (gort_chan_make(&sj.done, 1, 0) != 0) _exit(10);
  sj.bytes = 1024;
  if (gort_go(stack_user, &sj) != 0) _exit(11); /* leaves an idle thread */
  gort_chan_recv(sj.done, NULL, NULL);
  if (!gort_test_eventually(num_tasks_is, (void *)(intptr_t)1, WAIT_MS)) _exit(12);
  if (gort_set_stack_size(4u << 20) != 0) _exit(13);
  if (gort_get_stack_size() != 4u << 20) _exit(14);
  sj.bytes = 3u << 20; /* would overflow the default 256 KiB */
  if (gort_go(stack_user, &sj) != 0) _exit(15);
  gort_chan_recv(sj.done, NULL, NULL);
  if (sj.sum != expected_sum(sj.bytes)) _exit(16);
  _exit(0);
}

static void task_stack_size_honoured(void **state) {
  (void)state;
  gort_test_child_result *r = malloc(sizeof *r);
  assert_non_null(r);
  assert_true(gort_test_exec_run("stack_honoured_child", 20000, 0, r));
  bool ok = gort_test_child_exited(r, 0);
  free(r);
  assert_true(ok);
}

/* ---- many tasks, counters ---- */

static atomic_int ran;

static void count_and_report(void *arg) {
  atomic_fetch_add(&ran, 1);
  gort_chan_send((gort_chan *)arg, &(char){1});
}

static bool exited_at_least(void *want) {
  gort_counters c;
  gort_get_counters(&c);
  return c.exited >= *(uint64_t *)want;
}

static void task_spawn_many(void **state) {
  (void)state;
  enum { N = 500 };
  atomic_store(&ran, 0);
  gort_chan *done = gort_test_make_chan(1, 16);
  gort_counters before, after;
  gort_get_counters(&before);
  for (int i = 0; i < N; i++) assert_int_equal(gort_go(count_and_report, done), 0);
  gort_test_join(done, N);
  assert_int_equal(atomic_load(&ran), N);
  gort_get_counters(&after);
  assert_int_equal(after.spawned - before.spawned, N);
  assert_true(after.peak_live >= 2);
  uint64_t want = before.exited + N;
  assert_true(gort_test_eventually(exited_at_least, &want, WAIT_MS));
  gort_get_counters(&after);
  /* Every spawn was served by a new or an idle thread (thread backend). */
  if (strcmp(gort_backend_name(), "thread") == 0)
    assert_true((after.threads_created - before.threads_created) +
                    (after.threads_reused - before.threads_reused) >=
                N);
  gort_chan_release(done);
}

static void task_quiesce_stops_helper_threads(void **state) {
  (void)state;
  job j = {.in = 1, .done = gort_test_make_chan(1, 0)};
  assert_int_equal(gort_go(double_it, &j), 0);
  gort_test_join(j.done, 1);
  assert_true(gort_test_eventually(num_tasks_is, (void *)(intptr_t)1, WAIT_MS));
  gort_counters before;
  gort_get_counters(&before);
  gort_runtime_quiesce();
  gort_counters c;
  gort_get_counters(&c);
  assert_int_equal(c.threads_idle, 0);
  /* The exited threads' counts (per thread while they ran) are kept. */
  assert_int_equal(c.spawned, before.spawned);
  assert_int_equal(c.exited, before.exited);
  assert_true(c.allocs >= before.allocs);
  pid_t tids[8];
  assert_int_equal(gort_runtime_threads(tids, 8), 0);
  gort_runtime_quiesce(); /* idempotent */
  /* And gort restarts on demand. */
  assert_int_equal(gort_go(double_it, &j), 0);
  gort_test_join(j.done, 1);
  gort_chan_release(j.done);
}

/* ---- adopted threads (in another process, so a misbehaving registry
 * cannot leak into the parent's teardown check) ---- */

static void *raw_thread(void *arg) {
  uint64_t *id = arg;
  id[0] = gort_task_id();
  id[1] = gort_task_id();
  gort_task_info ti;
  id[2] = gort_test_task_info(id[0], &ti) && ti.adopted;
  return NULL;
}

GORT_TEST_SCENARIO(adopt_child) {
  uint64_t id[3] = {0};
  pthread_t t;
  if (pthread_create(&t, NULL, raw_thread, id) != 0) _exit(10);
  pthread_join(t, NULL);
  if (id[0] <= 1) _exit(11);
  if (id[1] != id[0]) _exit(12);
  if (!id[2]) _exit(13);
  /* The thread is gone, so is its task. */
  if (!gort_test_eventually(num_tasks_is, (void *)(intptr_t)1, WAIT_MS)) _exit(14);
  _exit(0);
}

static void task_adopted_thread(void **state) {
  (void)state;
  gort_test_child_result *r = malloc(sizeof *r);
  assert_non_null(r);
  assert_true(gort_test_exec_run("adopt_child", 20000, 0, r));
  bool ok = gort_test_child_exited(r, 0);
  free(r);
  assert_true(ok);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(task_go_runs_fn_with_arg),
    cmocka_unit_test(task_main_is_task_1),
    cmocka_unit_test(task_ids_unique_increasing),
    cmocka_unit_test(task_go_null_einval),
    cmocka_unit_test(task_yield_returns),
    cmocka_unit_test(task_num_tasks_counts_live),
    cmocka_unit_test(task_snapshot_named_spawn_site),
    cmocka_unit_test(task_snapshot_long_name_truncated),
    cmocka_unit_test(task_snapshot_sorted_and_count),
    cmocka_unit_test(task_parent_id_and_running_state),
    cmocka_unit_test(task_spawn_traces),
    cmocka_unit_test(task_wait_reason_strings),
    cmocka_unit_test(task_dump_go_like),
    cmocka_unit_test(task_sigquit_dump),
    cmocka_unit_test(task_sigquit_dump_when_inherited_ignored),
    cmocka_unit_test(task_thread_create_failure),
    cmocka_unit_test(task_stack_size_settings),
    cmocka_unit_test(task_stack_default_fits_100k),
    cmocka_unit_test(task_stack_size_honoured),
    cmocka_unit_test(task_spawn_many),
    cmocka_unit_test(task_quiesce_stops_helper_threads),
    cmocka_unit_test(task_adopted_thread),
};

GORT_TEST_MAIN(tests)
