/* donechan.c - request with timeout: leaking and fixed versions
 * (gortp/donechan.h).
 *
 * Invariants: the worker task owns its `req_task` record and one reference
 * to each channel (and the context); the caller holds its own references.
 * A value the worker produced is either received by the caller (who then
 * owns it) or passed to free_value by the worker; never both, never
 * neither -- except in the leaky version while its worker is stuck.
 */
#include "gortp/donechan.h"

#include <stdlib.h>

#include "gort/select.h"
#include "gort/task.h"
#include "gortp/ctxchan.h"

typedef struct {
  void *value;
  int err;
} reply;

typedef struct {
  gortp_donechan_fn req;
  gortp_donechan_ctx_fn req_ctx;
  void *arg;
  void (*free_value)(void *);
  gort_chan *result; /* unbuffered, of reply */
  gort_chan *done;   /* closed when the caller gives up; NULL with ctx */
  gort_context *ctx; /* ctx version only */
} req_task;

static void drop(void (*free_value)(void *), void *v) {
  if (free_value && v) free_value(v);
}

static void req_task_free(req_task *t) {
  gort_chan_release(t->result);
  gort_chan_release(t->done);
  if (t->ctx) gort_context_release(t->ctx);
  free(t);
}

/* Both the leaky and the fixed no-context version run this: request(),
 * then offer the value unless done is closed. What differs is whether the
 * caller ever closes done. */
static void plain_worker(void *p) {
  req_task *t = p;
  reply rp = {t->req(t->arg), 0}; /* evaluated before the select, as in Go */
  gort_select_case c[2] = {gort_case_send(t->result, &rp), gort_case_recv(t->done, NULL)};
  if (gort_select(c, 2) == 1) drop(t->free_value, rp.value); /* "request canceled" */
  req_task_free(t);
}

static void ctx_worker(void *p) {
  req_task *t = p;
  reply rp = {NULL, 0};
  rp.err = t->req_ctx(t->ctx, t->arg, &rp.value);
  gort_select_case c[2] = {gort_case_send(t->result, &rp),
                           gort_case_recv(gort_context_done(t->ctx), NULL)};
  if (gort_select(c, 2) == 1) drop(t->free_value, rp.value);
  req_task_free(t);
}

/* Make the channels and start the worker; *t_out keeps no reference of its
 * own for the caller: result/done are returned retained in res/done. */
static int start(req_task *t, gort_task_fn fn, gort_chan **res, gort_chan **done) {
  int r = gort_chan_make(&t->result, sizeof(reply), 0);
  if (r == 0 && done) r = gort_chan_make(&t->done, 1, 0);
  if (r != 0) {
    req_task_free(t);
    return r;
  }
  *res = gort_chan_retain(t->result);
  if (done) *done = gort_chan_retain(t->done);
  r = gort_go_named("request", fn, t);
  if (r != 0) {
    gort_chan_release(*res);
    if (done) gort_chan_release(*done);
    req_task_free(t);
  }
  return r;
}

/* select { case r := <-result: ...; case <-time.After(timeout): ... }
 * plus an optional extra case (ctx done). Returns the case index. */
static int wait_reply(gort_chan *result, reply *rp, gort_duration timeout, gort_chan *extra) {
  gort_timer *tm;
  if (gort_timer_new(&tm, timeout) != 0) return -1;
  gort_select_case c[3] = {gort_case_recv(result, rp), gort_case_recv(gort_timer_chan(tm), NULL),
                           gort_case_recv(extra, NULL)};
  int which = gort_select(c, 3);
  gort_timer_free(tm);
  return which;
}

static int plain_request(gortp_donechan_fn req, void *arg, gort_duration timeout, void **value,
                         void (*free_value)(void *), bool close_done, gort_chan **leaked_done) {
  if (!req || !value) return GORT_EINVAL;
  req_task *t = calloc(1, sizeof *t);
  if (!t) return GORT_ENOMEM;
  *t = (req_task){req, NULL, arg, free_value, NULL, NULL, NULL};
  gort_chan *result, *done;
  int r = start(t, plain_worker, &result, &done);
  if (r != 0) return r;
  reply rp;
  int which = wait_reply(result, &rp, timeout, NULL);
  if (which == 0) {
    *value = rp.value;
    r = 0;
  } else {
    r = which < 0 ? GORT_ENOMEM : GORT_ETIMEDOUT;
    /* The timer failing is a timeout we could not wait for: give up. */
    if (close_done) gort_chan_close(done); /* the fix: tell the worker */
  }
  if (leaked_done) *leaked_done = gort_chan_retain(done);
  gort_chan_release(done);
  gort_chan_release(result);
  return r;
}

int gortp_donechan_request_leaky(gortp_donechan_fn req, void *arg, gort_duration timeout, void **value,
                        void (*free_value)(void *), gort_chan **leaked_done) {
  return plain_request(req, arg, timeout, value, free_value, false, leaked_done);
}

int gortp_donechan_request_timeout(gortp_donechan_fn req, void *arg, gort_duration timeout, void **value,
                          void (*free_value)(void *)) {
  return plain_request(req, arg, timeout, value, free_value, true, NULL);
}

int gortp_donechan_request_ctx(gort_context *parent, gortp_donechan_ctx_fn req, void *arg,
                              gort_duration timeout, void **value, void (*free_value)(void *)) {
  if (!req || !value) return GORT_EINVAL;
  gort_context *ctx;
  int r = gort_context_with_cancel(gortp_ctxchan_or_background(parent), &ctx);
  if (r != 0) return r;
  req_task *t = calloc(1, sizeof *t);
  if (!t) {
    gort_context_free(ctx);
    return GORT_ENOMEM;
  }
  *t = (req_task){NULL, req, arg, free_value, NULL, NULL, gort_context_retain(ctx)};
  gort_chan *result;
  r = start(t, ctx_worker, &result, NULL);
  if (r != 0) {
    gort_context_free(ctx);
    return r;
  }
  reply rp;
  int which = wait_reply(result, &rp, timeout, gort_context_done(ctx));
  if (which == 0) {
    *value = rp.value;
    r = rp.err;
  } else if (which == 2) {
    r = gort_context_err(ctx); /* the parent was cancelled */
  } else {
    r = which < 0 ? GORT_ENOMEM : GORT_ETIMEDOUT;
  }
  gort_context_free(ctx); /* cancel() now, don't defer: the request returns */
  gort_chan_release(result);
  return r;
}
