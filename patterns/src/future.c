/* future.c - futures (gortp/future.h).
 *
 * Invariants: `value` and `err` are written by the task before it closes
 * `done`, and never after; readers read them only after receiving from the
 * closed `done` (the channel close/receive is the happens-before edge).
 * `refs` counts the caller's references plus one held by the task until it
 * has closed `done`.
 */
#include "gortp/future.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "gort/chan.h"
#include "gort/select.h"
#include "gort/task.h"

struct gortp_future {
  _Atomic int refs;
  gortp_future_fn fn;
  void *arg;
  void (*free_value)(void *);
  gort_chan *done; /* closed when value and err are set */
  void *value;
  int err;
};

static void future_run(void *p) {
  gortp_future *f = p;
  f->err = f->fn(f->arg, &f->value);
  gort_chan_close(f->done); /* close(f.done) */
  gortp_future_release(f);
}

int gortp_future_new(gortp_future **out, gortp_future_fn fn, void *arg,
                     void (*free_value)(void *value)) {
  if (!out || !fn) return GORT_EINVAL;
  gortp_future *f = calloc(1, sizeof *f);
  if (!f) return GORT_ENOMEM;
  int r = gort_chan_make(&f->done, 1, 0);
  if (r != 0) {
    free(f);
    return r;
  }
  f->fn = fn;
  f->arg = arg;
  f->free_value = free_value;
  atomic_init(&f->refs, 2);
  r = gort_go_named("future", future_run, f);
  if (r != 0) {
    gort_chan_release(f->done);
    free(f);
    return r;
  }
  *out = f;
  return 0;
}

static int result(gortp_future *f, void **value) {
  if (value) *value = f->value;
  return f->err;
}

int gortp_future_get(gortp_future *f, void **value) {
  if (!f) return GORT_EINVAL;
  gort_chan_recv(f->done, NULL, NULL); /* <-f.done */
  return result(f, value);
}

int gortp_future_get_timeout(gortp_future *f, gort_duration timeout, void **value) {
  if (!f) return GORT_EINVAL;
  if (gort_chan_try_recv(f->done, NULL, NULL) != GORT_EAGAIN) return result(f, value);
  gort_context *ctx;
  int r = gort_context_with_timeout(gort_context_background(), timeout, &ctx);
  if (r != 0) return r;
  gortp_future_get_ctx(f, ctx, NULL);
  gort_context_free(ctx); /* stops its timer: no timer outlives the call */
  /* Not done means the deadline ended the wait (the future's own error may
   * be GORT_EDEADLINE too, so the code alone cannot tell). */
  return gortp_future_done(f) ? result(f, value) : GORT_ETIMEDOUT;
}

int gortp_future_get_ctx(gortp_future *f, gort_context *ctx, void **value) {
  if (!f) return GORT_EINVAL;
  gort_select_case cases[2] = {gort_case_recv(f->done, NULL),
                               gort_case_recv(ctx ? gort_context_done(ctx) : NULL, NULL)};
  /* Prefer the result when both are ready. */
  if (gort_chan_try_recv(f->done, NULL, NULL) != GORT_EAGAIN) return result(f, value);
  return gort_select(cases, 2) == 0 ? result(f, value) : gort_context_err(ctx);
}

bool gortp_future_done(gortp_future *f) {
  return f && gort_chan_try_recv(f->done, NULL, NULL) != GORT_EAGAIN;
}

gortp_future *gortp_future_retain(gortp_future *f) {
  if (f) atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
  return f;
}

void gortp_future_release(gortp_future *f) {
  if (!f || atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) != 1) return;
  if (f->free_value && f->value) f->free_value(f->value);
  gort_chan_release(f->done);
  free(f);
}
