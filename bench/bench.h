/* bench/bench.h - shared pieces of gort's benchmark bodies (private to
 * bench/): the seed's doTask, the seed's two bodies with parameters (the
 * sweeps reuse them), Go's RunParallel, and the registration entry points
 * that main.c calls.
 */
#ifndef GORT_BENCH_BENCH_H
#define GORT_BENCH_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#include "gort_bench.h"

/* The seed's constants. */
#define SEED_NUM_TASKS 10000
#define SEED_WORK_LOAD 1000
#define SEED_NUM_WORKERS 8

/* The seed's doTask: sum 0..n-1 and return it. Out of line, in dotask.c,
 * whose comment shows the loop the compiler keeps. */
long gb_do_task(long n);

/* Use v without storing it anywhere: the compiler must compute it, and no
 * cache line is shared between tasks for it (a shared volatile sink written
 * by every task would add cross-core traffic to every op). */
static inline void gb_keep(long v) { __asm__ volatile("" : : "r"(v)); }

static inline void gb_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/* CPUs this process may run on (Go's runtime.NumCPU). */
int gb_cores(void);

/* One op of the seed's NaiveSpawn / WorkerPool with parameters. Return 0 or
 * the gort error that stopped the op (a failed gort_go, after the tasks that
 * did start have finished). */
int gb_naive_spawn(long tasks, long load);
int gb_worker_pool(int workers, long tasks, long load);
/* ParallelFloor's body (seed.c); arg non-NULL takes tasks and load from
 * ranges 0 and 1. */
void gb_parallel_floor(gort_bench_state *st, void *arg);
/* Skip the benchmark with "<what>: <gort_strerror(rc)>". */
void gb_skip(gort_bench_state *st, const char *what, int rc);

/* Go's b.RunParallel: procs tasks share the run's b.N ops; each calls body,
 * which loops while gb_pb_next(pb). Starts and stops the timer itself (the
 * spawns are inside the timed region, as in Go). */
typedef struct gb_pb gb_pb;
bool gb_pb_next(gb_pb *pb);
void gb_run_parallel(gort_bench_state *st, int procs, void (*body)(gb_pb *pb, void *arg),
                     void *arg);

/* Registration, one function per file. quick: only what bench-quick runs
 * is registered (main.c chooses with --gort_quick). */
void gb_register_seed(bool quick);
void gb_register_sweep(bool quick);
void gb_register_micro(bool quick);
void gb_register_xsync(bool quick);

#endif
