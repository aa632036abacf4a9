/* quota.c - weighted concurrency limiting over gort_semaphore
 * (gortp/quota.h).
 *
 * Invariant: every successful acquire is paired with exactly one release of
 * the same weight, after fn returns; a failed acquire changed nothing.
 */
#include "gortp/quota.h"

#include <stdlib.h>

#include "gort/semaphore.h"
#include "gortp/ctxchan.h"

struct gortp_quota {
  gort_semaphore *sem;
  int64_t max;
};

int gortp_quota_new(gortp_quota **out, int64_t max_weight) {
  if (!out || max_weight <= 0) return GORT_EINVAL;
  gortp_quota *q = malloc(sizeof *q);
  if (!q) return GORT_ENOMEM;
  int r = gort_semaphore_new(&q->sem, max_weight);
  if (r != 0) {
    free(q);
    return r;
  }
  q->max = max_weight;
  *out = q;
  return 0;
}

void gortp_quota_free(gortp_quota *q) {
  if (!q) return;
  gort_semaphore_free(q->sem);
  free(q);
}

int gortp_quota_do(gortp_quota *q, gort_context *ctx, int64_t weight, int (*fn)(void *arg),
                   void *arg) {
  if (!q || !fn || weight <= 0 || weight > q->max) return GORT_EINVAL;
  int r = gort_semaphore_acquire(q->sem, gortp_ctxchan_or_background(ctx), weight);
  if (r != 0) return r;
  r = fn(arg);
  gort_semaphore_release(q->sem, weight); /* defer r.sem.Release(weight) */
  return r;
}

int gortp_quota_do_timeout(gortp_quota *q, gort_context *ctx, int64_t weight,
                           gort_duration timeout, int (*fn)(void *arg), void *arg) {
  if (!q || !fn || weight <= 0 || weight > q->max) return GORT_EINVAL;
  gort_context *actx;
  int r = gort_context_with_timeout(gortp_ctxchan_or_background(ctx), timeout, &actx);
  if (r != 0) return r;
  r = gort_semaphore_acquire(q->sem, actx, weight);
  gort_context_free(actx); /* only the acquire is bounded by the timeout */
  if (r != 0) return r;
  r = fn(arg);
  gort_semaphore_release(q->sem, weight);
  return r;
}

int64_t gortp_quota_held(gortp_quota *q) { return q ? gort_semaphore_held(q->sem) : 0; }
int gortp_quota_waiters(gortp_quota *q) { return q ? gort_semaphore_waiters(q->sem) : 0; }
