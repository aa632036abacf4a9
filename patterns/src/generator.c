/* generator.c - generators (gortp/generator.h).
 *
 * Invariant: the task owns its state and one reference to ctx and the
 * channel; it closes the channel exactly once, when the sequence ends or
 * ctx is done, then drops everything.
 */
#include "gortp/generator.h"

#include <stdlib.h>
#include <string.h>

#include "gort/task.h"
#include "gortp/ctxchan.h"

typedef struct {
  gort_context *ctx;
  gort_chan *out;
  gortp_generator_fn next;
  size_t elem_size;
  unsigned char *elem;
  unsigned char state[]; /* the caller's state, copied */
} gen_task;

static void gen_free(gen_task *g) {
  gort_chan_release(g->out);
  gort_context_release(g->ctx);
  free(g->elem);
  free(g);
}

static void gen_run(void *p) {
  gen_task *g = p;
  /* Like the seed's loop: the value is computed before the select; only a
   * receiver or the cancellation moves it on. */
  while (gort_context_err(g->ctx) == 0 && g->next(g->state, g->elem) == 0)
    if (gortp_ctxchan_send(g->ctx, g->out, g->elem) != 0) break;
  gort_chan_close(g->out);
  gen_free(g);
}

int gortp_generator_new(gort_context *ctx, size_t elem_size, gortp_generator_fn next, const void *state,
                   size_t state_size, gort_chan **out) {
  ctx = gortp_ctxchan_or_background(ctx);
  if (!next || !out || elem_size == 0 || (state_size > 0 && !state)) return GORT_EINVAL;
  gen_task *g = calloc(1, sizeof *g + state_size);
  if (!g) return GORT_ENOMEM;
  g->elem = malloc(elem_size);
  gort_chan *c = NULL;
  int r = g->elem ? gort_chan_make(&c, elem_size, 0) : GORT_ENOMEM;
  if (r != 0) {
    free(g->elem);
    free(g);
    return r;
  }
  if (state_size) memcpy(g->state, state, state_size);
  g->next = next;
  g->elem_size = elem_size;
  g->ctx = gort_context_retain(ctx);
  g->out = gort_chan_retain(c);
  r = gort_go_named("generator", gen_run, g);
  if (r != 0) {
    gen_free(g);
    gort_chan_release(c);
    return r;
  }
  *out = c;
  return 0;
}

typedef struct {
  int64_t a, b;
  bool has_a, has_b; /* false once the value would have overflowed */
} fib_state;

static int fib_next(void *state, void *out) {
  fib_state *s = state;
  if (!s->has_a) return 1;
  *(int64_t *)out = s->a;
  if (s->has_b && s->b <= INT64_MAX - s->a) {
    int64_t next = s->a + s->b;
    s->a = s->b;
    s->b = next;
  } else {
    s->a = s->b;
    s->has_a = s->has_b;
    s->has_b = false;
  }
  return 0;
}

int gortp_generator_fibonacci(gort_context *ctx, gort_chan **out) {
  fib_state s = {0, 1, true, true};
  return gortp_generator_new(ctx, sizeof(int64_t), fib_next, &s, sizeof s, out);
}
