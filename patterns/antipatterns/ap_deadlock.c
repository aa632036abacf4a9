/* ap_deadlock.c - mistakes that park every task for good. gort's deadlock
 * detector then does what Go's runtime does: "fatal error: all tasks are
 * asleep - deadlock!" with a task dump, and abort.
 */
#include <stdio.h>
#include <stdlib.h>

#include "antipattern.h"
#include "gort/gort.h"

/* ---- nil_chan_send: seed 003 "4. Writing to a Nil Channel" ---- */

static void nil_chan_send_bad(ap_out *o) {
  (void)o;
  gort_chan *ch = NULL; /* var ch chan int */
  GORT_CHAN_SEND(ch, int, 1); /* blocks forever: not a panic, a deadlock */
}

static void nil_chan_send_fixed(ap_out *o) {
  gort_chan *ch;
  GORT_CHAN_MAKE(&ch, int, 1); /* always initialise channels with make */
  GORT_CHAN_SEND(ch, int, 1);
  int v = 0;
  gort_chan_recv(ch, &v, NULL);
  gort_chan_release(ch);
  (void)o;
}

const ap_entry ap_nil_chan_send = {
    "nil_chan_send", "003 Common Mistakes 4: Writing to a Nil Channel",
    "sending on a channel that was never made (nil) blocks forever", AP_DEADLOCK,
    "all tasks are asleep - deadlock!", NULL, nil_chan_send_bad, nil_chan_send_fixed};

/* ---- unbuffered_no_receiver: seed 004 troubleshooting "fatal error: all
 * goroutines are asleep - deadlock!" (check channel read/write pairing) ---- */

static void unbuffered_no_receiver_bad(ap_out *o) {
  (void)o;
  gort_chan *ch;
  GORT_CHAN_MAKE(&ch, int, 0);
  GORT_CHAN_SEND(ch, int, 42); /* no receiver will ever come */
  int v;
  gort_chan_recv(ch, &v, NULL);
  gort_chan_release(ch);
}

struct receiver {
  gort_chan *ch;
  int got;
};

static void receive_one(void *arg) {
  struct receiver *r = arg;
  gort_chan_recv(r->ch, &r->got, NULL);
}

static void unbuffered_no_receiver_fixed(ap_out *o) {
  struct receiver r = {NULL, 0};
  GORT_CHAN_MAKE(&r.ch, int, 0);
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  gort_waitgroup_go(&wg, receive_one, &r); /* the consumer exists first */
  GORT_CHAN_SEND(r.ch, int, 42);
  gort_waitgroup_wait(&wg);
  gort_chan_release(r.ch);
  (void)o;
}

const ap_entry ap_unbuffered_no_receiver = {
    "unbuffered_no_receiver", "004 Error Troubleshooting: all goroutines are asleep - deadlock!",
    "a send on an unbuffered channel with no receiver (read/write pairing broken)", AP_DEADLOCK,
    "all tasks are asleep - deadlock!", NULL, unbuffered_no_receiver_bad,
    unbuffered_no_receiver_fixed};

/* ---- mutex_copy: seed 004 "Pitfall 5: Mutex Copy" ----
 * A SafeMap copied by value while its mutex is locked: the copy's mutex is
 * locked for good (nobody will ever unlock *that* mutex). */

typedef struct {
  gort_mutex mu;
  int data;
} safe_map;

static safe_map copy_map(safe_map m) { return m; } /* func copyMap(m SafeMap) SafeMap */

static void mutex_copy_bad(ap_out *o) {
  (void)o;
  safe_map m = {GORT_MUTEX_INIT, 1};
  gort_mutex_lock(&m.mu);
  safe_map c = copy_map(m); /* copies the locked state */
  gort_mutex_unlock(&m.mu);
  gort_mutex_lock(&c.mu); /* waits for an unlock that cannot happen */
  c.data++;
  gort_mutex_unlock(&c.mu);
}

typedef struct {
  gort_mutex *mu; /* shared by every copy */
  int *data;
} safe_map_ref;

static safe_map_ref copy_ref(safe_map_ref m) { return m; }

static void mutex_copy_fixed(ap_out *o) {
  gort_mutex mu = GORT_MUTEX_INIT;
  int data = 1;
  safe_map_ref m = {&mu, &data};
  gort_mutex_lock(m.mu);
  safe_map_ref c = copy_ref(m);
  gort_mutex_unlock(m.mu);
  gort_mutex_lock(c.mu);
  (*c.data)++;
  gort_mutex_unlock(c.mu);
  (void)o;
}

const ap_entry ap_mutex_copy = {
    "mutex_copy", "004 Pitfall 5: Mutex Copy",
    "a struct holding a mutex is copied while locked; the copy's mutex stays locked",
    AP_DEADLOCK, "all tasks are asleep - deadlock!", NULL, mutex_copy_bad, mutex_copy_fixed};

/* ---- forgotten_unlock: an early return that skips Unlock (seed 002's
 * Sharding uses `defer shard.Unlock()` for exactly this) ---- */

typedef struct {
  gort_mutex mu;
  int balance;
} account;

static int withdraw_bad(account *a, int amount) {
  gort_mutex_lock(&a->mu);
  if (a->balance < amount) return -1; /* returns with the mutex held */
  a->balance -= amount;
  gort_mutex_unlock(&a->mu);
  return 0;
}

static int withdraw_fixed(account *a, int amount) {
  gort_mutex_lock(&a->mu);
  int rc = -1;
  if (a->balance >= amount) {
    a->balance -= amount;
    rc = 0;
  }
  gort_mutex_unlock(&a->mu); /* one exit: the unlock cannot be skipped */
  return rc;
}

static void forgotten_unlock_bad(ap_out *o) {
  (void)o;
  account a = {GORT_MUTEX_INIT, 100};
  withdraw_bad(&a, 1000); /* insufficient funds */
  withdraw_bad(&a, 10);   /* blocks on the mutex the first call kept */
}

static void forgotten_unlock_fixed(ap_out *o) {
  account a = {GORT_MUTEX_INIT, 100};
  (void)o;
  withdraw_fixed(&a, 1000); /* refused: insufficient funds, and unlocked */
  withdraw_fixed(&a, 10);   /* so this one gets the mutex */
}

const ap_entry ap_forgotten_unlock = {
    "forgotten_unlock", "002 Sharding (defer Unlock); the gort issue's list",
    "an early return skips the Unlock; the next Lock waits forever", AP_DEADLOCK,
    "all tasks are asleep - deadlock!", NULL, forgotten_unlock_bad, forgotten_unlock_fixed};
