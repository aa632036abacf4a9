/* errgroup.c - golang.org/x/sync/errgroup on the public API: a WaitGroup
 * counts the tasks, a buffered chan struct{} of tokens is the limit (one token
 * per active task, as in Go; elem_size 0, so a limit costs nothing per slot),
 * and the first error is kept with a CAS.
 *
 * Invariants:
 *  - Every task started by the group is counted in g->wg from before it is
 *    spawned until after its last access to g; so after wg reaches zero no
 *    task touches g, and free (which waits first) is safe.
 *  - A task that took a token on a limit channel gives it back to that same
 *    channel (it keeps its own reference), so replacing the limit never
 *    strands or steals a token.
 *  - g->err goes from 0 to the first error exactly once; the task that wins
 *    the CAS is the one that cancels the derived context.
 */
#include <stdbool.h>

#include "gort/errgroup.h"
#include "gort/sync.h"
#include "internal.h"

struct gort_errgroup {
  gort_context *ctx;    /* immutable: derived (owned) or Background */
  bool owns_ctx;        /* immutable */
  gort_waitgroup wg;    /* active tasks */
  _Atomic int err;      /* first error, 0 until then */
  pthread_mutex_t lock; /* protects sem */
  gort_chan *sem;       /* limit tokens; NULL: no limit */
};

/* One started task; owned by the task. */
typedef struct {
  gort_errgroup *g;
  gort_errgroup_fn fn;
  void *arg;
  gort_chan *sem; /* the limit channel it holds a token of, with a reference */
} eg_task;

static int group_alloc(gort_errgroup **out) {
  gort_errgroup *g = gort__calloc(1, sizeof *g);
  if (g == NULL) return GORT_ENOMEM;
  gort_waitgroup_init(&g->wg);
  pthread_mutex_init(&g->lock, NULL);
  atomic_init(&g->err, 0);
  *out = g;
  return 0;
}

static void group_dealloc(gort_errgroup *g) {
  gort_waitgroup_destroy(&g->wg);
  pthread_mutex_destroy(&g->lock);
  gort__free(g);
}

int gort_errgroup_new(gort_errgroup **out) {
  if (out == NULL) return GORT_EINVAL;
  gort_errgroup *g;
  int err = group_alloc(&g);
  if (err != 0) return err;
  g->ctx = gort_context_background();
  *out = g;
  return 0;
}

int gort_errgroup_with_context(gort_context *parent, gort_errgroup **out,
                               gort_context **ctx_out) {
  if (parent == NULL || out == NULL) return GORT_EINVAL;
  gort_errgroup *g;
  int err = group_alloc(&g);
  if (err != 0) return err;
  err = gort_context_with_cancel(parent, &g->ctx);
  if (err != 0) {
    group_dealloc(g);
    return err;
  }
  g->owns_ctx = true;
  *out = g;
  if (ctx_out) *ctx_out = g->ctx;
  return 0;
}

gort_context *gort_errgroup_context(gort_errgroup *g) { return g ? g->ctx : NULL; }

static void record_error(gort_errgroup *g, int err) {
  int expected = 0;
  if (atomic_compare_exchange_strong(&g->err, &expected, err) && g->owns_ctx)
    gort_context_cancel_cause(g->ctx, err);
}

static void task_main(void *p) {
  eg_task *t = p;
  gort_errgroup *g = t->g;
  int err = t->fn(g->ctx, t->arg);
  if (err != 0) record_error(g, err);
  if (t->sem) {
    gort_chan_recv(t->sem, NULL, NULL); /* give our token back */
    gort_chan_release(t->sem);
  }
  gort__free(t);
  /* Last access to g: after this, wait may return and g may be freed. */
  gort_waitgroup_done(&g->wg);
}

static int start(gort_errgroup *g, gort_errgroup_fn fn, void *arg, bool block) {
  if (g == NULL || fn == NULL) return GORT_EINVAL;
  eg_task *t = gort__malloc(sizeof *t);
  if (t == NULL) return GORT_ENOMEM;
  *t = (eg_task){g, fn, arg, NULL};

  pthread_mutex_lock(&g->lock);
  t->sem = gort_chan_retain(g->sem);
  pthread_mutex_unlock(&g->lock);
  if (t->sem) {
    int err = block ? gort_chan_send(t->sem, NULL) : gort_chan_try_send(t->sem, NULL);
    if (err != 0) {
      gort_chan_release(t->sem);
      gort__free(t);
      return err;
    }
  }

  gort_waitgroup_add(&g->wg, 1);
  int err = gort_go(task_main, t);
  if (err != 0) {
    gort_waitgroup_done(&g->wg);
    if (t->sem) {
      gort_chan_recv(t->sem, NULL, NULL);
      gort_chan_release(t->sem);
    }
    gort__free(t);
    return err;
  }
  return 0;
}

int gort_errgroup_go(gort_errgroup *g, gort_errgroup_fn fn, void *arg) {
  return start(g, fn, arg, true);
}

int gort_errgroup_try_go(gort_errgroup *g, gort_errgroup_fn fn, void *arg) {
  return start(g, fn, arg, false);
}

int gort_errgroup_set_limit(gort_errgroup *g, int n) {
  if (g == NULL) return GORT_EINVAL;
  gort_chan *fresh = NULL;
  pthread_mutex_lock(&g->lock);
  if (n >= 0) {
    /* Tokens in the current channel are tasks active under the limit. */
    size_t active = gort_chan_len(g->sem);
    if (active != 0) {
      pthread_mutex_unlock(&g->lock);
      return gort__misusef(GORT_EGROUPLIMIT, (int)active);
    }
    int err = gort_chan_make(&fresh, 0, n);
    if (err != 0) {
      pthread_mutex_unlock(&g->lock);
      return err;
    }
  }
  gort_chan *old = g->sem;
  g->sem = fresh;
  pthread_mutex_unlock(&g->lock);
  gort_chan_release(old);
  return 0;
}

int gort_errgroup_wait(gort_errgroup *g) {
  if (g == NULL) return GORT_EINVAL;
  gort_waitgroup_wait(&g->wg);
  int err = atomic_load(&g->err);
  if (g->owns_ctx) {
    if (err != 0) gort_context_cancel_cause(g->ctx, err);
    else gort_context_cancel(g->ctx);
  }
  return err;
}

void gort_errgroup_free(gort_errgroup *g) {
  if (g == NULL) return;
  gort_waitgroup_wait(&g->wg);
  if (g->owns_ctx) gort_context_free(g->ctx);
  gort_chan_release(g->sem);
  group_dealloc(g);
}
