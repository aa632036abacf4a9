/* select.c - Go's selectgo on park/ready.
 *
 * 1. Shuffle the live cases into a random poll order (fairness) and sort
 *    them by channel address into a lock order (no lock-order deadlock
 *    between selects).
 * 2. Lock every channel; take the first ready case in poll order.
 * 3. Otherwise queue one waiter per case, all for this task, and park with
 *    every lock released. A waker wins the select by CASing
 *    task->select_done 0->1 (gort__waitq_dequeue), records the winning waiter
 *    in task->param, and readies the task.
 * 4. On wake-up, lock every channel again and unlink the losing waiters, so
 *    no waiter is left behind.
 * The waiters live in this frame (or in the scratch allocation for large
 * selects), which outlives every queue they are on.
 */
#include <stdlib.h>
#include <string.h>

#include "chan_impl.h"
#include "gort/select.h"

typedef struct {
  gort_select_case *cases;
  size_t *lockorder;
  size_t nlock;
} sel_locks;

static void sel_lock(const sel_locks *s) {
  gort_chan *prev = NULL;
  for (size_t i = 0; i < s->nlock; i++) {
    gort_chan *c = s->cases[s->lockorder[i]].chan;
    if (c != prev) gort__chan_lock(c);
    prev = c;
  }
}

static void sel_unlock(void *arg) {
  const sel_locks *s = arg;
  /* Reverse order; each distinct channel once. */
  for (size_t i = s->nlock; i-- > 0;) {
    gort_chan *c = s->cases[s->lockorder[i]].chan;
    if (i == 0 || s->cases[s->lockorder[i - 1]].chan != c) gort__lock_release(&c->lock);
  }
}

/* Try case i with every lock held. Returns 1 (done; locks released) or 0. */
static int try_case(gort_select_case *k, const sel_locks *s, int *result) {
  gort_chan *c = k->chan;
  gort__waiter *w;
  if (k->dir == GORT_SELECT_RECV) {
    if ((w = gort__waitq_dequeue(&c->sendq)) != NULL) {
      k->ok = true;
      gort__chan_recv_direct(c, w, k->elem, sel_unlock, (void *)s);
      return 1;
    }
    if (c->count > 0) {
      gort__chan_buf_take(c, k->elem);
      k->ok = true;
      sel_unlock((void *)s);
      return 1;
    }
    if (c->closed) {
      gort__chan_zero(c, k->elem);
      k->ok = false;
      sel_unlock((void *)s);
      return 1;
    }
    return 0;
  }
  if (c->closed) {
    sel_unlock((void *)s);
    *result = gort__misuse(GORT_ESENDCLOSED);
    return 1;
  }
  if ((w = gort__waitq_dequeue(&c->recvq)) != NULL) {
    gort__chan_send_direct(c, w, k->elem, sel_unlock, (void *)s);
    return 1;
  }
  if (c->count < c->cap) {
    gort__chan_buf_put(c, k->elem);
    sel_unlock((void *)s);
    return 1;
  }
  return 0;
}

/* A select with one live case and a default is that channel's own
 * non-blocking operation (what Go's compiler makes of a one-case select:
 * selectnbrecv/selectnbsend), with its inline lock-free "would block"
 * verdict (chan_impl.h): no frame, no call, no lock on that path. Returns 0
 * when the case ran, or what select_impl would return: GORT_EAGAIN, EINVAL
 * for a NULL elem to send, the misuse of a send on a closed channel; a
 * receive that fires on a closed channel runs (ok = false, elem zeroed), and
 * a nil channel is never ready. k->dir is RECV or SEND. */
static inline int select_one_nb(gort_select_case *k) {
  if (k->dir == GORT_SELECT_RECV) {
    int rc = gort__chan_try_recv_inline(k->chan, k->elem, &k->ok);
    return rc == GORT_ECLOSED ? 0 : rc;
  }
  return gort__chan_try_send_inline(k->chan, k->elem);
}

/* select_impl's one live case (the others nil): out of line, so that the
 * general path's register allocation does not pay for the inlined check. */
static __attribute__((noinline)) int select_one_live(gort_select_case *cases, size_t i) {
  int rc = select_one_nb(&cases[i]);
  return rc == 0 ? (int)i : rc;
}

static int select_impl(gort_select_case *cases, size_t n, bool block) {
  if (n > 0 && !cases) return GORT_EINVAL;
  for (size_t i = 0; i < n; i++) {
    if (cases[i].dir != GORT_SELECT_RECV && cases[i].dir != GORT_SELECT_SEND) return GORT_EINVAL;
    if (cases[i].dir == GORT_SELECT_SEND && cases[i].chan && !cases[i].elem &&
        cases[i].chan->elem_size > 0)
      return GORT_EINVAL;
    if (cases[i].dir == GORT_SELECT_RECV) cases[i].ok = false;
  }

  size_t stack_order[2 * GORT_SELECT_STACK_CASES];
  gort__waiter stack_waiters[GORT_SELECT_STACK_CASES];
  size_t *pollorder = stack_order, *lockorder = stack_order + GORT_SELECT_STACK_CASES;
  gort__waiter *waiters = stack_waiters;
  void *scratch = NULL;
  if (n > GORT_SELECT_STACK_CASES) {
    scratch = gort__malloc(n * (2 * sizeof(size_t) + sizeof(gort__waiter)));
    if (!scratch) return GORT_ENOMEM;
    waiters = scratch;
    pollorder = (size_t *)(waiters + n);
    lockorder = pollorder + n;
  }

  /* Random poll order over live cases (inside-out Fisher-Yates). */
  size_t npoll = 0;
  for (size_t i = 0; i < n; i++) {
    if (!cases[i].chan) continue;
    size_t j = gort__fastrandn((uint32_t)(npoll + 1));
    pollorder[npoll] = pollorder[j];
    pollorder[j] = i;
    npoll++;
  }
  int result;
  if (npoll == 0) {
    gort__free(scratch);
    if (!block) return GORT_EAGAIN;
    gort__park(GORT_WAIT_SELECT_NO_CASES, NULL, NULL);
    gort__fatal("select with no cases was woken");
  }
  if (!block && npoll == 1) { /* the other cases are nil: they never fire */
    gort__free(scratch);
    return select_one_live(cases, pollorder[0]);
  }

  /* Lock order: by channel address (insertion sort; n is small). */
  for (size_t i = 0; i < npoll; i++) {
    size_t v = pollorder[i], j = i;
    while (j > 0 && (uintptr_t)cases[lockorder[j - 1]].chan > (uintptr_t)cases[v].chan) {
      lockorder[j] = lockorder[j - 1];
      j--;
    }
    lockorder[j] = v;
  }
  sel_locks locks = {cases, lockorder, npoll};
  sel_lock(&locks);

  for (size_t i = 0; i < npoll; i++) {
    result = (int)pollorder[i];
    if (try_case(&cases[pollorder[i]], &locks, &result)) goto out;
  }
  if (!block) {
    sel_unlock(&locks);
    result = GORT_EAGAIN;
    goto out;
  }

  gort__task *t = gort__current();
  if (!t) {
    sel_unlock(&locks);
    result = GORT_ENOMEM;
    goto out;
  }
  atomic_store(&t->select_done, 0);
  t->param = NULL;
  for (size_t i = 0; i < npoll; i++) {
    size_t ci = lockorder[i];
    gort__waiter *w = &waiters[ci];
    memset(w, 0, sizeof *w);
    w->task = t;
    w->elem = cases[ci].elem;
    w->chan = cases[ci].chan;
    w->case_index = (int)ci;
    w->is_select = true;
    gort__waitq_push(cases[ci].dir == GORT_SELECT_RECV ? &w->chan->recvq : &w->chan->sendq, w);
  }
  gort__park(GORT_WAIT_SELECT, sel_unlock, &locks);

  sel_lock(&locks);
  gort__waiter *won = t->param;
  for (size_t i = 0; i < npoll; i++) {
    size_t ci = lockorder[i];
    gort__waiter *w = &waiters[ci];
    if (w == won) continue;
    gort__waitq_remove(cases[ci].dir == GORT_SELECT_RECV ? &w->chan->recvq : &w->chan->sendq, w);
  }
  sel_unlock(&locks);
  if (!won) gort__fatal("select woken without a winning case");
  /* cppcheck-suppress nullPointerRedundantCheck ; gort__fatal is _Noreturn */
  result = won->case_index;
  if (cases[result].dir == GORT_SELECT_RECV)
    cases[result].ok = won->success; /* a closer zeroed the element */
  else if (!won->success)
    result = gort__misuse(GORT_ESENDCLOSED);
out:
  gort__free(scratch);
  return result;
}

int gort_select(gort_select_case *cases, size_t n) { return select_impl(cases, n, true); }
/* One case and a default: select_one_nb, before select_impl's frame is
 * even set up. Any select with two or more live cases locks every channel
 * as Go's selectgo does: n reads without the locks would see each channel at
 * a different instant, and "none ready" must hold at one (a task that sends
 * on a, then drains b, must never let a select on {a, b} take the default;
 * reading a before the send and b after the drain would). */
int gort_select_try(gort_select_case *cases, size_t n) {
  if (n == 1 && cases &&
      (cases[0].dir == GORT_SELECT_RECV || cases[0].dir == GORT_SELECT_SEND))
    return select_one_nb(&cases[0]);
  return select_impl(cases, n, false);
}
