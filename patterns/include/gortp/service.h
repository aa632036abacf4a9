/* gortp/service.h - the combined production service: worker pool +
 * pipeline + errgroup + context.
 *
 * Seed: 004 "Pattern 7: Production Concurrent Service - Combining
 * Patterns" (Service.Process: context.WithTimeout; errgroup.WithContext with
 * SetLimit(workers); a producer in the group feeding a buffered job channel;
 * `workers` worker tasks ranging over it and sending outputs on a buffered
 * result channel; a task that closes the result channel after the workers'
 * WaitGroup; the caller collecting by ranging over it; then g.Wait()).
 *
 * One correction, on purpose: in the seed, when the timeout expires after the
 * producer has queued every job, g.Wait() returns nil although the workers
 * gave up and outputs are missing (the troubleshooting table's "Concurrent
 * results missing"). Here Process returns the context's error whenever fewer
 * outputs than jobs were collected because the context ended; per-job errors
 * remain outputs (Output.Err), as in the seed.
 */
#ifndef GORTP_SERVICE_H
#define GORTP_SERVICE_H

#include "gort/export.h"

#include <stddef.h>

#include "gort/context.h"
#include "gort/timer.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GORTP_SERVICE_RESULT_MAX 96

/* Job{ID, Input}. Both are the caller's; the service only passes them on. */
typedef struct {
  const char *id;
  void *input;
} gortp_service_job;

/* Output{Job, Result, Err}. */
typedef struct {
  gortp_service_job job;
  char result[GORTP_SERVICE_RESULT_MAX];
  int err; /* 0 or the job's error (a GORT_E* code or your own negative code) */
} gortp_service_output;

/* processOne: write the result (a string) into out and return 0, or return
 * an error. Runs in a worker task; ctx is done when the service gives up. */
typedef int (*gortp_service_fn)(gort_context *ctx, const gortp_service_job *job, char *out,
                                size_t outlen, void *arg);

/* Service{workers, bufferSize, timeout}, plus the per-job function. */
typedef struct {
  int workers;           /* > 0 */
  int buffer_size;       /* job and result channel capacity, >= 0 */
  gort_duration timeout; /* for one Process call, > 0 */
  gortp_service_fn process; /* NULL: the seed's processOne, "processed-<id>" */
  void *process_arg;
} gortp_service;

/* NewService(workers, bufferSize, timeout) with the seed's processOne, on
 * caller storage. 0, or GORT_EINVAL (s NULL, workers <= 0, buffer_size < 0,
 * timeout <= 0); *s is filled in either way, and gortp_service_run rejects
 * the same values. */
GORT_API int gortp_service_init(gortp_service *s, int workers, int buffer_size,
                                gort_duration timeout);

/* The seed's processOne: the ctx's error if it is done, else
 * "processed-<id>". */
GORT_API int gortp_service_process_one(gort_context *ctx, const gortp_service_job *job, char *out,
                                       size_t outlen, void *arg);

/* Process(ctx, jobs): outputs[0..*n_out) in completion order (outputs has
 * room for n). Returns 0 when every job produced an output; the context's
 * error (GORT_EDEADLINE for the service's timeout, GORT_ECANCELED for a
 * cancelled parent) when it ended the run early, with the outputs collected
 * so far; GORT_EINVAL, GORT_ENOMEM, GORT_ETHREAD. Every task it starts has
 * exited when it returns. */
GORT_API int gortp_service_run(const gortp_service *s, gort_context *parent,
                               const gortp_service_job *jobs, size_t n,
                               gortp_service_output *outputs, size_t *n_out);

#ifdef __cplusplus
}
#endif
#endif
