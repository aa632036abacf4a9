/* sweep.c - the seed's pair over numTasks x workLoad, and an I/O-bound
 * variant.
 *
 *   NaiveSpawnSweep/tasks:N/load:L, WorkerPoolSweep/tasks:N/load:L
 *       N in {100, 1k, 10k, 100k}, L in {0, 100, 1k, 10k}; the pool has the
 *       seed's 8 workers. WorkerPool's allocations must stay constant in N
 *       (the job channel is one allocation whatever its size), NaiveSpawn's
 *       grow with it. At 100k tasks the OS may refuse a thread: gort_go then
 *       returns GORT_ETHREAD and the run is reported as an error, not a crash.
 *   ParallelFloorSweep/tasks:N/load:L
 *       the seed's ParallelFloor (one thread per core, static shares) at the
 *       same points: the physical limit each pair is drawn against.
 *   NaiveSpawnIO/tasks:N, WorkerPoolIO/tasks:N
 *       each task blocks ~1 ms in gort_sleep instead of computing: the case
 *       where the seed says spawning per task becomes competitive, since
 *       blocked tasks cost no CPU and 8 workers serialise N/8 sleeps.
 */
#include "bench.h"
#include "gort/gort.h"

static const int64_t sweep_tasks[] = {100, 1000, 10000, 100000};
static const int64_t sweep_loads[] = {0, 100, 1000, 10000};
static const char *const sweep_names[] = {"tasks", "load"};

static void bm_naive_sweep(gort_bench_state *st, void *arg) {
  (void)arg;
  long tasks = gort_bench_range(st, 0), load = gort_bench_range(st, 1);
  while (gort_bench_keep_running(st)) {
    int rc = gb_naive_spawn(tasks, load);
    if (rc != 0) {
      gb_skip(st, "gort_go", rc);
      break;
    }
  }
}

static void bm_pool_sweep(gort_bench_state *st, void *arg) {
  (void)arg;
  long tasks = gort_bench_range(st, 0), load = gort_bench_range(st, 1);
  while (gort_bench_keep_running(st)) {
    int rc = gb_worker_pool(SEED_NUM_WORKERS, tasks, load);
    if (rc != 0) {
      gb_skip(st, "gort_go", rc);
      break;
    }
  }
}

/* ---- I/O-bound --------------------------------------------------------------- */

#define IO_BLOCK GORT_MILLISECOND

typedef struct {
  gort_waitgroup wg;
} io_op;

static void io_task(void *arg) {
  io_op *op = arg;
  gort_sleep(IO_BLOCK);
  gort_waitgroup_done(&op->wg);
}

static int naive_io(long tasks) {
  io_op op;
  gort_waitgroup_init(&op.wg);
  gort_waitgroup_add(&op.wg, tasks);
  int rc = 0;
  for (long j = 0; j < tasks && rc == 0; j++) {
    rc = gort_go(io_task, &op);
    if (rc != 0) gort_waitgroup_add(&op.wg, -(tasks - j));
  }
  gort_waitgroup_wait(&op.wg);
  gort_waitgroup_destroy(&op.wg);
  return rc;
}

typedef struct {
  gort_chan *jobs; /* of gort_duration */
  gort_waitgroup wg;
} io_pool_op;

static void io_worker(void *arg) {
  io_pool_op *op = arg;
  for (gort_duration d; GORT_CHAN_RANGE(op->jobs, &d);) gort_sleep(d);
  gort_waitgroup_done(&op->wg);
}

static int pool_io(int workers, long tasks) {
  io_pool_op op;
  int rc = GORT_CHAN_MAKE(&op.jobs, gort_duration, tasks);
  if (rc != 0) return rc;
  gort_waitgroup_init(&op.wg);
  gort_waitgroup_add(&op.wg, workers);
  for (int w = 0; w < workers && rc == 0; w++) {
    rc = gort_go(io_worker, &op);
    if (rc != 0) gort_waitgroup_add(&op.wg, -(workers - w));
  }
  if (rc == 0) {
    for (long j = 0; j < tasks; j++) GORT_CHAN_SEND(op.jobs, gort_duration, IO_BLOCK);
  }
  gort_chan_close(op.jobs);
  gort_waitgroup_wait(&op.wg);
  gort_waitgroup_destroy(&op.wg);
  gort_chan_release(op.jobs);
  return rc;
}

static void bm_naive_io(gort_bench_state *st, void *arg) {
  (void)arg;
  long tasks = gort_bench_range(st, 0);
  while (gort_bench_keep_running(st)) {
    int rc = naive_io(tasks);
    if (rc != 0) {
      gb_skip(st, "gort_go", rc);
      break;
    }
  }
}

static void bm_pool_io(gort_bench_state *st, void *arg) {
  (void)arg;
  long tasks = gort_bench_range(st, 0);
  while (gort_bench_keep_running(st)) {
    int rc = pool_io(SEED_NUM_WORKERS, tasks);
    if (rc != 0) {
      gb_skip(st, "gort_go", rc);
      break;
    }
  }
}

void gb_register_sweep(bool quick) {
  if (quick) return;
  gort_bench *b = gort_bench_register("NaiveSpawnSweep", bm_naive_sweep, NULL);
  gort_bench_args_product2(b, sweep_tasks, 4, sweep_loads, 4);
  gort_bench_arg_names(b, sweep_names, 2);
  b = gort_bench_register("WorkerPoolSweep", bm_pool_sweep, NULL);
  gort_bench_args_product2(b, sweep_tasks, 4, sweep_loads, 4);
  gort_bench_arg_names(b, sweep_names, 2);
  b = gort_bench_register("ParallelFloorSweep", gb_parallel_floor, (void *)1);
  gort_bench_args_product2(b, sweep_tasks, 4, sweep_loads, 4);
  gort_bench_arg_names(b, sweep_names, 2);

  static const int64_t io_tasks[] = {100, 1000};
  b = gort_bench_register("NaiveSpawnIO", bm_naive_io, NULL);
  gort_bench_arg(b, io_tasks[0]);
  gort_bench_arg(b, io_tasks[1]);
  gort_bench_arg_names(b, sweep_names, 1);
  b = gort_bench_register("WorkerPoolIO", bm_pool_io, NULL);
  gort_bench_arg(b, io_tasks[0]);
  gort_bench_arg(b, io_tasks[1]);
  gort_bench_arg_names(b, sweep_names, 1);
}
