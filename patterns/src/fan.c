/* fan.c - fan-out and fan-in (gortp/fan.h).
 *
 * Invariants:
 *  - one `fan` record per call, shared by its tasks; `holds` counts the
 *    running tasks plus one for the creator while it is still starting
 *    them. Whoever drops the last hold closes the merged channel (fan-in)
 *    and frees the record: the channel closes exactly once, after the last
 *    forwarder has stopped sending on it;
 *  - each call runs under its own child context, so a call that fails half
 *    way can stop the tasks it already started (they close their outputs and
 *    exit), leaving nothing running that the caller does not know about;
 *  - every task holds a reference to each channel it uses.
 */
#include "gortp/fan.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "gort/task.h"
#include "gortp/ctxchan.h"

typedef struct fan fan;

typedef struct {
  fan *f;
  size_t index;
  gort_chan *in;  /* retained */
  gort_chan *out; /* retained */
} fan_task;

struct fan {
  gort_context *ctx;   /* own child context */
  _Atomic size_t holds;
  gort_chan *merged;   /* fan-in: closed by the last hold; retained */
  size_t in_size, out_size;
  gortp_fan_fn fn;
  void *arg;
  fan_task tasks[];
};

static fan *fan_new(gort_context *parent, size_t n) {
  fan *f = calloc(1, sizeof *f + n * sizeof(fan_task));
  if (!f) return NULL;
  if (gort_context_with_cancel(gortp_ctxchan_or_background(parent), &f->ctx) != 0) {
    free(f);
    return NULL;
  }
  atomic_init(&f->holds, n + 1);
  return f;
}

static void fan_put(fan *f) {
  if (atomic_fetch_sub_explicit(&f->holds, 1, memory_order_acq_rel) != 1) return;
  if (f->merged) {
    gort_chan_close(f->merged);
    gort_chan_release(f->merged);
  }
  gort_context_free(f->ctx);
  free(f);
}

static void task_exit(fan_task *t, bool close_out) {
  if (close_out) gort_chan_close(t->out);
  gort_chan_release(t->out);
  gort_chan_release(t->in);
  fan_put(t->f);
}

/* Fan-out worker: src -> (fn) -> its own output. */
static void out_worker(void *p) {
  fan_task *t = p;
  fan *f = t->f;
  unsigned char *in = malloc(f->in_size);
  /* cppcheck-suppress uninitdata ; out aliases in, which each receive fills before the send */
  unsigned char *out = f->fn ? malloc(f->out_size) : in;
  if (in && out) {
    while (gortp_ctxchan_recv(f->ctx, t->in, in) == 0) {
      if (f->fn) {
        memset(out, 0, f->out_size);
        f->fn(in, out, t->index, f->arg);
      }
      if (gortp_ctxchan_send(f->ctx, t->out, out) != 0) break;
    }
  }
  if (out != in) free(out);
  free(in);
  task_exit(t, true);
}

/* Fan-in forwarder: its input -> the merged channel. */
static void in_worker(void *p) {
  fan_task *t = p;
  fan *f = t->f;
  unsigned char *buf = malloc(f->in_size);
  if (buf)
    while (gortp_ctxchan_recv(f->ctx, t->in, buf) == 0)
      if (gortp_ctxchan_send(f->ctx, t->out, buf) != 0) break;
  free(buf);
  task_exit(t, false);
}

/* Start tasks[0..n); on failure cancel the started ones, drop the holds of
 * the rest and of the creator. Channels of unstarted tasks are released
 * here; started tasks release their own. */
static int fan_start(fan *f, size_t n, gort_task_fn fn, bool close_out, const char *name) {
  size_t k = 0;
  int r = 0;
  for (; k < n; k++) {
    r = gort_go_named(name, fn, &f->tasks[k]);
    if (r != 0) break;
  }
  if (r != 0) {
    gort_context_cancel(f->ctx);
    for (size_t j = k; j < n; j++) task_exit(&f->tasks[j], close_out);
  }
  fan_put(f);
  return r;
}

static int fan_out_common(gort_context *ctx, gort_chan *src, size_t n, size_t out_size,
                          gortp_fan_fn fn, void *arg, gort_chan **outs) {
  if (!src || !outs || n == 0 || out_size == 0) return GORT_EINVAL;
  fan *f = fan_new(ctx, n);
  if (!f) return GORT_ENOMEM;
  f->in_size = gort_chan_elem_size(src);
  f->out_size = out_size;
  f->fn = fn;
  f->arg = arg;
  size_t made = 0;
  int r = 0;
  for (; made < n; made++) {
    r = gort_chan_make(&outs[made], out_size, 0);
    if (r != 0) break;
  }
  if (r != 0) {
    for (size_t j = 0; j < made; j++) gort_chan_release(outs[j]);
    atomic_store(&f->holds, 1);
    fan_put(f);
    return r;
  }
  for (size_t i = 0; i < n; i++)
    f->tasks[i] = (fan_task){f, i, gort_chan_retain(src), gort_chan_retain(outs[i])};
  /* Hold the caller's references until we know the start worked. */
  r = fan_start(f, n, out_worker, true, "fan-out");
  if (r != 0)
    for (size_t j = 0; j < n; j++) gort_chan_release(outs[j]);
  return r;
}

int gortp_fan_out(gort_context *ctx, gort_chan *src, size_t n, gort_chan **outs) {
  return fan_out_common(ctx, src, n, src ? gort_chan_elem_size(src) : 0, NULL, NULL, outs);
}

int gortp_fan_out_map(gort_context *ctx, gort_chan *src, size_t n, size_t out_elem_size,
                      gortp_fan_fn fn, void *arg, gort_chan **outs) {
  if (!fn) return GORT_EINVAL;
  return fan_out_common(ctx, src, n, out_elem_size, fn, arg, outs);
}

int gortp_fan_in(gort_context *ctx, gort_chan *const *ins, size_t n, gort_chan **out) {
  if (!out || (n > 0 && !ins)) return GORT_EINVAL;
  size_t size = 0;
  for (size_t i = 0; i < n; i++) {
    if (!ins[i]) return GORT_EINVAL;
    size_t s = gort_chan_elem_size(ins[i]);
    if (i > 0 && s != size) return GORT_EINVAL;
    size = s;
  }
  gort_chan *merged;
  int r = gort_chan_make(&merged, n ? size : 1, 0);
  if (r != 0) return r;
  fan *f = fan_new(ctx, n);
  if (!f) {
    gort_chan_release(merged);
    return GORT_ENOMEM;
  }
  f->in_size = size;
  f->merged = gort_chan_retain(merged);
  for (size_t i = 0; i < n; i++)
    f->tasks[i] = (fan_task){f, i, gort_chan_retain(ins[i]), gort_chan_retain(merged)};
  r = fan_start(f, n, in_worker, false, "fan-in");
  if (r != 0) {
    gort_chan_release(merged);
    return r;
  }
  *out = merged;
  return 0;
}
