/* gort/chan.h - channels, with Go's semantics exactly.
 *
 * A channel carries elements of a fixed elem_size bytes (0 for Go's
 * chan struct{}: signals without a value) and has a
 * capacity (0 = unbuffered: a send completes only when a receiver takes the
 * value). A waiting peer gets its value by direct hand-off. Closing wakes every
 * blocked receiver (zero value, ok = false) and every blocked sender (misuse:
 * "send on closed channel"). Receives on a closed channel drain what is
 * buffered, then yield zero values with ok = false.
 *
 * The nil channel is NULL: send and receive on it block forever (the deadlock
 * detector sees them), try-variants report GORT_EAGAIN, select never chooses it,
 * and closing it is misuse ("close of nil channel").
 *
 * Ownership: channels are reference counted, because C has no garbage
 * collector. gort_chan_make returns one reference; give each task that keeps
 * using the channel its own with gort_chan_retain and let each drop it with
 * gort_chan_release. Closing and releasing are separate: close is a message to
 * receivers, release frees memory. Every call needs a reference held for its
 * whole duration: a task that closes a channel as its last act must hold its
 * own, or a receiver woken by the close may free the channel under it.
 * Releasing (or retaining) a channel after its last release is a fatal
 * error ("released more times than retained") as long as its memory has not
 * been reused: the freed channel's count is poisoned. Once the memory is
 * reused (another allocation got it, or a large ring was returned to the
 * OS), it is undefined behaviour, as any use after free; AddressSanitizer
 * and Valgrind report it.
 *
 * Concurrency: every call may be made from any number of tasks at once.
 */
#ifndef GORT_CHAN_H
#define GORT_CHAN_H

#include "gort/export.h"

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gort_chan gort_chan;

/* The largest element, as Go's makechan refuses element types of 64 KiB or
 * more. */
#define GORT_CHAN_ELEM_SIZE_MAX ((size_t)65535)

/* Make a channel. elem_size 0 is Go's chan struct{}: no ring is allocated
 * whatever cap is, and every element pointer (send, receive, select) may be
 * NULL. Returns GORT_EINVAL for out == NULL, elem_size above
 * GORT_CHAN_ELEM_SIZE_MAX, cap < 0 or a ring of more than SIZE_MAX bytes;
 * GORT_ENOMEM when allocation fails (then *out is untouched). */
GORT_API int gort_chan_make(gort_chan **out, size_t elem_size, long cap);
/* Reference counting; NULL is ignored. The last release frees the channel;
 * no task may be blocked on it then. */
GORT_API gort_chan *gort_chan_retain(gort_chan *c);
GORT_API void gort_chan_release(gort_chan *c);

/* Block until the value *elem (elem_size bytes, copied) is delivered.
 * 0; GORT_EINVAL (elem NULL and elem_size > 0); GORT_ESENDCLOSED (misuse)
 * if the channel is or becomes closed. */
GORT_API int gort_chan_send(gort_chan *c, const void *elem);
/* Block until a value arrives or the channel is closed and drained.
 * Returns 0 with a value (ok = true) or GORT_ECLOSED with a zeroed *elem
 * (ok = false). elem and ok may be NULL to discard them. */
GORT_API int gort_chan_recv(gort_chan *c, void *elem, bool *ok);
/* Non-blocking forms: GORT_EAGAIN when the operation would block. */
GORT_API int gort_chan_try_send(gort_chan *c, const void *elem);
GORT_API int gort_chan_try_recv(gort_chan *c, void *elem, bool *ok);
/* Close. GORT_ECLOSECLOSED / GORT_ECLOSENIL are misuse. */
GORT_API int gort_chan_close(gort_chan *c);

/* len(c), cap(c), and the element size; 0 for NULL. */
GORT_API size_t gort_chan_len(gort_chan *c);
GORT_API size_t gort_chan_cap(gort_chan *c);
GORT_API size_t gort_chan_elem_size(gort_chan *c);
/* True once closed (a racy snapshot, like any len). */
GORT_API bool gort_chan_is_closed(gort_chan *c);

/* Typed conveniences. T must be a complete type. */
#define GORT_CHAN_MAKE(out, T, cap) gort_chan_make((out), sizeof(T), (cap))
#define GORT_CHAN_SEND(c, T, value) gort_chan_send((c), &(T){(value)})
#define GORT_CHAN_TRY_SEND(c, T, value) gort_chan_try_send((c), &(T){(value)})
/* for (T v; GORT_CHAN_RANGE(c, &v);) { ... }  -- Go's `for v := range c`. */
#define GORT_CHAN_RANGE(c, ptr) (gort_chan_recv((c), (ptr), NULL) == 0)

#ifdef __cplusplus
}
#endif
#endif
