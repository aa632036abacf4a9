/* seed.c - seed 003's benchmark in C on gort, and its neighbours.
 *
 * NaiveSpawn and WorkerPool have the seed's shape and names: numTasks =
 * 10,000, workLoad = 1,000, NaiveSpawn = one gort_go per task and a wait
 * group, WorkerPool = 8 workers ranging over a buffered channel of numTasks,
 * created and torn down inside every op. Beside them:
 *   Serial            every job on the body's task;
 *   ParallelFloor     the physical limit: one thread per core, started before
 *                     the timed loop (the body's thread is core 0's), each
 *                     running its static share of the tasks; per op only a
 *                     start flag and a finish count, both spun on;
 *   WorkerPoolCores   WorkerPool with one worker per core;
 *   ErrgroupLimit8    errgroup with SetLimit(8) (see errgroup.c);
 *   ChanSemaphore     the seed's semaphore pattern: one task per job, each
 *                     acquiring one of 8 slots of a buffered channel;
 *   NaiveSpawnPthread NaiveSpawn with raw pthread_create/pthread_join and the
 *                     same stack size: what gort_go adds over a bare thread.
 *
 * Every body passes doTask's result to gb_keep() (see dotask.c). A failed
 * spawn (GORT_ETHREAD when the OS refuses a thread) ends the benchmark with
 * skip-with-error after the tasks already started have finished.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "gort/gort.h"

int gb_cores(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
  return 1;
}

void gb_skip(gort_bench_state *st, const char *what, int rc) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, gort_strerror(rc));
  gort_bench_skip_with_error(st, msg);
}

/* ---- NaiveSpawn ---------------------------------------------------------- */

typedef struct {
  gort_waitgroup wg; /* one count per task still to finish */
  long load;         /* read-only while tasks run */
} naive_op;

static void naive_task(void *arg) {
  naive_op *op = arg;
  gb_keep(gb_do_task(op->load));
  gort_waitgroup_done(&op->wg);
}

int gb_naive_spawn(long tasks, long load) {
  naive_op op = {.load = load};
  gort_waitgroup_init(&op.wg);
  gort_waitgroup_add(&op.wg, tasks);
  int rc = 0;
  for (long j = 0; j < tasks; j++) {
    rc = gort_go(naive_task, &op);
    if (rc != 0) {
      gort_waitgroup_add(&op.wg, -(tasks - j)); /* the ones never started */
      break;
    }
  }
  gort_waitgroup_wait(&op.wg);
  gort_waitgroup_destroy(&op.wg);
  return rc;
}

static void bm_naive_spawn(gort_bench_state *st, void *arg) {
  (void)arg;
  while (gort_bench_keep_running(st)) {
    int rc = gb_naive_spawn(SEED_NUM_TASKS, SEED_WORK_LOAD);
    if (rc != 0) {
      gb_skip(st, "gort_go", rc);
      break;
    }
  }
}

/* ---- WorkerPool ------------------------------------------------------------ */

typedef struct {
  gort_chan *jobs;   /* of long workloads; the op holds the only reference */
  gort_waitgroup wg; /* one count per worker */
} pool_op;

static void pool_worker(void *arg) {
  pool_op *op = arg;
  for (long n; GORT_CHAN_RANGE(op->jobs, &n);) gb_keep(gb_do_task(n));
  gort_waitgroup_done(&op->wg);
}

int gb_worker_pool(int workers, long tasks, long load) {
  pool_op op;
  int rc = GORT_CHAN_MAKE(&op.jobs, long, tasks);
  if (rc != 0) return rc;
  gort_waitgroup_init(&op.wg);
  gort_waitgroup_add(&op.wg, workers);
  for (int w = 0; w < workers; w++) {
    rc = gort_go(pool_worker, &op);
    if (rc != 0) {
      gort_waitgroup_add(&op.wg, -(workers - w));
      break;
    }
  }
  if (rc == 0) {
    for (long j = 0; j < tasks; j++) GORT_CHAN_SEND(op.jobs, long, load);
  }
  gort_chan_close(op.jobs);
  gort_waitgroup_wait(&op.wg);
  gort_waitgroup_destroy(&op.wg);
  gort_chan_release(op.jobs);
  return rc;
}

static void bm_worker_pool(gort_bench_state *st, void *arg) {
  int workers = arg ? gb_cores() : SEED_NUM_WORKERS;
  while (gort_bench_keep_running(st)) {
    int rc = gb_worker_pool(workers, SEED_NUM_TASKS, SEED_WORK_LOAD);
    if (rc != 0) {
      gb_skip(st, "gort_go", rc);
      break;
    }
  }
}

/* ---- Serial ------------------------------------------------------------------ */

static void bm_serial(gort_bench_state *st, void *arg) {
  (void)arg;
  while (gort_bench_keep_running(st)) {
    for (long j = 0; j < SEED_NUM_TASKS; j++) gb_keep(gb_do_task(SEED_WORK_LOAD));
  }
}

/* ---- ParallelFloor ----------------------------------------------------------
 *
 * A team of `size` threads: the benchmark's own thread is member 0, members
 * 1..size-1 are plain pthreads started before the timed loop. To start an op
 * member 0 resets `done` and bumps `gen` (release); each member sees the new
 * gen (acquire), runs its static share of the tasks and increments `done`
 * (release); member 0 runs its own share and spins until done == size - 1
 * (acquire). Nobody sleeps between ops: on this VM waking a sleeping thread
 * costs 70-100 us, which would dwarf a 2.5 ms op's share of it. Waiting
 * spins, then yields (floor_spin), so a busy machine is not made worse.
 */

typedef struct {
  _Atomic long gen;  /* written by member 0 only; -1 stops the team */
  _Atomic int done;  /* members (other than 0) finished with this gen */
  int size;
  long tasks, load;  /* fixed for the team's life */
} floor_team;

typedef struct {
  floor_team *team;
  int member;
} floor_member;

/* Wait a little: pause for the first FLOOR_SPINS rounds, then sched_yield.
 * On an idle core yield returns at once (so the floor stays a pure spin);
 * on a shared, busy machine it hands the core to whoever is runnable instead
 * of burning the time slice a preempted team member needs. */
#define FLOOR_SPINS 4096
static void floor_spin(unsigned *spins) {
  if (++*spins < FLOOR_SPINS) {
    gb_cpu_relax();
  } else {
    sched_yield();
  }
}

static void floor_share(const floor_team *t, int member) {
  long lo = member * t->tasks / t->size, hi = (member + 1) * t->tasks / t->size;
  for (long j = lo; j < hi; j++) gb_keep(gb_do_task(t->load));
}

static void *floor_main(void *arg) {
  floor_member *m = arg;
  floor_team *t = m->team;
  long seen = 0;
  unsigned spins = 0;
  for (;;) {
    long g = atomic_load_explicit(&t->gen, memory_order_acquire);
    if (g == -1) return NULL;
    if (g == seen) {
      floor_spin(&spins);
      continue;
    }
    spins = 0;
    seen = g;
    floor_share(t, m->member);
    atomic_fetch_add_explicit(&t->done, 1, memory_order_release);
  }
}

static void floor_run(floor_team *t) {
  atomic_store_explicit(&t->done, 0, memory_order_relaxed);
  atomic_fetch_add_explicit(&t->gen, 1, memory_order_release);
  floor_share(t, 0);
  unsigned spins = 0;
  while (atomic_load_explicit(&t->done, memory_order_acquire) != t->size - 1) floor_spin(&spins);
}

/* arg NULL: the seed's numTasks and workLoad; else ranges 0 and 1 (the
 * sweep's ParallelFloorSweep/tasks:N/load:L). */
void gb_parallel_floor(gort_bench_state *st, void *arg) {
  floor_team t = {.size = gb_cores(), .tasks = SEED_NUM_TASKS, .load = SEED_WORK_LOAD};
  if (arg) {
    t.tasks = gort_bench_range(st, 0);
    t.load = gort_bench_range(st, 1);
  }
  pthread_t tid[CPU_SETSIZE];
  floor_member m[CPU_SETSIZE];
  int started = 1;
  for (; started < t.size; started++) {
    m[started] = (floor_member){&t, started};
    if (pthread_create(&tid[started], NULL, floor_main, &m[started]) != 0) break;
  }
  if (started < t.size) {
    gort_bench_skip_with_error(st, "pthread_create failed");
  } else {
    while (gort_bench_keep_running(st)) floor_run(&t);
  }
  atomic_store_explicit(&t.gen, -1, memory_order_release);
  for (int i = 1; i < started; i++) pthread_join(tid[i], NULL);
}

/* ---- ChanSemaphore: the seed's fetchURLs shape ------------------------------ */

typedef struct {
  gort_chan *sem;    /* cap 8 of char: a sent token holds a slot */
  gort_waitgroup wg;
} sem_op;

static void sem_task(void *arg) {
  sem_op *op = arg;
  char token = 0;
  gort_chan_send(op->sem, &token); /* acquire a slot */
  gb_keep(gb_do_task(SEED_WORK_LOAD));
  gort_chan_recv(op->sem, NULL, NULL); /* release it */
  gort_waitgroup_done(&op->wg);
}

static int chan_semaphore(long tasks, long limit) {
  sem_op op;
  int rc = GORT_CHAN_MAKE(&op.sem, char, limit);
  if (rc != 0) return rc;
  gort_waitgroup_init(&op.wg);
  for (long j = 0; j < tasks; j++) {
    gort_waitgroup_add(&op.wg, 1);
    rc = gort_go(sem_task, &op);
    if (rc != 0) {
      gort_waitgroup_add(&op.wg, -1);
      break;
    }
  }
  gort_waitgroup_wait(&op.wg);
  gort_waitgroup_destroy(&op.wg);
  gort_chan_release(op.sem);
  return rc;
}

static void bm_chan_semaphore(gort_bench_state *st, void *arg) {
  (void)arg;
  while (gort_bench_keep_running(st)) {
    int rc = chan_semaphore(SEED_NUM_TASKS, SEED_NUM_WORKERS);
    if (rc != 0) {
      gb_skip(st, "gort_go", rc);
      break;
    }
  }
}

/* ---- NaiveSpawnPthread ------------------------------------------------------ */

static void *pthread_task(void *arg) {
  gb_keep(gb_do_task(*(const long *)arg));
  return NULL;
}

static void bm_naive_spawn_pthread(gort_bench_state *st, void *arg) {
  (void)arg;
  static const long load = SEED_WORK_LOAD;
  pthread_t *tid = malloc(SEED_NUM_TASKS * sizeof *tid);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, gort_get_stack_size()); /* the same as gort's */
  while (tid && gort_bench_keep_running(st)) {
    long made = 0;
    int err = 0;
    for (; made < SEED_NUM_TASKS; made++) {
      err = pthread_create(&tid[made], &attr, pthread_task, (void *)&load);
      if (err != 0) break;
    }
    for (long j = 0; j < made; j++) pthread_join(tid[j], NULL);
    if (err != 0) {
      char msg[96];
      snprintf(msg, sizeof msg, "pthread_create: %s", strerror(err));
      gort_bench_skip_with_error(st, msg);
      break;
    }
  }
  if (!tid) gort_bench_skip_with_error(st, "out of memory");
  pthread_attr_destroy(&attr);
  free(tid);
}

void gb_register_seed(bool quick) {
  gort_bench_register("NaiveSpawn", bm_naive_spawn, NULL);
  gort_bench_register("WorkerPool", bm_worker_pool, NULL);
  gort_bench_register("Serial", bm_serial, NULL);
  gort_bench_register("ParallelFloor", gb_parallel_floor, NULL);
  if (quick) return;
  gort_bench_register("WorkerPoolCores", bm_worker_pool, (void *)1);
  gort_bench_register("ChanSemaphore", bm_chan_semaphore, NULL);
  gort_bench_register("NaiveSpawnPthread", bm_naive_spawn_pthread, NULL);
}
