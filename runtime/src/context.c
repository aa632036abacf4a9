/* runtime/src/context.c - Go's context package: a tree of cancelable contexts.
 *
 * Kinds: BACKGROUND (static: Background and TODO), CANCEL (with_cancel, and
 * with_deadline when the parent's deadline is earlier), TIMER (with_deadline,
 * with_timeout), VALUE (with_value), WITHOUT (without_cancel: a value-only
 * context that cuts the chain of cancellation: its cparent is NULL) and
 * AFTER (after_func's registration: a leaf on its cparent's children list
 * that starts f instead of being cancelled). CANCEL and TIMER are
 * "cancelable".
 *
 * Invariants:
 *  - A cancelable context has its done channel from birth. err goes from 0 to
 *    nonzero once, under its mu, in the critical section that also sets cause
 *    and closes done; err and cause never change again. So done closed =>
 *    err set, and err read under mu => done already closed.
 *  - c->cparent is the nearest cancelable ancestor (NULL if none); a VALUE
 *    context's done, err and cause are its cparent's. c is on cparent's
 *    children list (c->linked) from its creation until cparent's cancellation
 *    detaches the list, c's own cancellation unlinks it, or c is destroyed;
 *    so a long-lived parent keeps no dead children. A child of a cancelled
 *    parent is never linked: it is born cancelled with the parent's err/cause.
 *  - References: the creator's one, one per gort_context_retain, one held by
 *    each child on its parent (c->parent). cparent is kept alive through the
 *    parent chain. Destruction happens when the count drops to zero; it never
 *    cancels (a context that is destroyed uncancelled has no observer left).
 *  - A context on a children list may have reached zero and be waiting for
 *    the list's lock to unlink itself: a canceller walking the list takes a
 *    reference only if the count is still nonzero (try_retain) and skips the
 *    context otherwise (it is being destroyed; nobody can observe it).
 *  - AFTER: after_state goes 0 -> 1 once, by an atomic exchange: whoever
 *    makes it (the canceller starting f, or stop) decides f's fate. While
 *    after_state is 0 and the registration is linked (or about to start f),
 *    it holds a reference on itself (armed_ref), dropped by the winner once
 *    f's task is started or f is stopped; the handle holds another. So
 *    neither a dropped handle nor a stop racing the cancellation frees it
 *    under the other.
 *  - A TIMER context's timer is started only under mu while err == 0, so no
 *    start follows the cancellation; the canceller stops it afterwards, with
 *    no context lock held (gort__timer_stop waits for a running fire, and the
 *    fire takes mu). Destruction stops it too, so a deadline fire never runs
 *    on freed memory; the fire itself takes no reference.
 *
 * Lock order: a context's mu -> its done channel's lock, and mu -> the timer
 * heap lock (gort__timer_start). No two context locks are ever held at once:
 * linking, unlinking and detaching a child take only the parent's mu (which
 * protects the links), and a cancellation releases c->mu before it cancels
 * c's children, one at a time from a worklist. The worklist keeps deep trees
 * off the C stack (the deadline fire runs on the timer thread).
 */
#include <limits.h>
#include <string.h>

#include "gort/context.h"
#include "hb.h"
#include "internal.h"

typedef enum { CTX_BACKGROUND, CTX_CANCEL, CTX_TIMER, CTX_VALUE, CTX_WITHOUT, CTX_AFTER } ctx_kind;

struct gort_context {
  /* Immutable after creation. */
  ctx_kind kind;
  gort_context *parent;  /* holds a reference; NULL for Background/TODO */
  gort_context *cparent; /* nearest cancelable ancestor, or NULL */
  const void *key;       /* VALUE */
  void *value;
  gort_chan *done;       /* cancelable: chan struct{} (elem size 0); closed on cancel */
  int64_t deadline;      /* TIMER */
  int deadline_cause;    /* TIMER: the cause when the deadline fires (0: the err) */
  void (*after_fn)(void *); /* AFTER */
  void *after_arg;
  bool armed_ref;        /* AFTER: holds a reference on itself while armed */
  _Atomic int after_state; /* AFTER: 0 armed, 1 started or stopped */

  _Atomic long refs; /* poisoned when freed: see REFS_POISON */

  /* Cancelable contexts. */
  pthread_mutex_t mu;
  int err;                 /* mu */
  int cause;               /* mu */
  gort_context *children;  /* mu: head of the list of linked children */

  /* Links on cparent's children list: protected by cparent->mu. */
  gort_context *sib_prev, *sib_next;
  bool linked;
  /* Worklist link, written under cparent->mu by the canceller that detached
   * this context and then used only by it. */
  gort_context *cancel_next;

  gort__timer_entry timer; /* TIMER: fires the deadline; AFTER: retries
                            * starting f's task */
};

static gort_context background_ctx = {.kind = CTX_BACKGROUND, .refs = 1};
static gort_context todo_ctx = {.kind = CTX_BACKGROUND, .refs = 1};

gort_context *gort_context_background(void) { return &background_ctx; }
gort_context *gort_context_todo(void) { return &todo_ctx; }

static bool cancelable(const gort_context *c) {
  return c->kind == CTX_CANCEL || c->kind == CTX_TIMER;
}

/* c itself if cancelable, else its nearest cancelable ancestor. */
static gort_context *cancel_ctx_of(gort_context *c) { return cancelable(c) ? c : c->cparent; }

/* ---- references -------------------------------------------------------- */

/* A destroyed context's count is poisoned, far below zero, so that the
 * common double free or release (the memory not yet reused; refs lies past
 * the words malloc writes into a freed block) finds it <= 0 and stops with a
 * clear message instead of cancelling freed memory. Once the memory is
 * reused it is undefined, as any use after free. */
#define REFS_POISON (LONG_MIN / 2)

/* Every caller holds a reference, so a live context has refs >= 1. */
static void check_live(gort_context *c) {
  if (atomic_load_explicit(&c->refs, memory_order_relaxed) <= 0)
    gort__fatal("context %p released more times than retained (freed twice?)", (void *)c);
}

static bool try_retain(gort_context *c) {
  long n = atomic_load_explicit(&c->refs, memory_order_relaxed);
  while (n > 0)
    if (atomic_compare_exchange_weak_explicit(&c->refs, &n, n + 1, memory_order_relaxed,
                                              memory_order_relaxed))
      return true;
  return false;
}

/* Requires no lock. Remove c from cparent's children list if it is there. */
static void unlink_from_parent(gort_context *c) {
  gort_context *p = c->cparent;
  if (!p) return;
  gort__lock_mutex(&p->mu);
  if (c->linked) {
    if (c->sib_prev)
      c->sib_prev->sib_next = c->sib_next;
    else
      p->children = c->sib_next;
    if (c->sib_next) c->sib_next->sib_prev = c->sib_prev;
    c->sib_prev = c->sib_next = NULL;
    c->linked = false;
  }
  pthread_mutex_unlock(&p->mu);
}

/* Requires no lock. Frees c, whose count is zero; returns its parent, whose
 * reference the caller must now drop. */
static gort_context *ctx_destroy(gort_context *c) {
  if (c->kind == CTX_TIMER || c->kind == CTX_AFTER) gort__timer_stop(&c->timer);
  if (c->kind == CTX_AFTER) unlink_from_parent(c);
  if (cancelable(c)) {
    unlink_from_parent(c);
    gort_chan_release(c->done);
    pthread_mutex_destroy(&c->mu);
  }
  gort_context *parent = c->parent;
  atomic_store_explicit(&c->refs, REFS_POISON, memory_order_relaxed);
  gort__free(c);
  return parent;
}

static void ctx_release(gort_context *c) {
  /* A loop, not recursion: a long chain may be freed at once. */
  while (c && c->kind != CTX_BACKGROUND) {
    GORT__HB_BEFORE(&c->refs); /* the last releaser sees every holder's writes */
    long old = atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel);
    if (old <= 0)
      gort__fatal("context %p released more times than retained (freed twice?)", (void *)c);
    if (old != 1) return;
    GORT__HB_AFTER(&c->refs);
    c = ctx_destroy(c);
  }
}

gort_context *gort_context_retain(gort_context *c) {
  if (c && c->kind != CTX_BACKGROUND &&
      atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed) <= 0)
    gort__fatal("context %p retained after its last release (released more times than retained)",
                (void *)c);
  return c;
}

void gort_context_release(gort_context *c) {
  if (c) check_live(c);
  ctx_release(c);
}

/* ---- cancellation ------------------------------------------------------ */

/* Requires no lock. Moves c to the cancelled state unless it is there
 * already; pushes c's live children (each with a reference taken) on *work.
 * Returns true when this call made the transition. */
static void after_fire(gort_context *a);

static bool cancel_one(gort_context *c, int err, int cause, gort_context **work) {
  if (c->kind == CTX_AFTER) { /* a leaf that starts f instead */
    after_fire(c);
    return false;
  }
  gort__lock_mutex(&c->mu);
  if (c->err != 0) {
    pthread_mutex_unlock(&c->mu);
    return false;
  }
  c->err = err;
  c->cause = cause;
  (void)gort_chan_close(c->done); /* never closed before: err was 0 */
  for (gort_context *ch = c->children, *next; ch; ch = next) {
    next = ch->sib_next;
    ch->sib_prev = ch->sib_next = NULL;
    ch->linked = false;
    if (try_retain(ch)) {
      ch->cancel_next = *work;
      *work = ch;
    }
  }
  c->children = NULL;
  pthread_mutex_unlock(&c->mu);
  return true;
}

/* Requires no lock. Cancel c and all its descendants with err and cause. */
static void ctx_cancel(gort_context *c, int err, int cause) {
  gort_context *work = NULL;
  if (!cancel_one(c, err, cause, &work)) return;
  unlink_from_parent(c);
  if (c->kind == CTX_TIMER) gort__timer_stop(&c->timer);
  /* c may be freed from here on (a child's release can drop the last
   * reference when c's fire runs on the timer thread): touch only work. */
  while (work) {
    gort_context *ch = work;
    work = ch->cancel_next;
    /* ch was unlinked by its parent's cancel_one; no unlink needed. */
    if (cancel_one(ch, err, cause, &work) && ch->kind == CTX_TIMER) gort__timer_stop(&ch->timer);
    ctx_release(ch);
  }
}

/* A NULL context is misuse here: Go's nil CancelFunc panics when called. */
void gort_context_cancel(gort_context *c) {
  if (gort__nil(c)) return;
  check_live(c);
  if (cancelable(c)) ctx_cancel(c, GORT_ECANCELED, GORT_ECANCELED);
}

void gort_context_cancel_cause(gort_context *c, int cause) {
  if (gort__nil(c)) return;
  check_live(c);
  if (cancelable(c)) ctx_cancel(c, GORT_ECANCELED, cause != 0 ? cause : GORT_ECANCELED);
}

void gort_context_free(gort_context *c) {
  if (!c) return;
  check_live(c); /* before kind: a freed block's first words are malloc's */
  if (c->kind == CTX_BACKGROUND) return;
  if (cancelable(c)) ctx_cancel(c, GORT_ECANCELED, GORT_ECANCELED);
  ctx_release(c);
}

static int deadline_cause(const gort_context *c) {
  return c->deadline_cause != 0 ? c->deadline_cause : GORT_EDEADLINE;
}

static void deadline_fire(gort__timer_entry *e, int64_t now) {
  (void)now;
  gort_context *c = e->arg;
  ctx_cancel(c, GORT_EDEADLINE, deadline_cause(c));
}

/* ---- AfterFunc ----------------------------------------------------------- */

static void after_start(gort_context *a);

static void after_retry(gort__timer_entry *e, int64_t now) {
  (void)now;
  after_start(e->arg);
}

/* Requires no lock; a won after_state. Start f's task, then drop the armed
 * reference. If the task cannot be started now (no memory, no thread), try
 * again in a millisecond from the timer thread, as time.AfterFunc does,
 * keeping the reference until it is started; only if even the timer cannot
 * be armed does f run here, in the canceller, rather than never. */
static void after_start(gort_context *a) {
  if (gort_go_named("context.AfterFunc", a->after_fn, a->after_arg) != 0) {
    if (gort__timer_start(&a->timer, gort__nanotime() + GORT_MILLISECOND, 0) == 0) return;
    a->after_fn(a->after_arg);
  }
  ctx_release(a); /* the armed reference */
}

/* Requires no lock: ctx is done. f starts unless stop came first. */
static void after_fire(gort_context *a) {
  if (atomic_exchange(&a->after_state, 1) == 0) after_start(a);
}

/* ---- creation ---------------------------------------------------------- */

/* A context of kind under parent, not yet visible to anyone; takes a
 * reference on parent. NULL when out of memory (nothing left behind). */
static gort_context *ctx_alloc(gort_context *parent, ctx_kind kind) {
  gort_context *c = gort__calloc(1, sizeof *c);
  if (!c) return NULL;
  c->kind = kind;
  atomic_init(&c->refs, 1);
  GORT__HB_ATOMIC(&c->refs, sizeof c->refs); /* hb.h */
  c->parent = parent;
  /* WITHOUT cuts the chain: nothing above it cancels it or its children. */
  c->cparent = kind == CTX_WITHOUT ? NULL : cancel_ctx_of(parent);
  if (kind == CTX_AFTER) gort__timer_entry_init(&c->timer, after_retry, c);
  if (cancelable(c)) {
    if (gort_chan_make(&c->done, 0, 0) != 0) {
      gort__free(c);
      return NULL;
    }
    pthread_mutex_init(&c->mu, NULL);
    gort__timer_entry_init(&c->timer, deadline_fire, c);
  }
  gort_context_retain(parent);
  return c;
}

/* Requires no lock; c not yet visible. */
static void born_cancelled(gort_context *c, int err, int cause) {
  gort__lock_mutex(&c->mu); /* not needed for exclusion; states the rule */
  c->err = err;
  c->cause = cause;
  (void)gort_chan_close(c->done);
  pthread_mutex_unlock(&c->mu);
}

/* Go's propagateCancel: link cancelable c under its cparent, or, if that is
 * already cancelled, cancel c with its err and cause. expired: c's own
 * deadline has passed (the parent's err still wins, as in Go). Returns true
 * when c was linked (it is live). */
/* Requires p->mu. Put c at the head of p's children list. */
static void link_child(gort_context *p, gort_context *c) {
  c->sib_prev = NULL;
  c->sib_next = p->children;
  if (p->children) p->children->sib_prev = c;
  p->children = c;
  c->linked = true;
}

static bool propagate_cancel(gort_context *c, bool expired) {
  gort_context *p = c->cparent;
  int perr = 0, pcause = 0;
  if (p) {
    gort__lock_mutex(&p->mu);
    perr = p->err;
    pcause = p->cause;
    if (perr == 0 && !expired) link_child(p, c);
    pthread_mutex_unlock(&p->mu);
  }
  if (perr != 0) {
    born_cancelled(c, perr, pcause);
    return false;
  }
  if (expired) {
    born_cancelled(c, GORT_EDEADLINE, deadline_cause(c));
    return false;
  }
  return true;
}

int gort_context_with_cancel(gort_context *parent, gort_context **out) {
  if (!parent || !out) return GORT_EINVAL;
  gort_context *c = ctx_alloc(parent, CTX_CANCEL);
  if (!c) return GORT_ENOMEM;
  propagate_cancel(c, false);
  *out = c;
  return 0;
}

/* site: where the user asked for the deadline, for gort_timer_snapshot. */
static int with_deadline(gort_context *parent, int64_t deadline, int cause, gort_context **out,
                         void *site) {
  if (!parent || !out) return GORT_EINVAL;
  int64_t cur;
  if (gort_context_deadline(parent, &cur) && cur < deadline)
    return gort_context_with_cancel(parent, out); /* the parent's deadline wins */
  gort_context *c = ctx_alloc(parent, CTX_TIMER);
  if (!c) return GORT_ENOMEM;
  c->deadline = deadline;
  c->deadline_cause = cause;
  gort__timer_entry_origin(&c->timer, GORT_TIMER_CONTEXT, site);
  if (propagate_cancel(c, deadline <= gort__nanotime())) {
    int rc = 0;
    gort__lock_mutex(&c->mu);
    if (c->err == 0) rc = gort__timer_start(&c->timer, deadline, 0);
    pthread_mutex_unlock(&c->mu);
    if (rc != 0) {
      /* Undo: nobody else holds c, so cancel unlinks it and release frees. */
      ctx_cancel(c, GORT_ECANCELED, GORT_ECANCELED);
      ctx_release(c);
      return rc;
    }
  }
  *out = c;
  return 0;
}

/* now + timeout, saturating. */
static int64_t deadline_after(gort_duration timeout) {
  int64_t now = gort__nanotime();
  return timeout > 0 && now > INT64_MAX - timeout ? INT64_MAX : now + timeout;
}

int gort_context_with_timeout_cause(gort_context *parent, gort_duration timeout, int cause,
                                    gort_context **out) {
  return with_deadline(parent, deadline_after(timeout), cause, out, __builtin_return_address(0));
}

int gort_context_with_timeout(gort_context *parent, gort_duration timeout, gort_context **out) {
  return with_deadline(parent, deadline_after(timeout), 0, out, __builtin_return_address(0));
}

int gort_context_with_deadline(gort_context *parent, int64_t deadline, gort_context **out) {
  return with_deadline(parent, deadline, 0, out, __builtin_return_address(0));
}

int gort_context_with_deadline_cause(gort_context *parent, int64_t deadline, int cause,
                                     gort_context **out) {
  return with_deadline(parent, deadline, cause, out, __builtin_return_address(0));
}

int gort_context_without_cancel(gort_context *parent, gort_context **out) {
  if (!parent || !out) return GORT_EINVAL;
  gort_context *c = ctx_alloc(parent, CTX_WITHOUT);
  if (!c) return GORT_ENOMEM;
  *out = c;
  return 0;
}

int gort_context_after_func(gort_context *ctx, void (*f)(void *), void *arg,
                            gort_context_after **stop) {
  if (!ctx || !f) return GORT_EINVAL;
  gort_context *a = ctx_alloc(ctx, CTX_AFTER);
  if (!a) return GORT_ENOMEM;
  a->after_fn = f;
  a->after_arg = arg;
  gort_context *p = a->cparent;
  /* One reference for the handle (or for this call, without one), and the
   * armed one only if something can ever fire it: a ctx that is never done
   * (no cancelable ancestor) never runs f, and only stop can end it. */
  a->armed_ref = p != NULL;
  atomic_init(&a->refs, a->armed_ref ? 2 : 1);
  if (p) {
    gort__lock_mutex(&p->mu);
    bool done = p->err != 0;
    if (!done) link_child(p, a);
    pthread_mutex_unlock(&p->mu);
    if (done) after_fire(a); /* Go: f runs at once if ctx is already done */
  }
  if (stop)
    *stop = (gort_context_after *)a;
  else
    ctx_release(a);
  return 0;
}

bool gort_context_after_func_stop(gort_context_after *stop) {
  if (gort__nil(stop)) return false;
  gort_context *a = (gort_context *)stop;
  check_live(a);
  if (atomic_exchange(&a->after_state, 1) != 0) return false;
  if (a->armed_ref) {
    unlink_from_parent(a);
    ctx_release(a);
  }
  return true;
}

void gort_context_after_func_free(gort_context_after *stop) {
  if (!stop) return;
  gort_context *a = (gort_context *)stop;
  check_live(a);
  ctx_release(a);
}

int gort_context_with_value(gort_context *parent, const void *key, void *value,
                            gort_context **out) {
  if (!parent || !out || !key) return GORT_EINVAL;
  gort_context *c = ctx_alloc(parent, CTX_VALUE);
  if (!c) return GORT_ENOMEM;
  c->key = key;
  c->value = value;
  *out = c;
  return 0;
}

/* ---- queries ----------------------------------------------------------- */

gort_chan *gort_context_done(gort_context *c) {
  gort_context *cc = c ? cancel_ctx_of(c) : NULL;
  return cc ? cc->done : NULL;
}

int gort_context_err(gort_context *c) {
  if (!c) return GORT_EINVAL;
  gort_context *cc = cancel_ctx_of(c);
  if (!cc) return 0;
  gort__lock_mutex(&cc->mu);
  int err = cc->err;
  pthread_mutex_unlock(&cc->mu);
  return err;
}

int gort_context_cause(gort_context *c) {
  if (!c) return GORT_EINVAL;
  gort_context *cc = cancel_ctx_of(c);
  if (!cc) return 0;
  gort__lock_mutex(&cc->mu);
  int cause = cc->cause;
  pthread_mutex_unlock(&cc->mu);
  return cause;
}

bool gort_context_deadline(gort_context *c, int64_t *deadline) {
  for (; c && c->kind != CTX_WITHOUT; c = c->parent) {
    if (c->kind == CTX_TIMER) {
      if (deadline) *deadline = c->deadline;
      return true;
    }
  }
  return false;
}

void *gort_context_value(gort_context *c, const void *key) {
  for (; c; c = c->parent)
    if (c->kind == CTX_VALUE && c->key == key) return c->value;
  return NULL;
}
