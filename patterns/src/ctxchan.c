/* ctxchan.c - send/receive that stop on context cancellation.
 *
 * Invariant: a call that returns the context's error has neither sent nor
 * received anything, so the caller still owns the element it meant to send.
 */
#include "gortp/ctxchan.h"

#include "gort/select.h"
#include "gort/timer.h"

static gort_chan *done_of(gort_context *ctx) {
  return ctx ? gort_context_done(ctx) : NULL; /* NULL: a case that never fires */
}

gort_context *gortp_ctxchan_or_background(gort_context *ctx) {
  return ctx ? ctx : gort_context_background();
}

int gortp_ctxchan_err(gort_context *ctx) { return ctx ? gort_context_err(ctx) : 0; }

int gortp_ctxchan_send(gort_context *ctx, gort_chan *c, const void *elem) {
  gort_chan *done = done_of(ctx);
  if (!done) return gort_chan_send(c, elem);
  gort_select_case cases[2] = {gort_case_send(c, elem), gort_case_recv(done, NULL)};
  int r = gort_select(cases, 2);
  if (r == 0) return 0;
  if (r == 1) return gort_context_err(ctx);
  return r;
}

int gortp_ctxchan_recv(gort_context *ctx, gort_chan *c, void *elem) {
  gort_chan *done = done_of(ctx);
  if (!done) return gort_chan_recv(c, elem, NULL);
  gort_select_case cases[2] = {gort_case_recv(c, elem), gort_case_recv(done, NULL)};
  int r = gort_select(cases, 2);
  if (r == 0) return cases[0].ok ? 0 : GORT_ECLOSED;
  if (r == 1) return gort_context_err(ctx);
  return r;
}

int gortp_ctxchan_sleep(gort_context *ctx, gort_duration d) {
  gort_timer *t;
  int r = gort_timer_new(&t, d);
  if (r != 0) return r;
  r = gortp_ctxchan_recv(ctx, gort_timer_chan(t), NULL); /* a timer's channel never closes */
  gort_timer_free(t);
  return r;
}
