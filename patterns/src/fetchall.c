/* fetchall.c - errgroup fetch-all (gortp/fetchall.h).
 *
 * Invariants: task i writes only results[i]; the first failure is recorded
 * once (compare-and-swap on `first`), by the failing task, before it returns
 * its error to the group (which cancels the group's context).
 */
#include "gortp/fetchall.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gort/errgroup.h"
#include "gortp/ctxchan.h"

typedef struct {
  gortp_fetchall_fn fetch;
  void *arg;
  unsigned char *results;
  size_t result_size;
  _Atomic int64_t first; /* index of the first failure, or -1 */
  _Atomic int first_err;
} fetch_state;

typedef struct {
  fetch_state *s;
  size_t index;
} fetch_item;

static int fetch_run(gort_context *ctx, void *p) {
  fetch_item *it = p;
  fetch_state *s = it->s;
  void *slot = s->result_size ? s->results + it->index * s->result_size : NULL;
  if (slot) memset(slot, 0, s->result_size);
  int r = s->fetch(ctx, it->index, slot, s->arg);
  if (r != 0) {
    int64_t none = -1;
    if (atomic_compare_exchange_strong(&s->first, &none, (int64_t)it->index))
      atomic_store(&s->first_err, r);
  }
  return r;
}

int gortp_fetchall_run(gort_context *ctx, size_t n, int limit, gortp_fetchall_fn fetch, void *arg,
                    void *results, size_t result_size, size_t *failed_index) {
  if (failed_index) *failed_index = n;
  if (!fetch || (result_size > 0 && !results && n > 0)) return GORT_EINVAL;
  fetch_item *items = malloc((n ? n : 1) * sizeof *items);
  if (!items) return GORT_ENOMEM;
  fetch_state s = {fetch, arg, results, result_size, -1, 0};
  gort_errgroup *g;
  int r = gort_errgroup_with_context(gortp_ctxchan_or_background(ctx), &g, NULL);
  if (r == 0 && limit > 0 && (r = gort_errgroup_set_limit(g, limit)) != 0) gort_errgroup_free(g);
  if (r != 0) {
    free(items);
    return r;
  }
  int spawn_err = 0;
  for (size_t i = 0; i < n && spawn_err == 0; i++) {
    items[i] = (fetch_item){&s, i};
    spawn_err = gort_errgroup_go(g, fetch_run, &items[i]);
  }
  gort_errgroup_wait(g);
  gort_errgroup_free(g);
  free(items);
  int64_t first = atomic_load(&s.first);
  if (first >= 0) {
    if (failed_index) *failed_index = (size_t)first;
    return atomic_load(&s.first_err);
  }
  return spawn_err;
}
