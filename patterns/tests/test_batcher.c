/* test_batcher.c - seed 004's batcher, with the interval flush the seed
 * declares but never does, ordered handler calls, no race on results. */
#include "ptest.h"

#include <stdlib.h>
#include <string.h>

#include "gortp/batcher.h"

enum { MAXB = 4096 };
typedef struct {
  gort_mutex mu;
  int batches;
  int sizes[MAXB];
  int firsts[MAXB];
  int *items; /* every item, in handler order */
  int nitems;
  int fail_first_item; /* a batch starting with this item fails */
  gort_chan *signal;   /* optional: told about each batch */
} sink;

static int handler(gort_context *ctx, const void *items, size_t n, void *arg) {
  (void)ctx;
  sink *s = arg;
  const int *v = items;
  gort_mutex_lock(&s->mu);
  if (s->batches < MAXB) {
    s->sizes[s->batches] = (int)n;
    s->firsts[s->batches] = v[0];
  }
  s->batches++;
  for (size_t i = 0; i < n; i++) s->items[s->nitems++] = v[i];
  gort_mutex_unlock(&s->mu);
  if (s->signal) gort_chan_send(s->signal, &(int){(int)n});
  return v[0] == s->fail_first_item ? GORT_EIO : 0;
}

static sink *sink_new(int capacity) {
  sink *s = calloc(1, sizeof *s);
  assert_non_null(s);
  gort_mutex_init(&s->mu);
  s->items = calloc((size_t)capacity, sizeof(int));
  assert_non_null(s->items);
  s->fail_first_item = -1;
  return s;
}

static void sink_free(sink *s) {
  free(s->items);
  free(s);
}

static void batcher_flushes_on_size(void **state) {
  (void)state;
  sink *s = sink_new(16);
  gortp_batcher *b;
  gortp_batcher_config cfg = {sizeof(int), 3, 0, handler, s};
  assert_int_equal(gortp_batcher_new(&b, NULL, &cfg), 0);
  for (int i = 0; i < 7; i++) assert_int_equal(gortp_batcher_add(b, &i), 0);
  assert_int_equal(s->batches, 2); /* [0 1 2] [3 4 5]; 6 waits */
  assert_int_equal(s->sizes[0], 3);
  assert_int_equal(s->sizes[1], 3);
  assert_int_equal(gortp_batcher_close(b), 0); /* [6] */
  assert_int_equal(s->batches, 3);
  assert_int_equal(s->sizes[2], 1);
  for (int i = 0; i < 7; i++) assert_int_equal(s->items[i], i);
  assert_int_equal(gortp_batcher_add(b, &(int){7}), GORT_ESHUTDOWN);
  gortp_batcher_stats st;
  gortp_batcher_stats_get(b, &st);
  assert_int_equal(st.items, 7);
  assert_int_equal(st.full_batches, 2);
  assert_int_equal(st.batches, 3);
  gortp_batcher_free(b);
  sink_free(s);
}

/* Two items, then silence: the ticker hands them over without any Flush
 * call (the seed would keep them until someone calls Flush). */
static void batcher_flushes_on_interval(void **state) {
  (void)state;
  int base = gort_num_tasks();
  sink *s = sink_new(16);
  assert_int_equal(GORT_CHAN_MAKE(&s->signal, int, 4), 0);
  gortp_batcher *b;
  gortp_batcher_config cfg = {sizeof(int), 100, 5 * GORT_MILLISECOND, handler, s};
  assert_int_equal(gortp_batcher_new(&b, NULL, &cfg), 0);
  int64_t t0 = gort_now();
  assert_int_equal(gortp_batcher_add(b, &(int){10}), 0);
  assert_int_equal(gortp_batcher_add(b, &(int){11}), 0);
  int n;
  assert_int_equal(gort_chan_recv(s->signal, &n, NULL), 0); /* no flush call made */
  assert_int_equal(n, 2);
  assert_true(gort_now() - t0 < 5 * GORT_SECOND);
  gort_mutex_lock(&s->mu);
  assert_int_equal(s->items[0], 10);
  assert_int_equal(s->items[1], 11);
  gort_mutex_unlock(&s->mu);
  assert_int_equal(gortp_batcher_close(b), 0); /* nothing left for it */
  gortp_batcher_stats st;
  gortp_batcher_stats_get(b, &st);
  assert_int_equal(st.interval_batches, 1);
  assert_int_equal(st.batches, 1);
  gortp_batcher_free(b);
  gort_chan_release(s->signal);
  sink_free(s);
  assert_true(ptest_tasks_settle(base));
}

typedef struct {
  gortp_batcher *b;
  int id;
  int errors;
} adder_arg;

static void adder(void *p) {
  adder_arg *a = p;
  for (int i = 0; i < 1000; i++) {
    int v = a->id * 10000 + i;
    if (gortp_batcher_add(a->b, &v) != 0) a->errors++;
  }
}

/* Four adders and a fast ticker: every item once, batches never above
 * batch_size, each adder's items in its order. */
static void batcher_concurrent_adders(void **state) {
  (void)state;
  int base = gort_num_tasks();
  sink *s = sink_new(4000);
  gortp_batcher *b;
  gortp_batcher_config cfg = {sizeof(int), 7, GORT_MILLISECOND, handler, s};
  assert_int_equal(gortp_batcher_new(&b, NULL, &cfg), 0);
  adder_arg args[4];
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  for (int i = 0; i < 4; i++) {
    args[i] = (adder_arg){b, i, 0};
    assert_int_equal(gort_waitgroup_go(&wg, adder, &args[i]), 0);
  }
  gort_waitgroup_wait(&wg);
  assert_int_equal(gortp_batcher_close(b), 0);
  for (int i = 0; i < 4; i++) assert_int_equal(args[i].errors, 0);
  assert_int_equal(s->nitems, 4000);
  for (int k = 0; k < s->batches && k < MAXB; k++) assert_true(s->sizes[k] >= 1 && s->sizes[k] <= 7);
  int next[4] = {0, 0, 0, 0};
  for (int k = 0; k < 4000; k++) {
    int id = s->items[k] / 10000, i = s->items[k] % 10000;
    assert_true(id >= 0 && id < 4);
    assert_int_equal(i, next[id]); /* in order, none lost, none twice */
    next[id]++;
  }
  gortp_batcher_free(b);
  sink_free(s);
  assert_true(ptest_tasks_settle(base));
}

static void batcher_handler_error_reaches_adder(void **state) {
  (void)state;
  sink *s = sink_new(16);
  s->fail_first_item = 3;
  gortp_batcher *b;
  gortp_batcher_config cfg = {sizeof(int), 3, 0, handler, s};
  assert_int_equal(gortp_batcher_new(&b, NULL, &cfg), 0);
  for (int i = 0; i < 5; i++) assert_int_equal(gortp_batcher_add(b, &i), 0);
  assert_int_equal(gortp_batcher_add(b, &(int){5}), GORT_EIO); /* [3 4 5] failed */
  assert_int_equal(gortp_batcher_flush(b), 0);                 /* nothing left */
  gortp_batcher_stats st;
  gortp_batcher_stats_get(b, &st);
  assert_int_equal(st.failed, 1);
  assert_int_equal(st.first_error, GORT_EIO);
  gortp_batcher_free(b);
  sink_free(s);
  gortp_batcher_config bad = {0, 3, 0, handler, NULL};
  assert_int_equal(gortp_batcher_new(&b, NULL, &bad), GORT_EINVAL);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(batcher_flushes_on_size),
    cmocka_unit_test(batcher_flushes_on_interval),
    cmocka_unit_test(batcher_concurrent_adders),
    cmocka_unit_test(batcher_handler_error_reaches_adder),
};

GORT_TEST_MAIN(tests)
