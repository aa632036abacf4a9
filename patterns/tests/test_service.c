/* test_service.c - the combined production service (seed 004 "Pattern 7":
 * worker pool + pipeline + errgroup + context). */
#include "ptest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gortp/service.h"
#include "gortp/ctxchan.h"

#define NJOBS 64

typedef struct {
  char ids[NJOBS][16];
  gortp_service_job jobs[NJOBS];
  gortp_service_output out[NJOBS];
} batch;

static void make_jobs(batch *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    snprintf(b->ids[i], sizeof b->ids[i], "job-%zu", i);
    b->jobs[i] = (gortp_service_job){b->ids[i], (void *)(intptr_t)i};
  }
}

/* Index of the job an output belongs to, checked against its id. */
static size_t job_index(const gortp_service_output *o) {
  size_t i = (size_t)(intptr_t)o->job.input;
  char want[16];
  snprintf(want, sizeof want, "job-%zu", i);
  assert_string_equal(o->job.id, want);
  return i;
}

static void service_processes_every_job_once(void **state) {
  (void)state;
  int base = gort_num_tasks();
  batch *b = calloc(1, sizeof *b);
  make_jobs(b, 50);
  gortp_service s;
  assert_int_equal(gortp_service_init(&s, 4, 8, 5 * GORT_SECOND), 0);
  size_t n = 0;
  assert_int_equal(gortp_service_run(&s, gort_context_background(), b->jobs, 50, b->out, &n), 0);
  assert_int_equal(n, 50);
  int seen[50] = {0};
  for (size_t k = 0; k < n; k++) {
    size_t i = job_index(&b->out[k]);
    assert_int_equal(b->out[k].err, 0);
    char want[32];
    snprintf(want, sizeof want, "processed-job-%zu", i);
    assert_string_equal(b->out[k].result, want);
    seen[i]++;
  }
  for (int i = 0; i < 50; i++) assert_int_equal(seen[i], 1);
  free(b);
  assert_true(ptest_tasks_settle(base));
}

/* The seed's NewService(…) with an unbuffered pipeline works too. */
static void service_unbuffered_channels(void **state) {
  (void)state;
  int base = gort_num_tasks();
  batch *b = calloc(1, sizeof *b);
  make_jobs(b, 20);
  gortp_service s;
  assert_int_equal(gortp_service_init(&s, 3, 0, 5 * GORT_SECOND), 0);
  size_t n = 0;
  assert_int_equal(gortp_service_run(&s, gort_context_background(), b->jobs, 20, b->out, &n), 0);
  assert_int_equal(n, 20);
  free(b);
  assert_true(ptest_tasks_settle(base));
}

/* Per-job errors are outputs, not a failure of the run (as in the seed). */
static int fail_odd(gort_context *ctx, const gortp_service_job *job, char *out, size_t len,
                    void *arg) {
  (void)ctx;
  (void)arg;
  if ((intptr_t)job->input % 2) return GORT_EFAILED;
  snprintf(out, len, "even-%s", job->id);
  return 0;
}

static void service_job_errors_are_outputs(void **state) {
  (void)state;
  int base = gort_num_tasks();
  batch *b = calloc(1, sizeof *b);
  make_jobs(b, 10);
  gortp_service s;
  assert_int_equal(gortp_service_init(&s, 2, 4, 5 * GORT_SECOND), 0);
  s.process = fail_odd;
  size_t n = 0;
  assert_int_equal(gortp_service_run(&s, gort_context_background(), b->jobs, 10, b->out, &n), 0);
  assert_int_equal(n, 10);
  for (size_t k = 0; k < n; k++) {
    size_t i = job_index(&b->out[k]);
    assert_int_equal(b->out[k].err, i % 2 ? GORT_EFAILED : 0);
    if (i % 2 == 0) assert_true(strncmp(b->out[k].result, "even-job-", 9) == 0);
  }
  free(b);
  assert_true(ptest_tasks_settle(base));
}

/* A job that takes 100 ms unless the context ends first. */
static int slow_job(gort_context *ctx, const gortp_service_job *job, char *out, size_t len,
                    void *arg) {
  (void)arg;
  int rc = gortp_ctxchan_sleep(ctx, 100 * GORT_MILLISECOND);
  if (rc == 0) snprintf(out, len, "processed-%s", job->id);
  return rc;
}

/* The timeout expires after the producer has queued every job (buffer >=
 * jobs): the seed's Process returns nil with outputs missing; gort's returns
 * the deadline error, promptly, with the outputs collected so far. */
static void service_timeout_reports_missing_outputs(void **state) {
  (void)state;
  int base = gort_num_tasks();
  batch *b = calloc(1, sizeof *b);
  make_jobs(b, 20);
  gortp_service s;
  assert_int_equal(gortp_service_init(&s, 2, 32, 150 * GORT_MILLISECOND), 0);
  s.process = slow_job;
  size_t n = 0;
  int64_t t0 = gort_now();
  int rc = gortp_service_run(&s, gort_context_background(), b->jobs, 20, b->out, &n);
  int64_t took = (gort_now() - t0) / GORT_MILLISECOND;
  assert_int_equal(rc, GORT_EDEADLINE);
  assert_true(n < 20);
  assert_true(took >= 140 && took < 2000);
  for (size_t k = 0; k < n; k++) {
    job_index(&b->out[k]);
    if (b->out[k].err == 0) assert_true(strncmp(b->out[k].result, "processed-job-", 14) == 0);
    else assert_int_equal(b->out[k].err, GORT_EDEADLINE);
  }
  free(b);
  assert_true(ptest_tasks_settle(base));
}

struct cancel_later {
  gort_context *ctx;
  gort_chan *done;
};

static void cancel_after_50ms(void *arg) {
  struct cancel_later *c = arg;
  gort_sleep(50 * GORT_MILLISECOND);
  gort_context_cancel(c->ctx);
  gort_chan *done = c->done; /* the task's own reference: close is its last act */
  gort_chan_close(done);
  gort_chan_release(done);
}

static void service_parent_cancel(void **state) {
  (void)state;
  int base = gort_num_tasks();
  batch *b = calloc(1, sizeof *b);
  make_jobs(b, 30);
  gortp_service s;
  assert_int_equal(gortp_service_init(&s, 2, 2, 10 * GORT_SECOND), 0);
  s.process = slow_job;
  struct cancel_later c;
  assert_int_equal(gort_context_with_cancel(gort_context_background(), &c.ctx), 0);
  GORT_CHAN_MAKE(&c.done, char, 0);
  gort_chan_retain(c.done);
  assert_int_equal(gort_go(cancel_after_50ms, &c), 0);
  size_t n = 0;
  assert_int_equal(gortp_service_run(&s, c.ctx, b->jobs, 30, b->out, &n), GORT_ECANCELED);
  assert_true(n < 30);
  gort_chan_recv(c.done, NULL, NULL);
  gort_chan_release(c.done);
  gort_context_free(c.ctx);
  free(b);
  assert_true(ptest_tasks_settle(base));
}

/* At most `workers` jobs are processed at once. */
typedef struct {
  gort_mutex lock; /* protects active, max */
  int active, max;
} gauge;

static int gauged(gort_context *ctx, const gortp_service_job *job, char *out, size_t len,
                  void *arg) {
  gauge *g = arg;
  gort_mutex_lock(&g->lock);
  if (++g->active > g->max) g->max = g->active;
  gort_mutex_unlock(&g->lock);
  gort_sleep(2 * GORT_MILLISECOND);
  int rc = gortp_service_process_one(ctx, job, out, len, NULL);
  gort_mutex_lock(&g->lock);
  g->active--;
  gort_mutex_unlock(&g->lock);
  return rc;
}

static void service_workers_bound_concurrency(void **state) {
  (void)state;
  int base = gort_num_tasks();
  batch *b = calloc(1, sizeof *b);
  make_jobs(b, 40);
  gauge g = {.lock = GORT_MUTEX_INIT};
  gortp_service s;
  assert_int_equal(gortp_service_init(&s, 3, 8, 10 * GORT_SECOND), 0);
  s.process = gauged;
  s.process_arg = &g;
  size_t n = 0;
  assert_int_equal(gortp_service_run(&s, gort_context_background(), b->jobs, 40, b->out, &n), 0);
  assert_int_equal(n, 40);
  assert_true(g.max >= 1 && g.max <= 3);
  free(b);
  assert_true(ptest_tasks_settle(base));
}

static void service_rejects_bad_arguments(void **state) {
  (void)state;
  gortp_service_output out[1];
  gortp_service_job job = {"x", NULL};
  size_t n = 7;
  gortp_service s;
  assert_int_equal(gortp_service_init(&s, 0, 1, GORT_SECOND), GORT_EINVAL);
  assert_int_equal(gortp_service_run(&s, gort_context_background(), &job, 1, out, &n),
                   GORT_EINVAL);
  assert_int_equal(n, 0);
  assert_int_equal(gortp_service_init(&s, 1, 1, 0), GORT_EINVAL);
  assert_int_equal(gortp_service_run(&s, gort_context_background(), &job, 1, out, &n),
                   GORT_EINVAL);
  assert_int_equal(gortp_service_init(&s, 1, 1, GORT_SECOND), 0);
  assert_int_equal(gortp_service_init(NULL, 1, 1, GORT_SECOND), GORT_EINVAL);
  assert_int_equal(gortp_service_run(&s, gort_context_background(), &job, 0, out, &n), 0);
  assert_int_equal(n, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(service_processes_every_job_once),
      cmocka_unit_test(service_unbuffered_channels),
      cmocka_unit_test(service_job_errors_are_outputs),
      cmocka_unit_test(service_timeout_reports_missing_outputs),
      cmocka_unit_test(service_parent_cancel),
      cmocka_unit_test(service_workers_bound_concurrency),
      cmocka_unit_test(service_rejects_bad_arguments),
  };
  return cmocka_run_group_tests(tests, gort_test_group_setup, gort_test_group_teardown);
}
