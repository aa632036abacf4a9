/* test_chan.c - channels against Go's semantics (chan.go; cases ported from
 * Go's runtime/chan_test.go, in our own C).
 *
 * Blocking is observed, never guessed: a task that must be blocked is found
 * parked with the right wait reason in the task snapshot
 * (gort_test_wait_parked), and only then does the test act.
 */
#include "support/gort_test.h"

#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gort/gort.h"
#include "gort/introspect.h"

#define WAIT_MS 10000

/* ---- make, len, cap ---- */

static void chan_make_invalid(void **state) {
  (void)state;
  gort_chan *c = (gort_chan *)&c; /* a sentinel: must stay untouched */
  gort_chan *const sentinel = c;
  assert_int_equal(gort_chan_make(&c, 4, -1), GORT_EINVAL);
  assert_int_equal(gort_chan_make(&c, 4, -1000), GORT_EINVAL);
  assert_ptr_equal(c, sentinel);
  assert_int_equal(gort_chan_make(NULL, 4, 0), GORT_EINVAL);
  /* Go refuses element types of 64 KiB or more (makechan's throw); a huge
   * element must never reach a send's memcpy. */
  assert_int_equal(gort_chan_make(&c, SIZE_MAX, 0), GORT_EINVAL);
  assert_int_equal(gort_chan_make(&c, GORT_CHAN_ELEM_SIZE_MAX + 1, 0), GORT_EINVAL);
  assert_int_equal(gort_chan_make(&c, GORT_CHAN_ELEM_SIZE_MAX, LONG_MAX), GORT_EINVAL);
  assert_int_equal(gort_chan_make(&c, 8, LONG_MAX), GORT_EINVAL);
  assert_ptr_equal(c, sentinel);
  assert_int_equal(gort_chan_make(&c, GORT_CHAN_ELEM_SIZE_MAX, 1), 0);
  assert_int_equal(gort_chan_elem_size(c), GORT_CHAN_ELEM_SIZE_MAX);
  gort_chan_release(c);
}

/* ---- chan struct{}: elem_size 0 ---- */

static atomic_int empty_send_failures;

static void empty_send(void *arg) {
  if (gort_chan_send(arg, NULL) != 0) atomic_fetch_add(&empty_send_failures, 1);
}

/* Go's most common channel: no element, NULL element pointers everywhere,
 * and no ring allocated however large the capacity. */
static void chan_struct_empty(void **state) {
  (void)state;
  gort_counters before, after;
  gort_get_counters(&before);
  gort_chan *c;
  assert_int_equal(gort_chan_make(&c, 0, LONG_MAX / 2), 0);
  gort_get_counters(&after);
  assert_true(after.alloc_bytes - before.alloc_bytes < 4096);
  assert_int_equal(gort_chan_elem_size(c), 0);
  assert_int_equal(gort_chan_cap(c), (size_t)(LONG_MAX / 2));
  for (int i = 0; i < 1000; i++) assert_int_equal(gort_chan_send(c, NULL), 0);
  assert_int_equal(gort_chan_try_send(c, NULL), 0);
  assert_int_equal(gort_chan_len(c), 1001);
  bool ok = false;
  assert_int_equal(gort_chan_recv(c, NULL, &ok), 0);
  assert_true(ok);
  assert_int_equal(gort_chan_try_recv(c, NULL, NULL), 0);
  assert_int_equal(gort_chan_len(c), 999);
  gort_chan_release(c);

  /* Unbuffered: a rendezvous with a blocked sender and a blocked receiver,
   * plain and through select. */
  c = gort_test_make_chan(0, 0);
  assert_int_equal(gort_chan_try_send(c, NULL), GORT_EAGAIN);
  assert_int_equal(gort_go(empty_send, c), 0);
  assert_true(gort_test_wait_parked(empty_send, GORT_WAIT_CHAN_SEND, 1, WAIT_MS));
  assert_int_equal(gort_chan_recv(c, NULL, &ok), 0);
  assert_true(ok);
  assert_int_equal(gort_go(empty_send, c), 0);
  gort_select_case cases[] = {gort_case_recv(c, NULL), gort_case_send(NULL, NULL)};
  assert_int_equal(gort_select(cases, 2), 0);
  assert_true(cases[0].ok);
  gort_select_case sends[] = {gort_case_send(c, NULL)};
  assert_int_equal(gort_select_try(sends, 1), GORT_EAGAIN);
  /* A closed struct{} channel: receives report ok = false, sends are misuse. */
  assert_int_equal(gort_chan_close(c), 0);
  assert_int_equal(gort_chan_recv(c, NULL, &ok), GORT_ECLOSED);
  assert_false(ok);
  assert_int_equal(gort_select(cases, 2), 0);
  assert_false(cases[0].ok);
  assert_int_equal(atomic_load(&empty_send_failures), 0);
  gort_chan_release(c);
}

static void chan_len_cap_elem_size(void **state) {
  (void)state;
  for (long cap = 0; cap < 20; cap++) {
    gort_chan *c = gort_test_make_chan(sizeof(int), cap);
    assert_int_equal(gort_chan_len(c), 0);
    assert_int_equal(gort_chan_cap(c), (size_t)cap);
    assert_int_equal(gort_chan_elem_size(c), sizeof(int));
    for (int i = 0; i < cap; i++) assert_int_equal(gort_chan_send(c, &i), 0);
    assert_int_equal(gort_chan_len(c), (size_t)cap);
    assert_int_equal(gort_chan_cap(c), (size_t)cap);
    assert_false(gort_chan_is_closed(c));
    assert_int_equal(gort_chan_close(c), 0);
    assert_true(gort_chan_is_closed(c));
    assert_int_equal(gort_chan_len(c), (size_t)cap); /* close keeps the buffer */
    gort_chan_release(c);
  }
  assert_int_equal(gort_chan_len(NULL), 0);
  assert_int_equal(gort_chan_cap(NULL), 0);
  assert_int_equal(gort_chan_elem_size(NULL), 0);
  assert_false(gort_chan_is_closed(NULL));
}

static void chan_null_elem_einval(void **state) {
  (void)state;
  gort_chan *c = gort_test_make_chan(sizeof(int), 1);
  assert_int_equal(gort_chan_send(c, NULL), GORT_EINVAL);
  assert_int_equal(gort_chan_try_send(c, NULL), GORT_EINVAL);
  assert_int_equal(gort_chan_len(c), 0);
  /* Receiving into NULL discards the value. */
  assert_int_equal(gort_chan_send(c, &(int){5}), 0);
  assert_int_equal(gort_chan_recv(c, NULL, NULL), 0);
  assert_int_equal(gort_chan_len(c), 0);
  assert_int_equal(gort_chan_send(c, &(int){6}), 0);
  bool ok = false;
  assert_int_equal(gort_chan_recv(c, NULL, &ok), 0);
  assert_true(ok);
  gort_chan_release(c);
}

/* ---- unbuffered rendezvous ---- */

typedef struct {
  gort_chan *c;
  int value;
  atomic_int sent; /* set after gort_chan_send returned */
  int rc;
  gort_chan *done;
} sender_arg;

static void send_then_flag(void *arg) {
  sender_arg *s = arg;
  s->rc = gort_chan_send(s->c, &s->value);
  atomic_store(&s->sent, 1);
  gort_test_signal_done(s->done);
}

static void chan_unbuffered_rendezvous(void **state) {
  (void)state;
  sender_arg s = {
      .c = gort_test_make_chan(sizeof(int), 0), .value = 42, .done = gort_test_make_chan(1, 1)};
  assert_int_equal(gort_go(send_then_flag, &s), 0);
  assert_true(gort_test_wait_parked(send_then_flag, GORT_WAIT_CHAN_SEND, 1, WAIT_MS));
  assert_int_equal(atomic_load(&s.sent), 0); /* nobody received: not delivered */
  assert_int_equal(gort_chan_len(s.c), 0);   /* unbuffered: nothing is buffered */
  int v = 0;
  bool ok = false;
  assert_int_equal(gort_chan_recv(s.c, &v, &ok), 0);
  assert_int_equal(v, 42);
  assert_true(ok);
  gort_test_join(s.done, 1);
  assert_int_equal(atomic_load(&s.sent), 1);
  assert_int_equal(s.rc, 0);
  gort_chan_release(s.c);
  gort_chan_release(s.done);
}

typedef struct {
  gort_chan *c;
  int value;
  int rc;
  bool ok;
  atomic_int got;
  gort_chan *done;
} recv_arg;

static void recv_then_flag(void *arg) {
  recv_arg *r = arg;
  r->value = -1;
  r->rc = gort_chan_recv(r->c, &r->value, &r->ok);
  atomic_store(&r->got, 1);
  gort_test_signal_done(r->done);
}

/* From TestChan: receive from an empty channel blocks, for every capacity;
 * try_recv does not. */
static void chan_recv_blocks_when_empty(void **state) {
  (void)state;
  for (long cap = 0; cap < 6; cap++) {
    gort_chan *c = gort_test_make_chan(sizeof(int), cap);
    recv_arg r[2] = {{.c = c, .done = gort_test_make_chan(1, 2)}, {.c = c}};
    r[1].done = r[0].done;
    assert_int_equal(gort_go(recv_then_flag, &r[0]), 0);
    assert_int_equal(gort_go(recv_then_flag, &r[1]), 0);
    assert_true(gort_test_wait_parked(recv_then_flag, GORT_WAIT_CHAN_RECV, 2, WAIT_MS));
    assert_int_equal(atomic_load(&r[0].got) + atomic_load(&r[1].got), 0);
    int v = 0;
    assert_int_equal(gort_chan_try_recv(c, &v, NULL), GORT_EAGAIN);
    assert_int_equal(gort_chan_send(c, &(int){0}), 0);
    assert_int_equal(gort_chan_send(c, &(int){0}), 0);
    gort_test_join(r[0].done, 2);
    assert_int_equal(r[0].rc, 0);
    assert_int_equal(r[1].rc, 0);
    assert_true(r[0].ok && r[1].ok);
    gort_chan_release(r[0].done);
    gort_chan_release(c);
  }
}

/* From TestChan: send to a full channel blocks, for every capacity; try_send
 * does not. */
static void chan_send_blocks_when_full(void **state) {
  (void)state;
  for (long cap = 0; cap < 6; cap++) {
    sender_arg s = {
        .c = gort_test_make_chan(sizeof(int), cap), .value = 99, .done = gort_test_make_chan(1, 1)};
    for (int i = 0; i < cap; i++) assert_int_equal(gort_chan_try_send(s.c, &i), 0);
    assert_int_equal(gort_go(send_then_flag, &s), 0);
    assert_true(gort_test_wait_parked(send_then_flag, GORT_WAIT_CHAN_SEND, 1, WAIT_MS));
    assert_int_equal(atomic_load(&s.sent), 0);
    assert_int_equal(gort_chan_try_send(s.c, &(int){0}), GORT_EAGAIN);
    assert_int_equal(gort_chan_len(s.c), (size_t)cap);
    for (int i = 0; i < cap; i++) {
      int v = -1;
      assert_int_equal(gort_chan_recv(s.c, &v, NULL), 0);
      assert_int_equal(v, i);
    }
    int v = -1;
    assert_int_equal(gort_chan_recv(s.c, &v, NULL), 0);
    assert_int_equal(v, 99);
    gort_test_join(s.done, 1);
    assert_int_equal(s.rc, 0);
    assert_int_equal(atomic_load(&s.sent), 1);
    gort_chan_release(s.c);
    gort_chan_release(s.done);
  }
}

/* ---- buffered ---- */

static void chan_buffered_fifo(void **state) {
  (void)state;
  enum { CAP = 16 };
  gort_chan *c = gort_test_make_chan(sizeof(int), CAP);
  for (int round = 0; round < 3; round++) { /* wraps the ring around */
    for (int i = 0; i < CAP; i++) {
      int v = round * 100 + i;
      assert_int_equal(gort_chan_try_send(c, &v), 0); /* fits without blocking */
      assert_int_equal(gort_chan_len(c), (size_t)i + 1);
    }
    assert_int_equal(gort_chan_try_send(c, &(int){-1}), GORT_EAGAIN);
    for (int i = 0; i < CAP / 2; i++) {
      int v = -1;
      bool ok = false;
      assert_int_equal(gort_chan_try_recv(c, &v, &ok), 0);
      assert_true(ok);
      assert_int_equal(v, round * 100 + i);
    }
    for (int i = CAP / 2; i < CAP; i++) {
      int v = -1;
      assert_int_equal(gort_chan_recv(c, &v, NULL), 0);
      assert_int_equal(v, round * 100 + i);
    }
    assert_int_equal(gort_chan_len(c), 0);
  }
  /* Interleaved: half full, then keep it half full. */
  for (int i = 0; i < CAP / 2; i++) assert_int_equal(gort_chan_send(c, &i), 0);
  for (int i = CAP / 2; i < 1000; i++) {
    int v = -1;
    assert_int_equal(gort_chan_send(c, &i), 0);
    assert_int_equal(gort_chan_recv(c, &v, NULL), 0);
    assert_int_equal(v, i - CAP / 2);
  }
  gort_chan_release(c);
}

static void chan_try_send_full_eagain(void **state) {
  (void)state;
  gort_chan *u = gort_test_make_chan(sizeof(int), 0);
  assert_int_equal(gort_chan_try_send(u, &(int){1}), GORT_EAGAIN); /* no receiver */
  gort_chan *b = gort_test_make_chan(sizeof(int), 2);
  assert_int_equal(gort_chan_try_send(b, &(int){1}), 0);
  assert_int_equal(gort_chan_try_send(b, &(int){2}), 0);
  assert_int_equal(gort_chan_try_send(b, &(int){3}), GORT_EAGAIN);
  assert_int_equal(gort_chan_len(b), 2);
  gort_chan_release(u);
  gort_chan_release(b);
}

static void chan_try_recv_empty_eagain(void **state) {
  (void)state;
  gort_chan *u = gort_test_make_chan(sizeof(int), 0);
  gort_chan *b = gort_test_make_chan(sizeof(int), 3);
  int v = 77;
  bool ok = true;
  assert_int_equal(gort_chan_try_recv(u, &v, &ok), GORT_EAGAIN);
  assert_false(ok);
  ok = true;
  assert_int_equal(gort_chan_try_recv(b, &v, &ok), GORT_EAGAIN);
  assert_false(ok);
  assert_int_equal(v, 77); /* untouched */
  gort_chan_release(u);
  gort_chan_release(b);
}

/* try_send succeeds on an unbuffered channel when a receiver waits. */
static void chan_try_send_to_waiting_receiver(void **state) {
  (void)state;
  recv_arg r = {.c = gort_test_make_chan(sizeof(int), 0), .done = gort_test_make_chan(1, 1)};
  assert_int_equal(gort_go(recv_then_flag, &r), 0);
  assert_true(gort_test_wait_parked(recv_then_flag, GORT_WAIT_CHAN_RECV, 1, WAIT_MS));
  assert_int_equal(gort_chan_try_send(r.c, &(int){31}), 0);
  gort_test_join(r.done, 1);
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.value, 31);
  /* And try_recv succeeds when a sender waits. */
  sender_arg s = {.c = r.c, .value = 32, .done = r.done};
  assert_int_equal(gort_go(send_then_flag, &s), 0);
  assert_true(gort_test_wait_parked(send_then_flag, GORT_WAIT_CHAN_SEND, 1, WAIT_MS));
  int v = 0;
  bool ok = false;
  assert_int_equal(gort_chan_try_recv(r.c, &v, &ok), 0);
  assert_int_equal(v, 32);
  assert_true(ok);
  gort_test_join(r.done, 1);
  assert_int_equal(s.rc, 0);
  gort_chan_release(r.c);
  gort_chan_release(r.done);
}

/* ---- direct hand-off ---- */

/* A waiting receiver gets the value straight from the sender: it never goes
 * through the buffer, so len is 0 as soon as send returns. */
static void chan_direct_handoff_to_waiting_receiver(void **state) {
  (void)state;
  for (long cap = 0; cap <= 4; cap += 4) {
    recv_arg r = {.c = gort_test_make_chan(sizeof(int), cap), .done = gort_test_make_chan(1, 1)};
    assert_int_equal(gort_go(recv_then_flag, &r), 0);
    assert_true(gort_test_wait_parked(recv_then_flag, GORT_WAIT_CHAN_RECV, 1, WAIT_MS));
    assert_int_equal(gort_chan_send(r.c, &(int){1234}), 0);
    assert_int_equal(gort_chan_len(r.c), 0);
    gort_test_join(r.done, 1);
    assert_int_equal(r.rc, 0);
    assert_true(r.ok);
    assert_int_equal(r.value, 1234);
    gort_chan_release(r.c);
    gort_chan_release(r.done);
  }
}

/* Receive from a full buffer with a waiting sender: the receiver takes the
 * head, the sender's value goes to the tail (chan.go's recv), so FIFO order
 * holds and len stays at cap. */
static void chan_direct_handoff_from_waiting_sender(void **state) {
  (void)state;
  enum { CAP = 4 };
  sender_arg s = {
      .c = gort_test_make_chan(sizeof(int), CAP), .value = CAP, .done = gort_test_make_chan(1, 1)};
  for (int i = 0; i < CAP; i++) assert_int_equal(gort_chan_send(s.c, &i), 0);
  assert_int_equal(gort_go(send_then_flag, &s), 0);
  assert_true(gort_test_wait_parked(send_then_flag, GORT_WAIT_CHAN_SEND, 1, WAIT_MS));
  int v = -1;
  assert_int_equal(gort_chan_recv(s.c, &v, NULL), 0);
  assert_int_equal(v, 0);
  assert_int_equal(gort_chan_len(s.c), CAP);
  gort_test_join(s.done, 1);
  assert_int_equal(s.rc, 0);
  for (int i = 1; i <= CAP; i++) {
    assert_int_equal(gort_chan_recv(s.c, &v, NULL), 0);
    assert_int_equal(v, i);
  }
  gort_chan_release(s.c);
  gort_chan_release(s.done);
}

/* Blocked senders are served in arrival order (the waiter queue is FIFO). */
static void chan_blocked_senders_fifo(void **state) {
  (void)state;
  enum { N = 4 };
  gort_chan *c = gort_test_make_chan(sizeof(int), 0);
  gort_chan *done = gort_test_make_chan(1, N);
  sender_arg s[N];
  for (int i = 0; i < N; i++) {
    s[i] = (sender_arg){.c = c, .value = i, .done = done};
    assert_int_equal(gort_go(send_then_flag, &s[i]), 0);
    assert_true(gort_test_wait_parked(send_then_flag, GORT_WAIT_CHAN_SEND, i + 1, WAIT_MS));
  }
  for (int i = 0; i < N; i++) {
    int v = -1;
    assert_int_equal(gort_chan_recv(c, &v, NULL), 0);
    assert_int_equal(v, i);
  }
  gort_test_join(done, N);
  gort_chan_release(c);
  gort_chan_release(done);
}

/* ---- close ---- */

static void chan_close_wakes_blocked_receivers(void **state) {
  (void)state;
  enum { N = 8 };
  for (long cap = 0; cap <= 3; cap += 3) {
    gort_chan *c = gort_test_make_chan(sizeof(int), cap);
    gort_chan *done = gort_test_make_chan(1, N);
    recv_arg r[N];
    for (int i = 0; i < N; i++) {
      r[i] = (recv_arg){.c = c, .done = done, .ok = true};
      assert_int_equal(gort_go(recv_then_flag, &r[i]), 0);
    }
    assert_true(gort_test_wait_parked(recv_then_flag, GORT_WAIT_CHAN_RECV, N, WAIT_MS));
    assert_int_equal(gort_chan_close(c), 0);
    gort_test_join(done, N);
    for (int i = 0; i < N; i++) {
      assert_int_equal(r[i].rc, GORT_ECLOSED);
      assert_false(r[i].ok);
      assert_int_equal(r[i].value, 0); /* zero value (the task preset -1) */
    }
    gort_chan_release(c);
    gort_chan_release(done);
  }
}

/* Go panics in every sender blocked on a channel that gets closed. In RETURN
 * mode each gets GORT_ESENDCLOSED and the hook runs once per sender; close
 * itself succeeds. */
static void chan_close_wakes_blocked_senders_misuse(void **state) {
  (void)state;
  enum { N = 4 };
  int *calls = gort_test_misuse_return_mode();
  gort_chan *c = gort_test_make_chan(sizeof(int), 0);
  gort_chan *done = gort_test_make_chan(1, N);
  sender_arg s[N];
  for (int i = 0; i < N; i++) {
    s[i] = (sender_arg){.c = c, .value = i, .done = done};
    assert_int_equal(gort_go(send_then_flag, &s[i]), 0);
  }
  assert_true(gort_test_wait_parked(send_then_flag, GORT_WAIT_CHAN_SEND, N, WAIT_MS));
  assert_int_equal(gort_chan_close(c), 0);
  gort_test_join(done, N);
  for (int i = 0; i < N; i++) assert_int_equal(s[i].rc, GORT_ESENDCLOSED);
  assert_int_equal(__atomic_load_n(calls, __ATOMIC_SEQ_CST), N);
  assert_int_equal(gort_test_misuse_last(), GORT_ESENDCLOSED);
  gort_test_misuse_abort_mode();
  gort_chan_release(c);
  gort_chan_release(done);
}

/* From TestChan: after close, buffered values are still received in order,
 * then zero values with ok = false, forever. */
static void chan_close_drains_buffer_then_closed(void **state) {
  (void)state;
  for (long cap = 0; cap < 8; cap++) {
    gort_chan *c = gort_test_make_chan(sizeof(int), cap);
    for (int i = 0; i < cap; i++) assert_int_equal(gort_chan_send(c, &(int){i + 1}), 0);
    assert_int_equal(gort_chan_close(c), 0);
    for (int i = 0; i < cap; i++) {
      int v = -1;
      bool ok = false;
      assert_int_equal(gort_chan_recv(c, &v, &ok), 0);
      assert_true(ok);
      assert_int_equal(v, i + 1);
    }
    for (int k = 0; k < 3; k++) {
      int v = -1;
      bool ok = true;
      assert_int_equal(gort_chan_recv(c, &v, &ok), GORT_ECLOSED);
      assert_false(ok);
      assert_int_equal(v, 0);
      /* A closed, drained channel never blocks: try_recv reports it too. */
      v = -1;
      ok = true;
      assert_int_equal(gort_chan_try_recv(c, &v, &ok), GORT_ECLOSED);
      assert_false(ok);
      assert_int_equal(v, 0);
    }
    assert_int_equal(gort_chan_recv(c, NULL, NULL), GORT_ECLOSED);
    gort_chan_release(c);
  }
}

/* Port of TestNonblockRecvRace: a value buffered before close must be seen by
 * a non-blocking receive that races with the close. */
typedef struct {
  gort_chan *c;
  atomic_int bad;
  gort_chan *done;
} race_arg;

static void try_recv_must_succeed(void *arg) {
  race_arg *ra = arg;
  int rc = gort_chan_try_recv(ra->c, NULL, NULL);
  if (rc != 0 && rc != GORT_ECLOSED) atomic_fetch_add(&ra->bad, 1);
  gort_test_signal_done(ra->done);
}

static void chan_nonblock_recv_race(void **state) {
  (void)state;
  race_arg ra = {.done = gort_test_make_chan(1, 1)};
  for (int i = 0; i < 1000; i++) {
    ra.c = gort_test_make_chan(sizeof(int), 1);
    assert_int_equal(gort_chan_send(ra.c, &(int){1}), 0);
    assert_int_equal(gort_go(try_recv_must_succeed, &ra), 0);
    assert_int_equal(gort_chan_close(ra.c), 0);
    gort_chan_recv(ra.c, NULL, NULL); /* either the value or closed */
    gort_test_join(ra.done, 1);
    gort_chan_release(ra.c);
    assert_int_equal(atomic_load(&ra.bad), 0);
  }
  gort_chan_release(ra.done);
}

/* ---- misuse ---- */

static void do_send_on_closed(void *arg) {
  (void)arg;
  gort_chan *c = NULL;
  if (gort_chan_make(&c, sizeof(int), 1) != 0) return;
  gort_chan_close(c);
  gort_chan_send(c, &(int){1});
}

static void do_try_send_on_closed(void *arg) {
  (void)arg;
  gort_chan *c = NULL;
  if (gort_chan_make(&c, sizeof(int), 1) != 0) return;
  gort_chan_close(c);
  gort_chan_try_send(c, &(int){1});
}

static void do_close_closed(void *arg) {
  (void)arg;
  gort_chan *c = NULL;
  if (gort_chan_make(&c, sizeof(int), 0) != 0) return;
  gort_chan_close(c);
  gort_chan_close(c);
}

static void do_close_nil(void *arg) {
  (void)arg;
  gort_chan_close(NULL);
}

/* A sender blocked when another task closes the channel dies too. */
static void blocked_sender(void *arg) { gort_chan_send((gort_chan *)arg, &(int){1}); }

GORT_TEST_SCENARIO(close_under_blocked_sender) {
  gort_chan *c = NULL;
  if (gort_chan_make(&c, sizeof(int), 0) != 0) return;
  if (gort_go(blocked_sender, c) != 0) return;
  if (!gort_test_wait_parked(blocked_sender, GORT_WAIT_CHAN_SEND, 1, WAIT_MS)) return;
  gort_chan_close(c);
  for (;;) pause(); /* the sender's panic ends the process */
}

static void chan_misuse_abort_mode(void **state) {
  (void)state;
  gort_runtime_quiesce();
  assert_true(gort_test_child_aborts(do_send_on_closed, NULL, "send on closed channel"));
  gort_runtime_quiesce();
  assert_true(gort_test_child_aborts(do_try_send_on_closed, NULL, "send on closed channel"));
  gort_runtime_quiesce();
  assert_true(gort_test_child_aborts(do_close_closed, NULL, "close of closed channel"));
  gort_runtime_quiesce();
  assert_true(gort_test_child_aborts(do_close_nil, NULL, "close of nil channel"));
}

/* The misuse panic names the site, as Go's does: the caller's function and
 * file:line, and the dump names entry functions, static ones included. */
static void parked_bystander(void *arg) { gort_chan_recv((gort_chan *)arg, NULL, NULL); }

static const int misuse_line = __LINE__ + 3; /* the second close below */
__attribute__((noinline)) static void close_twice_here(gort_chan *c) {
  gort_chan_close(c);
  gort_chan_close(c);
  __asm__ volatile("" ::: "memory"); /* no tail call: keep this frame */
}

GORT_TEST_SCENARIO(misuse_site) {
  gort_chan *c = NULL, *gate = NULL;
  if (gort_chan_make(&c, sizeof(int), 0) != 0 || gort_chan_make(&gate, 1, 0) != 0) return;
  if (gort_go(parked_bystander, gate) != 0) return;
  if (!gort_test_wait_parked(parked_bystander, GORT_WAIT_CHAN_RECV, 1, WAIT_MS)) return;
  close_twice_here(c);
}

static void chan_misuse_dump_names_site(void **state) {
  (void)state;
  gort_test_child_result *r = malloc(sizeof *r);
  assert_non_null(r);
  assert_true(gort_test_exec_run("misuse_site", 20000, 0, r));
  char site[64];
  snprintf(site, sizeof site, "test_chan.c:%d", misuse_line);
  bool ok = gort_test_child_signaled(r, SIGABRT) && strstr(r->err, "close of closed channel");
  ok = ok && strstr(r->err, "close_twice_here(") != NULL && strstr(r->err, site) != NULL;
  ok = ok && strstr(r->err, "parked_bystander") != NULL; /* a static entry, by name */
  if (!ok) fprintf(stderr, "want close_twice_here at %s and parked_bystander in:\n%s\n", site, r->err);
  free(r);
  assert_true(ok);
}

static void chan_misuse_abort_blocked_sender(void **state) {
  (void)state;
  gort_test_child_result *r = malloc(sizeof *r);
  assert_non_null(r);
  assert_true(gort_test_exec_run("close_under_blocked_sender", 20000, 0, r));
  bool ok = gort_test_child_signaled(r, SIGABRT) && strstr(r->err, "send on closed channel");
  if (!ok) fprintf(stderr, "stderr:\n%s\n", r->err);
  free(r);
  assert_true(ok);
}

static void chan_misuse_return_mode(void **state) {
  (void)state;
  int *calls = gort_test_misuse_return_mode();
  gort_chan *c = gort_test_make_chan(sizeof(int), 2);
  assert_int_equal(gort_chan_send(c, &(int){5}), 0);
  assert_int_equal(gort_chan_close(c), 0);
  assert_int_equal(*calls, 0);

  assert_int_equal(gort_chan_send(c, &(int){1}), GORT_ESENDCLOSED);
  assert_int_equal(*calls, 1);
  assert_int_equal(gort_test_misuse_last(), GORT_ESENDCLOSED);
  assert_int_equal(gort_chan_try_send(c, &(int){1}), GORT_ESENDCLOSED);
  assert_int_equal(*calls, 2);
  assert_int_equal(gort_chan_len(c), 1); /* nothing was added */

  assert_int_equal(gort_chan_close(c), GORT_ECLOSECLOSED);
  assert_int_equal(*calls, 3);
  assert_int_equal(gort_test_misuse_last(), GORT_ECLOSECLOSED);

  assert_int_equal(gort_chan_close(NULL), GORT_ECLOSENIL);
  assert_int_equal(*calls, 4);
  assert_int_equal(gort_test_misuse_last(), GORT_ECLOSENIL);

  /* The channel still works for receivers after the misuse. */
  int v = 0;
  assert_int_equal(gort_chan_recv(c, &v, NULL), 0);
  assert_int_equal(v, 5);
  assert_int_equal(gort_chan_recv(c, &v, NULL), GORT_ECLOSED);
  gort_test_misuse_abort_mode();
  gort_chan_release(c);
}

/* ---- nil channel ---- */

static void chan_nil_try_eagain(void **state) {
  (void)state;
  int v = 3;
  bool ok = true;
  assert_int_equal(gort_chan_try_send(NULL, &v), GORT_EAGAIN);
  assert_int_equal(gort_chan_try_recv(NULL, &v, &ok), GORT_EAGAIN);
  assert_false(ok);
  assert_int_equal(v, 3);
  assert_null(gort_chan_retain(NULL));
  gort_chan_release(NULL);
}

typedef struct {
  bool send;
  atomic_int returned;
} nil_arg;

static void nil_op(void *arg) {
  nil_arg *na = arg;
  int v = 1;
  if (na->send)
    gort_chan_send(NULL, &v);
  else
    gort_chan_recv(NULL, &v, NULL);
  atomic_store(&na->returned, 1);
}

/* In another process (fork + exec): the parked task can never be woken, so it
 * must not be started in the test process. Exit codes tell which check
 * failed. */
static nil_arg na;

static void nil_child(bool send) {
  na.send = send;
  gort_wait_reason want = na.send ? GORT_WAIT_CHAN_SEND_NIL : GORT_WAIT_CHAN_RECV_NIL;
  if (gort_go(nil_op, &na) != 0) _exit(10);
  if (!gort_test_wait_parked(nil_op, want, 1, WAIT_MS)) _exit(11);
  /* Parked and staying parked: give it ample time to (wrongly) return. */
  struct timespec ts = {0, 50 * 1000 * 1000};
  nanosleep(&ts, NULL);
  if (atomic_load(&na.returned)) _exit(12);
  if (gort_test_count_parked(nil_op, want) != 1) _exit(13);
  gort_dump_tasks(stderr);
  _exit(0);
}

GORT_TEST_SCENARIO(nil_send_child) { nil_child(true); }
GORT_TEST_SCENARIO(nil_recv_child) { nil_child(false); }

static void check_nil_child(bool send, const char *reason) {
  gort_test_child_result *r = malloc(sizeof *r);
  assert_non_null(r);
  assert_true(gort_test_exec_run(send ? "nil_send_child" : "nil_recv_child", 20000, 0, r));
  bool ok = gort_test_child_exited(r, 0) && strstr(r->err, reason) != NULL;
  if (!ok) fprintf(stderr, "want \"%s\" in:\n%s\n", reason, r->err);
  free(r);
  assert_true(ok);
}

static void chan_nil_send_blocks_forever(void **state) {
  (void)state;
  check_nil_child(true, "[chan send (nil chan)");
}

static void chan_nil_recv_blocks_forever(void **state) {
  (void)state;
  check_nil_child(false, "[chan receive (nil chan)");
}

/* ---- ownership ---- */

typedef struct {
  gort_chan *c; /* the task owns one reference */
  gort_chan *done;
} owner_arg;

static void use_then_release(void *arg) {
  owner_arg *oa = arg;
  int sum = 0, v;
  for (; GORT_CHAN_RANGE(oa->c, &v);) sum += v;
  gort_chan_release(oa->c);
  gort_chan_send(oa->done, &sum);
}

static void chan_retain_release(void **state) {
  (void)state;
  gort_chan *c = gort_test_make_chan(sizeof(int), 4);
  assert_ptr_equal(gort_chan_retain(c), c);
  gort_chan_release(c); /* back to one reference */
  owner_arg oa = {gort_chan_retain(c), gort_test_make_chan(sizeof(int), 0)};
  assert_ptr_equal(oa.c, c);
  assert_int_equal(gort_go(use_then_release, &oa), 0);
  for (int i = 1; i <= 10; i++) assert_int_equal(gort_chan_send(c, &i), 0);
  assert_int_equal(gort_chan_close(c), 0);
  gort_chan_release(c); /* the task's reference keeps it alive */
  int sum = 0;
  assert_int_equal(gort_chan_recv(oa.done, &sum, NULL), 0);
  assert_int_equal(sum, 55);
  gort_chan_release(oa.done);
}

/* ---- range ---- */

typedef struct {
  gort_chan *c;
  int n;
} producer_arg;

/* Owns one reference to p->c (the caller retained it for the task). */
static void produce_and_close(void *arg) {
  producer_arg *p = arg;
  gort_chan *c = p->c; /* p may be reused by the caller once c is closed */
  for (int i = 0; i < p->n; i++) GORT_CHAN_SEND(c, int, i);
  gort_chan_close(c);
  gort_chan_release(c);
}

static void chan_range_loop(void **state) {
  (void)state;
  for (long cap = 0; cap <= 8; cap += 8) {
    producer_arg p = {gort_test_make_chan(sizeof(int), cap), 100};
    gort_chan_retain(p.c); /* the producer's reference */
    assert_int_equal(gort_go(produce_and_close, &p), 0);
    int next = 0;
    for (int v; GORT_CHAN_RANGE(p.c, &v);) {
      assert_int_equal(v, next);
      next++;
    }
    assert_int_equal(next, 100);
    assert_true(gort_chan_is_closed(p.c));
    gort_chan_release(p.c);
  }
  /* GORT_CHAN_TRY_SEND too. */
  gort_chan *c = gort_test_make_chan(sizeof(long), 1);
  assert_int_equal(GORT_CHAN_TRY_SEND(c, long, 9L), 0);
  assert_int_equal(GORT_CHAN_TRY_SEND(c, long, 10L), GORT_EAGAIN);
  long v = 0;
  assert_int_equal(gort_chan_recv(c, &v, NULL), 0);
  assert_int_equal(v, 9);
  gort_chan_release(c);
}

/* ---- element sizes ---- */

static void fill_pattern(unsigned char *p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(seed * 131u + i * 7u + 1u);
}

typedef struct {
  gort_chan *c;
  size_t size;
  int count;
} sized_arg;

static void send_sized(void *arg) {
  sized_arg *sa = arg;
  /* sa lives in the caller's loop: once the close lets the receiver finish,
   * the next iteration may reuse it. Copy what is needed afterwards. */
  gort_chan *c = sa->c;
  unsigned char *buf = malloc(sa->size);
  for (int i = 0; i < sa->count; i++) {
    fill_pattern(buf, sa->size, (unsigned)i);
    gort_chan_send(c, buf);
  }
  free(buf);
  gort_chan_close(c);
  gort_chan_release(c); /* the task's own reference */
}

static void chan_elem_sizes(void **state) {
  (void)state;
  const size_t sizes[] = {1, 8, 24, 4096};
  for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
    for (long cap = 0; cap <= 3; cap += 3) {
      size_t n = sizes[si];
      sized_arg sa = {gort_test_make_chan(n, cap), n, 20};
      assert_int_equal(gort_chan_elem_size(sa.c), n);
      gort_chan_retain(sa.c);
      assert_int_equal(gort_go(send_sized, &sa), 0);
      unsigned char *got = malloc(n), *want = malloc(n);
      assert_non_null(got);
      assert_non_null(want);
      for (int i = 0; i < sa.count; i++) {
        memset(got, 0xEE, n);
        assert_int_equal(gort_chan_recv(sa.c, got, NULL), 0);
        fill_pattern(want, n, (unsigned)i);
        assert_memory_equal(got, want, n);
      }
      /* Closed: the whole element is zeroed. */
      memset(got, 0xEE, n);
      bool ok = true;
      assert_int_equal(gort_chan_recv(sa.c, got, &ok), GORT_ECLOSED);
      assert_false(ok);
      memset(want, 0, n);
      assert_memory_equal(got, want, n);
      free(got);
      free(want);
      gort_chan_release(sa.c);
    }
  }
}

/* ---- many senders and receivers (TestChan, TestMultiConsumer) ---- */

typedef struct {
  gort_chan *c;
  gort_chan *done;
  int n;
  int *hist; /* receivers: counts per value, private to the receiver */
} mp_arg;

static void mp_send(void *arg) {
  mp_arg *a = arg;
  for (int i = 0; i < a->n; i++) gort_chan_send(a->c, &i);
  gort_test_signal_done(a->done);
}

static void mp_recv(void *arg) {
  mp_arg *a = arg;
  for (int i = 0; i < a->n; i++) {
    int v = -1;
    if (gort_chan_recv(a->c, &v, NULL) == 0 && v >= 0 && v < a->n) a->hist[v]++;
  }
  gort_test_signal_done(a->done);
}

/* Port of TestChan's "send 1000 integers in 4 goroutines": every value arrives
 * exactly P times, for unbuffered and buffered channels. */
static void chan_multi_sender_receiver(void **state) {
  (void)state;
  enum { P = 4, L = 1000 };
  const long caps[] = {0, 1, 7, 64};
  for (size_t ci = 0; ci < sizeof caps / sizeof caps[0]; ci++) {
    gort_chan *c = gort_test_make_chan(sizeof(int), caps[ci]);
    gort_chan *done = gort_test_make_chan(1, 2 * P);
    mp_arg s[P], r[P];
    for (int p = 0; p < P; p++) {
      s[p] = (mp_arg){c, done, L, NULL};
      r[p] = (mp_arg){c, done, L, calloc(L, sizeof(int))};
      assert_non_null(r[p].hist);
      assert_int_equal(gort_go(mp_send, &s[p]), 0);
      assert_int_equal(gort_go(mp_recv, &r[p]), 0);
    }
    gort_test_join(done, 2 * P);
    for (int v = 0; v < L; v++) {
      int total = 0;
      for (int p = 0; p < P; p++) total += r[p].hist[v];
      assert_int_equal(total, P);
    }
    for (int p = 0; p < P; p++) free(r[p].hist);
    gort_chan_release(c);
    gort_chan_release(done);
  }
}

typedef struct {
  gort_chan *q, *r;
  gort_chan *done;
} worker_arg;

static void mc_worker(void *arg) {
  worker_arg *w = arg;
  for (int v; GORT_CHAN_RANGE(w->q, &v);) {
    if (v % 7 == 0) gort_yield(); /* disturb the FIFO-ish order */
    gort_chan_send(w->r, &v);
  }
  gort_test_signal_done(w->done);
}

typedef struct {
  worker_arg *w;
  int nwork, niter;
  long expect;
  gort_chan *done;
} feeder_arg;

static void mc_feeder(void *arg) {
  static const int pn[] = {2, 3, 7, 11, 13, 17, 19, 23, 27, 31};
  feeder_arg *f = arg;
  for (int i = 0; i < f->niter; i++) {
    int v = pn[i % 10];
    f->expect += v;
    gort_chan_send(f->w->q, &v);
  }
  gort_chan_close(f->w->q); /* no more work */
  for (int i = 0; i < f->nwork; i++) gort_chan_recv(f->w->done, NULL, NULL); /* workers done */
  gort_chan_close(f->w->r); /* so no more results */
  gort_test_signal_done(f->done);
}

/* Port of TestMultiConsumer. */
static void chan_multi_consumer(void **state) {
  (void)state;
  enum { NWORK = 23, NITER = 20000 };
  worker_arg w = {gort_test_make_chan(sizeof(int), NWORK * 3),
                  gort_test_make_chan(sizeof(int), NWORK * 3), gort_test_make_chan(1, NWORK)};
  for (int i = 0; i < NWORK; i++) assert_int_equal(gort_go(mc_worker, &w), 0);
  feeder_arg f = {&w, NWORK, NITER, 0, gort_test_make_chan(1, 0)};
  assert_int_equal(gort_go(mc_feeder, &f), 0);
  long n = 0, s = 0;
  for (int v; GORT_CHAN_RANGE(w.r, &v);) {
    n++;
    s += v;
  }
  gort_test_join(f.done, 1);
  assert_int_equal(n, NITER);
  assert_int_equal(s, f.expect);
  gort_chan_release(f.done);
  gort_chan_release(w.q);
  gort_chan_release(w.r);
  gort_chan_release(w.done);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(chan_make_invalid),
    cmocka_unit_test(chan_len_cap_elem_size),
    cmocka_unit_test(chan_null_elem_einval),
    cmocka_unit_test(chan_struct_empty),
    cmocka_unit_test(chan_unbuffered_rendezvous),
    cmocka_unit_test(chan_recv_blocks_when_empty),
    cmocka_unit_test(chan_send_blocks_when_full),
    cmocka_unit_test(chan_buffered_fifo),
    cmocka_unit_test(chan_try_send_full_eagain),
    cmocka_unit_test(chan_try_recv_empty_eagain),
    cmocka_unit_test(chan_try_send_to_waiting_receiver),
    cmocka_unit_test(chan_direct_handoff_to_waiting_receiver),
    cmocka_unit_test(chan_direct_handoff_from_waiting_sender),
    cmocka_unit_test(chan_blocked_senders_fifo),
    cmocka_unit_test(chan_close_wakes_blocked_receivers),
    cmocka_unit_test(chan_close_wakes_blocked_senders_misuse),
    cmocka_unit_test(chan_close_drains_buffer_then_closed),
    cmocka_unit_test(chan_nonblock_recv_race),
    cmocka_unit_test(chan_misuse_abort_mode),
    cmocka_unit_test(chan_misuse_abort_blocked_sender),
    cmocka_unit_test(chan_misuse_dump_names_site),
    cmocka_unit_test(chan_misuse_return_mode),
    cmocka_unit_test(chan_nil_try_eagain),
    cmocka_unit_test(chan_nil_send_blocks_forever),
    cmocka_unit_test(chan_nil_recv_blocks_forever),
    cmocka_unit_test(chan_retain_release),
    cmocka_unit_test(chan_range_loop),
    cmocka_unit_test(chan_elem_sizes),
    cmocka_unit_test(chan_multi_sender_receiver),
    cmocka_unit_test(chan_multi_consumer),
};

GORT_TEST_MAIN(tests)
