/* service.c - the combined production service (see gortp/service.h).
 *
 * Shape (seed 004 "Pattern 7"), one run:
 *
 *   producer (errgroup task) --jobs (cap buffer_size)--> workers x N
 *   workers --results (cap buffer_size)--> the caller, ranging
 *   closer task: workers' WaitGroup.Wait(); close(results)
 *
 * Invariants:
 *  - jobs is closed exactly once, by the producer, on every exit path; so the
 *    workers' range over it always ends.
 *  - results is closed exactly once, by the closer, after every worker has
 *    left its loop; so the caller's range always ends, and no worker can
 *    send on a closed channel.
 *  - A worker that sees the context done while sending returns; the others
 *    drain jobs (processOne fails fast on a done context), so the run ends
 *    promptly after a timeout.
 *  - The run state lives on the caller's stack: the caller returns only
 *    after results is closed (every worker is past its last touch of the
 *    state) and after errgroup_wait (the producer is done). The closer holds
 *    its own reference to results and touches nothing after closing it.
 */
#include "gortp/service.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "gort/chan.h"
#include "gort/err.h"
#include "gort/errgroup.h"
#include "gort/select.h"
#include "gort/sync.h"
#include "gort/task.h"

static bool service_valid(const gortp_service *s) {
  return s->workers > 0 && s->buffer_size >= 0 && s->timeout > 0;
}

int gortp_service_init(gortp_service *s, int workers, int buffer_size, gort_duration timeout) {
  if (!s) return GORT_EINVAL;
  *s = (gortp_service){.workers = workers, .buffer_size = buffer_size, .timeout = timeout};
  return service_valid(s) ? 0 : GORT_EINVAL;
}

int gortp_service_process_one(gort_context *ctx, const gortp_service_job *job, char *out,
                              size_t outlen, void *arg) {
  (void)arg;
  int err = gort_context_err(ctx);
  if (err != 0) return err;
  snprintf(out, outlen, "processed-%s", job->id ? job->id : "");
  return 0;
}

struct run {
  const gortp_service *s;
  gort_context *gctx; /* the group's context, borrowed */
  const gortp_service_job *in;
  size_t n;
  gort_chan *jobs;    /* of const gortp_service_job * */
  gort_chan *results; /* of gortp_service_output */
  gort_waitgroup workers;
};

/* Send *elem on c unless ctx is done first: 0 or the ctx's error. */
static int send_ctx(gort_context *ctx, gort_chan *c, const void *elem) {
  gort_select_case cases[2] = {gort_case_send(c, elem),
                               gort_case_recv(gort_context_done(ctx), NULL)};
  int i = gort_select(cases, 2);
  if (i == 0) return 0;
  return i == 1 ? gort_context_err(ctx) : i;
}

static int producer(gort_context *ctx, void *arg) {
  struct run *r = arg;
  int rc = 0;
  for (size_t i = 0; i < r->n && rc == 0; i++) {
    const gortp_service_job *job = &r->in[i];
    rc = send_ctx(ctx, r->jobs, &job);
  }
  gort_chan_close(r->jobs); /* defer close(jobCh) */
  return rc;
}

static void worker(void *arg) {
  struct run *r = arg;
  gortp_service_fn fn = r->s->process ? r->s->process : gortp_service_process_one;
  const gortp_service_job *job;
  while (gort_chan_recv(r->jobs, &job, NULL) == 0) {
    gortp_service_output out = {.job = *job};
    out.err = fn(r->gctx, job, out.result, sizeof out.result, r->s->process_arg);
    if (send_ctx(r->gctx, r->results, &out) != 0) return;
  }
}

struct closer_arg {
  gort_waitgroup *workers;
  gort_chan *results; /* the closer's own reference */
};

static void closer(void *arg) {
  struct closer_arg *c = arg;
  gort_waitgroup_wait(c->workers);
  gort_chan *results = c->results;
  gort_chan_close(results);
  gort_chan_release(results);
}

/* Start the workers and the closer. On failure, the run is cancelled and the
 * results channel is still closed once the started workers are done. */
static int start_stage(struct run *r, gort_context *ctx, struct closer_arg *ca) {
  int rc = 0;
  for (int i = 0; i < r->s->workers && rc == 0; i++)
    rc = gort_waitgroup_go(&r->workers, worker, r);
  *ca = (struct closer_arg){&r->workers, gort_chan_retain(r->results)};
  int crc = gort_go_named("service-closer", closer, ca);
  if (crc != 0) {
    gort_context_cancel(ctx); /* workers give up, then close it here */
    gort_waitgroup_wait(&r->workers);
    gort_chan_close(r->results);
    gort_chan_release(r->results);
    rc = crc;
  } else if (rc != 0) {
    gort_context_cancel(ctx);
  }
  return rc;
}

int gortp_service_run(const gortp_service *s, gort_context *parent, const gortp_service_job *jobs,
                      size_t n, gortp_service_output *outputs, size_t *n_out) {
  if (n_out) *n_out = 0;
  if (!s || !parent || (n > 0 && (!jobs || !outputs)) || !service_valid(s)) return GORT_EINVAL;
  struct run r = {.s = s, .in = jobs, .n = n};
  gort_waitgroup_init(&r.workers);
  gort_context *ctx = NULL;
  gort_errgroup *g = NULL;
  int rc = gort_context_with_timeout(parent, s->timeout, &ctx);
  if (rc == 0) rc = gort_errgroup_with_context(ctx, &g, &r.gctx);
  if (rc == 0) rc = gort_errgroup_set_limit(g, s->workers);
  if (rc == 0) rc = gort_chan_make(&r.jobs, sizeof(const gortp_service_job *), s->buffer_size);
  if (rc == 0) rc = gort_chan_make(&r.results, sizeof(gortp_service_output), s->buffer_size);
  if (rc == 0) rc = gort_errgroup_go(g, producer, &r);

  size_t got = 0;
  if (rc == 0) {
    struct closer_arg ca;
    rc = start_stage(&r, ctx, &ca);
    /* for result := range resultCh: outputs = append(outputs, result) */
    gortp_service_output out;
    while (gort_chan_recv(r.results, &out, NULL) == 0)
      if (got < n) outputs[got++] = out;
    int grc = gort_errgroup_wait(g);
    if (rc == 0) rc = grc;
    /* The correction: outputs missing because the context ended is an
     * error even when the producer had already queued every job. */
    if (rc == 0 && got < n) rc = gort_context_err(ctx) ? gort_context_err(ctx) : GORT_ECANCELED;
  } else if (g && r.jobs) {
    gort_errgroup_wait(g);
  }
  gort_errgroup_free(g);
  gort_chan_release(r.jobs);
  gort_chan_release(r.results);
  if (ctx) gort_context_free(ctx);
  gort_waitgroup_destroy(&r.workers);
  if (n_out) *n_out = got;
  return rc;
}
