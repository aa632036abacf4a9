/* test_pool.c - gort_pool: sync.Pool with per-thread caches.
 *
 * Go's pool_test.go checks reuse (TestPool), New (TestPoolNew), that the GC
 * may drop objects, and a concurrent stress (TestPoolStress); here drain and
 * free play the GC's part, and we add what C needs: every object the pool
 * drops, drains or frees is destroyed exactly once, including objects in
 * the caches of other (blocked, or exited) threads; bad input; allocation
 * failure. Tasks never call cmocka asserts.
 */
#include "support/gort_test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "gort/gort.h"
#include "gort/introspect.h"

/* ---- counted objects ---- */

#define MAGIC 0x600d0b1ec7u

typedef struct {
  unsigned long magic;
  atomic_int out; /* 1 while handed out by get */
} obj;

typedef struct {
  atomic_int made, destroyed, bad;
} counts;

static void *make_obj(void *arg) {
  counts *c = arg;
  obj *o = malloc(sizeof *o);
  if (o == NULL) return NULL;
  o->magic = MAGIC;
  atomic_init(&o->out, 0);
  atomic_fetch_add(&c->made, 1);
  return o;
}

static void destroy_obj(void *p, void *arg) {
  counts *c = arg;
  obj *o = p;
  if (o->magic != MAGIC || atomic_load(&o->out) != 0) atomic_fetch_add(&c->bad, 1);
  o->magic = 0;
  free(o);
  atomic_fetch_add(&c->destroyed, 1);
}

static gort_pool *new_pool(counts *c) {
  gort_pool *p = NULL;
  assert_int_equal(gort_pool_new(&p, make_obj, destroy_obj, c), 0);
  return p;
}

/* get + mark handed out; NULL on error. */
static obj *take(gort_pool *p, counts *c) {
  void *v = NULL;
  if (gort_pool_get(p, &v) != 0) return NULL;
  obj *o = v;
  if (o->magic != MAGIC || atomic_exchange(&o->out, 1) != 0) atomic_fetch_add(&c->bad, 1);
  return o;
}

static void give(gort_pool *p, obj *o) {
  atomic_store(&o->out, 0);
  gort_pool_put(p, o);
}

/* ---- TestPool / TestPoolNew: single thread ---- */

static void pool_get_put_reuses(void **state) {
  (void)state;
  counts c = {0};
  gort_pool *p = new_pool(&c);
  obj *a = take(p, &c), *b = take(p, &c);
  assert_non_null(a);
  assert_non_null(b);
  assert_ptr_not_equal(a, b);
  assert_int_equal(atomic_load(&c.made), 2);
  give(p, a);
  give(p, b);
  assert_int_equal(gort_pool_idle(p), 2);
  /* The thread's own cache is LIFO: the warmest object first. */
  assert_ptr_equal(take(p, &c), b);
  assert_ptr_equal(take(p, &c), a);
  assert_int_equal(atomic_load(&c.made), 2);
  assert_int_equal(gort_pool_idle(p), 0);
  give(p, a);
  give(p, b);
  gort_pool_free(p);
  assert_int_equal(atomic_load(&c.destroyed), 2);
  assert_int_equal(atomic_load(&c.bad), 0);
}

static void pool_constructor_numbers(void **state) {
  (void)state;
  counts c = {0};
  gort_pool *p = new_pool(&c);
  obj *o[3];
  for (int i = 0; i < 3; i++) o[i] = take(p, &c);
  assert_int_equal(atomic_load(&c.made), 3);
  for (int i = 0; i < 3; i++) give(p, o[i]);
  for (int i = 0; i < 3; i++) o[i] = take(p, &c);
  assert_int_equal(atomic_load(&c.made), 3); /* all reused */
  for (int i = 0; i < 3; i++) give(p, o[i]);
  gort_pool_free(p);
  assert_int_equal(atomic_load(&c.destroyed), 3);
}

static void pool_without_constructor(void **state) {
  (void)state;
  gort_pool *p = NULL;
  assert_int_equal(gort_pool_new(&p, NULL, NULL, NULL), 0);
  void *v = (void *)1;
  assert_int_equal(gort_pool_get(p, &v), GORT_EAGAIN);
  assert_null(v);
  static int x, y;
  assert_int_equal(gort_pool_put(p, &x), 0);
  assert_int_equal(gort_pool_put(p, &y), 0);
  assert_int_equal(gort_pool_get(p, &v), 0);
  assert_ptr_equal(v, &y);
  assert_int_equal(gort_pool_get(p, &v), 0);
  assert_ptr_equal(v, &x);
  assert_int_equal(gort_pool_get(p, &v), GORT_EAGAIN);
  assert_int_equal(gort_pool_put(p, &x), 0);
  gort_pool_free(p); /* no destructor: &x is simply forgotten */
}

static void *fail_ctor(void *arg) {
  (void)arg;
  return NULL;
}

static void pool_constructor_failure(void **state) {
  (void)state;
  gort_pool *p = NULL;
  assert_int_equal(gort_pool_new(&p, fail_ctor, NULL, NULL), 0);
  void *v = (void *)1;
  assert_int_equal(gort_pool_get(p, &v), GORT_ENOMEM);
  assert_null(v);
  gort_pool_free(p);
}

/* ---- overflow to the shared list, and trimming beyond its bound ---- */

static void pool_overflow_and_trim(void **state) {
  (void)state;
  enum { K = GORT_POOL_CACHE_SLOTS + GORT_POOL_SHARED_MAX + 50 };
  counts c = {0};
  gort_pool *p = new_pool(&c);
  obj **all = calloc(K, sizeof *all);
  assert_non_null(all);
  for (int i = 0; i < K; i++) all[i] = take(p, &c);
  assert_int_equal(atomic_load(&c.made), K);
  for (int i = 0; i < K; i++) give(p, all[i]);
  size_t idle = gort_pool_idle(p);
  /* At most a full cache plus a full shared list is kept... */
  assert_true(idle <= GORT_POOL_CACHE_SLOTS + GORT_POOL_SHARED_MAX);
  assert_true(idle >= GORT_POOL_SHARED_MAX);
  /* ...and everything else was destroyed at once. */
  assert_int_equal(atomic_load(&c.destroyed) + (int)idle, K);
  /* Everything kept comes back without the constructor. */
  for (size_t i = 0; i < idle; i++) all[i] = take(p, &c);
  assert_int_equal(atomic_load(&c.made), K);
  assert_int_equal(gort_pool_idle(p), 0);
  for (size_t i = 0; i < idle; i++) give(p, all[i]);
  assert_int_equal(gort_pool_drain(p), 0);
  assert_int_equal(gort_pool_idle(p), 0);
  assert_int_equal(atomic_load(&c.destroyed), K);
  gort_pool_free(p);
  assert_int_equal(atomic_load(&c.destroyed), K);
  assert_int_equal(atomic_load(&c.bad), 0);
  free(all);
}

/* ---- drain and free reach the caches of other threads ---- */

typedef struct {
  gort_pool *p;
  counts *c;
  int n;              /* objects each task caches */
  gort_waitgroup ready;
  gort_chan *gate;    /* closed to let the tasks go on */
  gort_pool *after;   /* if set, used after the gate */
  gort_waitgroup done;
} holders_arg;

static void holder(void *p) {
  holders_arg *a = p;
  obj *o[GORT_POOL_CACHE_SLOTS];
  for (int i = 0; i < a->n; i++) o[i] = take(a->p, a->c);
  for (int i = 0; i < a->n; i++) give(a->p, o[i]);
  gort_waitgroup_done(&a->ready);
  gort_chan_recv(a->gate, NULL, NULL);
  if (a->after) { /* the pool id may be reused: no stale cache may show up */
    for (int i = 0; i < a->n; i++) o[i] = take(a->after, a->c);
    for (int i = 0; i < a->n; i++) give(a->after, o[i]);
  }
  gort_waitgroup_done(&a->done);
}

static void start_holders(holders_arg *a, int tasks) {
  assert_int_equal(GORT_CHAN_MAKE(&a->gate, char, 0), 0);
  gort_waitgroup_init(&a->ready);
  gort_waitgroup_init(&a->done);
  assert_int_equal(gort_waitgroup_add(&a->ready, tasks), 0);
  assert_int_equal(gort_waitgroup_add(&a->done, tasks), 0);
  for (int i = 0; i < tasks; i++) assert_int_equal(gort_go(holder, a), 0);
  assert_int_equal(gort_waitgroup_wait(&a->ready), 0);
}

/* Objects the holders left in caches: one cache per task on the thread
 * backend; on the M:N backend tasks share their worker thread's cache. */
static int cached_by_holders(const counts *c, int tasks, int n) {
  int made = atomic_load(&c->made);
  if (strcmp(gort_backend_name(), "thread") == 0)
    assert_int_equal(made, tasks * n);
  else
    assert_true(made >= n && made <= tasks * n);
  return made;
}

static void stop_holders(holders_arg *a) {
  assert_int_equal(gort_chan_close(a->gate), 0);
  assert_int_equal(gort_waitgroup_wait(&a->done), 0);
  gort_chan_release(a->gate);
  gort_waitgroup_destroy(&a->ready);
  gort_waitgroup_destroy(&a->done);
}

static void pool_drain_reaches_other_threads(void **state) {
  (void)state;
  enum { TASKS = 6, N = 5 };
  counts c = {0};
  holders_arg a = {.p = new_pool(&c), .c = &c, .n = N};
  start_holders(&a, TASKS);
  /* Each task's objects sit in its thread's cache while it waits. */
  int cached = cached_by_holders(&c, TASKS, N);
  assert_int_equal(gort_pool_idle(a.p), cached);
  assert_int_equal(gort_pool_drain(a.p), 0);
  assert_int_equal(gort_pool_idle(a.p), 0);
  assert_int_equal(atomic_load(&c.destroyed), cached);
  stop_holders(&a);
  gort_pool_free(a.p);
  assert_int_equal(atomic_load(&c.destroyed), cached);
  assert_int_equal(atomic_load(&c.bad), 0);
}

static void pool_free_reaches_other_threads(void **state) {
  (void)state;
  enum { TASKS = 6, N = 5 };
  counts c = {0}, c2 = {0};
  holders_arg a = {.p = new_pool(&c), .c = &c, .n = N};
  start_holders(&a, TASKS);
  int cached = cached_by_holders(&c, TASKS, N);
  gort_pool_free(a.p); /* the tasks are alive and hold caches */
  assert_int_equal(atomic_load(&c.destroyed), cached);
  /* A new pool probably gets the same id; the tasks use it from threads
   * whose old caches were freed under them. */
  a.after = new_pool(&c2);
  a.c = &c2;
  stop_holders(&a);
  assert_int_equal(gort_pool_idle(a.after), atomic_load(&c2.made));
  gort_pool_free(a.after);
  assert_int_equal(atomic_load(&c2.destroyed), atomic_load(&c2.made));
  assert_int_equal(atomic_load(&c.bad) + atomic_load(&c2.bad), 0);
}

/* ---- an exiting thread hands its cache to the shared list ---- */

typedef struct {
  gort_pool *p;
  counts *c;
  obj *o[5];
} exiter_arg;

static void *exiter(void *p) {
  exiter_arg *a = p;
  for (int i = 0; i < 5; i++) a->o[i] = take(a->p, a->c);
  for (int i = 0; i < 5; i++) give(a->p, a->o[i]);
  return NULL;
}

static void pool_thread_exit_keeps_objects(void **state) {
  (void)state;
  counts c = {0};
  exiter_arg a = {.p = new_pool(&c), .c = &c};
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, exiter, &a), 0);
  assert_int_equal(pthread_join(th, NULL), 0);
  /* The thread is gone; its five objects moved to the shared list. */
  assert_int_equal(gort_pool_idle(a.p), 5);
  obj *o[5];
  for (int i = 0; i < 5; i++) {
    o[i] = take(a.p, &c);
    bool known = false;
    for (int k = 0; k < 5; k++) known |= o[i] == a.o[k];
    assert_true(known);
  }
  assert_int_equal(atomic_load(&c.made), 5);
  for (int i = 0; i < 5; i++) give(a.p, o[i]);
  gort_pool_free(a.p);
  assert_int_equal(atomic_load(&c.destroyed), 5);
  assert_int_equal(atomic_load(&c.bad), 0);
}

/* ---- TestPoolStress: get/put from many tasks, with drains running ---- */

typedef struct {
  gort_pool *p;
  counts *c;
  long loops;
  gort_waitgroup wg;
} stress_arg;

static void stresser(void *p) {
  stress_arg *a = p;
  obj *o[3];
  for (long i = 0; i < a->loops; i++) {
    int k = (int)(i % 3) + 1;
    for (int j = 0; j < k; j++) o[j] = take(a->p, a->c);
    for (int j = 0; j < k; j++)
      if (o[j]) give(a->p, o[j]);
  }
  gort_waitgroup_done(&a->wg);
}

typedef struct {
  gort_pool *p;
  atomic_bool stop;
  gort_waitgroup wg;
} drainer_arg;

static void drainer(void *p) {
  drainer_arg *a = p;
  while (!atomic_load(&a->stop)) {
    gort_pool_drain(a->p);
    gort_yield();
  }
  gort_waitgroup_done(&a->wg);
}

static void pool_stress_with_drains(void **state) {
  (void)state;
  enum { TASKS = 4 };
  counts c = {0};
  stress_arg a = {.p = new_pool(&c), .c = &c, .loops = gort_test_scaled(20000, 500)};
  drainer_arg d = {.p = a.p};
  gort_waitgroup_init(&a.wg);
  gort_waitgroup_init(&d.wg);
  assert_int_equal(gort_waitgroup_add(&a.wg, TASKS), 0);
  assert_int_equal(gort_waitgroup_add(&d.wg, 1), 0);
  assert_int_equal(gort_go(drainer, &d), 0);
  for (int i = 0; i < TASKS; i++) assert_int_equal(gort_go(stresser, &a), 0);
  assert_int_equal(gort_waitgroup_wait(&a.wg), 0);
  atomic_store(&d.stop, true);
  assert_int_equal(gort_waitgroup_wait(&d.wg), 0);
  assert_int_equal(atomic_load(&c.bad), 0);
  gort_pool_free(a.p);
  assert_int_equal(atomic_load(&c.destroyed), atomic_load(&c.made));
  assert_int_equal(atomic_load(&c.bad), 0);
  gort_waitgroup_destroy(&a.wg);
  gort_waitgroup_destroy(&d.wg);
}

/* ---- more pools than the inline per-thread entries ---- */

static void pool_many_pools(void **state) {
  (void)state;
  enum { N = 100 };
  counts c = {0};
  gort_pool *p[N];
  for (int i = 0; i < N; i++) p[i] = new_pool(&c);
  for (int i = 0; i < N; i++) give(p[i], take(p[i], &c));
  for (int i = 0; i < N; i++) {
    obj *o = take(p[i], &c);
    assert_non_null(o);
    give(p[i], o);
    assert_int_equal(gort_pool_idle(p[i]), 1);
  }
  assert_int_equal(atomic_load(&c.made), N);
  for (int i = 0; i < N; i++) gort_pool_free(p[i]);
  assert_int_equal(atomic_load(&c.destroyed), N);
  assert_int_equal(atomic_load(&c.bad), 0);
}

/* ---- bad input, allocation failure ---- */

static void pool_invalid_arguments(void **state) {
  (void)state;
  counts c = {0};
  gort_pool *p = new_pool(&c);
  void *v = (void *)1;
  assert_int_equal(gort_pool_new(NULL, make_obj, destroy_obj, &c), GORT_EINVAL);
  assert_int_equal(gort_pool_get(NULL, &v), GORT_EINVAL);
  assert_null(v);
  assert_int_equal(gort_pool_get(p, NULL), GORT_EINVAL);
  assert_int_equal(gort_pool_put(NULL, &c), GORT_EINVAL);
  assert_int_equal(gort_pool_put(p, NULL), GORT_EINVAL);
  assert_int_equal(gort_pool_drain(NULL), GORT_EINVAL);
  assert_int_equal(gort_pool_idle(NULL), 0);
  assert_int_equal(gort_pool_idle(p), 0);
  gort_pool_free(NULL);
  gort_pool_free(p);
  assert_int_equal(atomic_load(&c.made), 0);
}

static void pool_enomem(void **state) {
  (void)state;
  counts c = {0};
  for (int k = 0; k < 2; k++) { /* the pool, then its shared list */
    gort_pool *p = NULL;
    gort_test_fail_allocs_after(k);
    int rc = gort_pool_new(&p, make_obj, destroy_obj, &c);
    gort_test_allocator_restore();
    assert_int_equal(rc, GORT_ENOMEM);
    assert_null(p);
  }
  /* No memory for this thread's cache: get and put still work, through the
   * shared list. */
  gort_pool *p = new_pool(&c);
  gort_test_fail_allocs_after(0);
  obj *a = take(p, &c), *b = take(p, &c);
  give(p, a);
  give(p, b);
  size_t idle = gort_pool_idle(p);
  obj *x = take(p, &c);
  gort_test_allocator_restore();
  assert_non_null(a);
  assert_non_null(b);
  assert_int_equal(idle, 2);
  assert_ptr_equal(x, b);
  give(p, x);
  gort_pool_free(p);
  assert_int_equal(atomic_load(&c.made), 2);
  assert_int_equal(atomic_load(&c.destroyed), 2);
  assert_int_equal(atomic_load(&c.bad), 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(pool_get_put_reuses),
    cmocka_unit_test(pool_constructor_numbers),
    cmocka_unit_test(pool_without_constructor),
    cmocka_unit_test(pool_constructor_failure),
    cmocka_unit_test(pool_overflow_and_trim),
    cmocka_unit_test(pool_drain_reaches_other_threads),
    cmocka_unit_test(pool_free_reaches_other_threads),
    cmocka_unit_test(pool_thread_exit_keeps_objects),
    cmocka_unit_test(pool_stress_with_drains),
    cmocka_unit_test(pool_many_pools),
    cmocka_unit_test(pool_invalid_arguments),
    cmocka_unit_test(pool_enomem),
};

GORT_TEST_MAIN(tests)
