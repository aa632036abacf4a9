/* Seed 003 "Worker Pool Pattern": RunWorkerPool(5, 20) prints
 * "processed 20 jobs". */
#include <stdio.h>
#include <stdlib.h>

#include "gort/gort.h"
#include "gortp/workerpool.h"

typedef struct {
  int id;
} job;
typedef struct {
  int job_id;
  char output[64];
} result;

static void work(gort_context *ctx, const void *jv, void *rv, int worker, void *arg) {
  (void)ctx;
  (void)arg;
  const job *j = jv;
  result *r = rv;
  gort_sleep(50 * GORT_MILLISECOND); /* simulate work */
  r->job_id = j->id;
  snprintf(r->output, sizeof r->output, "worker %d processed job %d", worker, j->id);
}

/* Returns the number of results collected, or a negative error. */
static int run_worker_pool(int num_workers, int num_jobs, result **out) {
  gort_chan *jobs, *results;
  int r = gort_chan_make(&jobs, sizeof(job), num_jobs);
  if (r) return r;
  r = gortp_workerpool_jobs(NULL, num_workers, jobs, sizeof(result), work, NULL, &results);
  if (r) {
    gort_chan_release(jobs);
    return r;
  }
  for (int j = 0; j < num_jobs; j++) gort_chan_send(jobs, &(job){j});
  gort_chan_close(jobs); /* signal workers: no more jobs */
  *out = calloc((size_t)num_jobs, sizeof(result));
  int n = 0;
  for (result res; GORT_CHAN_RANGE(results, &res);)
    if (*out && n < num_jobs) (*out)[n++] = res;
  gort_chan_release(results);
  gort_chan_release(jobs);
  return n;
}

int main(void) {
  result *results = NULL;
  int n = run_worker_pool(5, 20, &results);
  if (n < 0) {
    fprintf(stderr, "worker pool: %s\n", gort_strerror(n));
    return 1;
  }
  printf("processed %d jobs\n", n);
  free(results);
  return 0;
}
