/* chan.c - channels: Go's hchan on park/ready.
 *
 * See chan_impl.h for the structure's invariants. Every operation takes
 * c->lock; a blocked task queues a waiter on its own stack and parks; the
 * peer that completes it copies the element directly between the two tasks'
 * memory (no intermediate buffer for a waiting peer), marks the waiter, drops
 * the lock, then readies the task. Nothing touches a waiter after readying it.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "chan_impl.h"
#include "hb.h"

int gort_chan_make(gort_chan **out, size_t elem_size, long cap) {
  if (!out || elem_size > GORT_CHAN_ELEM_SIZE_MAX || cap < 0) return GORT_EINVAL;
  /* chan struct{} (elem_size 0) has no ring: count alone is the buffer. */
  if (elem_size > 0 && (size_t)cap > (SIZE_MAX - sizeof(gort_chan)) / elem_size)
    return GORT_EINVAL;
  gort_chan *c = gort__calloc(1, sizeof *c + (size_t)cap * elem_size);
  if (!c) return GORT_ENOMEM;
  atomic_init(&c->lock.state, 0); /* lock.h: spins, then sleeps */
  c->elem_size = elem_size;
  c->cap = (size_t)cap;
  c->buf = (unsigned char *)(c + 1);
  atomic_init(&c->refs, 1);
  /* Words the lock-free checks below read without the lock (hb.h). */
  GORT__HB_ATOMIC(&c->refs, sizeof c->refs);
  GORT__HB_ATOMIC(&c->count, sizeof c->count);
  GORT__HB_ATOMIC(&c->closed, sizeof c->closed);
  GORT__HB_ATOMIC(&c->recvq.head, sizeof c->recvq.head);
  GORT__HB_ATOMIC(&c->sendq.head, sizeof c->sendq.head);
  *out = c;
  return 0;
}

/* A freed channel's count is poisoned: far below zero, so that a retain or
 * release of the freed channel finds old <= 0 even after a few stray
 * increments. This catches the common double release (the memory not yet
 * reused: refs lies past the words malloc writes into a freed block); once
 * the memory is reused, it is undefined, as any use after free (ASan and
 * Valgrind report it). */
#define CHAN_REFS_POISON (LONG_MIN / 2)

gort_chan *gort_chan_retain(gort_chan *c) {
  if (c && atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed) <= 0)
    gort__fatal("channel %p retained after its last release (released more times than retained)",
                (void *)c);
  return c;
}

void gort_chan_release(gort_chan *c) {
  if (!c) return;
  /* acq_rel: the last releaser must see every other holder's writes. */
  GORT__HB_BEFORE(&c->refs);
  long old = atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel);
  if (old == 1) {
    GORT__HB_AFTER(&c->refs);
    if (c->recvq.head || c->sendq.head)
      gort__fatal("channel %p freed while tasks are blocked on it", (void *)c);
    atomic_store_explicit(&c->refs, CHAN_REFS_POISON, memory_order_relaxed);
    gort__free(c);
  } else if (old <= 0) {
    gort__fatal("channel %p released more times than retained", (void *)c);
  }
}

/* ---- element copies: nothing to copy for chan struct{}, whose element
 * pointers may be NULL (memcpy's arguments must not be, even for 0 bytes) */

void gort__chan_copy(const gort_chan *c, void *dst, const void *src) {
  if (c->elem_size > 0 && dst) memcpy(dst, src, c->elem_size);
}

void gort__chan_zero(const gort_chan *c, void *dst) {
  if (c->elem_size > 0 && dst) memset(dst, 0, c->elem_size);
}

/* ---- buffer ring (lock held) ---- */

void gort__chan_buf_put(gort_chan *c, const void *elem) {
  gort__chan_copy(c, c->buf + c->sendx * c->elem_size, elem);
  if (++c->sendx == c->cap) c->sendx = 0;
  __atomic_store_n(&c->count, c->count + 1, __ATOMIC_RELAXED);
}

void gort__chan_buf_take(gort_chan *c, void *elem) {
  gort__chan_copy(c, elem, c->buf + c->recvx * c->elem_size);
  if (++c->recvx == c->cap) c->recvx = 0;
  __atomic_store_n(&c->count, c->count - 1, __ATOMIC_RELAXED);
}

/* ---- hand-off to a waiting peer ---- */

void gort__chan_send_direct(gort_chan *c, gort__waiter *w, const void *elem,
                            void (*unlock)(void *), void *lockarg) {
  gort__chan_copy(c, w->elem, elem);
  w->success = true;
  gort__task *t = w->task;
  if (w->is_select) t->param = w;
  unlock(lockarg);
  gort__ready(t);
}

void gort__chan_recv_direct(gort_chan *c, gort__waiter *w, void *elem,
                            void (*unlock)(void *), void *lockarg) {
  if (c->cap == 0) {
    gort__chan_copy(c, elem, w->elem);
  } else {
    /* Full buffer: take the head, and the sender's value takes its slot, so
     * FIFO order holds. */
    unsigned char *slot = c->buf + c->recvx * c->elem_size;
    gort__chan_copy(c, elem, slot);
    gort__chan_copy(c, slot, w->elem);
    if (++c->recvx == c->cap) c->recvx = 0;
    c->sendx = c->recvx;
  }
  w->success = true;
  gort__task *t = w->task;
  if (w->is_select) t->param = w;
  unlock(lockarg);
  gort__ready(t);
}

/* ---- send / receive ---- */

static _Noreturn void block_forever(gort_wait_reason reason) {
  gort__park(reason, NULL, NULL);
  gort__fatal("a task blocked forever was woken");
}

/* The try forms' inline prefix (chan_impl.h) has already answered the
 * common "would block"; the checks are repeated here for the callers that
 * come without it (and they are cheap next to the lock). */
int gort__chan_send(gort_chan *c, const void *elem, bool block) {
  if (!elem && c->elem_size > 0) return GORT_EINVAL;
  /* Not closed, then full (gort__chan_try_send_inline). */
  if (!block && !__atomic_load_n(&c->closed, __ATOMIC_RELAXED) && gort__chan_full(c))
    return GORT_EAGAIN;
  gort__chan_lock(c);
  if (c->closed) {
    gort__lock_release(&c->lock);
    return gort__misuse(GORT_ESENDCLOSED);
  }
  gort__waiter *w = gort__waitq_dequeue(&c->recvq);
  if (w) {
    gort__chan_send_direct(c, w, elem, gort__unlock_lock, &c->lock);
    return 0;
  }
  if (c->count < c->cap) {
    gort__chan_buf_put(c, elem);
    gort__lock_release(&c->lock);
    return 0;
  }
  if (!block) {
    gort__lock_release(&c->lock);
    return GORT_EAGAIN;
  }
  gort__waiter me = {.task = gort__current(), .elem = (void *)elem, .chan = c};
  if (!me.task) {
    gort__lock_release(&c->lock);
    return GORT_ENOMEM;
  }
  gort__waitq_push(&c->sendq, &me);
  gort__park(GORT_WAIT_CHAN_SEND, gort__unlock_lock, &c->lock);
  /* Woken by a receiver (success) or by close (failure). */
  return me.success ? 0 : gort__misuse(GORT_ESENDCLOSED);
}

int gort__chan_recv(gort_chan *c, void *elem, bool *ok, bool block) {
  if (ok) *ok = false;
  if (!block && gort__chan_empty(c)) {
    /* Empty and open: would block (gort__chan_try_recv_inline). Empty
     * after closed was seen (acquire, pairing with close's release): closed
     * and drained, as Go's chanrecv. */
    if (!__atomic_load_n(&c->closed, __ATOMIC_ACQUIRE)) return GORT_EAGAIN;
    GORT__HB_AFTER(&c->closed);
    if (gort__chan_empty(c)) {
      gort__chan_zero(c, elem);
      return GORT_ECLOSED;
    }
  }
  gort__chan_lock(c);
  if (c->closed && c->count == 0) {
    gort__lock_release(&c->lock);
    gort__chan_zero(c, elem);
    return GORT_ECLOSED;
  }
  gort__waiter *w = gort__waitq_dequeue(&c->sendq);
  if (w) {
    gort__chan_recv_direct(c, w, elem, gort__unlock_lock, &c->lock);
    if (ok) *ok = true;
    return 0;
  }
  if (c->count > 0) {
    gort__chan_buf_take(c, elem);
    gort__lock_release(&c->lock);
    if (ok) *ok = true;
    return 0;
  }
  if (!block) {
    gort__lock_release(&c->lock);
    return GORT_EAGAIN;
  }
  gort__waiter me = {.task = gort__current(), .elem = elem, .chan = c};
  if (!me.task) {
    gort__lock_release(&c->lock);
    return GORT_ENOMEM;
  }
  gort__waitq_push(&c->recvq, &me);
  gort__park(GORT_WAIT_CHAN_RECV, gort__unlock_lock, &c->lock);
  if (ok) *ok = me.success;
  return me.success ? 0 : GORT_ECLOSED; /* close zeroed *elem */
}

int gort_chan_send(gort_chan *c, const void *elem) {
  if (!c) block_forever(GORT_WAIT_CHAN_SEND_NIL);
  return gort__chan_send(c, elem, true);
}

int gort_chan_recv(gort_chan *c, void *elem, bool *ok) {
  if (!c) {
    if (ok) *ok = false;
    block_forever(GORT_WAIT_CHAN_RECV_NIL);
  }
  return gort__chan_recv(c, elem, ok, true); /* sets *ok */
}

int gort_chan_try_send(gort_chan *c, const void *elem) {
  return gort__chan_try_send_inline(c, elem);
}

int gort_chan_try_recv(gort_chan *c, void *elem, bool *ok) {
  return gort__chan_try_recv_inline(c, elem, ok);
}

int gort_chan_close(gort_chan *c) {
  if (!c) return gort__misuse(GORT_ECLOSENIL);
  gort__chan_lock(c);
  if (c->closed) {
    gort__lock_release(&c->lock);
    return gort__misuse(GORT_ECLOSECLOSED);
  }
  GORT__HB_BEFORE(&c->closed);
  __atomic_store_n(&c->closed, true, __ATOMIC_RELEASE);
  /* Collect every waiter on a private list (reusing the queue links), then
   * ready them after unlocking. */
  gort__waiter *wake = NULL, *w;
  while ((w = gort__waitq_dequeue(&c->recvq)) != NULL) {
    gort__chan_zero(c, w->elem);
    w->success = false;
    if (w->is_select) w->task->param = w;
    w->next = wake;
    wake = w;
  }
  while ((w = gort__waitq_dequeue(&c->sendq)) != NULL) {
    w->success = false;
    if (w->is_select) w->task->param = w;
    w->next = wake;
    wake = w;
  }
  gort__lock_release(&c->lock);
  while (wake) {
    w = wake;
    wake = w->next; /* read before ready: the waiter dies with its frame */
    gort__ready(w->task);
  }
  return 0;
}

size_t gort_chan_len(gort_chan *c) {
  if (!c) return 0;
  gort__lock_acquire(&c->lock);
  size_t n = c->count;
  gort__lock_release(&c->lock);
  return n;
}

size_t gort_chan_cap(gort_chan *c) { return c ? c->cap : 0; }
size_t gort_chan_elem_size(gort_chan *c) { return c ? c->elem_size : 0; }

bool gort_chan_is_closed(gort_chan *c) {
  if (!c) return false;
  gort__lock_acquire(&c->lock);
  bool closed = c->closed;
  gort__lock_release(&c->lock);
  return closed;
}
