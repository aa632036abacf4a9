/* batcher.c - size- and interval-triggered batching (gortp/batcher.h).
 *
 * Invariants (all under `mu` unless noted):
 *  - buf holds n < batch_size items between calls (a batch is cut the moment
 *    it fills);
 *  - batches are cut with consecutive tickets (next_ticket++), and handled in
 *    ticket order: a cutter waits on `turn_cv` until turn == its ticket, runs
 *    the handler without holding mu, then advances turn and broadcasts;
 *  - closed is set once, by close, after the ticker task has exited; no item
 *    enters buf after that.
 */
#include "gortp/batcher.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gort/select.h"
#include "gort/sync.h"
#include "gort/task.h"
#include "gortp/ctxchan.h"
#include "gortp/lifecycle.h"

typedef enum { CUT_FULL, CUT_INTERVAL, CUT_FLUSH } cut_kind;

struct gortp_batcher {
  gortp_batcher_config cfg;
  gort_context *ctx;      /* retained; handed to the handler */
  gort_mutex mu;          /* protects everything below but the ticker fields */
  gort_cond turn_cv;      /* bound to mu */
  unsigned char *buf;     /* batch_size * item_size bytes */
  size_t n;
  uint64_t next_ticket, turn;
  bool closed;
  int close_result;
  gortp_batcher_stats stats;
  gort_context *tick_ctx; /* the ticker task's own context */
  gort_waitgroup tick_wg;
  gort_mutex close_lock;  /* serialises close */
  bool close_done;
};

/* Cut the buffer into a batch; mu held. Returns NULL (and *n = 0) when it
 * is empty or memory runs out (then the items stay buffered). */
static unsigned char *cut(gortp_batcher *b, size_t *n, uint64_t *ticket) {
  *n = 0;
  if (b->n == 0) return NULL;
  unsigned char *fresh = malloc(b->cfg.batch_size * b->cfg.item_size);
  if (!fresh) return NULL;
  unsigned char *batch = b->buf;
  *n = b->n;
  b->buf = fresh;
  b->n = 0;
  *ticket = b->next_ticket++;
  return batch;
}

/* Run the handler on a cut batch in ticket order; mu held on entry and
 * exit, released while the handler runs. */
static int handle(gortp_batcher *b, unsigned char *batch, size_t n, uint64_t ticket, cut_kind kind) {
  while (b->turn != ticket) gort_cond_wait(&b->turn_cv);
  gort_mutex_unlock(&b->mu);
  int r = b->cfg.handler(b->ctx, batch, n, b->cfg.arg);
  free(batch);
  gort_mutex_lock(&b->mu);
  b->turn++;
  gort_cond_broadcast(&b->turn_cv);
  b->stats.items += n;
  b->stats.batches++;
  if (kind == CUT_FULL) b->stats.full_batches++;
  if (kind == CUT_INTERVAL) b->stats.interval_batches++;
  if (r != 0) {
    b->stats.failed++;
    if (b->stats.first_error == 0) b->stats.first_error = r;
  }
  return r;
}

/* Cut and handle whatever is buffered; mu held. */
static int flush_locked(gortp_batcher *b, cut_kind kind) {
  size_t n;
  uint64_t ticket;
  unsigned char *batch = cut(b, &n, &ticket);
  if (!batch) return b->n ? GORT_ENOMEM : 0;
  return handle(b, batch, n, ticket, kind);
}

static void interval_flush(void *arg) {
  gortp_batcher *b = arg;
  gort_mutex_lock(&b->mu);
  flush_locked(b, CUT_INTERVAL); /* errors land in stats */
  gort_mutex_unlock(&b->mu);
}

static void ticker_task(void *arg) {
  gortp_batcher *b = arg;
  gortp_lifecycle_every(b->tick_ctx, b->cfg.flush_interval, interval_flush, b);
  gort_waitgroup_done(&b->tick_wg);
}

int gortp_batcher_new(gortp_batcher **out, gort_context *ctx, const gortp_batcher_config *cfg) {
  if (!out || !cfg || !cfg->handler || cfg->item_size == 0 || cfg->batch_size == 0 ||
      cfg->flush_interval < 0)
    return GORT_EINVAL;
  gortp_batcher *b = calloc(1, sizeof *b);
  if (!b) return GORT_ENOMEM;
  b->cfg = *cfg;
  b->buf = malloc(cfg->batch_size * cfg->item_size);
  if (!b->buf) {
    free(b);
    return GORT_ENOMEM;
  }
  gort_mutex_init(&b->mu);
  gort_mutex_init(&b->close_lock);
  gort_cond_init(&b->turn_cv, &b->mu);
  gort_waitgroup_init(&b->tick_wg);
  b->ctx = gort_context_retain(gortp_ctxchan_or_background(ctx));
  int r = 0;
  if (cfg->flush_interval > 0) {
    r = gort_context_with_cancel(b->ctx, &b->tick_ctx);
    if (r == 0) {
      gort_waitgroup_add(&b->tick_wg, 1);
      r = gort_go_named("batcher-ticker", ticker_task, b);
      if (r != 0) gort_waitgroup_done(&b->tick_wg);
    }
  }
  if (r != 0) {
    b->close_done = true; /* nothing to flush */
    gortp_batcher_free(b);
    return r;
  }
  *out = b;
  return 0;
}

int gortp_batcher_add(gortp_batcher *b, const void *item) {
  if (!b || !item) return GORT_EINVAL;
  gort_mutex_lock(&b->mu);
  int r = 0;
  if (b->closed) {
    r = GORT_ESHUTDOWN;
  } else {
    /* A full buffer is left only when memory ran out for a fresh one. */
    if (b->n == b->cfg.batch_size) flush_locked(b, CUT_FULL);
    if (b->n == b->cfg.batch_size) {
      r = GORT_ENOMEM;
    } else {
      memcpy(b->buf + b->n * b->cfg.item_size, item, b->cfg.item_size);
      b->n++;
      if (b->n == b->cfg.batch_size) r = flush_locked(b, CUT_FULL);
    }
  }
  gort_mutex_unlock(&b->mu);
  return r;
}

int gortp_batcher_flush(gortp_batcher *b) {
  if (!b) return GORT_EINVAL;
  gort_mutex_lock(&b->mu);
  int r = flush_locked(b, CUT_FLUSH);
  gort_mutex_unlock(&b->mu);
  return r;
}

int gortp_batcher_close(gortp_batcher *b) {
  if (!b) return GORT_EINVAL;
  gort_mutex_lock(&b->close_lock);
  if (!b->close_done) {
    if (b->tick_ctx) gort_context_cancel(b->tick_ctx);
    gort_waitgroup_wait(&b->tick_wg);
    gort_mutex_lock(&b->mu);
    b->closed = true;
    b->close_result = flush_locked(b, CUT_FLUSH);
    gort_mutex_unlock(&b->mu);
    b->close_done = true;
  }
  int r = b->close_result;
  gort_mutex_unlock(&b->close_lock);
  return r;
}

void gortp_batcher_stats_get(gortp_batcher *b, gortp_batcher_stats *out) {
  if (!out) return;
  memset(out, 0, sizeof *out);
  if (!b) return;
  gort_mutex_lock(&b->mu);
  *out = b->stats;
  gort_mutex_unlock(&b->mu);
}

void gortp_batcher_free(gortp_batcher *b) {
  if (!b) return;
  gortp_batcher_close(b);
  if (b->tick_ctx) gort_context_free(b->tick_ctx);
  gort_context_release(b->ctx);
  gort_waitgroup_destroy(&b->tick_wg);
  gort_cond_destroy(&b->turn_cv);
  gort_mutex_destroy(&b->close_lock);
  gort_mutex_destroy(&b->mu);
  free(b->buf);
  free(b);
}
