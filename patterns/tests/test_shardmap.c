/* test_shardmap.c - seed 002's sharded map: get, set, keys; concurrent use;
 * a lock held on one shard does not block the others. */
#include "ptest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gortp/shardmap.h"

static _Atomic int freed;
static void free_int(void *v) {
  atomic_fetch_add(&freed, 1);
  free(v);
}
static int *new_int(int v) {
  int *p = malloc(sizeof *p);
  if (!p) abort();
  *p = v;
  return p;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void shardmap_seed_usage(void **state) {
  (void)state;
  atomic_store(&freed, 0);
  gortp_shardmap *m;
  assert_int_equal(gortp_shardmap_new(&m, 5, NULL, free_int), 0);
  assert_int_equal(gortp_shardmap_set(m, "alpha", new_int(1)), 0);
  assert_int_equal(gortp_shardmap_set(m, "beta", new_int(2)), 0);
  assert_int_equal(gortp_shardmap_set(m, "gamma", new_int(3)), 0);
  void *v;
  assert_true(gortp_shardmap_get(m, "alpha", &v));
  assert_int_equal(*(int *)v, 1); /* fmt.Println(m.Get("alpha")) -> 1 */
  assert_false(gortp_shardmap_get(m, "delta", &v));
  char **keys;
  size_t n;
  assert_int_equal(gortp_shardmap_keys(m, &keys, &n), 0);
  assert_int_equal(n, 3);
  qsort(keys, n, sizeof *keys, cmp_str);
  assert_string_equal(keys[0], "alpha");
  assert_string_equal(keys[1], "beta");
  assert_string_equal(keys[2], "gamma");
  gortp_shardmap_keys_free(keys, n);
  /* Replacing frees the old value; deleting frees the value. */
  assert_int_equal(gortp_shardmap_set(m, "alpha", new_int(10)), 0);
  assert_int_equal(atomic_load(&freed), 1);
  assert_true(gortp_shardmap_get(m, "alpha", &v));
  assert_int_equal(*(int *)v, 10);
  assert_int_equal(gortp_shardmap_delete(m, "beta"), 0);
  assert_int_equal(gortp_shardmap_delete(m, "beta"), GORT_ENOTFOUND);
  assert_int_equal(atomic_load(&freed), 2);
  int *mine = new_int(99);
  void *existing = NULL;
  assert_int_equal(gortp_shardmap_set_if_absent(m, "gamma", mine, &existing), GORT_EAGAIN);
  assert_int_equal(*(int *)existing, 3);
  free(mine);
  assert_int_equal(gortp_shardmap_len(m), 2);
  gortp_shardmap_free(m);
  assert_int_equal(atomic_load(&freed), 4);
}

typedef struct {
  gortp_shardmap *m;
  int id;
  int bad;
} writer_arg;

static void writer(void *p) {
  writer_arg *a = p;
  char key[32];
  for (int i = 0; i < 1000; i++) {
    snprintf(key, sizeof key, "w%d-k%d", a->id, i);
    if (gortp_shardmap_set(a->m, key, (void *)(intptr_t)(a->id * 100000 + i)) != 0) a->bad++;
    void *v;
    if (!gortp_shardmap_get(a->m, key, &v) || (intptr_t)v != a->id * 100000 + i) a->bad++;
  }
}

static void shardmap_concurrent_writers(void **state) {
  (void)state;
  int base = gort_num_tasks();
  gortp_shardmap *m;
  assert_int_equal(gortp_shardmap_new(&m, 16, NULL, NULL), 0);
  writer_arg args[8];
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  for (int i = 0; i < 8; i++) {
    args[i] = (writer_arg){m, i, 0};
    assert_int_equal(gort_waitgroup_go(&wg, writer, &args[i]), 0);
  }
  gort_waitgroup_wait(&wg);
  for (int i = 0; i < 8; i++) assert_int_equal(args[i].bad, 0);
  assert_int_equal(gortp_shardmap_len(m), 8000);
  char **keys;
  size_t n;
  assert_int_equal(gortp_shardmap_keys(m, &keys, &n), 0);
  assert_int_equal(n, 8000);
  qsort(keys, n, sizeof *keys, cmp_str);
  for (size_t i = 1; i < n; i++) assert_true(strcmp(keys[i - 1], keys[i]) != 0);
  gortp_shardmap_keys_free(keys, n);
  gortp_shardmap_free(m);
  assert_true(ptest_tasks_settle(base));
}

/* dup runs under the shard's read lock; make it wait on a gate so a reader
 * holds shard A. A writer to shard A waits; a writer to shard B does not. */
static gort_chan *gate;
static void *slow_dup(void *v) {
  if (gate) gort_chan_recv(gate, NULL, NULL);
  return v;
}

typedef struct {
  gortp_shardmap *m;
  const char *key;
  _Atomic int done;
} op_arg;

static void reader(void *p) {
  op_arg *a = p;
  void *v;
  gortp_shardmap_get(a->m, a->key, &v);
  atomic_store(&a->done, 1);
}

static void setter(void *p) {
  op_arg *a = p;
  gortp_shardmap_set(a->m, a->key, (void *)2);
  atomic_store(&a->done, 1);
}

static bool is_done(void *p) { return atomic_load(&((op_arg *)p)->done) == 1; }

static void shardmap_lock_is_per_shard(void **state) {
  (void)state;
  int base = gort_num_tasks();
  gortp_shardmap *m;
  assert_int_equal(gortp_shardmap_new(&m, 4, slow_dup, NULL), 0);
  /* Two keys in different shards. */
  char a_key[16] = "k0", b_key[16] = "";
  for (int i = 1; !b_key[0]; i++) {
    char k[16];
    snprintf(k, sizeof k, "k%d", i);
    if (gortp_shardmap_shard_of(m, k) != gortp_shardmap_shard_of(m, a_key)) strcpy(b_key, k);
  }
  assert_int_equal(gortp_shardmap_set(m, a_key, (void *)1), 0);
  assert_int_equal(GORT_CHAN_MAKE(&gate, int, 0), 0);
  op_arg rd = {m, a_key, 0}, wa = {m, a_key, 0}, wb = {m, b_key, 0};
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  assert_int_equal(gort_waitgroup_go(&wg, reader, &rd), 0);
  assert_true(ptest_waiting(GORT_WAIT_CHAN_RECV, 1)); /* holding shard A's read lock */
  assert_int_equal(gort_waitgroup_go(&wg, setter, &wa), 0);
  assert_true(ptest_waiting(GORT_WAIT_RWMUTEX_W, 1)); /* the writer to A waits */
  assert_int_equal(gort_waitgroup_go(&wg, setter, &wb), 0);
  assert_true(gort_test_eventually(is_done, &wb, 5000)); /* B is free */
  assert_false(atomic_load(&wa.done));
  gort_chan_close(gate);
  gort_waitgroup_wait(&wg);
  assert_true(atomic_load(&wa.done));
  gort_chan_release(gate);
  gate = NULL;
  gortp_shardmap_free(m);
  assert_true(ptest_tasks_settle(base));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(shardmap_seed_usage),
    cmocka_unit_test(shardmap_concurrent_writers),
    cmocka_unit_test(shardmap_lock_is_per_shard),
};

GORT_TEST_MAIN(tests)
