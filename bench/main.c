/* main.c - the bench binary: registers every benchmark, records the build in
 * the JSON context block, and hands over to Google Benchmark.
 *
 * Flags: Google Benchmark's own (--benchmark_filter, --benchmark_format,
 * --benchmark_out, --benchmark_repetitions, ...), plus
 *   --gort_quick           register only the bench-quick set (the seed's pair,
 *                          Serial, ParallelFloor and a few micro benchmarks);
 *   --gort_fail_spawns=N   make the first body's next N spawns fail, as if the
 *                          OS refused them (gort_debug_fail_thread_create): a
 *                          check that a refused spawn ends a run with
 *                          skip-with-error, as at 100k tasks on a small box;
 *   --gort_iterations=N    run every benchmark exactly N iterations (b.N = N)
 *                          instead of to a time target: instruction counts
 *                          under callgrind (compare.py) need a fixed N.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "gort/gort.h"
#include "gort/introspect.h"

/* bench.mk passes these; a build by hand gets "unknown". */
#ifndef GORT_BENCH_CC
#define GORT_BENCH_CC "unknown"
#endif
#ifndef GORT_BENCH_CFLAGS
#define GORT_BENCH_CFLAGS "unknown"
#endif
#ifndef GORT_BENCH_CXX
#define GORT_BENCH_CXX "unknown"
#endif
#ifndef GORT_BENCH_BACKEND
#define GORT_BENCH_BACKEND gort_backend_name()
#endif

int main(int argc, char **argv) {
  bool quick = false;
  int kept = 1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--gort_quick") == 0) {
      quick = true;
      continue;
    }
    if (strncmp(argv[i], "--gort_fail_spawns=", 19) == 0) {
      gort_bench_fail_spawns(atoi(argv[i] + 19));
      continue;
    }
    if (strncmp(argv[i], "--gort_iterations=", 18) == 0) {
      gort_bench_set_fixed_iterations(atoll(argv[i] + 18));
      continue;
    }
    argv[kept++] = argv[i];
  }
  argc = kept;
  argv[argc] = NULL;

  char num[32];
  /* Every harness file carries a schema version (DESIGN.md). */
  gort_bench_add_context("schema", "gort.bench/1");
  gort_bench_add_context("gort_backend", GORT_BENCH_BACKEND);
  gort_bench_add_context("gort_compiler", GORT_BENCH_CC " (" __VERSION__ ")");
  gort_bench_add_context("gort_cxx", GORT_BENCH_CXX);
  gort_bench_add_context("gort_cflags", GORT_BENCH_CFLAGS);
  snprintf(num, sizeof num, "%zu", gort_get_stack_size());
  gort_bench_add_context("gort_stack_size", num);
  snprintf(num, sizeof num, "%d", gb_cores());
  gort_bench_add_context("gort_cores", num);
  gort_bench_add_context("gort_set", quick ? "quick" : "full");
  gort_bench_add_context("gort_alloc_counting", "interposed malloc family (bench/alloc_count.c)");

  gb_register_seed(quick);
  gb_register_sweep(quick);
  gb_register_micro(quick);
  gb_register_xsync(quick);
  return gort_bench_main(argc, argv);
}
