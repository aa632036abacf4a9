/* stage.c - generic stage pipeline with per-item errors (gortp/stage.h).
 *
 * Invariants:
 *  - chans[i] is stage i's output; only stage i's task closes it, once, on
 *    every exit path (or gortp_stage_new closes it when stage i could
 *    not be started);
 *  - every value received by a stage is passed on, consumed by process(),
 *    or destroyed with the destructor of the stage that produced it;
 *  - wg counts running stage tasks; gortp_stage_free waits for it
 *    before touching (freeing) anything the tasks use, and the tasks touch
 *    nothing of p after gort_waitgroup_done.
 */
#include "gortp/stage.h"

#include <stdlib.h>
#include <string.h>

#include "gort/sync.h"
#include "gort/task.h"
#include "gortp/ctxchan.h"

typedef struct {
  gortp_stage_pipeline *p;
  size_t index;
} stage_task;

struct gortp_stage_pipeline {
  gort_context *ctx; /* the pipeline's own child context; cancelled by free */
  gort_chan *source; /* retained */
  void (*free_source)(void *value);
  size_t n;
  gortp_stage *stages; /* copy of the caller's array */
  gort_chan **chans;   /* chans[i]: output of stage i (one reference each) */
  stage_task *tasks;   /* arguments of the stage tasks */
  gort_waitgroup wg;   /* running stage tasks */
};

static void destroy(void (*fn)(void *), void *value) {
  if (fn && value) fn(value);
}

/* Destructor for the values arriving at stage i. */
static void (*input_free(gortp_stage_pipeline *p, size_t i))(void *) {
  return i == 0 ? p->free_source : p->stages[i - 1].free_value;
}

/* Receive everything left on stage i's input and destroy it. */
static void drain_input(gortp_stage_pipeline *p, size_t i) {
  void (*fn)(void *) = input_free(p, i);
  if (i == 0) {
    void *v;
    while (gort_chan_recv(p->source, &v, NULL) == 0) destroy(fn, v);
    return;
  }
  gortp_stage_item it;
  while (gort_chan_recv(p->chans[i - 1], &it, NULL) == 0) destroy(fn, it.value);
}

/* Next item for stage i: 0, GORT_ECLOSED, or the context's error. */
static int next_item(gortp_stage_pipeline *p, size_t i, uint64_t *seq, gortp_stage_item *it) {
  if (i > 0) return gortp_ctxchan_recv(p->ctx, p->chans[i - 1], it);
  void *v;
  int r = gortp_ctxchan_recv(p->ctx, p->source, &v);
  if (r == 0) *it = (gortp_stage_item){v, 0, -1, (*seq)++};
  return r;
}

static void stage_run(void *arg) {
  stage_task *t = arg;
  gortp_stage_pipeline *p = t->p;
  size_t i = t->index;
  const gortp_stage *st = &p->stages[i];
  uint64_t seq = 0;
  for (;;) {
    gortp_stage_item it;
    int r = next_item(p, i, &seq, &it);
    if (r == GORT_ECLOSED) break;
    if (r != 0) { /* cancelled: keep upstream moving, destroying its output */
      drain_input(p, i);
      break;
    }
    if (it.err == 0) {
      void *o = NULL;
      int e = st->process(p->ctx, it.value, &o, st->arg);
      if (e != 0) it = (gortp_stage_item){NULL, e < 0 ? e : GORT_EFAILED, (int)i, it.seq};
      else it.value = o;
    }
    if (gortp_ctxchan_send(p->ctx, p->chans[i], &it) != 0) {
      destroy(st->free_value, it.value);
      drain_input(p, i);
      break;
    }
  }
  gort_chan_close(p->chans[i]);
  gort_waitgroup_done(&p->wg);
}

static void pipeline_destroy(gortp_stage_pipeline *p) {
  if (p->chans)
    for (size_t i = 0; i < p->n; i++) gort_chan_release(p->chans[i]);
  free(p->chans);
  free(p->tasks);
  free(p->stages);
  gort_chan_release(p->source);
  if (p->ctx) gort_context_free(p->ctx);
  gort_waitgroup_destroy(&p->wg);
  free(p);
}

static bool stages_valid(const gortp_stage *stages, size_t n) {
  if (!stages || n == 0) return false;
  for (size_t i = 0; i < n; i++)
    if (!stages[i].process || stages[i].buffer < 0) return false;
  return true;
}

int gortp_stage_new(gortp_stage_pipeline **out, gort_context *ctx, gort_chan *source,
                         void (*free_source)(void *value), const gortp_stage *stages,
                         size_t n) {
  if (!out || !source || gort_chan_elem_size(source) != sizeof(void *) ||
      !stages_valid(stages, n))
    return GORT_EINVAL;
  gortp_stage_pipeline *p = calloc(1, sizeof *p);
  if (!p) return GORT_ENOMEM;
  gort_waitgroup_init(&p->wg);
  p->n = n;
  p->free_source = free_source;
  p->source = gort_chan_retain(source);
  p->stages = malloc(n * sizeof *stages);
  p->chans = calloc(n, sizeof *p->chans);
  p->tasks = calloc(n, sizeof *p->tasks);
  int r = GORT_ENOMEM;
  if (!p->stages || !p->chans || !p->tasks) goto fail;
  memcpy(p->stages, stages, n * sizeof *stages);
  r = gort_context_with_cancel(gortp_ctxchan_or_background(ctx), &p->ctx);
  if (r != 0) goto fail;
  for (size_t i = 0; i < n; i++) {
    r = gort_chan_make(&p->chans[i], sizeof(gortp_stage_item), stages[i].buffer);
    if (r != 0) goto fail;
  }
  /* Start from the last stage, so that when stage k cannot be started,
   * closing its output stands in for it and the stages after it finish;
   * stage 0, the only one touching the source, is started last. */
  for (size_t k = n; k-- > 0;) {
    p->tasks[k] = (stage_task){p, k};
    gort_waitgroup_add(&p->wg, 1);
    r = gort_go_named("pipeline-stage", stage_run, &p->tasks[k]);
    if (r != 0) {
      gort_waitgroup_done(&p->wg);
      gort_context_cancel(p->ctx);
      gort_chan_close(p->chans[k]);
      gort_waitgroup_wait(&p->wg);
      goto fail;
    }
  }
  *out = p;
  return 0;
fail:
  pipeline_destroy(p);
  return r;
}

gort_chan *gortp_stage_output(gortp_stage_pipeline *p) { return p ? p->chans[p->n - 1] : NULL; }

void gortp_stage_cancel(gortp_stage_pipeline *p) {
  if (p) gort_context_cancel(p->ctx);
}

void gortp_stage_free(gortp_stage_pipeline *p) {
  if (!p) return;
  gort_context_cancel(p->ctx);
  void (*fn)(void *) = p->stages[p->n - 1].free_value;
  gortp_stage_item it;
  while (gort_chan_recv(p->chans[p->n - 1], &it, NULL) == 0) destroy(fn, it.value);
  gort_waitgroup_wait(&p->wg);
  pipeline_destroy(p);
}
