/* chan_impl.h - the channel structure, shared by chan.c and select.c only.
 *
 * Invariants (as Go's hchan):
 *  - At least one of sendq and recvq is empty, except for a task blocked in
 *    select on both ends of an unbuffered channel.
 *  - cap > 0: count > 0 implies recvq empty; count < cap implies sendq empty.
 *  - Once closed, sendq is empty: close woke every sender.
 * All fields below `lock` are protected by it; elem_size and cap never change.
 * count, closed and the queue heads are also read without the lock by the
 * non-blocking fast paths (gort__chan_full/gort__chan_empty, below), so
 * their writers store them atomically (relaxed, closed with release; the
 * lock still orders everything else).
 */
#ifndef GORT_CHAN_IMPL_H
#define GORT_CHAN_IMPL_H

#include "gort/chan.h"
#include "chaos.h"
#include "internal.h"
#include "lock.h"

struct gort_chan {
  gort__lock lock;
  size_t elem_size;
  size_t cap;
  size_t count;        /* elements in buf */
  size_t sendx, recvx; /* ring indices */
  bool closed;
  gort__waitq recvq, sendq;
  _Atomic long refs;   /* poisoned when freed (chan.c); kept past the first
                        * two words, which malloc reuses in a freed block */
  unsigned char *buf;  /* cap * elem_size bytes, right after the struct (none
                        * for elem_size 0) */
};

/* ---- lock-free checks for non-blocking operations (Go's full/empty) ----
 * A send would block when no receiver waits (unbuffered) or the buffer is
 * full; a receive when no sender waits or the buffer is empty. Each reads
 * one word, so the answer was true at some instant between the call and
 * the return: reporting "would block" then is a correct linearization of
 * the try operation. Closed is checked as Go does (see the callers).
 *
 * empty's load is an acquire: a non-blocking receive must read empty
 * before closed (gort__chan_try_recv_inline), and an acquire keeps the
 * later load of closed after it (x86: a plain load; Go's atomic loads). */
static inline bool gort__chan_full(gort_chan *c) {
  if (c->cap == 0) return __atomic_load_n(&c->recvq.head, __ATOMIC_RELAXED) == NULL;
  return __atomic_load_n(&c->count, __ATOMIC_RELAXED) == c->cap;
}

static inline bool gort__chan_empty(gort_chan *c) {
  if (c->cap == 0) return __atomic_load_n(&c->sendq.head, __ATOMIC_ACQUIRE) == NULL;
  return __atomic_load_n(&c->count, __ATOMIC_ACQUIRE) == 0;
}

/* A whole send or receive on a non-nil channel, nil checked by the caller:
 * for !block, the lock-free checks first (again, after an inline prefix),
 * then under the lock (chan.c). */
int gort__chan_send(gort_chan *c, const void *elem, bool block);
int gort__chan_recv(gort_chan *c, void *elem, bool *ok, bool block);

/* Non-blocking send and receive, for gort_chan_try_* and a one-case
 * gort_select_try (what Go's compiler makes of a select with one case and a
 * default: selectnbsend/selectnbrecv). The common "would block" verdict is
 * decided here, inline, with no lock, no call and no stack frame; every
 * other outcome (ready, closed, misuse) is gort__chan_send/recv's.
 *
 * Send: not closed, then full. At the moment of the second read the channel
 * was full, and (close being permanent) not closed at the first: it was
 * both at the second read, so "would block" linearizes there. The order of
 * the two reads does not matter (Go's chansend says the same).
 *
 * Receive: empty, then not closed, and this order matters: were the reads
 * reordered, a channel that was open and not empty, then closed, then
 * drained could look open and empty, although it never was. Empty's load is
 * an acquire, so closed's cannot move before it; emptying and closing
 * happen in separate critical sections of the same lock. A closed channel
 * goes to gort__chan_recv, which re-checks empty after seeing closed (a
 * send that raced with the first read) and reports GORT_ECLOSED with a
 * zeroed element, as Go's chanrecv. Neither verdict is a chaos point: only
 * the lock is (as before). */
static inline int gort__chan_try_send_inline(gort_chan *c, const void *elem) {
  if (!c) return GORT_EAGAIN; /* a nil channel is never ready */
  if (!elem && c->elem_size > 0) return GORT_EINVAL;
  if (!__atomic_load_n(&c->closed, __ATOMIC_RELAXED) && gort__chan_full(c)) return GORT_EAGAIN;
  return gort__chan_send(c, elem, false);
}

static inline int gort__chan_try_recv_inline(gort_chan *c, void *elem, bool *ok) {
  if (ok) *ok = false;
  if (!c) return GORT_EAGAIN; /* a nil channel is never ready */
  if (gort__chan_empty(c) && !__atomic_load_n(&c->closed, __ATOMIC_ACQUIRE)) return GORT_EAGAIN;
  return gort__chan_recv(c, elem, ok, false);
}

/* Take c's lock at a send, receive, close or select: a GORT_CHAOS point. */
static inline void gort__chan_lock(gort_chan *c) {
  GORT__CHAOS(GORT__CHAOS_LOCK);
  gort__lock_acquire(&c->lock);
}

/* Complete a send to the dequeued receiver w (lock held; released here, then
 * w's task is readied). */
void gort__chan_send_direct(gort_chan *c, gort__waiter *w, const void *elem,
                            void (*unlock)(void *), void *lockarg);
/* Complete a receive from the dequeued sender w (lock held; released here). */
void gort__chan_recv_direct(gort_chan *c, gort__waiter *w, void *elem,
                            void (*unlock)(void *), void *lockarg);
/* Copy one element from src to dst / zero dst; no-op for elem_size 0 or a
 * NULL dst (a receiver that discards the value). */
void gort__chan_copy(const gort_chan *c, void *dst, const void *src);
void gort__chan_zero(const gort_chan *c, void *dst);
void gort__chan_buf_put(gort_chan *c, const void *elem);
void gort__chan_buf_take(gort_chan *c, void *elem);

#endif
