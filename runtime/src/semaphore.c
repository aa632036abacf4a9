/* semaphore.c - the weighted semaphore of golang.org/x/sync/semaphore.
 *
 * Invariants (all under s->lock):
 *  - 0 <= cur <= size.
 *  - The queue is FIFO and never holds a waiter whose weight fits while it is
 *    at the head: every change that frees weight (release, a cancelled head
 *    leaving) calls notify_waiters, which grants from the head until the head
 *    does not fit. So a non-empty queue means "the head does not fit", and
 *    new acquires (even small ones) queue behind it.
 *  - A waiter is granted exactly once: notify_waiters adds its weight to cur,
 *    unlinks it, sets granted, then closes its ready channel. A waiter that is
 *    unlinked without granted was removed by its own cancellation.
 *
 * Waiters live on the blocked task's stack. They are touched by others only
 * under s->lock, and never after their ready channel is closed: the waiter
 * may return (and its frame vanish) as soon as it sees the close.
 */
#include <stdbool.h>

#include "gort/select.h"
#include "gort/semaphore.h"
#include "internal.h"

typedef struct sem_waiter {
  int64_t n;
  gort_chan *ready; /* closed when the weight is granted */
  bool granted;     /* set by notify_waiters; read by the waiter under s->lock */
  struct sem_waiter *prev, *next;
} sem_waiter;

struct gort_semaphore {
  int64_t size;         /* immutable */
  pthread_mutex_t lock; /* protects everything below */
  int64_t cur;          /* weight held */
  sem_waiter *head, *tail;
  int nwaiters;
};

int gort_semaphore_new(gort_semaphore **out, int64_t n) {
  if (out == NULL || n < 0) return GORT_EINVAL;
  gort_semaphore *s = gort__calloc(1, sizeof *s);
  if (s == NULL) return GORT_ENOMEM;
  s->size = n;
  pthread_mutex_init(&s->lock, NULL);
  *out = s;
  return 0;
}

void gort_semaphore_free(gort_semaphore *s) {
  if (s == NULL) return;
  pthread_mutex_destroy(&s->lock);
  gort__free(s);
}

/* Requires s->lock. */
static void unlink_waiter(gort_semaphore *s, sem_waiter *w) {
  if (w->prev) w->prev->next = w->next;
  else s->head = w->next;
  if (w->next) w->next->prev = w->prev;
  else s->tail = w->prev;
  w->prev = w->next = NULL;
  s->nwaiters--;
}

/* Grant weight to waiters from the head while the head fits. Stopping at the
 * first that does not fit (rather than searching for smaller ones) is what
 * keeps large requests from starving. Requires s->lock (kept held). */
static void notify_waiters(gort_semaphore *s) {
  while (s->head != NULL && s->size - s->cur >= s->head->n) {
    sem_waiter *w = s->head;
    gort_chan *ready = w->ready;
    s->cur += w->n;
    unlink_waiter(s, w);
    w->granted = true;
    /* Our own reference: the waiter may wake, return and drop its reference
     * while close is still running. Do not touch w from here on. */
    gort_chan_retain(ready);
    gort_chan_close(ready);
    gort_chan_release(ready);
  }
}

/* True if done (a context's done channel, may be NULL) is closed: Go's
 * `select { case <-done: ...; default: }`. */
static bool is_done(gort_chan *done) {
  return done != NULL && gort_chan_try_recv(done, NULL, NULL) == GORT_ECLOSED;
}

int gort_semaphore_acquire(gort_semaphore *s, gort_context *ctx, int64_t n) {
  if (s == NULL || ctx == NULL || n < 0) return GORT_EINVAL;
  gort_chan *done = gort_context_done(ctx);

  gort__lock_mutex(&s->lock);
  /* ctx becoming done happened before we got the lock: fail even if the
   * weight is free, as x/sync does. */
  if (is_done(done)) {
    pthread_mutex_unlock(&s->lock);
    return gort_context_err(ctx);
  }
  if (s->size - s->cur >= n && s->head == NULL) {
    s->cur += n;
    pthread_mutex_unlock(&s->lock);
    return 0;
  }
  if (n > s->size) {
    /* Doomed: do not queue, so nobody waits behind it. */
    pthread_mutex_unlock(&s->lock);
    gort_chan_recv(done, NULL, NULL);
    return gort_context_err(ctx);
  }

  sem_waiter w = {.n = n};
  int err = gort_chan_make(&w.ready, 0, 0);
  if (err != 0) {
    pthread_mutex_unlock(&s->lock);
    return err;
  }
  w.prev = s->tail;
  if (s->tail) s->tail->next = &w;
  else s->head = &w;
  s->tail = &w;
  s->nwaiters++;
  pthread_mutex_unlock(&s->lock);

  gort_select_case cases[2] = {gort_case_recv(w.ready, NULL), gort_case_recv(done, NULL)};
  int which = gort_select(cases, 2);
  if (which == 1) {
    gort__lock_mutex(&s->lock);
    if (w.granted) {
      /* Granted concurrently with the cancellation: pretend it was not, and
       * hand the weight to whoever is next. */
      s->cur -= n;
      notify_waiters(s);
    } else {
      bool was_head = s->head == &w;
      unlink_waiter(s, &w);
      /* Leaving the head may let the next waiters in. */
      if (was_head && s->size > s->cur) notify_waiters(s);
    }
    pthread_mutex_unlock(&s->lock);
    gort_chan_release(w.ready);
    return gort_context_err(ctx);
  }
  if (which != 0) gort__fatal("semaphore: select failed: %s", gort_strerror(which));
  gort_chan_release(w.ready);
  /* Granted; but if ctx is done by now, report the cancellation instead
   * (x/sync checks done once more), giving the weight back. */
  if (is_done(done)) {
    gort_semaphore_release(s, n);
    return gort_context_err(ctx);
  }
  return 0;
}

int gort_semaphore_try_acquire(gort_semaphore *s, int64_t n) {
  if (s == NULL || n < 0) return GORT_EINVAL;
  gort__lock_mutex(&s->lock);
  bool ok = s->size - s->cur >= n && s->head == NULL;
  if (ok) s->cur += n;
  pthread_mutex_unlock(&s->lock);
  return ok ? 0 : GORT_EAGAIN;
}

int gort_semaphore_release(gort_semaphore *s, int64_t n) {
  if (s == NULL || n < 0) return GORT_EINVAL;
  gort__lock_mutex(&s->lock);
  if (n > s->cur) {
    pthread_mutex_unlock(&s->lock);
    return gort__misuse(GORT_ESEMRELEASE);
  }
  s->cur -= n;
  notify_waiters(s);
  pthread_mutex_unlock(&s->lock);
  return 0;
}

int64_t gort_semaphore_size(gort_semaphore *s) { return s ? s->size : 0; }

int64_t gort_semaphore_held(gort_semaphore *s) {
  if (s == NULL) return 0;
  gort__lock_mutex(&s->lock);
  int64_t cur = s->cur;
  pthread_mutex_unlock(&s->lock);
  return cur;
}

int gort_semaphore_waiters(gort_semaphore *s) {
  if (s == NULL) return 0;
  gort__lock_mutex(&s->lock);
  int n = s->nwaiters;
  pthread_mutex_unlock(&s->lock);
  return n;
}
