/* ap_misuse.c - mistakes Go turns into a panic. gort aborts with Go's
 * message and a task dump by default; with GORT_MISUSE=return the call
 * returns its error code instead and the driver reports "misuse: <msg>".
 */
#include <stdio.h>
#include <stdlib.h>

#include "antipattern.h"
#include "gort/gort.h"
#include "gort/semaphore.h"

/* ---- double_close: seed 000 "Closing a Channel Twice", seed 003 "2." ----
 * Two parties both signal completion by closing `done`. */

static void double_close_bad(ap_out *o) {
  (void)o;
  gort_chan *done;
  GORT_CHAN_MAKE(&done, char, 0);
  gort_chan_close(done); /* first close: OK */
  gort_chan_close(done); /* panic: close of closed channel */
  gort_chan_release(done);
}

struct closer {
  gort_once *once;
  gort_chan *done;
  gort_waitgroup *wg;
};

static void close_done(void *arg) { gort_chan_close(((struct closer *)arg)->done); }

static void close_once_task(void *arg) {
  struct closer *c = arg;
  gort_once_do(c->once, close_done, c); /* closeOnce() */
}

static void double_close_fixed(ap_out *o) {
  gort_chan *done;
  GORT_CHAN_MAKE(&done, char, 0);
  gort_once once = GORT_ONCE_INIT;
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  struct closer c = {&once, done, &wg};
  gort_waitgroup_go(&wg, close_once_task, &c);
  gort_waitgroup_go(&wg, close_once_task, &c);
  gort_waitgroup_wait(&wg);
  bool ok = true;
  gort_chan_recv(done, NULL, &ok);
  gort_chan_release(done);
  (void)o;
}

const ap_entry ap_double_close = {
    "double_close", "000 Common Pitfalls: Closing a Channel Twice; 003 Common Mistakes 2",
    "two parties each close the same channel to signal completion", AP_MISUSE,
    "close of closed channel", NULL, double_close_bad, double_close_fixed};

/* ---- send_after_close: seed 000 "Sending on a Closed Channel", seed 003
 * "5.", and the best practice "close from the sender side" ----
 * Two producers share a channel; the first one done closes it while the
 * second is still sending. */

struct producer {
  gort_chan *out;
  int base;
  gort_chan *start_after; /* B: starts after this is closed (A is done) */
  gort_chan *finished;    /* A: closed when A is done */
  bool close_out;         /* the mistake: "I am done, so I close" */
};

static void produce(void *arg) {
  struct producer *p = arg;
  if (p->start_after) gort_chan_recv(p->start_after, NULL, NULL);
  for (int i = 0; i < 3; i++) GORT_CHAN_SEND(p->out, int, p->base + i);
  if (p->close_out) gort_chan_close(p->out);
  if (p->finished) gort_chan_close(p->finished);
}

static void send_after_close_bad(ap_out *o) {
  (void)o;
  gort_chan *out, *a_done;
  GORT_CHAN_MAKE(&out, int, 0);
  GORT_CHAN_MAKE(&a_done, char, 0);
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  struct producer a = {out, 0, NULL, a_done, true}, b = {out, 10, a_done, NULL, true};
  gort_waitgroup_go(&wg, produce, &a);
  gort_waitgroup_go(&wg, produce, &b); /* panic: send on closed channel */
  for (int v; GORT_CHAN_RANGE(out, &v);) (void)v;
  gort_waitgroup_wait(&wg);
  gort_chan_release(a_done);
  gort_chan_release(out);
}

struct close_after {
  gort_waitgroup *producers;
  gort_chan *out;
};

static void close_after_producers(void *arg) {
  struct close_after *c = arg;
  gort_waitgroup_wait(c->producers);
  gort_chan_close(c->out); /* one owner closes, after every send */
}

static void send_after_close_fixed(ap_out *o) {
  gort_chan *out;
  GORT_CHAN_MAKE(&out, int, 0);
  gort_waitgroup producers = GORT_WAITGROUP_INIT, closer = GORT_WAITGROUP_INIT;
  struct producer a = {out, 0, NULL, NULL, false}, b = {out, 10, NULL, NULL, false};
  gort_waitgroup_go(&producers, produce, &a);
  gort_waitgroup_go(&producers, produce, &b);
  struct close_after c = {&producers, out};
  gort_waitgroup_go(&closer, close_after_producers, &c);
  int got = 0;
  for (int v; GORT_CHAN_RANGE(out, &v);) got++;
  gort_waitgroup_wait(&closer);
  gort_chan_release(out);
  (void)o;
}

const ap_entry ap_send_after_close = {
    "send_after_close",
    "000 Common Pitfalls: Sending on a Closed Channel; 003 Common Mistakes 5; 000 Best Practices 2",
    "one of two producers closes the shared channel while the other is still sending",
    AP_MISUSE, "send on closed channel", NULL, send_after_close_bad, send_after_close_fixed};

/* ---- wg_done_without_add: seed 000 "Missing WaitGroup Coordination"
 * (forgetting wg.Add()) ---- */

struct wg_work {
  gort_waitgroup *wg;
  gort_chan *exited; /* closed when the task is done with wg */
};

static void do_work_then_done(void *arg) {
  struct wg_work *w = arg;
  gort_waitgroup_done(w->wg); /* defer wg.Done(): panic without an Add */
  gort_chan_close(w->exited);
}

static void wg_done_without_add_bad(ap_out *o) {
  (void)o;
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  gort_chan *exited;
  GORT_CHAN_MAKE(&exited, char, 0);
  struct wg_work w = {&wg, exited};
  gort_go(do_work_then_done, &w); /* no wg.Add(1) */
  gort_waitgroup_wait(&wg);      /* returns at once: the counter is 0 */
  gort_chan_recv(exited, NULL, NULL);
  gort_chan_release(exited);
}

static void wg_done_without_add_fixed(ap_out *o) {
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  gort_chan *exited;
  GORT_CHAN_MAKE(&exited, char, 0);
  struct wg_work w = {&wg, exited};
  gort_waitgroup_add(&wg, 1); /* before the go statement */
  gort_go(do_work_then_done, &w);
  gort_waitgroup_wait(&wg);
  gort_chan_recv(exited, NULL, NULL);
  gort_chan_release(exited);
  (void)o;
}

const ap_entry ap_wg_done_without_add = {
    "wg_done_without_add", "000 Common Pitfalls: Missing WaitGroup Coordination (no Add)",
    "a task calls wg.Done() but nobody called wg.Add()", AP_MISUSE,
    "sync: negative WaitGroup counter", NULL, wg_done_without_add_bad, wg_done_without_add_fixed};

/* ---- sem_release_unheld: seed 004 "Pattern 5: Semaphore" (Release must
 * be paired with Acquire) ---- */

static void sem_release_unheld_bad(ap_out *o) {
  (void)o;
  gort_semaphore *sem;
  gort_semaphore_new(&sem, 10);
  gort_semaphore_release(sem, 5); /* never acquired */
  gort_semaphore_free(sem);
}

static void sem_release_unheld_fixed(ap_out *o) {
  gort_semaphore *sem;
  gort_semaphore_new(&sem, 10);
  int rc = gort_semaphore_acquire(sem, gort_context_background(), 5);
  if (rc == 0) gort_semaphore_release(sem, 5); /* defer r.sem.Release(weight) */
  (void)o;
  gort_semaphore_free(sem);
}

const ap_entry ap_sem_release_unheld = {
    "sem_release_unheld", "004 Pattern 5: Semaphore (Release must be paired with Acquire)",
    "releasing semaphore weight that was never acquired", AP_MISUSE,
    "semaphore: released more than held", NULL, sem_release_unheld_bad, sem_release_unheld_fixed};
