/* chan_impl.h - the channel structure, shared by chan.c and select.c only.
 *
 * Invariants (as Go's hchan):
 *  - At least one of sendq and recvq is empty, except for a task blocked in
 *    select on both ends of an unbuffered channel.
 *  - cap > 0: count > 0 implies recvq empty; count < cap implies sendq empty.
 *  - Once closed, sendq is empty: close woke every sender.
 * All fields below `lock` are protected by it; elem_size and cap never change.
 * count, closed and the queue heads are also read without the lock by the
 * non-blocking fast paths (chan_full/chan_empty), so their writers store
 * them atomically (relaxed; the lock still orders everything else).
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
