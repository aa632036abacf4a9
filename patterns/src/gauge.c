/* gauge.c - pressure gauge (gortp/gauge.h).
 *
 * Invariant: tokens in the channel + calls inside do == limit.
 */
#include "gortp/gauge.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "gort/chan.h"

struct gortp_gauge {
  gort_chan *tokens; /* capacity limit, initially full */
  int limit;
  _Atomic uint64_t rejected;
};

int gortp_gauge_new(gortp_gauge **out, int limit) {
  if (!out || limit < 1) return GORT_EINVAL;
  gortp_gauge *g = calloc(1, sizeof *g);
  if (!g) return GORT_ENOMEM;
  int r = gort_chan_make(&g->tokens, 1, limit);
  if (r != 0) {
    free(g);
    return r;
  }
  const char token = 0;
  for (int i = 0; i < limit; i++) gort_chan_send(g->tokens, &token);
  g->limit = limit;
  *out = g;
  return 0;
}

void gortp_gauge_free(gortp_gauge *g) {
  if (!g) return;
  gort_chan_release(g->tokens);
  free(g);
}

int gortp_gauge_do(gortp_gauge *g, void (*fn)(void *arg), void *arg) {
  if (!g || !fn) return GORT_EINVAL;
  char token;
  if (gort_chan_try_recv(g->tokens, &token, NULL) != 0) { /* select ... default */
    atomic_fetch_add(&g->rejected, 1);
    return GORT_EFULL;
  }
  fn(arg);
  gort_chan_send(g->tokens, &token); /* never blocks: our token's slot is free */
  return 0;
}

int gortp_gauge_in_use(gortp_gauge *g) {
  return g ? g->limit - (int)gort_chan_len(g->tokens) : 0;
}

uint64_t gortp_gauge_rejected(gortp_gauge *g) { return g ? atomic_load(&g->rejected) : 0; }
