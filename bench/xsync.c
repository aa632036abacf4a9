/* xsync.c - benchmarks of gort's ports of golang.org/x/sync, x/time/rate and
 * sync.Pool, beside Go's (bench/go/seed_test.go, micro_test.go):
 *   ErrgroupLimit8          the seed's pair's work through an errgroup with
 *                           SetLimit(8): go blocks while 8 tasks are active;
 *   SingleflightDo          op = one uncontended Do;
 *   RateLimiterAllow        op = one Allow on a limiter of 1e6/s, burst 100;
 *   Pool                    RunParallel on every core: Put then Get;
 *   PoolPutGet              op = one Put then Get on the benchmark's own task
 *                           (deterministic: instruction counts).
 */
#include <stdint.h>
#include <stdlib.h>

#include "bench.h"
#include "gort/errgroup.h"
#include "gort/gort.h"
#include "gort/pool.h"
#include "gort/rate.h"
#include "gort/singleflight.h"

static int errgroup_task(gort_context *ctx, void *arg) {
  (void)ctx;
  gb_keep(gb_do_task((long)(intptr_t)arg));
  return 0;
}

static void bm_errgroup_limit8(gort_bench_state *st, void *arg) {
  (void)arg;
  while (gort_bench_keep_running(st)) {
    gort_errgroup *g;
    int rc = gort_errgroup_new(&g);
    if (rc == 0) rc = gort_errgroup_set_limit(g, SEED_NUM_WORKERS);
    for (long j = 0; j < SEED_NUM_TASKS && rc == 0; j++)
      rc = gort_errgroup_go(g, errgroup_task, (void *)(intptr_t)SEED_WORK_LOAD);
    int werr = g ? gort_errgroup_wait(g) : 0;
    gort_errgroup_free(g);
    if (rc == 0) rc = werr;
    if (rc != 0) {
      gb_skip(st, "errgroup", rc);
      break;
    }
  }
}

static int one(void *arg, void **result) {
  *result = arg;
  return 0;
}

static void bm_singleflight_do(gort_bench_state *st, void *arg) {
  (void)arg;
  gort_singleflight *g;
  int rc = gort_singleflight_new(&g, NULL);
  if (rc != 0) {
    gb_skip(st, "gort_singleflight_new", rc);
    return;
  }
  static int value = 1;
  int64_t n = gort_bench_begin(st);
  for (int64_t i = 0; i < n; i++) {
    void *v;
    gort_singleflight_do(g, "key", one, &value, &v, NULL);
  }
  gort_bench_end(st);
  gort_singleflight_free(g);
}

static void bm_rate_allow(gort_bench_state *st, void *arg) {
  (void)arg;
  gort_limiter *lim;
  int rc = gort_limiter_new(&lim, 1e6, 100);
  if (rc != 0) {
    gb_skip(st, "gort_limiter_new", rc);
    return;
  }
  long allowed = 0;
  int64_t n = gort_bench_begin(st);
  for (int64_t i = 0; i < n; i++) allowed += gort_limiter_allow(lim) == 0;
  gort_bench_end(st);
  gb_keep(allowed);
  gort_limiter_free(lim);
}

static void *new_int(void *arg) {
  (void)arg;
  return malloc(sizeof(long));
}

static void free_int(void *obj, void *arg) {
  (void)arg;
  free(obj);
}

static void pool_put_get(gb_pb *pb, void *arg) {
  gort_pool *p = arg;
  void *v = NULL;
  gort_pool_get(p, &v);
  while (gb_pb_next(pb)) {
    gort_pool_put(p, v);
    gort_pool_get(p, &v);
  }
  gort_pool_put(p, v);
}

static void bm_pool(gort_bench_state *st, void *arg) {
  (void)arg;
  gort_pool *p;
  int rc = gort_pool_new(&p, new_int, free_int, NULL);
  if (rc != 0) {
    gb_skip(st, "gort_pool_new", rc);
    return;
  }
  gb_run_parallel(st, gb_cores(), pool_put_get, p);
  gort_pool_free(p);
}

static void bm_pool_put_get(gort_bench_state *st, void *arg) {
  (void)arg;
  gort_pool *p;
  int rc = gort_pool_new(&p, new_int, free_int, NULL);
  if (rc != 0) {
    gb_skip(st, "gort_pool_new", rc);
    return;
  }
  void *v = NULL;
  gort_pool_get(p, &v);
  int64_t n = gort_bench_begin(st);
  for (int64_t i = 0; i < n; i++) {
    gort_pool_put(p, v);
    gort_pool_get(p, &v);
  }
  gort_bench_end(st);
  gort_pool_put(p, v);
  gort_pool_free(p);
}

void gb_register_xsync(bool quick) {
  if (quick) return;
  gort_bench_register("ErrgroupLimit8", bm_errgroup_limit8, NULL);
  gort_bench_register("SingleflightDo", bm_singleflight_do, NULL);
  gort_bench_register("RateLimiterAllow", bm_rate_allow, NULL);
  gort_bench_register("Pool", bm_pool, NULL);
  gort_bench_register("PoolPutGet", bm_pool_put_get, NULL);
}
