/* gortp/stage.h - a generic stage pipeline with per-item errors.
 *
 * Seed: 004 "Pattern 3: Pipeline - Stage-Based Processing" (NewStage,
 * NewPipeline: validate -> enrich -> transform, each stage a task with a
 * buffered output channel, all stages stop on context cancellation).
 *
 * Items are void *. A stage function consumes its input and produces one
 * output or an error:
 *
 *     int fn(gort_context *ctx, void *in, void **out, void *arg);
 *
 * The seed's stage silently drops an item whose processing failed
 * (`if err != nil { continue }`): the caller cannot tell a failure from a
 * filter. Here the failure travels downstream in place of the item, so the
 * consumer receives exactly one gortp_stage_item per source item, in source
 * order, either with a value or with the error and the failing stage.
 *
 * Ownership:
 *  - the source channel carries void * values; the pipeline retains it, and
 *    its sender must close it when done (the Go rule). After cancellation
 *    the pipeline keeps receiving from it and destroys what arrives, so that
 *    sender never blocks forever;
 *  - fn owns `in` from the call on: it frees or reuses it, also when it
 *    fails. On success *out belongs to the pipeline;
 *  - a value the pipeline has to drop (cancellation, gortp_stage_free)
 *    is destroyed with the destructor of the stage that produced it
 *    (free_source for source values); a NULL destructor means "not owned";
 *  - the consumer owns the value of each gortp_stage_item it receives.
 */
#ifndef GORTP_STAGE_H
#define GORTP_STAGE_H

#include "gort/export.h"

#include <stddef.h>
#include <stdint.h>

#include "gort/chan.h"
#include "gort/context.h"
#include "gort/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the output channel carries. */
typedef struct {
  void *value;  /* the last stage's output; NULL when err != 0 */
  int err;      /* 0, or the negative code the failing stage returned */
  int stage;    /* index of the failing stage; -1 when err == 0 */
  uint64_t seq; /* the item's position in the source, from 0 */
} gortp_stage_item;

typedef int (*gortp_stage_fn)(gort_context *ctx, void *in, void **out, void *arg);

typedef struct {
  gortp_stage_fn process;
  void *arg;
  void (*free_value)(void *value); /* destroys this stage's outputs; NULL: not owned */
  long buffer;                     /* capacity of the stage's output channel */
} gortp_stage;

typedef struct gortp_stage_pipeline gortp_stage_pipeline;

/* Start one task per stage. ctx may be NULL (Background); the pipeline runs
 * under its own child of it. stages[] is copied. Returns 0, GORT_EINVAL
 * (NULL out/source/stages, n == 0, a stage without process, a negative
 * buffer), GORT_ENOMEM or GORT_ETHREAD; on error nothing runs. */
GORT_API int gortp_stage_new(gortp_stage_pipeline **out, gort_context *ctx, gort_chan *source,
                                  void (*free_source)(void *value), const gortp_stage *stages,
                                  size_t n);

/* The channel of gortp_stage_item, closed after the last item. Owned by the
 * pipeline (retain it to keep it past gortp_stage_free). */
GORT_API gort_chan *gortp_stage_output(gortp_stage_pipeline *p);

/* Cancel the pipeline's context: stages stop processing and drain. */
GORT_API void gortp_stage_cancel(gortp_stage_pipeline *p);

/* Cancel, destroy every item still in flight (draining the output), wait
 * until every stage task has exited, and free p. Returns after the source's
 * sender has closed the source. */
GORT_API void gortp_stage_free(gortp_stage_pipeline *p);

#ifdef __cplusplus
}
#endif
#endif
