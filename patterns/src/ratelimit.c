/* ratelimit.c - rate-limited bounded parallelism (gortp/ratelimit.h).
 *
 * Invariant: gortp_ratelimit_process never returns while an item it
 * started is running: every exit path goes through gort_errgroup_wait.
 */
#include "gortp/ratelimit.h"

#include <stdlib.h>

#include "gort/errgroup.h"
#include "gortp/ctxchan.h"

typedef struct {
  gortp_bounded_fn fn;
  void *arg;
  size_t index;
} rl_item;

static int rl_item_run(gort_context *ctx, void *p) {
  rl_item *it = p;
  return it->fn(ctx, it->index, it->arg);
}

int gortp_ratelimit_process(gort_context *ctx, gort_limiter *lim, int max_concurrency,
                               size_t n, gortp_bounded_fn fn, void *arg) {
  if (!lim || !fn || max_concurrency < 1) return GORT_EINVAL;
  rl_item *items = malloc((n ? n : 1) * sizeof *items);
  if (!items) return GORT_ENOMEM;
  gort_errgroup *g;
  gort_context *gctx;
  int r = gort_errgroup_with_context(gortp_ctxchan_or_background(ctx), &g, &gctx);
  if (r == 0 && (r = gort_errgroup_set_limit(g, max_concurrency)) != 0) gort_errgroup_free(g);
  if (r != 0) {
    free(items);
    return r;
  }
  int launch_err = 0;
  for (size_t i = 0; i < n && launch_err == 0; i++) {
    launch_err = gort_limiter_wait(lim, gctx);
    if (launch_err != 0) break; /* the seed returns here, leaving items running */
    items[i] = (rl_item){fn, arg, i};
    launch_err = gort_errgroup_go(g, rl_item_run, &items[i]);
  }
  r = gort_errgroup_wait(g);
  gort_errgroup_free(g);
  free(items);
  return r != 0 ? r : launch_err;
}

int gortp_ratelimit_call(gortp_ratelimit_client *c, gort_context *ctx,
                   int (*request)(gort_context *ctx, void *arg), void *arg) {
  if (!c || !c->limiter || !request) return GORT_EINVAL;
  ctx = gortp_ctxchan_or_background(ctx);
  int r = gort_limiter_wait(c->limiter, ctx); /* "rate limit wait: %w" */
  return r != 0 ? r : request(ctx, arg);
}

int gortp_ratelimit_try_call(gortp_ratelimit_client *c, gort_context *ctx,
                       int (*request)(gort_context *ctx, void *arg), void *arg) {
  if (!c || !c->limiter || !request) return GORT_EINVAL;
  int r = gort_limiter_allow(c->limiter);
  if (r != 0) return r; /* GORT_EAGAIN: "rate limit exceeded" */
  return request(gortp_ctxchan_or_background(ctx), arg);
}
