/* bufpool.c - pooled buffers and the zero-copy stage (gortp/bufpool.h).
 *
 * Invariants: every gortp_bufpool_buffer was made by buf_new and is destroyed by
 * buf_destroy (called by the pool when it drops one, or when it is freed);
 * a buffer is in the pool only with len == 0; the stage owns at most one
 * buffer at a time, which it either sends or puts back.
 */
#include "gortp/bufpool.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "gort/pool.h"
#include "gort/task.h"
#include "gortp/ctxchan.h"

struct gortp_bufpool {
  gort_pool *pool;
  size_t initial_cap;
  _Atomic uint64_t allocated, destroyed;
};

static void *buf_new(void *arg) {
  gortp_bufpool *p = arg;
  gortp_bufpool_buffer *b = malloc(sizeof *b);
  if (!b) return NULL;
  b->data = malloc(p->initial_cap ? p->initial_cap : 1);
  if (!b->data) {
    free(b);
    return NULL;
  }
  b->len = 0;
  b->cap = p->initial_cap;
  atomic_fetch_add(&p->allocated, 1);
  return b;
}

static void buf_destroy(void *obj, void *arg) {
  gortp_bufpool *p = arg;
  gortp_bufpool_buffer *b = obj;
  free(b->data);
  free(b);
  atomic_fetch_add(&p->destroyed, 1);
}

int gortp_bufpool_new(gortp_bufpool **out, size_t initial_cap) {
  if (!out) return GORT_EINVAL;
  gortp_bufpool *p = calloc(1, sizeof *p);
  if (!p) return GORT_ENOMEM;
  p->initial_cap = initial_cap;
  int r = gort_pool_new(&p->pool, buf_new, buf_destroy, p);
  if (r != 0) {
    free(p);
    return r;
  }
  *out = p;
  return 0;
}

void gortp_bufpool_free(gortp_bufpool *p) {
  if (!p) return;
  gort_pool_free(p->pool);
  free(p);
}

gortp_bufpool_buffer *gortp_bufpool_get(gortp_bufpool *p) {
  void *b = NULL;
  if (!p || gort_pool_get(p->pool, &b) != 0) return NULL;
  return b;
}

void gortp_bufpool_put(gortp_bufpool *p, gortp_bufpool_buffer *b) {
  if (!p || !b) return;
  b->len = 0; /* buf.Data = buf.Data[:0] / buf.Reset() */
  gort_pool_put(p->pool, b);
}

int gortp_bufpool_append(gortp_bufpool_buffer *b, const void *data, size_t n) {
  if (!b || (n > 0 && !data)) return GORT_EINVAL;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n) cap *= 2;
    unsigned char *d = realloc(b->data, cap);
    if (!d) return GORT_ENOMEM;
    b->data = d;
    b->cap = cap;
  }
  if (n) memcpy(b->data + b->len, data, n);
  b->len += n;
  return 0;
}

void gortp_bufpool_drain(gortp_bufpool *p) {
  if (p) gort_pool_drain(p->pool);
}

uint64_t gortp_bufpool_allocated(gortp_bufpool *p) { return p ? atomic_load(&p->allocated) : 0; }
uint64_t gortp_bufpool_destroyed(gortp_bufpool *p) { return p ? atomic_load(&p->destroyed) : 0; }

char *gortp_bufpool_process(gortp_bufpool *p, const void *data, size_t n) {
  gortp_bufpool_buffer *buf = gortp_bufpool_get(p);
  if (!buf) return NULL;
  static const char suffix[] = "-processed";
  char *s = NULL;
  if (gortp_bufpool_append(buf, data, n) == 0 &&
      gortp_bufpool_append(buf, suffix, sizeof suffix) == 0) { /* with the NUL */
    s = malloc(buf->len);
    if (s) memcpy(s, buf->data, buf->len); /* buf.String() copies */
  }
  gortp_bufpool_put(p, buf); /* defer Reset + Put */
  return s;
}

typedef struct {
  gort_context *ctx; /* retained; NULL = Background */
  gortp_bufpool *p;
  gort_chan *in, *out; /* retained */
} stage;

static void stage_run(void *arg) {
  stage *s = arg;
  gortp_bufpool_slice sl;
  while (gortp_ctxchan_recv(s->ctx, s->in, &sl) == 0) {
    gortp_bufpool_buffer *buf = gortp_bufpool_get(s->p);
    if (!buf) break; /* out of memory: end the stream */
    if (gortp_bufpool_append(buf, sl.data, sl.len) != 0) {
      gortp_bufpool_put(s->p, buf);
      break;
    }
    if (gortp_ctxchan_send(s->ctx, s->out, &buf) != 0) {
      gortp_bufpool_put(s->p, buf); /* PutBuffer(buf) on cancellation */
      break;
    }
  }
  gort_chan_close(s->out);
  gort_chan_release(s->out);
  gort_chan_release(s->in);
  if (s->ctx) gort_context_release(s->ctx);
  free(s);
}

int gortp_bufpool_pipeline(gort_context *ctx, gortp_bufpool *p, gort_chan *input, gort_chan **out) {
  if (!p || !input || !out || gort_chan_elem_size(input) != sizeof(gortp_bufpool_slice)) return GORT_EINVAL;
  stage *s = malloc(sizeof *s);
  if (!s) return GORT_ENOMEM;
  gort_chan *c;
  int r = gort_chan_make(&c, sizeof(gortp_bufpool_buffer *), 64);
  if (r != 0) {
    free(s);
    return r;
  }
  *s = (stage){ctx ? gort_context_retain(ctx) : NULL, p, gort_chan_retain(input), gort_chan_retain(c)};
  r = gort_go_named("bufpool-stage", stage_run, s);
  if (r != 0) {
    gort_chan_release(s->out);
    gort_chan_release(s->in);
    if (s->ctx) gort_context_release(s->ctx);
    free(s);
    gort_chan_release(c);
    return r;
  }
  *out = c;
  return 0;
}

void gortp_bufpool_drain_chan(gortp_bufpool *p, gort_chan *c) {
  gortp_bufpool_buffer *b;
  while (gort_chan_recv(c, &b, NULL) == 0) gortp_bufpool_put(p, b);
}
