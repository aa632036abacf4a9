/* pipeline.c - int and string pipeline stages (see gortp/pipeline.h).
 *
 * Invariants:
 *  - each stage task holds one reference to ctx, its input and its output,
 *    and drops them (after closing the output) as its last act;
 *  - the output is closed exactly once, by the stage task, on every exit
 *    path, so a downstream `range` always ends;
 *  - string stages: every char * received is either sent on or freed.
 */
#include "gortp/pipeline.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "gort/err.h"
#include "gort/task.h"
#include "gortp/ctxchan.h"

static gort_context *ctx_retain(gort_context *ctx) { return ctx ? gort_context_retain(ctx) : NULL; }
static void ctx_release(gort_context *ctx) {
  if (ctx) gort_context_release(ctx);
}

/* What every stage holds: its context, its input and its output. */
typedef struct {
  gort_context *ctx; /* retained; NULL = Background */
  gort_chan *in;     /* retained; NULL for a generator */
  gort_chan *out;    /* the stage's own reference */
} stage_link;

static void link_release(stage_link *l) {
  gort_chan_release(l->in);
  gort_chan_release(l->out);
  ctx_release(l->ctx);
}

/* Make the output channel, hand the stage its references and start
 * run(stage). On failure everything is undone: free_stage(stage) runs. */
static int link_start(stage_link *l, gort_context *ctx, gort_chan *in, size_t elem_size,
                      const char *name, void (*run)(void *), void *stage,
                      void (*free_stage)(void *), gort_chan **out) {
  int r = GORT_EINVAL;
  gort_chan *c = NULL;
  if (!out) goto fail;
  r = gort_chan_make(&c, elem_size, 0);
  if (r != 0) goto fail;
  l->ctx = ctx_retain(ctx);
  l->in = gort_chan_retain(in);
  l->out = gort_chan_retain(c);
  r = gort_go_named(name, run, stage);
  if (r != 0) goto fail;
  *out = c;
  return 0;
fail:
  free_stage(stage);
  gort_chan_release(c);
  return r;
}

/* ---- int stages ---- */

typedef enum { INT_GEN, INT_MAP, INT_FILTER } int_kind;

typedef struct {
  stage_link link;
  int_kind kind;
  int *nums; /* INT_GEN: owned copy */
  size_t n;
  int threshold;                /* INT_FILTER */
  int (*fn)(int n, void *arg); /* INT_MAP */
  void *arg;
} int_stage;

static int square_fn(int n, void *arg) {
  (void)arg;
  return n * n;
}

static void int_stage_free(void *p) {
  int_stage *s = p;
  link_release(&s->link);
  free(s->nums);
  free(s);
}

static void int_stage_run(void *p) {
  int_stage *s = p;
  if (s->kind == INT_GEN) {
    for (size_t i = 0; i < s->n; i++)
      if (gortp_ctxchan_send(s->link.ctx, s->link.out, &s->nums[i]) != 0) break;
  } else {
    int v;
    while (gortp_ctxchan_recv(s->link.ctx, s->link.in, &v) == 0) {
      if (s->kind == INT_FILTER && !(v > s->threshold)) continue;
      int o = s->kind == INT_MAP ? s->fn(v, s->arg) : v;
      if (gortp_ctxchan_send(s->link.ctx, s->link.out, &o) != 0) break;
    }
  }
  gort_chan_close(s->link.out);
  int_stage_free(s);
}

static int int_stage_start(int_stage *s, gort_context *ctx, gort_chan *in, gort_chan **out) {
  return link_start(&s->link, ctx, in, sizeof(int), "pipeline-int", int_stage_run, s,
                    int_stage_free, out);
}

int gortp_pipeline_gen_ints(gort_context *ctx, const int *nums, size_t n, gort_chan **out) {
  if (n > 0 && !nums) return GORT_EINVAL;
  int_stage *s = calloc(1, sizeof *s);
  if (!s) return GORT_ENOMEM;
  s->kind = INT_GEN;
  s->n = n;
  if (n > 0) {
    s->nums = malloc(n * sizeof *nums);
    if (!s->nums) {
      free(s);
      return GORT_ENOMEM;
    }
    memcpy(s->nums, nums, n * sizeof *nums);
  }
  return int_stage_start(s, ctx, NULL, out);
}

int gortp_pipeline_map_int(gort_context *ctx, gort_chan *in, int (*fn)(int n, void *arg), void *arg,
                  gort_chan **out) {
  if (!in || !fn) return GORT_EINVAL;
  int_stage *s = calloc(1, sizeof *s);
  if (!s) return GORT_ENOMEM;
  s->kind = INT_MAP;
  s->fn = fn;
  s->arg = arg;
  return int_stage_start(s, ctx, in, out);
}

int gortp_pipeline_square(gort_context *ctx, gort_chan *in, gort_chan **out) {
  return gortp_pipeline_map_int(ctx, in, square_fn, NULL, out);
}

int gortp_pipeline_filter_above(gort_context *ctx, gort_chan *in, int threshold, gort_chan **out) {
  if (!in) return GORT_EINVAL;
  int_stage *s = calloc(1, sizeof *s);
  if (!s) return GORT_ENOMEM;
  s->kind = INT_FILTER;
  s->threshold = threshold;
  return int_stage_start(s, ctx, in, out);
}

/* ---- string stages ---- */

typedef enum { STR_GEN, STR_UPPER, STR_PREFIX } str_kind;

typedef struct {
  stage_link link;
  str_kind kind;
  char **items; /* STR_GEN: owned copies, handed out one by one */
  size_t n;
  char *prefix; /* STR_PREFIX: owned copy */
} str_stage;

void gortp_pipeline_str_drain(gort_chan *c) {
  char *s;
  while (gort_chan_recv(c, &s, NULL) == 0) free(s);
}

static void str_stage_free(void *p) {
  str_stage *s = p;
  link_release(&s->link);
  if (s->items)
    for (size_t i = 0; i < s->n; i++) free(s->items[i]); /* NULL once handed out */
  free(s->items);
  free(s->prefix);
  free(s);
}

/* Transform s in its stage; returns the string to send (NULL: dropped, which
 * happens only when memory runs out). Consumes s. */
static char *str_transform(str_stage *st, char *s) {
  if (st->kind == STR_UPPER) {
    for (char *p = s; *p; p++) *p = (char)toupper((unsigned char)*p);
    return s;
  }
  size_t lp = strlen(st->prefix), ls = strlen(s);
  char *o = malloc(lp + ls + 1);
  if (o) {
    memcpy(o, st->prefix, lp);
    memcpy(o + lp, s, ls + 1);
  }
  free(s);
  return o;
}

static void str_stage_run(void *p) {
  str_stage *st = p;
  if (st->kind == STR_GEN) {
    for (size_t i = 0; i < st->n; i++) {
      if (gortp_ctxchan_send(st->link.ctx, st->link.out, &st->items[i]) != 0) break;
      st->items[i] = NULL; /* the receiver owns it now */
    }
  } else {
    for (;;) {
      char *s;
      int r = gortp_ctxchan_recv(st->link.ctx, st->link.in, &s);
      if (r == GORT_ECLOSED) break;
      if (r != 0) { /* cancelled: let upstream finish, freeing what it sends */
        gortp_pipeline_str_drain(st->link.in);
        break;
      }
      char *o = str_transform(st, s);
      if (!o) continue;
      if (gortp_ctxchan_send(st->link.ctx, st->link.out, &o) != 0) {
        free(o);
        gortp_pipeline_str_drain(st->link.in);
        break;
      }
    }
  }
  gort_chan_close(st->link.out);
  str_stage_free(st);
}

static int str_stage_start(str_stage *st, gort_context *ctx, gort_chan *in, gort_chan **out) {
  return link_start(&st->link, ctx, in, sizeof(char *), "pipeline-str", str_stage_run, st,
                    str_stage_free, out);
}

int gortp_pipeline_str_generate(gort_context *ctx, const char *const *items, size_t n, gort_chan **out) {
  if (n > 0 && !items) return GORT_EINVAL;
  str_stage *st = calloc(1, sizeof *st);
  if (!st) return GORT_ENOMEM;
  st->kind = STR_GEN;
  st->items = calloc(n ? n : 1, sizeof *st->items);
  if (!st->items) {
    free(st);
    return GORT_ENOMEM;
  }
  st->n = n;
  for (size_t i = 0; i < n; i++) {
    st->items[i] = strdup(items[i] ? items[i] : "");
    if (!st->items[i]) {
      str_stage_free(st);
      return GORT_ENOMEM;
    }
  }
  return str_stage_start(st, ctx, NULL, out);
}

int gortp_pipeline_str_to_upper(gort_context *ctx, gort_chan *in, gort_chan **out) {
  if (!in) return GORT_EINVAL;
  str_stage *st = calloc(1, sizeof *st);
  if (!st) return GORT_ENOMEM;
  st->kind = STR_UPPER;
  return str_stage_start(st, ctx, in, out);
}

int gortp_pipeline_str_add_prefix(gort_context *ctx, const char *prefix, gort_chan *in, gort_chan **out) {
  if (!in || !prefix) return GORT_EINVAL;
  str_stage *st = calloc(1, sizeof *st);
  if (!st) return GORT_ENOMEM;
  st->kind = STR_PREFIX;
  st->prefix = strdup(prefix);
  if (!st->prefix) {
    free(st);
    return GORT_ENOMEM;
  }
  return str_stage_start(st, ctx, in, out);
}
