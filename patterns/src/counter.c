/* counter.c - counters by mutex, by owning task, by channel-as-lock
 * (gortp/counter.h).
 *
 * Owned counter invariants: only the owner task reads or writes `n`; every
 * message is applied in the order the ops channel delivers it; a get's
 * reply is sent after every message received before it, so a task sees its
 * own earlier adds.
 */
#include "gortp/counter.h"

#include <stdlib.h>

#include "gort/task.h"

void gortp_counter_mutex_add(gortp_counter_mutex *c, int64_t delta) {
  gort_mutex_lock(&c->mu);
  c->n += delta;
  gort_mutex_unlock(&c->mu);
}

int64_t gortp_counter_mutex_get(gortp_counter_mutex *c) {
  gort_mutex_lock(&c->mu);
  int64_t n = c->n;
  gort_mutex_unlock(&c->mu);
  return n;
}

typedef struct {
  int64_t delta;
  gort_chan *reply; /* get: where the value goes (capacity 1); add: NULL */
} op;

struct gortp_counter_owned {
  gort_chan *ops; /* unbuffered, of op; closed by free */
  gort_waitgroup owner_done;
};

static void owner(void *arg) {
  gortp_counter_owned *c = arg;
  int64_t n = 0; /* the state: on the owner's stack, shared with nobody */
  for (op o; GORT_CHAN_RANGE(c->ops, &o);) {
    if (o.reply) {
      gort_chan_send(o.reply, &n);
      gort_chan_release(o.reply);
    } else {
      n += o.delta;
    }
  }
  gort_waitgroup_done(&c->owner_done);
}

int gortp_counter_owned_new(gortp_counter_owned **out) {
  if (!out) return GORT_EINVAL;
  gortp_counter_owned *c = malloc(sizeof *c);
  if (!c) return GORT_ENOMEM;
  int r = GORT_CHAN_MAKE(&c->ops, op, 0);
  if (r != 0) {
    free(c);
    return r;
  }
  gort_waitgroup_init(&c->owner_done);
  gort_waitgroup_add(&c->owner_done, 1);
  r = gort_go_named("counter-owner", owner, c);
  if (r != 0) {
    gort_chan_release(c->ops);
    free(c);
    return r;
  }
  *out = c;
  return 0;
}

int gortp_counter_owned_add(gortp_counter_owned *c, int64_t delta) {
  op o = {delta, NULL};
  return gort_chan_send(c->ops, &o) == 0 ? 0 : GORT_ESHUTDOWN;
}

int gortp_counter_owned_get(gortp_counter_owned *c, int64_t *value) {
  gort_chan *reply;
  int r = GORT_CHAN_MAKE(&reply, int64_t, 1);
  if (r != 0) return r;
  op o = {0, gort_chan_retain(reply)}; /* the owner drops this reference */
  r = gort_chan_send(c->ops, &o);
  if (r == 0) r = gort_chan_recv(reply, value, NULL);
  else gort_chan_release(reply);
  gort_chan_release(reply);
  return r;
}

void gortp_counter_owned_free(gortp_counter_owned *c) {
  if (!c) return;
  gort_chan_close(c->ops);
  gort_waitgroup_wait(&c->owner_done);
  gort_waitgroup_destroy(&c->owner_done);
  gort_chan_release(c->ops);
  free(c);
}

int gortp_counter_chanlock_init(gortp_counter_chanlock *c) {
  c->n = 0;
  return gort_chan_make(&c->lock, 1, 1);
}

void gortp_counter_chanlock_add(gortp_counter_chanlock *c, int64_t delta) {
  const char token = 0;
  gort_chan_send(c->lock, &token); /* mu <- struct{}{} */
  c->n += delta;
  gort_chan_recv(c->lock, NULL, NULL); /* <-mu */
}

int64_t gortp_counter_chanlock_get(gortp_counter_chanlock *c) {
  const char token = 0;
  gort_chan_send(c->lock, &token);
  int64_t n = c->n;
  gort_chan_recv(c->lock, NULL, NULL);
  return n;
}

void gortp_counter_chanlock_destroy(gortp_counter_chanlock *c) { gort_chan_release(c->lock); }
