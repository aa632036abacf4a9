/* Seed 000 "Worker Pool (Bounded Concurrency)": 20 jobs, 5 workers, a
 * 5-second timeout; each result line names the worker that did the job
 * (which worker varies from run to run, as in Go). */
#include <stdio.h>

#include "gort/gort.h"
#include "gortp/workerpool.h"

typedef struct {
  int id;
  char payload[16];
} job;

typedef struct {
  int job_id;
  int err;
  char output[80];
} result;

static void process(gort_context *ctx, const void *jv, void *rv, int worker, void *arg) {
  (void)arg;
  const job *j = jv;
  result *r = rv;
  r->job_id = j->id;
  gort_sleep(100 * GORT_MILLISECOND); /* simulate work */
  r->err = gort_context_err(ctx);
  snprintf(r->output, sizeof r->output, "worker %d processed job %d: %s", worker, j->id,
           j->payload);
}

static void produce(void *arg) {
  gort_chan *jobs = arg;
  for (int i = 0; i < 20; i++) {
    job j = {i, {0}};
    snprintf(j.payload, sizeof j.payload, "task-%d", i);
    gort_chan_send(jobs, &j);
  }
  gort_chan_close(jobs); /* defer close(jobs) */
  gort_chan_release(jobs);
}

int main(void) {
  gort_context *ctx;
  if (gort_context_with_timeout(gort_context_background(), 5 * GORT_SECOND, &ctx)) return 1;
  gort_chan *jobs, *results;
  if (GORT_CHAN_MAKE(&jobs, job, 100)) return 1;
  if (gort_go(produce, gort_chan_retain(jobs))) return 1;
  if (gortp_workerpool_jobs(ctx, 5, jobs, sizeof(result), process, NULL, &results)) return 1;
  for (result r; GORT_CHAN_RANGE(results, &r);) {
    if (r.err) printf("Job %d failed: %s\n", r.job_id, gort_strerror(r.err));
    else printf("%s\n", r.output);
  }
  gort_chan_release(results);
  gort_chan_release(jobs);
  gort_context_free(ctx); /* defer cancel() */
  return 0;
}
