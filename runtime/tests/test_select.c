/* test_select.c - gort_select / gort_select_try against Go's selectgo
 * (select.go; cases ported from Go's runtime/chan_test.go, in our own C).
 *
 * A select that must be blocked is observed parked with reason "select" in
 * the task snapshot before the test wakes it.
 */
#include "support/gort_test.h"

#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gort/gort.h"
#include "gort/introspect.h"

#define WAIT_MS 10000

/* ---- ready cases ---- */

static void select_recv_ready_chosen(void **state) {
  (void)state;
  gort_chan *a = gort_test_make_chan(sizeof(int), 1), *b = gort_test_make_chan(sizeof(int), 1);
  for (int blocking = 0; blocking < 2; blocking++) {
    assert_int_equal(gort_chan_send(b, &(int){17}), 0);
    int va = -1, vb = -1;
    gort_select_case cs[] = {gort_case_recv(a, &va), gort_case_recv(b, &vb)};
    int idx = blocking ? gort_select(cs, 2) : gort_select_try(cs, 2);
    assert_int_equal(idx, 1);
    assert_int_equal(vb, 17);
    assert_true(cs[1].ok);
    assert_int_equal(va, -1); /* the other case's elem is untouched */
    assert_int_equal(gort_chan_len(b), 0);
  }
  /* A NULL elem discards the value. */
  assert_int_equal(gort_chan_send(a, &(int){3}), 0);
  gort_select_case cs[] = {gort_case_recv(a, NULL)};
  assert_int_equal(gort_select(cs, 1), 0);
  assert_true(cs[0].ok);
  assert_int_equal(gort_chan_len(a), 0);
  gort_chan_release(a);
  gort_chan_release(b);
}

static void select_send_ready_chosen(void **state) {
  (void)state;
  gort_chan *full = gort_test_make_chan(sizeof(int), 1),
            *room = gort_test_make_chan(sizeof(int), 1);
  assert_int_equal(gort_chan_send(full, &(int){1}), 0);
  for (int blocking = 0; blocking < 2; blocking++) {
    int x = 100 + blocking, y = 200 + blocking;
    gort_select_case cs[] = {gort_case_send(full, &x), gort_case_send(room, &y)};
    int idx = blocking ? gort_select(cs, 2) : gort_select_try(cs, 2);
    assert_int_equal(idx, 1);
    int v = -1;
    assert_int_equal(gort_chan_recv(room, &v, NULL), 0);
    assert_int_equal(v, 200 + blocking);
    assert_int_equal(gort_chan_len(full), 1);
  }
  gort_chan_release(full);
  gort_chan_release(room);
}

static void select_try_nothing_ready_eagain(void **state) {
  (void)state;
  gort_chan *a = gort_test_make_chan(sizeof(int), 0), *b = gort_test_make_chan(sizeof(int), 1);
  assert_int_equal(gort_chan_send(b, &(int){1}), 0); /* b is full */
  int v = -7, w = 5;
  gort_select_case cs[] = {gort_case_recv(a, &v), gort_case_send(a, &w), gort_case_send(b, &w)};
  for (int i = 0; i < 100; i++) assert_int_equal(gort_select_try(cs, 3), GORT_EAGAIN);
  assert_int_equal(v, -7);
  assert_int_equal(gort_chan_len(b), 1);
  /* select { default: } */
  assert_int_equal(gort_select_try(NULL, 0), GORT_EAGAIN);
  assert_int_equal(gort_select_try(cs, 0), GORT_EAGAIN);
  /* Nothing left queued: a has no receiver or sender. */
  assert_int_equal(gort_chan_try_send(a, &w), GORT_EAGAIN);
  assert_int_equal(gort_chan_try_recv(a, &v, NULL), GORT_EAGAIN);
  gort_chan_release(a);
  gort_chan_release(b);
}

static void select_einval(void **state) {
  (void)state;
  gort_chan *a = gort_test_make_chan(sizeof(int), 1);
  assert_int_equal(gort_select(NULL, 1), GORT_EINVAL);
  assert_int_equal(gort_select_try(NULL, 2), GORT_EINVAL);
  gort_select_case bad_dir[] = {{a, (gort_select_dir)7, NULL, false}};
  assert_int_equal(gort_select(bad_dir, 1), GORT_EINVAL);
  assert_int_equal(gort_select_try(bad_dir, 1), GORT_EINVAL);
  gort_select_case null_send[] = {gort_case_send(a, NULL)};
  assert_int_equal(gort_select(null_send, 1), GORT_EINVAL);
  assert_int_equal(gort_select_try(null_send, 1), GORT_EINVAL);
  assert_int_equal(gort_chan_len(a), 0);
  gort_chan_release(a);
}

/* ---- one case and a default (Go's selectnbrecv/selectnbsend) ----
 * gort_select_try with one case answers "would block" lock-free, inline;
 * every other outcome must be what the general select gives. */

typedef struct {
  gort_chan *c;
  int value;
  int rc;
  gort_chan *done;
} peer_job;

static void blocked_send(void *arg) {
  peer_job *j = arg;
  j->rc = gort_chan_send(j->c, &j->value);
  gort_test_signal_done(j->done);
}

static void blocked_recv(void *arg) {
  peer_job *j = arg;
  j->rc = gort_chan_recv(j->c, &j->value, NULL);
  gort_test_signal_done(j->done);
}

static void select_try_one_recv(void **state) {
  (void)state;
  gort_chan *u = gort_test_make_chan(sizeof(int), 0), *b = gort_test_make_chan(sizeof(int), 2);
  int v = -7;
  gort_select_case cs[] = {gort_case_recv(u, &v)};
  /* Empty, open: default, ok false, elem untouched. */
  for (gort_chan *c = u; c; c = c == u ? b : NULL) {
    cs[0] = gort_case_recv(c, &v);
    cs[0].ok = true;
    assert_int_equal(gort_select_try(cs, 1), GORT_EAGAIN);
    assert_false(cs[0].ok);
    assert_int_equal(v, -7);
  }
  /* Buffered with data: the values in order, then default again. */
  assert_int_equal(gort_chan_send(b, &(int){1}), 0);
  assert_int_equal(gort_chan_send(b, &(int){2}), 0);
  for (int i = 1; i <= 2; i++) {
    assert_int_equal(gort_select_try(cs, 1), 0);
    assert_true(cs[0].ok);
    assert_int_equal(v, i);
  }
  cs[0].ok = true;
  assert_int_equal(gort_select_try(cs, 1), GORT_EAGAIN);
  assert_false(cs[0].ok);
  /* Unbuffered with a sender waiting: the hand-off. */
  peer_job j = {u, 41, -1, gort_test_make_chan(1, 0)};
  assert_int_equal(gort_go(blocked_send, &j), 0);
  assert_true(gort_test_wait_parked(blocked_send, GORT_WAIT_CHAN_SEND, 1, WAIT_MS));
  cs[0] = gort_case_recv(u, &v);
  assert_int_equal(gort_select_try(cs, 1), 0);
  assert_true(cs[0].ok);
  assert_int_equal(v, 41);
  gort_test_join(j.done, 1);
  assert_int_equal(j.rc, 0);
  /* A value-less receive (elem NULL) works the same. */
  assert_int_equal(gort_chan_send(b, &(int){3}), 0);
  cs[0] = gort_case_recv(b, NULL);
  assert_int_equal(gort_select_try(cs, 1), 0);
  assert_true(cs[0].ok);
  assert_int_equal(gort_select_try(cs, 1), GORT_EAGAIN);
  gort_chan_release(j.done);
  gort_chan_release(u);
  gort_chan_release(b);
}

/* A closed channel's case fires: first what the buffer still holds
 * (ok = true), then, drained, index 0 with ok = false and a zeroed elem,
 * every time, never the default. */
static void select_try_one_recv_closed(void **state) {
  (void)state;
  gort_chan *u = gort_test_make_chan(sizeof(int), 0), *b = gort_test_make_chan(sizeof(int), 3);
  assert_int_equal(gort_chan_send(b, &(int){5}), 0);
  assert_int_equal(gort_chan_close(u), 0);
  assert_int_equal(gort_chan_close(b), 0);
  int v = -1;
  gort_select_case cs[] = {gort_case_recv(b, &v)};
  assert_int_equal(gort_select_try(cs, 1), 0);
  assert_true(cs[0].ok);
  assert_int_equal(v, 5);
  for (int i = 0; i < 10; i++) {
    cs[0] = gort_case_recv(i % 2 ? u : b, &v);
    cs[0].ok = true;
    v = -1;
    assert_int_equal(gort_select_try(cs, 1), 0);
    assert_false(cs[0].ok);
    assert_int_equal(v, 0);
  }
  cs[0] = gort_case_recv(u, NULL);
  cs[0].ok = true;
  assert_int_equal(gort_select_try(cs, 1), 0);
  assert_false(cs[0].ok);
  gort_chan_release(u);
  gort_chan_release(b);
}

static void select_try_one_send(void **state) {
  (void)state;
  gort_chan *u = gort_test_make_chan(sizeof(int), 0), *b = gort_test_make_chan(sizeof(int), 2);
  int w = 11;
  gort_select_case cs[] = {gort_case_send(u, &w)};
  /* Unbuffered, no receiver: default. */
  assert_int_equal(gort_select_try(cs, 1), GORT_EAGAIN);
  /* Buffered: fits twice, then full. */
  cs[0] = gort_case_send(b, &w);
  assert_int_equal(gort_select_try(cs, 1), 0);
  assert_int_equal(gort_select_try(cs, 1), 0);
  assert_int_equal(gort_select_try(cs, 1), GORT_EAGAIN);
  assert_int_equal(gort_chan_len(b), 2);
  /* Unbuffered with a receiver waiting: the hand-off. */
  peer_job j = {u, -1, -1, gort_test_make_chan(1, 0)};
  assert_int_equal(gort_go(blocked_recv, &j), 0);
  assert_true(gort_test_wait_parked(blocked_recv, GORT_WAIT_CHAN_RECV, 1, WAIT_MS));
  cs[0] = gort_case_send(u, &w);
  assert_int_equal(gort_select_try(cs, 1), 0);
  gort_test_join(j.done, 1);
  assert_int_equal(j.rc, 0);
  assert_int_equal(j.value, 11);
  gort_chan_release(j.done);
  gort_chan_release(u);
  gort_chan_release(b);
}

/* A nil channel's one case never fires: default, ok = false, nothing
 * touched; a NULL elem does not matter on a nil channel. */
static void select_try_one_nil(void **state) {
  (void)state;
  int v = 4;
  gort_select_case cs[] = {gort_case_recv(NULL, &v)};
  cs[0].ok = true;
  assert_int_equal(gort_select_try(cs, 1), GORT_EAGAIN);
  assert_false(cs[0].ok);
  assert_int_equal(v, 4);
  cs[0] = gort_case_send(NULL, &v);
  assert_int_equal(gort_select_try(cs, 1), GORT_EAGAIN);
  cs[0] = gort_case_send(NULL, NULL);
  assert_int_equal(gort_select_try(cs, 1), GORT_EAGAIN);
  cs[0] = gort_case_recv(NULL, NULL);
  assert_int_equal(gort_select_try(cs, 1), GORT_EAGAIN);
}

/* One live case among nil ones is the one-case form: the same results. */
static void select_try_one_live_among_nil(void **state) {
  (void)state;
  int *calls = gort_test_misuse_return_mode();
  gort_chan *b = gort_test_make_chan(sizeof(int), 1);
  int v = -1, w = 6;
  gort_select_case cs[] = {gort_case_send(NULL, NULL), gort_case_recv(b, &v),
                           gort_case_recv(NULL, &v)};
  cs[1].ok = true;
  assert_int_equal(gort_select_try(cs, 3), GORT_EAGAIN);
  assert_false(cs[1].ok);
  assert_int_equal(gort_chan_send(b, &w), 0);
  assert_int_equal(gort_select_try(cs, 3), 1);
  assert_true(cs[1].ok);
  assert_int_equal(v, 6);
  cs[1] = gort_case_send(b, &w);
  assert_int_equal(gort_select_try(cs, 3), 1);
  assert_int_equal(gort_select_try(cs, 3), GORT_EAGAIN); /* full */
  cs[1] = gort_case_send(b, NULL);
  assert_int_equal(gort_select_try(cs, 3), GORT_EINVAL);
  assert_int_equal(gort_chan_recv(b, &v, NULL), 0);
  assert_int_equal(gort_chan_close(b), 0);
  cs[1] = gort_case_recv(b, &v);
  cs[1].ok = true;
  assert_int_equal(gort_select_try(cs, 3), 1);
  assert_false(cs[1].ok);
  assert_int_equal(v, 0);
  cs[1] = gort_case_send(b, &w);
  assert_int_equal(gort_select_try(cs, 3), GORT_ESENDCLOSED);
  assert_int_equal(*calls, 1);
  gort_test_misuse_abort_mode();
  gort_chan_release(b);
}

typedef struct {
  gort_chan *c;
  atomic_int bad;
  gort_chan *done;
} one_race_job;

static void select_try_one_must_fire(void *arg) {
  one_race_job *j = arg;
  int v = -1;
  gort_select_case cs[] = {gort_case_recv(j->c, &v)};
  int rc = gort_select_try(cs, 1);
  /* Either the value, or closed and drained (the main task took it). */
  if (rc != 0 || (cs[0].ok ? v != 1 : v != 0)) atomic_fetch_add(&j->bad, 1);
  gort_test_signal_done(j->done);
}

/* Go's chanrecv fast path re-checks empty after it sees closed: a channel
 * that held a value when the select started and is closed (and perhaps
 * drained) meanwhile was never "empty and open", so the one-case select
 * must fire, with the value or with ok = false. */
static void select_try_one_closed_race(void **state) {
  (void)state;
  one_race_job j = {.done = gort_test_make_chan(1, 1)};
  for (int i = 0; i < 1000; i++) {
    j.c = gort_test_make_chan(sizeof(int), 1);
    assert_int_equal(gort_chan_send(j.c, &(int){1}), 0);
    assert_int_equal(gort_go(select_try_one_must_fire, &j), 0);
    assert_int_equal(gort_chan_close(j.c), 0);
    gort_chan_recv(j.c, NULL, NULL); /* either the value or closed */
    gort_test_join(j.done, 1);
    gort_chan_release(j.c);
    assert_int_equal(atomic_load(&j.bad), 0);
  }
  gort_chan_release(j.done);
}

/* ---- nil channel cases ---- */

typedef struct {
  gort_chan *c;
  int value;
  gort_chan *done;
} send_job;

/* Sends once the main task is parked in a select. */
static void send_after_select_parks(void *arg) {
  send_job *j = arg;
  gort_test_wait_parked(NULL, GORT_WAIT_SELECT, 1, WAIT_MS);
  gort_chan_send(j->c, &j->value);
  gort_test_signal_done(j->done);
}

static void select_nil_case_never_fires(void **state) {
  (void)state;
  gort_chan *a = gort_test_make_chan(sizeof(int), 1);
  int v = 0, w = 9;
  gort_select_case cs[] = {gort_case_recv(NULL, &v), gort_case_send(NULL, &w),
                           gort_case_recv(a, &v)};
  assert_int_equal(gort_select_try(cs, 3), GORT_EAGAIN);
  for (int i = 0; i < 1000; i++) {
    assert_int_equal(gort_chan_send(a, &i), 0);
    assert_int_equal(i % 2 ? gort_select(cs, 3) : gort_select_try(cs, 3), 2);
    assert_int_equal(v, i);
  }
  /* Blocking: woken by the one live case. */
  gort_chan *u = gort_test_make_chan(sizeof(int), 0);
  send_job j = {u, 55, gort_test_make_chan(1, 0)};
  cs[2] = gort_case_recv(u, &v);
  assert_int_equal(gort_go(send_after_select_parks, &j), 0);
  assert_int_equal(gort_select(cs, 3), 2);
  assert_int_equal(v, 55);
  gort_test_join(j.done, 1);
  gort_chan_release(a);
  gort_chan_release(u);
  gort_chan_release(j.done);
}

/* ---- closed channels ---- */

typedef struct {
  gort_chan *c;
  gort_chan *done;
} close_job;

static void close_after_select_parks(void *arg) {
  close_job *j = arg;
  gort_test_wait_parked(NULL, GORT_WAIT_SELECT, 1, WAIT_MS);
  gort_chan_close(j->c);
  gort_test_signal_done(j->done);
}

static void select_closed_recv_fires_ok_false(void **state) {
  (void)state;
  gort_chan *open = gort_test_make_chan(sizeof(int), 0),
            *closed = gort_test_make_chan(sizeof(int), 2);
  assert_int_equal(gort_chan_send(closed, &(int){8}), 0);
  assert_int_equal(gort_chan_close(closed), 0);
  int v = -1, w = -1;
  gort_select_case cs[] = {gort_case_recv(open, &w), gort_case_recv(closed, &v)};
  /* First the buffered value, with ok = true... */
  assert_int_equal(gort_select_try(cs, 2), 1);
  assert_true(cs[1].ok);
  assert_int_equal(v, 8);
  /* ...then zero values with ok = false, blocking or not. */
  for (int i = 0; i < 10; i++) {
    v = -1;
    cs[1].ok = true;
    assert_int_equal(i % 2 ? gort_select(cs, 2) : gort_select_try(cs, 2), 1);
    assert_false(cs[1].ok);
    assert_int_equal(v, 0);
  }
  assert_int_equal(w, -1);

  /* A blocked select woken by close. */
  gort_chan *b = gort_test_make_chan(sizeof(int), 0);
  close_job j = {b, gort_test_make_chan(1, 0)};
  gort_chan_retain(b);
  v = -1;
  cs[1] = gort_case_recv(b, &v);
  cs[1].ok = true;
  assert_int_equal(gort_go(close_after_select_parks, &j), 0);
  assert_int_equal(gort_select(cs, 2), 1);
  assert_false(cs[1].ok);
  assert_int_equal(v, 0);
  gort_test_join(j.done, 1);
  /* And no stale waiter on the other channel. */
  assert_int_equal(gort_chan_try_send(open, &(int){1}), GORT_EAGAIN);
  gort_chan_release(b);
  gort_chan_release(b);
  gort_chan_release(j.done);
  gort_chan_release(open);
  gort_chan_release(closed);
}

static void do_select_send_closed(void *arg) {
  bool blocking = arg != NULL;
  gort_chan *c = NULL;
  if (gort_chan_make(&c, sizeof(int), 1) != 0) return;
  gort_chan_close(c);
  int x = 1;
  gort_select_case cs[] = {gort_case_send(c, &x)};
  if (blocking)
    gort_select(cs, 1);
  else
    gort_select_try(cs, 1);
}

static void select_send_closed_misuse_abort(void **state) {
  (void)state;
  gort_runtime_quiesce();
  assert_true(gort_test_child_aborts(do_select_send_closed, (void *)1, "send on closed channel"));
  gort_runtime_quiesce();
  assert_true(gort_test_child_aborts(do_select_send_closed, NULL, "send on closed channel"));
}

typedef struct {
  gort_chan *a, *b;
  int rc;
  gort_chan *done;
} sel_job;

static void select_send_two(void *arg) {
  sel_job *j = arg;
  int x = 1;
  gort_select_case cs[] = {gort_case_send(j->a, &x), gort_case_send(j->b, &x)};
  j->rc = gort_select(cs, 2);
  gort_test_signal_done(j->done);
}

static void select_send_closed_misuse_return(void **state) {
  (void)state;
  int *calls = gort_test_misuse_return_mode();
  gort_chan *c = gort_test_make_chan(sizeof(int), 1);
  assert_int_equal(gort_chan_close(c), 0);
  int x = 1;
  gort_select_case cs[] = {gort_case_send(c, &x)};
  assert_int_equal(gort_select_try(cs, 1), GORT_ESENDCLOSED);
  assert_int_equal(*calls, 1);
  assert_int_equal(gort_select(cs, 1), GORT_ESENDCLOSED);
  assert_int_equal(*calls, 2);
  assert_int_equal(gort_test_misuse_last(), GORT_ESENDCLOSED);
  assert_int_equal(gort_chan_len(c), 0);

  /* A select blocked sending is woken by close with the misuse. */
  sel_job j = {gort_test_make_chan(sizeof(int), 0), gort_test_make_chan(sizeof(int), 0), 0,
               gort_test_make_chan(1, 0)};
  assert_int_equal(gort_go(select_send_two, &j), 0);
  assert_true(gort_test_wait_parked(select_send_two, GORT_WAIT_SELECT, 1, WAIT_MS));
  assert_int_equal(gort_chan_close(j.b), 0);
  gort_test_join(j.done, 1);
  assert_int_equal(j.rc, GORT_ESENDCLOSED);
  assert_int_equal(*calls, 3);
  /* It left nothing behind on a. */
  assert_int_equal(gort_chan_try_recv(j.a, NULL, NULL), GORT_EAGAIN);
  gort_test_misuse_abort_mode();
  gort_chan_release(j.a);
  gort_chan_release(j.b);
  gort_chan_release(j.done);
  gort_chan_release(c);
}

/* ---- blocking select: wake-up and clean dequeue ---- */

typedef struct {
  gort_chan *c;
  int value;
  int rc;
  gort_chan *done;
} recv_job;

static void recv_one(void *arg) {
  recv_job *j = arg;
  j->rc = gort_chan_recv(j->c, &j->value, NULL);
  gort_test_signal_done(j->done);
}

/* After a blocking select completes through one channel, no waiter of it is
 * left on the others: a try_send on another unbuffered channel finds no
 * receiver, and the channel still works normally afterwards. */
static void select_blocking_no_stale_waiters(void **state) {
  (void)state;
  enum { K = 3 };
  gort_chan *ch[K];
  for (int k = 0; k < K; k++) ch[k] = gort_test_make_chan(sizeof(int), 0);
  gort_chan *done = gort_test_make_chan(1, 1);
  for (int round = 0; round < 60; round++) {
    int which = round % K;
    int v[K] = {-1, -1, -1};
    gort_select_case cs[K];
    for (int k = 0; k < K; k++) cs[k] = gort_case_recv(ch[k], &v[k]);
    send_job j = {ch[which], 1000 + round, done};
    assert_int_equal(gort_go(send_after_select_parks, &j), 0);
    assert_int_equal(gort_select(cs, K), which);
    assert_int_equal(v[which], 1000 + round);
    assert_true(cs[which].ok);
    gort_test_join(done, 1);
    for (int k = 0; k < K; k++) {
      if (k == which) continue;
      assert_int_equal(v[k], -1);
      assert_int_equal(gort_chan_try_send(ch[k], &(int){0}), GORT_EAGAIN);
    }
  }
  /* Each channel still works: a plain receiver gets a plain send. */
  for (int k = 0; k < K; k++) {
    recv_job r = {ch[k], -1, -1, done};
    assert_int_equal(gort_go(recv_one, &r), 0);
    assert_int_equal(gort_chan_send(ch[k], &(int){k + 7}), 0);
    gort_test_join(done, 1);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.value, k + 7);
  }
  for (int k = 0; k < K; k++) gort_chan_release(ch[k]);
  gort_chan_release(done);
}

/* Same for a blocking select of send cases: after one receiver takes a value,
 * the select's sender waiters are gone from the other channels. */
static void select_blocking_send_no_stale_waiters(void **state) {
  (void)state;
  gort_chan *done = gort_test_make_chan(1, 1);
  for (int round = 0; round < 40; round++) {
    sel_job j = {gort_test_make_chan(sizeof(int), 0), gort_test_make_chan(sizeof(int), 0), -1,
                 done};
    assert_int_equal(gort_go(select_send_two, &j), 0);
    assert_true(gort_test_wait_parked(select_send_two, GORT_WAIT_SELECT, 1, WAIT_MS));
    gort_chan *got = round % 2 ? j.b : j.a, *other = round % 2 ? j.a : j.b;
    int v = 0;
    assert_int_equal(gort_chan_recv(got, &v, NULL), 0);
    assert_int_equal(v, 1);
    gort_test_join(done, 1);
    assert_int_equal(j.rc, round % 2);
    assert_int_equal(gort_chan_try_recv(other, &v, NULL), GORT_EAGAIN);
    gort_chan_release(j.a);
    gort_chan_release(j.b);
  }
  gort_chan_release(done);
}

/* Values of several sizes travel through a blocked select intact. */
typedef struct {
  char bytes[24];
} blob24;

typedef struct {
  gort_chan *c;
  gort_chan *done;
} blob_job;

static void send_blob_after_select(void *arg) {
  blob_job *j = arg;
  blob24 b;
  for (int i = 0; i < 24; i++) b.bytes[i] = (char)(i * 3 + 1);
  gort_test_wait_parked(NULL, GORT_WAIT_SELECT, 1, WAIT_MS);
  gort_chan_send(j->c, &b);
  gort_test_signal_done(j->done);
}

static void select_blocking_recv_large_elem(void **state) {
  (void)state;
  gort_chan *c = gort_test_make_chan(sizeof(blob24), 0),
            *d = gort_test_make_chan(sizeof(blob24), 0);
  blob_job j = {d, gort_test_make_chan(1, 0)};
  blob24 got, unused;
  memset(&got, 0, sizeof got);
  gort_select_case cs[] = {gort_case_recv(c, &unused), gort_case_recv(d, &got)};
  assert_int_equal(gort_go(send_blob_after_select, &j), 0);
  assert_int_equal(gort_select(cs, 2), 1);
  for (int i = 0; i < 24; i++) assert_int_equal(got.bytes[i], (char)(i * 3 + 1));
  gort_test_join(j.done, 1);
  gort_chan_release(c);
  gort_chan_release(d);
  gort_chan_release(j.done);
}

/* ---- the same channel in several cases ---- */

typedef struct {
  gort_chan *c, *d, *e;
} dup_job;

static void dup_select_a(void *arg) {
  dup_job *j = arg;
  gort_select_case cs[] = {gort_case_recv(j->c, NULL), gort_case_recv(j->c, NULL),
                           gort_case_recv(j->d, NULL)};
  int idx = gort_select(cs, 3);
  gort_chan_send(j->e, &idx);
}

static void dup_recv_b(void *arg) {
  dup_job *j = arg;
  int v = -1;
  gort_chan_recv(j->c, &v, NULL);
  gort_chan_send(j->e, &v);
}

/* Port of TestSelectDuplicateChannel: A selects on c twice and d; B receives
 * on c; waking A through d must dequeue both of A's waiters from c, so that a
 * later send on c reaches B. */
static void select_same_channel_two_cases(void **state) {
  (void)state;
  dup_job j = {gort_test_make_chan(sizeof(int), 0), gort_test_make_chan(sizeof(int), 0),
               gort_test_make_chan(sizeof(int), 0)};
  assert_int_equal(gort_go(dup_select_a, &j), 0);
  assert_true(gort_test_wait_parked(dup_select_a, GORT_WAIT_SELECT, 1, WAIT_MS));
  assert_int_equal(gort_go(dup_recv_b, &j), 0);
  assert_true(gort_test_wait_parked(dup_recv_b, GORT_WAIT_CHAN_RECV, 1, WAIT_MS));
  assert_int_equal(gort_chan_send(j.d, &(int){7}), 0); /* wakes A */
  int idx = -1;
  assert_int_equal(gort_chan_recv(j.e, &idx, NULL), 0);
  assert_int_equal(idx, 2);
  assert_int_equal(gort_chan_send(j.c, &(int){8}), 0); /* must reach B */
  int v = -1;
  assert_int_equal(gort_chan_recv(j.e, &v, NULL), 0);
  assert_int_equal(v, 8);

  /* Both duplicate cases are eligible when the channel is ready. */
  gort_chan *b = gort_test_make_chan(sizeof(int), 1);
  int seen[2] = {0, 0};
  for (int i = 0; i < 200; i++) {
    assert_int_equal(gort_chan_send(b, &i), 0);
    gort_select_case cs[] = {gort_case_recv(b, NULL), gort_case_recv(b, NULL)};
    int k = gort_select(cs, 2);
    assert_in_range(k, 0, 1);
    seen[k]++;
  }
  assert_true(seen[0] > 0 && seen[1] > 0);
  gort_chan_release(b);
  gort_chan_release(j.c);
  gort_chan_release(j.d);
  gort_chan_release(j.e);
}

typedef struct {
  gort_chan *c;
  int p;
  bool unbuffered;
  atomic_int *self_recv;
  gort_chan *done;
} self_job;

static void self_select(void *arg) {
  self_job *j = arg;
  for (int i = 0; i < 1000; i++) {
    int v = -1;
    gort_select_case cs[2];
    int recv_idx;
    if (j->p == 0 || i % 2 == 0) {
      cs[0] = gort_case_send(j->c, &j->p);
      cs[1] = gort_case_recv(j->c, &v);
      recv_idx = 1;
    } else {
      cs[0] = gort_case_recv(j->c, &v);
      cs[1] = gort_case_send(j->c, &j->p);
      recv_idx = 0;
    }
    int idx = gort_select(cs, 2);
    if (idx == recv_idx && j->unbuffered && v == j->p) atomic_fetch_add(j->self_recv, 1);
  }
  gort_test_signal_done(j->done);
}

/* Port of TestSelfSelect: send and receive on the same channel in one select,
 * from two tasks: no crash, no deadlock, and on an unbuffered channel a task
 * never receives its own value. */
static void select_self_select(void **state) {
  (void)state;
  const long caps[] = {0, 10};
  for (int ci = 0; ci < 2; ci++) {
    atomic_int self_recv = 0;
    gort_chan *c = gort_test_make_chan(sizeof(int), caps[ci]);
    gort_chan *done = gort_test_make_chan(1, 2);
    self_job j[2];
    for (int p = 0; p < 2; p++) {
      j[p] = (self_job){c, p, caps[ci] == 0, &self_recv, done};
      assert_int_equal(gort_go(self_select, &j[p]), 0);
    }
    gort_test_join(done, 2);
    assert_int_equal(atomic_load(&self_recv), 0);
    gort_chan_release(c);
    gort_chan_release(done);
  }
}

/* ---- fairness ---- */

/* |count - N/k| <= 10 binomial sigmas for every case: never flakes. */
static void assert_fair(const long *count, int k, long n) {
  double p = 1.0 / k;
  double sigma = sqrt((double)n * p * (1 - p));
  for (int i = 0; i < k; i++) {
    double dev = fabs((double)count[i] - (double)n * p);
    if (dev > 10 * sigma)
      fprintf(stderr, "unfair select: case %d of %d chosen %ld times in %ld (sigma %.1f)\n", i,
              k, count[i], n, sigma);
    assert_true(dev <= 10 * sigma);
  }
}

/* k always-ready receive cases (each channel holds one value, refilled after
 * every select). */
static void recv_fairness(int k) {
  enum { N = 100000 };
  gort_chan *ch[4];
  gort_select_case cs[4];
  int v[4];
  long count[4] = {0};
  for (int i = 0; i < k; i++) {
    ch[i] = gort_test_make_chan(sizeof(int), 1);
    assert_int_equal(gort_chan_send(ch[i], &i), 0);
    cs[i] = gort_case_recv(ch[i], &v[i]);
  }
  for (long n = 0; n < N; n++) {
    int idx = n % 2 ? gort_select(cs, (size_t)k) : gort_select_try(cs, (size_t)k);
    assert_in_range(idx, 0, k - 1);
    assert_int_equal(v[idx], idx);
    count[idx]++;
    assert_int_equal(gort_chan_try_send(ch[idx], &idx), 0);
  }
  assert_fair(count, k, N);
  for (int i = 0; i < k; i++) gort_chan_release(ch[i]);
}

static void select_fairness_two(void **state) {
  (void)state;
  recv_fairness(2);
}

static void select_fairness_four(void **state) {
  (void)state;
  recv_fairness(4);
}

/* Send cases too (TestPseudoRandomSend): k channels with room, drained after
 * every select. */
static void select_fairness_send(void **state) {
  (void)state;
  enum { N = 100000, K = 3 };
  gort_chan *ch[K];
  gort_select_case cs[K];
  int x[K];
  long count[K] = {0};
  for (int i = 0; i < K; i++) {
    ch[i] = gort_test_make_chan(sizeof(int), 1);
    x[i] = i;
    cs[i] = gort_case_send(ch[i], &x[i]);
  }
  for (long n = 0; n < N; n++) {
    int idx = gort_select(cs, K);
    assert_in_range(idx, 0, K - 1);
    count[idx]++;
    int v = -1;
    assert_int_equal(gort_chan_try_recv(ch[idx], &v, NULL), 0);
    assert_int_equal(v, idx);
  }
  assert_fair(count, K, N);
  for (int i = 0; i < K; i++) gort_chan_release(ch[i]);
}

/* ---- many cases ---- */

static void select_many_cases(void **state) {
  (void)state;
  enum { N = 100 };
  if (GORT_TEST_TSAN) {
    /* Locking 100 channels at once (Go's sellock) exceeds ThreadSanitizer's
     * limit of 64 locks held by one thread (a CHECK failure, then a hang).
     * select_many_cases_shared_channels covers the scratch path under TSan. */
    skip();
  }
  _Static_assert(N > GORT_SELECT_STACK_CASES, "must exceed the on-stack case count");
  gort_chan *ch[N];
  gort_select_case cs[N];
  int v[N];
  for (int i = 0; i < N; i++) {
    ch[i] = gort_test_make_chan(sizeof(int), i % 2 ? 1 : 0); /* odd: buffered, even: unbuffered */
    v[i] = -1;
    cs[i] = gort_case_recv(ch[i], &v[i]);
  }
  assert_int_equal(gort_select_try(cs, N), GORT_EAGAIN);
  assert_int_equal(gort_chan_send(ch[73], &(int){73}), 0);
  assert_int_equal(gort_select_try(cs, N), 73);
  assert_int_equal(v[73], 73);

  /* Blocking, woken through the last case (an unbuffered channel). */
  gort_chan *done = gort_test_make_chan(1, 1);
  for (int target = N - 2; target < N; target++) {
    send_job j = {ch[target], 500 + target, done};
    assert_int_equal(gort_go(send_after_select_parks, &j), 0);
    assert_int_equal(gort_select(cs, N), target);
    assert_int_equal(v[target], 500 + target);
    gort_test_join(done, 1);
  }
  /* No stale waiters on the unbuffered ones. */
  for (int i = 0; i < N; i += 2) assert_int_equal(gort_chan_try_send(ch[i], &i), GORT_EAGAIN);
  /* And all 100 cases are reachable: fill every buffered one, drain by select. */
  int seen = 0;
  for (int i = 1; i < N; i += 2) assert_int_equal(gort_chan_send(ch[i], &i), 0);
  for (int n = 0; n < N / 2; n++) {
    int idx = gort_select(cs, N);
    assert_int_equal(idx % 2, 1);
    assert_int_equal(v[idx], idx);
    seen++;
  }
  assert_int_equal(seen, N / 2);
  assert_int_equal(gort_select_try(cs, N), GORT_EAGAIN);
  for (int i = 0; i < N; i++) gort_chan_release(ch[i]);
  gort_chan_release(done);
}

/* More cases than GORT_SELECT_STACK_CASES over fewer distinct channels: each
 * channel appears in 4 cases, so it is locked once but queued 4 times. */
static void select_many_cases_shared_channels(void **state) {
  (void)state;
  enum { N = 100, NCH = 25 };
  gort_chan *ch[NCH];
  gort_select_case cs[N];
  int v[N];
  for (int i = 0; i < NCH; i++) ch[i] = gort_test_make_chan(sizeof(int), 0);
  for (int i = 0; i < N; i++) {
    v[i] = -1;
    cs[i] = gort_case_recv(ch[i % NCH], &v[i]);
  }
  assert_int_equal(gort_select_try(cs, N), GORT_EAGAIN);
  gort_chan *done = gort_test_make_chan(1, 1);
  for (int target = 0; target < NCH; target += 6) {
    send_job j = {ch[target], 900 + target, done};
    assert_int_equal(gort_go(send_after_select_parks, &j), 0);
    int idx = gort_select(cs, N);
    assert_in_range(idx, 0, N - 1);
    assert_int_equal(idx % NCH, target);
    assert_int_equal(v[idx], 900 + target);
    v[idx] = -1;
    gort_test_join(done, 1);
    /* None of the 100 waiters is left on any channel. */
    for (int i = 0; i < NCH; i++) assert_int_equal(gort_chan_try_send(ch[i], &i), GORT_EAGAIN);
  }
  for (int i = 0; i < NCH; i++) gort_chan_release(ch[i]);
  gort_chan_release(done);
}

/* ---- select with no (live) cases blocks forever: in another process ---- */

static atomic_int no_case_returned;

static void select_nothing(void *arg) {
  (void)arg;
  gort_select(NULL, 0);
  atomic_store(&no_case_returned, 1);
}

static void select_only_nil(void *arg) {
  (void)arg;
  int v = 0;
  gort_select_case cs[] = {gort_case_recv(NULL, &v), gort_case_send(NULL, &v)};
  gort_select(cs, 2);
  atomic_store(&no_case_returned, 1);
}

static bool only_nil_parked(void *arg) {
  (void)arg;
  return gort_test_count_parked(select_only_nil, GORT_WAIT_SELECT) +
             gort_test_count_parked(select_only_nil, GORT_WAIT_SELECT_NO_CASES) ==
         1;
}

GORT_TEST_SCENARIO(no_cases_child) {
  if (gort_go(select_nothing, NULL) != 0) _exit(10);
  if (gort_go(select_only_nil, NULL) != 0) _exit(11);
  if (!gort_test_wait_parked(select_nothing, GORT_WAIT_SELECT_NO_CASES, 1, WAIT_MS)) _exit(12);
  if (!gort_test_eventually(only_nil_parked, NULL, WAIT_MS)) _exit(13);
  struct timespec ts = {0, 50 * 1000 * 1000}; /* time to (wrongly) return */
  nanosleep(&ts, NULL);
  if (atomic_load(&no_case_returned)) _exit(14);
  if (gort_test_count_parked(select_nothing, GORT_WAIT_SELECT_NO_CASES) != 1) _exit(15);
  gort_dump_tasks(stderr);
  _exit(0);
}

static void select_no_cases_blocks_forever(void **state) {
  (void)state;
  gort_test_child_result *r = malloc(sizeof *r);
  assert_non_null(r);
  assert_true(gort_test_exec_run("no_cases_child", 20000, 0, r));
  bool ok = gort_test_child_exited(r, 0) && strstr(r->err, "[select (no cases)") != NULL;
  if (!ok) fprintf(stderr, "stderr:\n%s\n", r->err);
  free(r);
  assert_true(ok);
}

/* ---- races ported from Go ---- */

typedef struct {
  gort_chan *c1, *c2;
  gort_chan *done; /* bool: true if a case fired */
} nb_job;

static void nb_select(void *arg) {
  nb_job *j = arg;
  gort_select_case cs[] = {gort_case_recv(j->c1, NULL), gort_case_recv(j->c2, NULL)};
  bool fired = gort_select_try(cs, 2) >= 0;
  gort_chan_send(j->done, &fired);
}

/* Ports of TestNonblockSelectRace (close_c2 = false) and ...Race2 (true): from
 * the moment the task exists, c1 or c2 is always ready, so the non-blocking
 * select must never take the default branch. */
static void nonblock_select_race(bool close_c2) {
  enum { N = 2000 };
  nb_job j = {NULL, NULL, gort_test_make_chan(sizeof(bool), 1)};
  for (int i = 0; i < N; i++) {
    j.c1 = gort_test_make_chan(sizeof(int), 1);
    j.c2 = gort_test_make_chan(sizeof(int), close_c2 ? 0 : 1);
    assert_int_equal(gort_chan_send(j.c1, &(int){1}), 0);
    assert_int_equal(gort_go(nb_select, &j), 0);
    if (close_c2)
      assert_int_equal(gort_chan_close(j.c2), 0);
    else
      assert_int_equal(gort_chan_send(j.c2, &(int){1}), 0);
    gort_select_case cs[] = {gort_case_recv(j.c1, NULL)};
    gort_select_try(cs, 1);
    bool fired = false;
    assert_int_equal(gort_chan_recv(j.done, &fired, NULL), 0);
    assert_true(fired);
    gort_chan_release(j.c1);
    gort_chan_release(j.c2);
  }
  gort_chan_release(j.done);
}

static void select_nonblock_race(void **state) {
  (void)state;
  nonblock_select_race(false);
}

static void select_nonblock_race_close(void **state) {
  (void)state;
  nonblock_select_race(true);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(select_recv_ready_chosen),
    cmocka_unit_test(select_send_ready_chosen),
    cmocka_unit_test(select_try_nothing_ready_eagain),
    cmocka_unit_test(select_einval),
    cmocka_unit_test(select_try_one_recv),
    cmocka_unit_test(select_try_one_recv_closed),
    cmocka_unit_test(select_try_one_send),
    cmocka_unit_test(select_try_one_nil),
    cmocka_unit_test(select_try_one_live_among_nil),
    cmocka_unit_test(select_try_one_closed_race),
    cmocka_unit_test(select_nil_case_never_fires),
    cmocka_unit_test(select_closed_recv_fires_ok_false),
    cmocka_unit_test(select_send_closed_misuse_abort),
    cmocka_unit_test(select_send_closed_misuse_return),
    cmocka_unit_test(select_blocking_no_stale_waiters),
    cmocka_unit_test(select_blocking_send_no_stale_waiters),
    cmocka_unit_test(select_blocking_recv_large_elem),
    cmocka_unit_test(select_same_channel_two_cases),
    cmocka_unit_test(select_self_select),
    cmocka_unit_test(select_fairness_two),
    cmocka_unit_test(select_fairness_four),
    cmocka_unit_test(select_fairness_send),
    cmocka_unit_test(select_many_cases),
    cmocka_unit_test(select_many_cases_shared_channels),
    cmocka_unit_test(select_no_cases_blocks_forever),
    cmocka_unit_test(select_nonblock_race),
    cmocka_unit_test(select_nonblock_race_close),
};

GORT_TEST_MAIN(tests)
