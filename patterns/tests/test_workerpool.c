/* test_workerpool.c - seed 004's Pool (Submit refuses when full, Stop drains
 * and waits) and the streaming pools of seeds 000 and 003. */
#include "ptest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gortp/workerpool.h"

enum { MAXN = 4096 };
static _Atomic int runs[MAXN];
static _Atomic int total_runs;

static void reset_runs(void) {
  for (int i = 0; i < MAXN; i++) atomic_store(&runs[i], 0);
  atomic_store(&total_runs, 0);
}

static int count_task(gort_context *ctx, void *arg) {
  (void)ctx;
  atomic_fetch_add(&runs[(intptr_t)arg], 1);
  atomic_fetch_add(&total_runs, 1);
  return 0;
}

static void pool_runs_every_task_once(void **state) {
  (void)state;
  int base = gort_num_tasks();
  reset_runs();
  gortp_workerpool *p;
  assert_int_equal(gortp_workerpool_new(&p, 4, 1000), 0);
  assert_int_equal(gortp_workerpool_start(p, NULL), 0);
  for (intptr_t i = 0; i < 1000; i++) assert_int_equal(gortp_workerpool_submit(p, count_task, (void *)i), 0);
  assert_int_equal(gortp_workerpool_stop(p), 0);
  /* stop drained and waited: everything ran before it returned. */
  assert_int_equal(atomic_load(&total_runs), 1000);
  for (int i = 0; i < 1000; i++) assert_int_equal(atomic_load(&runs[i]), 1);
  gortp_workerpool_stats st;
  gortp_workerpool_stats_get(p, &st);
  assert_int_equal(st.submitted, 1000);
  assert_int_equal(st.completed, 1000);
  assert_int_equal(st.failed, 0);
  assert_int_equal(st.rejected, 0);
  gortp_workerpool_free(p);
  assert_true(ptest_tasks_settle(base));
}

/* A task that reports it started, then waits for the gate to close. */
typedef struct {
  gort_chan *started, *gate;
} blocker;

static int blocking_task(gort_context *ctx, void *arg) {
  (void)ctx;
  blocker *b = arg;
  gort_chan_send(b->started, &(int){1});
  gort_chan_recv(b->gate, NULL, NULL);
  atomic_fetch_add(&total_runs, 1);
  return 0;
}

static void pool_submit_refuses_when_full(void **state) {
  (void)state;
  int base = gort_num_tasks();
  reset_runs();
  blocker b;
  assert_int_equal(GORT_CHAN_MAKE(&b.started, int, 0), 0);
  assert_int_equal(GORT_CHAN_MAKE(&b.gate, int, 0), 0);
  gortp_workerpool *p;
  assert_int_equal(gortp_workerpool_new(&p, 1, 2), 0);
  assert_int_equal(gortp_workerpool_start(p, NULL), 0);
  assert_int_equal(gortp_workerpool_submit(p, blocking_task, &b), 0);
  assert_int_equal(gort_chan_recv(b.started, NULL, NULL), 0); /* the worker is busy */
  assert_int_equal(gortp_workerpool_submit(p, count_task, (void *)1), 0);
  assert_int_equal(gortp_workerpool_submit(p, count_task, (void *)2), 0);
  assert_int_equal(gortp_workerpool_submit(p, count_task, (void *)3), GORT_EFULL); /* queue of 2 */
  gortp_workerpool_stats st;
  gortp_workerpool_stats_get(p, &st);
  assert_int_equal(st.submitted, 3);
  assert_int_equal(st.rejected, 1);
  gort_chan_close(b.gate);
  assert_int_equal(gortp_workerpool_stop(p), 0);
  assert_int_equal(atomic_load(&total_runs), 3);
  assert_int_equal(atomic_load(&runs[3]), 0);
  gortp_workerpool_free(p);
  gort_chan_release(b.started);
  gort_chan_release(b.gate);
  assert_true(ptest_tasks_settle(base));
}

/* In the seed, Submit after Stop sends on a closed channel: a panic. */
static void pool_submit_after_stop_is_refused(void **state) {
  (void)state;
  int *misuses = gort_test_misuse_return_mode();
  gortp_workerpool *p;
  assert_int_equal(gortp_workerpool_new(&p, 2, 4), 0);
  assert_int_equal(gortp_workerpool_start(p, NULL), 0);
  assert_int_equal(gortp_workerpool_stop(p), 0);
  assert_int_equal(gortp_workerpool_submit(p, count_task, (void *)0), GORT_ESHUTDOWN);
  assert_int_equal(gortp_workerpool_stop(p), 0); /* idempotent; the seed's double close panics */
  assert_int_equal(gortp_workerpool_start(p, NULL), GORT_EINVAL);
  assert_int_equal(*misuses, 0);
  gort_test_misuse_abort_mode();
  gortp_workerpool_free(p);
}

typedef struct {
  gortp_workerpool *p;
  int from, n;
  _Atomic int *accepted;
} submitter_arg;

static void submitter(void *arg) {
  submitter_arg *a = arg;
  for (int i = 0; i < a->n; i++) {
    int r = gortp_workerpool_submit(a->p, count_task, (void *)(intptr_t)(a->from + i));
    if (r == 0) atomic_fetch_add(a->accepted, 1);
    else if (r == GORT_ESHUTDOWN) break;
    else if (r == GORT_EFULL) gort_yield();
  }
}

/* Submitters race with stop: every accepted task runs exactly once, no
 * send meets a closed queue. */
static void pool_submit_racing_stop(void **state) {
  (void)state;
  int base = gort_num_tasks();
  reset_runs();
  int *misuses = gort_test_misuse_return_mode();
  gortp_workerpool *p;
  assert_int_equal(gortp_workerpool_new(&p, 3, 8), 0);
  assert_int_equal(gortp_workerpool_start(p, NULL), 0);
  _Atomic int accepted = 0;
  submitter_arg args[4];
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  for (int i = 0; i < 4; i++) {
    args[i] = (submitter_arg){p, i * 1000, 1000, &accepted};
    assert_int_equal(gort_waitgroup_go(&wg, submitter, &args[i]), 0);
  }
  while (atomic_load(&total_runs) < 100) gort_yield();
  assert_int_equal(gortp_workerpool_stop(p), 0);
  gort_waitgroup_wait(&wg);
  assert_int_equal(atomic_load(&total_runs), atomic_load(&accepted));
  for (int i = 0; i < 4000; i++) assert_true(atomic_load(&runs[i]) <= 1);
  assert_int_equal(*misuses, 0);
  gort_test_misuse_abort_mode();
  gortp_workerpool_free(p);
  assert_true(ptest_tasks_settle(base));
}

static int ctx_aware_task(gort_context *ctx, void *arg) {
  atomic_fetch_add(&runs[(intptr_t)arg], 1);
  atomic_fetch_add(&total_runs, 1);
  return gort_context_err(ctx);
}

/* Cancellation: workers stop; the tasks still queued are called once each
 * by stop, with the cancelled context (the seed never runs them). */
static void pool_cancel_still_calls_each_task_once(void **state) {
  (void)state;
  int base = gort_num_tasks();
  reset_runs();
  gort_context *ctx;
  assert_int_equal(gort_context_with_cancel(gort_context_background(), &ctx), 0);
  blocker b;
  assert_int_equal(GORT_CHAN_MAKE(&b.started, int, 0), 0);
  assert_int_equal(GORT_CHAN_MAKE(&b.gate, int, 0), 0);
  gortp_workerpool *p;
  assert_int_equal(gortp_workerpool_new(&p, 1, 10), 0);
  assert_int_equal(gortp_workerpool_start(p, ctx), 0);
  assert_int_equal(gortp_workerpool_submit(p, blocking_task, &b), 0);
  assert_int_equal(gort_chan_recv(b.started, NULL, NULL), 0);
  for (intptr_t i = 0; i < 10; i++) assert_int_equal(gortp_workerpool_submit(p, ctx_aware_task, (void *)i), 0);
  gort_context_cancel(ctx);
  assert_int_equal(gortp_workerpool_submit(p, ctx_aware_task, (void *)11), GORT_ECANCELED);
  gort_chan_close(b.gate); /* the busy worker finishes, sees the cancel, exits */
  assert_int_equal(gortp_workerpool_stop(p), GORT_ECANCELED);
  assert_int_equal(atomic_load(&total_runs), 11);
  for (int i = 0; i < 10; i++) assert_int_equal(atomic_load(&runs[i]), 1);
  gortp_workerpool_stats st;
  gortp_workerpool_stats_get(p, &st);
  assert_int_equal(st.failed, 10);
  assert_int_equal(st.completed, 1);
  gortp_workerpool_free(p);
  gort_context_free(ctx);
  gort_chan_release(b.started);
  gort_chan_release(b.gate);
  assert_true(ptest_tasks_settle(base));
}

static int failing_task(gort_context *ctx, void *arg) {
  (void)ctx;
  return (intptr_t)arg == 5 ? GORT_EIO : 0;
}

static void pool_stop_returns_first_task_error(void **state) {
  (void)state;
  gortp_workerpool *p;
  assert_int_equal(gortp_workerpool_new(&p, 2, 16), 0);
  assert_int_equal(gortp_workerpool_start(p, NULL), 0);
  for (intptr_t i = 0; i < 10; i++) assert_int_equal(gortp_workerpool_submit(p, failing_task, (void *)i), 0);
  assert_int_equal(gortp_workerpool_stop(p), GORT_EIO);
  gortp_workerpool_stats st;
  gortp_workerpool_stats_get(p, &st);
  assert_int_equal(st.failed, 1);
  assert_int_equal(st.completed, 9);
  gortp_workerpool_free(p);
}

static void pool_never_started_runs_queue_on_stop(void **state) {
  (void)state;
  reset_runs();
  gortp_workerpool *p;
  assert_int_equal(gortp_workerpool_new(&p, 2, 3), 0);
  for (intptr_t i = 0; i < 3; i++) assert_int_equal(gortp_workerpool_submit(p, count_task, (void *)i), 0);
  assert_int_equal(gortp_workerpool_submit(p, count_task, (void *)3), GORT_EFULL);
  gortp_workerpool_free(p); /* stop runs the three */
  assert_int_equal(atomic_load(&total_runs), 3);
}

static void pool_start_failure_leaves_pool_usable(void **state) {
  (void)state;
  int base = gort_num_tasks();
  reset_runs();
  gortp_workerpool *p;
  assert_int_equal(gortp_workerpool_new(&p, 3, 3), 0);
  gort_debug_fail_thread_create(1);
  assert_int_equal(gortp_workerpool_start(p, NULL), GORT_ETHREAD);
  gort_debug_fail_thread_create(0);
  assert_true(ptest_tasks_settle(base));
  assert_int_equal(gortp_workerpool_start(p, NULL), 0);
  assert_int_equal(gortp_workerpool_submit(p, count_task, (void *)0), 0);
  assert_int_equal(gortp_workerpool_stop(p), 0);
  assert_int_equal(atomic_load(&total_runs), 1);
  gortp_workerpool_free(p);
  assert_int_equal(gortp_workerpool_new(&p, 0, 3), GORT_EINVAL);
  assert_int_equal(gortp_workerpool_new(&p, 1, -1), GORT_EINVAL);
}

/* ---- streaming pools ---- */

typedef struct {
  int id;
  char payload[16];
} job;
typedef struct {
  int job_id;
  int worker;
  char output[64];
} result;

static void process_job(gort_context *ctx, const void *jv, void *rv, int worker, void *arg) {
  (void)ctx;
  (void)arg;
  const job *j = jv;
  result *r = rv;
  r->job_id = j->id;
  r->worker = worker;
  snprintf(r->output, sizeof r->output, "worker %d processed job %d: %s", worker, j->id,
           j->payload);
}

/* Seed 003's RunWorkerPool(5, 20): "processed 20 jobs". */
static void jobpool_processes_20_jobs(void **state) {
  (void)state;
  int base = gort_num_tasks();
  gort_chan *jobs, *results;
  assert_int_equal(GORT_CHAN_MAKE(&jobs, job, 20), 0);
  assert_int_equal(gortp_workerpool_jobs(NULL, 5, jobs, sizeof(result), process_job, NULL, &results), 0);
  for (int i = 0; i < 20; i++) {
    job j = {i, {0}};
    snprintf(j.payload, sizeof j.payload, "task-%d", i);
    assert_int_equal(gort_chan_send(jobs, &j), 0);
  }
  gort_chan_close(jobs);
  int seen[20] = {0}, n = 0;
  for (result r; GORT_CHAN_RANGE(results, &r); n++) {
    assert_true(r.job_id >= 0 && r.job_id < 20);
    assert_true(r.worker >= 0 && r.worker < 5);
    char want[64];
    snprintf(want, sizeof want, "worker %d processed job %d: task-%d", r.worker, r.job_id, r.job_id);
    assert_string_equal(r.output, want);
    seen[r.job_id]++;
  }
  assert_int_equal(n, 20);
  for (int i = 0; i < 20; i++) assert_int_equal(seen[i], 1);
  gort_chan_release(jobs);
  gort_chan_release(results);
  assert_true(ptest_tasks_settle(base));
}

/* Seed 000's pool under a context: cancelling closes the results channel
 * and stops every worker, though jobs is never closed. */
static void jobpool_cancel_closes_results(void **state) {
  (void)state;
  int base = gort_num_tasks();
  gort_context *ctx;
  assert_int_equal(gort_context_with_cancel(gort_context_background(), &ctx), 0);
  gort_chan *jobs, *results;
  assert_int_equal(GORT_CHAN_MAKE(&jobs, job, 100), 0);
  for (int i = 0; i < 100; i++) assert_int_equal(gort_chan_send(jobs, &(job){i, "x"}), 0);
  assert_int_equal(gortp_workerpool_jobs(ctx, 5, jobs, sizeof(result), process_job, NULL, &results), 0);
  result r;
  assert_int_equal(gort_chan_recv(results, &r, NULL), 0);
  gort_context_cancel(ctx);
  int extra = 0;
  while (gort_chan_recv(results, &r, NULL) == 0) extra++;
  assert_true(extra <= 5);
  assert_true(ptest_tasks_settle(base));
  assert_true(gort_chan_len(jobs) > 0); /* unprocessed jobs stay queued */
  gort_chan_release(jobs);
  gort_chan_release(results);
  gort_context_free(ctx);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(pool_runs_every_task_once),
    cmocka_unit_test(pool_submit_refuses_when_full),
    cmocka_unit_test(pool_submit_after_stop_is_refused),
    cmocka_unit_test(pool_submit_racing_stop),
    cmocka_unit_test(pool_cancel_still_calls_each_task_once),
    cmocka_unit_test(pool_stop_returns_first_task_error),
    cmocka_unit_test(pool_never_started_runs_queue_on_stop),
    cmocka_unit_test(pool_start_failure_leaves_pool_usable),
    cmocka_unit_test(jobpool_processes_20_jobs),
    cmocka_unit_test(jobpool_cancel_closes_results),
};

GORT_TEST_MAIN(tests)
