/* test_stress.c - many producers and consumers through channels and select;
 * close racing with blocked tasks.
 *
 * Every message carries (producer id + 1) << 32 | sequence number, so a lost
 * or duplicated message is detected exactly: each one ticks its own slot in a
 * seen[] table, and count, sum and xor are checked against the expected ones.
 *
 * GORT_STRESS_SCALE (default 1) scales the message counts, for slow sweeps
 * (TSan); the default run sends the full 100,000 messages per producer.
 */
#include "support/gort_test.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gort/gort.h"
#include "gort/introspect.h"

#define WAIT_MS 20000

#define PRODUCERS 8
#define CONSUMERS 8

/* ---- producers x consumers ---- */

typedef struct {
  gort_chan *a, *b; /* b != NULL: send and receive by select over a and b */
  long n;           /* messages per producer */
  _Atomic unsigned char *seen; /* PRODUCERS * n slots */
  gort_chan *done;
} stress_shared;

typedef struct {
  stress_shared *sh;
  int id;
  int errors; /* producer: failed sends */
} producer;

typedef struct {
  stress_shared *sh;
  long count;
  uint64_t sum, xor;
  long bad;        /* undecodable messages */
  long duplicates; /* messages seen twice */
  long recv_errors;
} consumer;

static void produce(void *arg) {
  producer *p = arg;
  stress_shared *sh = p->sh;
  for (long seq = 0; seq < sh->n; seq++) {
    uint64_t msg = ((uint64_t)(p->id + 1) << 32) | (uint64_t)seq;
    int rc;
    if (sh->b == NULL) {
      rc = gort_chan_send(sh->a, &msg);
    } else {
      gort_select_case cs[] = {gort_case_send(sh->a, &msg), gort_case_send(sh->b, &msg)};
      rc = gort_select(cs, 2);
      rc = rc >= 0 ? 0 : rc;
    }
    if (rc != 0) p->errors++;
  }
  gort_test_signal_done(sh->done);
}

static void account(consumer *c, uint64_t msg) {
  stress_shared *sh = c->sh;
  uint64_t pid = (msg >> 32) - 1, seq = msg & 0xffffffffu;
  if (pid >= PRODUCERS || seq >= (uint64_t)sh->n) {
    c->bad++;
    return;
  }
  if (atomic_fetch_add(&sh->seen[pid * (uint64_t)sh->n + seq], 1) != 0) c->duplicates++;
  c->count++;
  c->sum += msg;
  c->xor ^= msg;
}

static void consume(void *arg) {
  consumer *c = arg;
  stress_shared *sh = c->sh;
  uint64_t msg;
  if (sh->b == NULL) {
    for (; GORT_CHAN_RANGE(sh->a, &msg);) account(c, msg);
  } else {
    /* Receive from both until both are closed; a closed one becomes a nil
     * case, which never fires again (Go's idiom). */
    gort_select_case cs[] = {gort_case_recv(sh->a, &msg), gort_case_recv(sh->b, &msg)};
    int live = 2;
    while (live > 0) {
      int idx = gort_select(cs, 2);
      if (idx < 0) {
        c->recv_errors++;
        break;
      }
      if (cs[idx].ok) {
        account(c, msg);
      } else {
        cs[idx].chan = NULL;
        live--;
      }
    }
  }
  gort_test_signal_done(sh->done);
}

static void run_producers_consumers(gort_chan *a, gort_chan *b) {
  stress_shared sh = {a, b, gort_test_scaled(100000, 100), NULL, gort_test_make_chan(1, 0)};
  size_t slots = (size_t)PRODUCERS * (size_t)sh.n;
  sh.seen = calloc(slots, sizeof *sh.seen);
  assert_non_null(sh.seen);
  producer p[PRODUCERS];
  consumer c[CONSUMERS];
  for (int i = 0; i < CONSUMERS; i++) {
    c[i] = (consumer){.sh = &sh};
    assert_int_equal(gort_go_named("stress-consumer", consume, &c[i]), 0);
  }
  for (int i = 0; i < PRODUCERS; i++) {
    p[i] = (producer){&sh, i, 0};
    assert_int_equal(gort_go_named("stress-producer", produce, &p[i]), 0);
  }
  /* Producers finish first (consumers only finish after the close). */
  gort_test_join(sh.done, PRODUCERS);
  assert_int_equal(gort_chan_close(a), 0);
  if (b) assert_int_equal(gort_chan_close(b), 0);
  gort_test_join(sh.done, CONSUMERS);

  long count = 0, bad = 0, dups = 0, errs = 0;
  uint64_t sum = 0, xor = 0;
  for (int i = 0; i < CONSUMERS; i++) {
    count += c[i].count;
    bad += c[i].bad;
    dups += c[i].duplicates;
    errs += c[i].recv_errors;
    sum += c[i].sum;
    xor ^= c[i].xor;
  }
  for (int i = 0; i < PRODUCERS; i++) errs += p[i].errors;
  uint64_t want_sum = 0, want_xor = 0;
  long lost = 0;
  for (uint64_t pid = 0; pid < PRODUCERS; pid++) {
    for (uint64_t seq = 0; seq < (uint64_t)sh.n; seq++) {
      uint64_t msg = ((pid + 1) << 32) | seq;
      want_sum += msg;
      want_xor ^= msg;
      if (atomic_load(&sh.seen[pid * (uint64_t)sh.n + seq]) == 0) lost++;
    }
  }
  free((void *)sh.seen);
  gort_chan_release(sh.done);
  if (count != PRODUCERS * sh.n || bad || dups || errs || lost)
    fprintf(stderr, "stress: count %ld of %ld, bad %ld, duplicates %ld, lost %ld, errors %ld\n",
            count, PRODUCERS * sh.n, bad, dups, lost, errs);
  assert_int_equal(errs, 0);
  assert_int_equal(bad, 0);
  assert_int_equal(dups, 0);
  assert_int_equal(lost, 0);
  assert_int_equal(count, PRODUCERS * sh.n);
  assert_true(sum == want_sum);
  assert_true(xor == want_xor);
}

static void stress_unbuffered_8x8(void **state) {
  (void)state;
  gort_chan *c = gort_test_make_chan(sizeof(uint64_t), 0);
  run_producers_consumers(c, NULL);
  gort_chan_release(c);
}

static void stress_buffered_8x8(void **state) {
  (void)state;
  gort_chan *c = gort_test_make_chan(sizeof(uint64_t), 64);
  run_producers_consumers(c, NULL);
  gort_chan_release(c);
}

static void stress_select_two_channels_8x8(void **state) {
  (void)state;
  gort_chan *a = gort_test_make_chan(sizeof(uint64_t), 0),
            *b = gort_test_make_chan(sizeof(uint64_t), 16);
  run_producers_consumers(a, b);
  gort_chan_release(a);
  gort_chan_release(b);
}

/* ---- close racing with blocked tasks ---- */

typedef struct {
  gort_chan *c;
  gort_chan *done;
  atomic_long *closed_seen; /* receivers that got GORT_ECLOSED */
  atomic_long *values_seen;
} close_race;

static void recv_until_closed(void *arg) {
  close_race *cr = arg;
  int v;
  for (;;) {
    int rc = gort_chan_recv(cr->c, &v, NULL);
    if (rc == GORT_ECLOSED) {
      atomic_fetch_add(cr->closed_seen, 1);
      break;
    }
    atomic_fetch_add(cr->values_seen, 1);
  }
  gort_test_signal_done(cr->done);
}

/* Many receivers blocked, then close: all wake with GORT_ECLOSED. Half the
 * rounds wait until every receiver is parked; the other half close at once,
 * racing with receivers that are still arriving. */
static void stress_close_wakes_all_receivers(void **state) {
  (void)state;
  enum { R = 32 };
  long rounds = gort_test_scaled(40, 4);
  for (long round = 0; round < rounds; round++) {
    atomic_long closed_seen = 0, values_seen = 0;
    close_race cr = {gort_test_make_chan(sizeof(int), round % 3 == 2 ? 4 : 0),
                     gort_test_make_chan(1, R), &closed_seen, &values_seen};
    for (int i = 0; i < R; i++) assert_int_equal(gort_go(recv_until_closed, &cr), 0);
    if (round % 2 == 0)
      assert_true(gort_test_wait_parked(recv_until_closed, GORT_WAIT_CHAN_RECV, R, WAIT_MS));
    assert_int_equal(gort_chan_close(cr.c), 0);
    gort_test_join(cr.done, R);
    assert_int_equal(atomic_load(&closed_seen), R);
    assert_int_equal(atomic_load(&values_seen), 0);
    gort_chan_release(cr.c);
    gort_chan_release(cr.done);
  }
}

typedef struct {
  gort_chan *c;
  gort_chan *done;
  atomic_long *delivered;   /* sends that returned 0 */
  atomic_long *send_closed; /* sends that returned GORT_ESENDCLOSED */
  atomic_long *other;
} send_race;

static void send_once(void *arg) {
  send_race *sr = arg;
  int rc = gort_chan_send(sr->c, &(int){1});
  if (rc == 0)
    atomic_fetch_add(sr->delivered, 1);
  else if (rc == GORT_ESENDCLOSED)
    atomic_fetch_add(sr->send_closed, 1);
  else
    atomic_fetch_add(sr->other, 1);
  gort_test_signal_done(sr->done);
}

/* Senders race with close (misuse in RETURN mode): every sender returns
 * either 0 (its value was taken or buffered) or GORT_ESENDCLOSED, and the
 * delivered ones are exactly the values the receiver gets, before and after
 * the close. */
static void stress_close_races_blocked_senders(void **state) {
  (void)state;
  enum { S = 16, TAKE = 5 };
  int *calls = gort_test_misuse_return_mode();
  long rounds = gort_test_scaled(40, 4);
  for (long round = 0; round < rounds; round++) {
    atomic_long delivered = 0, send_closed = 0, other = 0;
    long cap = round % 2 ? 4 : 0;
    send_race sr = {gort_test_make_chan(sizeof(int), cap), gort_test_make_chan(1, S), &delivered,
                    &send_closed, &other};
    int calls_before = __atomic_load_n(calls, __ATOMIC_SEQ_CST);
    for (int i = 0; i < S; i++) assert_int_equal(gort_go(send_once, &sr), 0);
    long got = 0;
    for (int i = 0; i < TAKE; i++) {
      assert_int_equal(gort_chan_recv(sr.c, NULL, NULL), 0);
      got++;
    }
    if (round % 4 < 2) /* sometimes let everybody block first */
      assert_true(gort_test_wait_parked(send_once, GORT_WAIT_CHAN_SEND, S - TAKE - (int)cap,
                                        WAIT_MS));
    assert_int_equal(gort_chan_close(sr.c), 0);
    while (gort_chan_recv(sr.c, NULL, NULL) == 0) got++; /* what was buffered */
    gort_test_join(sr.done, S);
    assert_int_equal(atomic_load(&other), 0);
    assert_int_equal(atomic_load(&delivered) + atomic_load(&send_closed), S);
    assert_int_equal(atomic_load(&delivered), got);
    assert_int_equal(__atomic_load_n(calls, __ATOMIC_SEQ_CST) - calls_before,
                     atomic_load(&send_closed));
    gort_chan_release(sr.c);
    gort_chan_release(sr.done);
  }
  gort_test_misuse_abort_mode();
}

/* ---- port of Go's TestSelectStress ---- */

typedef struct {
  gort_chan *c[4];
  long n;
  gort_chan *done;
} ss_shared;

typedef struct {
  ss_shared *sh;
  int k;
} ss_arg;

static void ss_send_k(void *arg) {
  ss_arg *a = arg;
  for (long i = 0; i < a->sh->n; i++) gort_chan_send(a->sh->c[a->k], &(int){0});
  gort_test_signal_done(a->sh->done);
}

static void ss_recv_k(void *arg) {
  ss_arg *a = arg;
  for (long i = 0; i < a->sh->n; i++) gort_chan_recv(a->sh->c[a->k], NULL, NULL);
  gort_test_signal_done(a->sh->done);
}

/* n values on each channel in one select; a channel that got its n becomes a
 * nil case. */
static void ss_select_send(void *arg) {
  ss_shared *sh = arg;
  long cnt[4] = {0};
  int zero = 0;
  gort_select_case cs[4];
  for (int k = 0; k < 4; k++) cs[k] = gort_case_send(sh->c[3 - k], &zero);
  for (long i = 0; i < 4 * sh->n; i++) {
    int idx = gort_select(cs, 4);
    if (idx < 0) break;
    if (++cnt[idx] == sh->n) cs[idx].chan = NULL;
  }
  gort_test_signal_done(sh->done);
}

static void ss_select_recv(void *arg) {
  ss_shared *sh = arg;
  long cnt[4] = {0};
  gort_select_case cs[4];
  for (int k = 0; k < 4; k++) cs[k] = gort_case_recv(sh->c[k], NULL);
  for (long i = 0; i < 4 * sh->n; i++) {
    int idx = gort_select(cs, 4);
    if (idx < 0) break;
    if (++cnt[idx] == sh->n) cs[idx].chan = NULL;
  }
  gort_test_signal_done(sh->done);
}

/* 4 senders and 4 receivers per channel, plus a select sending on all four
 * and a select receiving from all four: chaotic, but it must not deadlock
 * (a lost wake-up hangs it; the runner's timeout then dumps the tasks). */
static void stress_select_go_port(void **state) {
  (void)state;
  ss_shared sh = {{gort_test_make_chan(sizeof(int), 0), gort_test_make_chan(sizeof(int), 0),
                   gort_test_make_chan(sizeof(int), 2), gort_test_make_chan(sizeof(int), 3)},
                  gort_test_scaled(20000, 100),
                  gort_test_make_chan(1, 0)};
  ss_arg a[4];
  for (int k = 0; k < 4; k++) {
    a[k] = (ss_arg){&sh, k};
    assert_int_equal(gort_go(ss_send_k, &a[k]), 0);
    assert_int_equal(gort_go(ss_recv_k, &a[k]), 0);
  }
  assert_int_equal(gort_go(ss_select_send, &sh), 0);
  assert_int_equal(gort_go(ss_select_recv, &sh), 0);
  gort_test_join(sh.done, 10);
  for (int k = 0; k < 4; k++) {
    assert_int_equal(gort_chan_len(sh.c[k]), 0);
    gort_chan_release(sh.c[k]);
  }
  gort_chan_release(sh.done);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(stress_unbuffered_8x8),
    cmocka_unit_test(stress_buffered_8x8),
    cmocka_unit_test(stress_select_two_channels_8x8),
    cmocka_unit_test(stress_close_wakes_all_receivers),
    cmocka_unit_test(stress_close_races_blocked_senders),
    cmocka_unit_test(stress_select_go_port),
};

GORT_TEST_MAIN(tests)
