// shim.cc - the one C++ file of bench/: gort_bench.h implemented on Google
// Benchmark (Debian's libbenchmark-dev 1.7.1). Benchmark bodies stay in C.
//
// Invariants:
//  - a gort_bench is a benchmark::internal::Benchmark* and a gort_bench_state
//    lives on the stack of the lambda that runs one body on one thread;
//  - only thread 0 measures the per-op counters (allocations, peak tasks,
//    peak RSS, thread creations): they are process-wide, so one window per run
//    covers every thread. Google Benchmark starts and stops all threads of a
//    run at barriers, so thread 0's window holds everyone's loop;
//  - the allocation window is open exactly while thread 0's timer runs: it
//    opens after the loop's first KeepRunning (the timer has started) and at
//    resume, and closes at pause and when the loop ends (the timer has
//    stopped). Allocations made by setup outside the loop are not counted, as
//    in Go, where b.N ops and ResetTimer/StopTimer bound the count;
//  - a benchmark instance that errored once errors in every later repetition
//    of the process (see `poisoned` below: Google Benchmark 1.7.1 crashes
//    otherwise);
//  - under callgrind, instruction collection is on exactly between the
//    b.N-style gort_bench_begin and gort_bench_end (the body's ops only);
//  - every body runs in a gort task, as Go's testing package runs every
//    benchmark function in a goroutine (b.run1) and waits for it on a
//    channel: Google Benchmark's thread spawns the task and waits on a wait
//    group (run_body). Under the M:N backend the body's hand-offs are then
//    task-to-task on the scheduler, not wake-ups of an adopted OS thread;
//    under the thread backend the body runs on a task's thread instead of
//    the harness's, at the cost of one spawn per run (outside the timer).
//    A green task may change OS threads between the timer's start and stop,
//    so Google Benchmark's cpu_time (one thread's clock) means nothing under
//    mn: read process_cpu_ns_per_op. (MeasureProcessCPUTime would fix it
//    but renames every run ".../process_time/...", and names join with Go's.)
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <valgrind/callgrind.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

extern "C" {
#include "gort/gort.h"
#include "gort/introspect.h"
#include "gort_bench.h"
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#error "bench/ is never built with sanitizers: they distort every figure"
#endif

// What the shim keeps per registered benchmark (family): how many arguments
// its instances take, and the instances that errored. Why the latter:
// Google Benchmark 1.7.1's ComputeStats reads reports[0].statistics, which
// is null when the first repetition errored, and crashes as soon as two
// other repetitions succeeded (3+ repetitions). An instance that errored
// therefore fails its later repetitions too, with the first error's message:
// every report then errors and ComputeStats returns before reading it.
struct family {
  size_t nargs = 0;
  std::mutex mu;  // guards poisoned: the threads of one run check it at once
  std::map<std::string, std::string> poisoned;  // instance key -> first error
};

struct gort_bench_state {
  benchmark::State *s;
  family *fam;
  bool measure;  // thread 0: owns the per-op counters
  bool started;  // the loop has begun
  bool timing;   // the allocation window is open
  uint64_t allocs0, bytes0;  // totals when the window last opened
  uint64_t allocs, bytes;    // summed over closed windows
  int64_t cpu0, cpu;         // process CPU time (ns): at open, summed
  uint64_t threads_created0;
  bool rss_reset;  // VmHWM was reset at the start
  bool collecting;  // gort_bench_begin turned callgrind's collection on
};

namespace {

benchmark::internal::Benchmark *B(gort_bench *b) {
  return reinterpret_cast<benchmark::internal::Benchmark *>(b);
}
gort_bench *G(benchmark::internal::Benchmark *b) { return reinterpret_cast<gort_bench *>(b); }

// CPU time consumed by every thread of the process, in ns.
int64_t process_cpu_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void window_open(gort_bench_state *st) {
  if (!st->measure || st->timing) return;
  gort_alloc_totals(&st->allocs0, &st->bytes0);
  st->cpu0 = process_cpu_ns();
  st->timing = true;
}

void window_close(gort_bench_state *st) {
  if (!st->measure || !st->timing) return;
  st->cpu += process_cpu_ns() - st->cpu0;
  uint64_t a, b;
  gort_alloc_totals(&a, &b);
  st->allocs += a - st->allocs0;
  st->bytes += b - st->bytes0;
  st->timing = false;
}

// Resets the kernel's peak-RSS mark (VmHWM) for this process: writing "5" to
// /proc/self/clear_refs (Linux >= 4.0). No allocation: plain syscalls.
bool reset_peak_rss() {
  int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, "5", 1) == 1;
  close(fd);
  return ok;
}

// VmHWM from /proc/self/status, in bytes; 0 if unreadable.
double peak_rss_bytes() {
  int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  const char *p = strstr(buf, "VmHWM:");
  if (!p) return 0;
  return strtod(p + 6, nullptr) * 1024.0;  // reported in kB
}

void before_loop(gort_bench_state *st) {
  if (!st->measure) return;
  gort_reset_peak_live();
  st->rss_reset = reset_peak_rss();
  gort_counters c;
  gort_get_counters(&c);
  st->threads_created0 = c.threads_created;
}

void report(gort_bench_state *st) {
  benchmark::State &s = *st->s;
  if (!st->measure || !st->started || s.error_occurred()) return;
  window_close(st);
  double ops = static_cast<double>(s.iterations()) * s.threads();
  if (ops <= 0) return;
  gort_counters c;
  gort_get_counters(&c);
  s.counters["allocs_per_op"] = benchmark::Counter(st->allocs / ops);
  s.counters["bytes_per_op"] = benchmark::Counter(st->bytes / ops);
  s.counters["peak_tasks"] = benchmark::Counter(static_cast<double>(c.peak_live));
  s.counters["peak_rss_bytes"] =
      benchmark::Counter(peak_rss_bytes(), benchmark::Counter::kDefaults,
                         benchmark::Counter::kIs1024);
  s.counters["threads_created_per_op"] =
      benchmark::Counter((c.threads_created - st->threads_created0) / ops);
  s.counters["process_cpu_ns_per_op"] = benchmark::Counter(st->cpu / ops);
}

// Fixed iterations for every benchmark registered after it is set (0: none).
int64_t fixed_iterations = 0;

// Families by their Google Benchmark handle, for gort_bench_args.
std::map<benchmark::internal::Benchmark *, std::shared_ptr<family>> &families() {
  static std::map<benchmark::internal::Benchmark *, std::shared_ptr<family>> m;
  return m;
}

// An instance is its family plus its arguments and thread count.
std::string instance_key(const gort_bench_state *st) {
  std::string key = std::to_string(st->s->threads());
  for (size_t i = 0; i < st->fam->nargs; i++) key += "/" + std::to_string(st->s->range(i));
  return key;
}

// The first error of this instance in an earlier repetition, if any.
bool poisoned(gort_bench_state *st, std::string *msg) {
  std::lock_guard<std::mutex> g(st->fam->mu);
  auto it = st->fam->poisoned.find(instance_key(st));
  if (it == st->fam->poisoned.end()) return false;
  *msg = it->second;
  return true;
}

void poison(gort_bench_state *st, const char *msg) {
  std::lock_guard<std::mutex> g(st->fam->mu);
  st->fam->poisoned.emplace(instance_key(st), msg);
}

// --gort_fail_spawns: armed by the first body task, so that the body's
// spawns fail and not the harness's own (body_task).
std::atomic<int> fail_spawns{0};

// One run of a body, handed to the task that runs it.
struct body_run {
  gort_bench_state *st;
  gort_bench_fn fn;
  void *arg;
  gort_waitgroup done;
};

void body_task(void *p) {
  auto *r = static_cast<body_run *>(p);
  int n = fail_spawns.exchange(0);
  if (n > 0) gort_debug_fail_thread_create(n);
  r->fn(r->st, r->arg);
  report(r->st);
  gort_waitgroup_done(&r->done);
}

void run_body(benchmark::State &s, family *fam, gort_bench_fn fn, void *arg) {
  gort_bench_state st{};
  st.s = &s;
  st.fam = fam;
  st.measure = s.thread_index() == 0;
  std::string first;
  if (poisoned(&st, &first)) {
    s.SkipWithError(("an earlier repetition failed: " + first).c_str());
    return;
  }
  body_run r{&st, fn, arg, {}};
  gort_waitgroup_init(&r.done);
  gort_waitgroup_add(&r.done, 1);
  int rc = gort_go_named("bench-body", body_task, &r);
  if (rc != 0) {
    std::string msg = std::string("harness: gort_go: ") + gort_strerror(rc);
    gort_bench_skip_with_error(&st, msg.c_str());
  } else {
    gort_waitgroup_wait(&r.done);
  }
  gort_waitgroup_destroy(&r.done);
}

}  // namespace

extern "C" {

gort_bench *gort_bench_register(const char *name, gort_bench_fn fn, void *arg) {
  auto fam = std::make_shared<family>();
  family *f = fam.get();
  auto *b = benchmark::RegisterBenchmark(
      name, [f, fn, arg](benchmark::State &s) { run_body(s, f, fn, arg); });
  families()[b] = fam;
  b->UseRealTime();
  if (fixed_iterations > 0) b->Iterations(fixed_iterations);
  return G(b);
}

void gort_bench_set_fixed_iterations(int64_t n) { fixed_iterations = n; }

void gort_bench_fail_spawns(int n) { fail_spawns.store(n); }

// Records how many arguments the family's instances take (instance keys).
static gort_bench *with_nargs(gort_bench *b, size_t n) {
  family &f = *families().at(B(b));
  if (n > f.nargs) f.nargs = n;
  return b;
}

gort_bench *gort_bench_args(gort_bench *b, const int64_t *values, size_t n) {
  return with_nargs(G(B(b)->Args(std::vector<int64_t>(values, values + n))), n);
}

gort_bench *gort_bench_args_product2(gort_bench *b, const int64_t *xs, size_t nx,
                                     const int64_t *ys, size_t ny) {
  return with_nargs(
      G(B(b)->ArgsProduct({std::vector<int64_t>(xs, xs + nx), std::vector<int64_t>(ys, ys + ny)})),
      2);
}

gort_bench *gort_bench_range_of(gort_bench *b, int64_t lo, int64_t hi) {
  return with_nargs(G(B(b)->Range(lo, hi)), 1);
}

gort_bench *gort_bench_arg_names(gort_bench *b, const char *const *names, size_t n) {
  return G(B(b)->ArgNames(std::vector<std::string>(names, names + n)));
}

gort_bench *gort_bench_threads(gort_bench *b, int n) { return G(B(b)->Threads(n)); }

gort_bench *gort_bench_min_time(gort_bench *b, double seconds) {
  return G(B(b)->MinTime(seconds));
}

gort_bench *gort_bench_iterations(gort_bench *b, int64_t n) { return G(B(b)->Iterations(n)); }

bool gort_bench_keep_running(gort_bench_state *st) {
  if (__builtin_expect(!st->started, 0)) {
    before_loop(st);
    st->started = true;
    bool more = st->s->KeepRunning();
    if (more) window_open(st);
    return more;
  }
  if (__builtin_expect(st->s->KeepRunning(), 1)) return true;
  window_close(st);
  return false;
}

int64_t gort_bench_begin(gort_bench_state *st) {
  benchmark::State &s = *st->s;
  before_loop(st);
  st->started = true;
  if (!s.KeepRunningBatch(s.max_iterations)) return 0;
  window_open(st);
  // Under callgrind (--collect-atstart=no) this thread's instructions are
  // counted from here to gort_bench_end: the ops and nothing else. Outside
  // valgrind the macro is a few no-op instructions, once per run.
  CALLGRIND_TOGGLE_COLLECT;
  st->collecting = true;
  return s.max_iterations;
}

void gort_bench_end(gort_bench_state *st) {
  if (st->collecting) {
    CALLGRIND_TOGGLE_COLLECT;
    st->collecting = false;
  }
  window_close(st);
  // The batch of gort_bench_begin took every iteration: this call finds none
  // left, stops the timer and returns false.
  while (st->s->KeepRunningBatch(st->s->max_iterations)) {
  }
}

int64_t gort_bench_range(gort_bench_state *st, size_t i) {
  // Google Benchmark keeps no public count of arguments: callers pass only
  // indices they registered (range() asserts in debug builds).
  return st->s->range(i);
}

int gort_bench_thread_count(gort_bench_state *st) { return st->s->threads(); }
int gort_bench_thread_index(gort_bench_state *st) { return st->s->thread_index(); }
int64_t gort_bench_iterations_done(gort_bench_state *st) { return st->s->iterations(); }

void gort_bench_pause(gort_bench_state *st) {
  st->s->PauseTiming();
  window_close(st);
}

void gort_bench_resume(gort_bench_state *st) {
  window_open(st);
  st->s->ResumeTiming();
}

void gort_bench_counter(gort_bench_state *st, const char *name, double value,
                        gort_bench_counter_kind kind) {
  benchmark::Counter::Flags f = benchmark::Counter::kDefaults;
  if (kind == GORT_BENCH_COUNTER_PER_OP) f = benchmark::Counter::kAvgIterations;
  if (kind == GORT_BENCH_COUNTER_RATE) f = benchmark::Counter::kIsRate;
  st->s->counters[name] = benchmark::Counter(value, f);
}

void gort_bench_set_items_processed(gort_bench_state *st, int64_t items) {
  st->s->SetItemsProcessed(items);
}

void gort_bench_label(gort_bench_state *st, const char *label) { st->s->SetLabel(label); }

void gort_bench_skip_with_error(gort_bench_state *st, const char *msg) {
  poison(st, msg);
  window_close(st);
  st->s->SkipWithError(msg);
}

bool gort_bench_error_occurred(gort_bench_state *st) { return st->s->error_occurred(); }

void gort_bench_add_context(const char *key, const char *value) {
  benchmark::AddCustomContext(key, value);
}

int gort_bench_main(int argc, char **argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // extern "C"
