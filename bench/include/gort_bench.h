/* gort_bench.h - a small C API over Google Benchmark, so that every benchmark
 * body in bench/ is C. One C++ file (bench/shim.cc) implements it against
 * Debian's libbenchmark-dev 1.7.1.
 *
 * Shape: register a function with gort_bench_register(), chain options on the
 * returned handle (args, ranges, threads, real time...), and in the body loop
 * either Google Benchmark's way,
 *
 *     while (gort_bench_keep_running(st)) { ...one op... }
 *
 * or Go's way, which costs nothing per iteration (use it for ops of a few ns):
 *
 *     int64_t n = gort_bench_begin(st);     // the timer starts; n is b.N
 *     for (int64_t i = 0; i < n; i++) { ...one op... }
 *     gort_bench_end(st);                   // the timer stops
 *
 * Every benchmark measures real (wall-clock) time, as `go test -bench` does:
 * most bodies here block the calling thread while other threads work, so its
 * CPU time would say nothing. Google Benchmark names such runs ".../real_time".
 *
 * Per benchmark the shim adds these counters (thread 0 measures them for all
 * threads; they are per op, over the iterations of the measured run):
 *   allocs_per_op, bytes_per_op  malloc-family calls and requested bytes in the
 *       whole process while the timer runs (bench/alloc_count.c interposes
 *       malloc; pause/resume exclude what happens while paused, like Go's
 *       StopTimer/StartTimer). Thread stacks are mmap'ed, not counted, as Go
 *       does not count goroutine stacks either.
 *   peak_tasks      gort's peak number of live tasks during the run (the
 *                   body's own task included)
 *   peak_rss_bytes  the process's peak resident set size during the run
 *                   (VmHWM, reset through /proc/self/clear_refs; if the kernel
 *                   refuses the reset it is the process's peak so far)
 *   threads_created_per_op  pthread_create calls gort made per op (the rest
 *                   of its spawns were served by idle threads)
 *   process_cpu_ns_per_op   CPU time of all the process's threads while the
 *                   timer runs, per op: with real time it tells work from
 *                   waiting and spinning (a 2-core op that keeps both cores
 *                   busy shows ~2x its real time)
 *
 * Concurrency: registration and gort_bench_main run on the main thread before
 * and around the runs. Every body runs in a gort task of its own, as Go runs
 * each benchmark function in a goroutine: Google Benchmark's thread spawns
 * it and waits for it. The gort_bench_state calls are made by that task
 * (with gort_bench_threads, every thread has its own task and st).
 */
#ifndef GORT_BENCH_H
#define GORT_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gort_bench gort_bench;             /* a registered benchmark */
typedef struct gort_bench_state gort_bench_state; /* one running instance */
typedef void (*gort_bench_fn)(gort_bench_state *st, void *arg);

/* ---- registration (before gort_bench_main) ---- */

/* Register fn(st, arg) under name (copied). Real time is on by default. */
gort_bench *gort_bench_register(const char *name, gort_bench_fn fn, void *arg);
/* One instance per call, with these argument values (read with
 * gort_bench_range). */
gort_bench *gort_bench_args(gort_bench *b, const int64_t *values, size_t n);
#define gort_bench_arg(b, x) gort_bench_args((b), (const int64_t[]){(x)}, 1)
#define gort_bench_arg2(b, x, y) gort_bench_args((b), (const int64_t[]){(x), (y)}, 2)
/* Cartesian product of two argument lists (Google Benchmark's ArgsProduct). */
gort_bench *gort_bench_args_product2(gort_bench *b, const int64_t *xs, size_t nx,
                                     const int64_t *ys, size_t ny);
/* Powers of 8 from lo to hi, and both ends (Google Benchmark's Range). */
gort_bench *gort_bench_range_of(gort_bench *b, int64_t lo, int64_t hi);
/* Names of the arguments, shown as "name:value" in the benchmark's name. */
gort_bench *gort_bench_arg_names(gort_bench *b, const char *const *names, size_t n);
/* Run the body on n threads at once (each gets its own st). */
gort_bench *gort_bench_threads(gort_bench *b, int n);
/* Minimum measured time per repetition, in seconds (default 0.5). */
gort_bench *gort_bench_min_time(gort_bench *b, double seconds);
/* A fixed number of iterations instead of a time target. */
gort_bench *gort_bench_iterations(gort_bench *b, int64_t n);
/* Give every benchmark registered after this call n fixed iterations (0:
 * back to time targets). main.c's --gort_iterations, for instruction counts. */
void gort_bench_set_fixed_iterations(int64_t n);
/* Make the next n gort spawns fail (gort_debug_fail_thread_create), armed
 * when the first body starts: the harness's own spawn of the body's task
 * (every body runs in a gort task, like Go's) is not one of them. */
void gort_bench_fail_spawns(int n);

/* ---- inside a body ---- */

/* Google Benchmark's KeepRunning(): true while another op should run. The
 * timer starts at the first call and stops when it returns false. */
bool gort_bench_keep_running(gort_bench_state *st);
/* Go's b.N style: start the timer and return the number of ops to run. */
int64_t gort_bench_begin(gort_bench_state *st);
/* Stop the timer after the ops of gort_bench_begin. */
void gort_bench_end(gort_bench_state *st);

/* Argument i of this instance (i must be one that was registered). */
int64_t gort_bench_range(gort_bench_state *st, size_t i);
/* Threads running this body, and which one this is. */
int gort_bench_thread_count(gort_bench_state *st);
int gort_bench_thread_index(gort_bench_state *st);
/* Ops the loop has run so far (after it: the total for this thread). */
int64_t gort_bench_iterations_done(gort_bench_state *st);

/* Pause and resume the timer (and the allocation count) around setup that is
 * not part of the op. Heavy (a clock read each): not per op for short ops. */
void gort_bench_pause(gort_bench_state *st);
void gort_bench_resume(gort_bench_state *st);

/* Counters. Plain: the value as is (summed over threads). Per op: value is a
 * total, reported divided by the iterations. Rate: value per second. */
typedef enum {
  GORT_BENCH_COUNTER_PLAIN = 0,
  GORT_BENCH_COUNTER_PER_OP = 1,
  GORT_BENCH_COUNTER_RATE = 2,
} gort_bench_counter_kind;
void gort_bench_counter(gort_bench_state *st, const char *name, double value,
                        gort_bench_counter_kind kind);
/* items_per_second from the number of items processed in all. */
void gort_bench_set_items_processed(gort_bench_state *st, int64_t items);
/* Text shown after the result. */
void gort_bench_label(gort_bench_state *st, const char *label);

/* Report the run as failed with msg (shown, and "error_occurred" in JSON).
 * Every later repetition of the same instance in this process then fails
 * too, with "an earlier repetition failed: <msg>" (no statistics are
 * computed over a benchmark that failed; Google Benchmark 1.7.1 crashes
 * computing them when the first repetition failed).
 * Call it before the loop, or leave the loop right after it: for the
 * keep_running style, keep_running then returns false; for the b.N style,
 * still call gort_bench_end. */
void gort_bench_skip_with_error(gort_bench_state *st, const char *msg);
bool gort_bench_error_occurred(gort_bench_state *st);

/* ---- the program ---- */

/* A key/value pair for the JSON "context" block (before gort_bench_main). */
void gort_bench_add_context(const char *key, const char *value);
/* Parse Google Benchmark's flags (--benchmark_filter, --benchmark_format,
 * --benchmark_repetitions, --benchmark_out...), run, and return the exit
 * status: 0, or 1 for an unknown flag. */
int gort_bench_main(int argc, char **argv);

/* ---- allocation accounting (bench/alloc_count.c) ---- */

/* Totals of malloc-family allocations and requested bytes since the process
 * started, over all threads. Monotonic; the sum of per-thread stripes. */
void gort_alloc_totals(uint64_t *allocs, uint64_t *bytes);
/* True once the interposed malloc has been called (the counter is live). */
bool gort_alloc_counting(void);

#ifdef __cplusplus
}
#endif
#endif
