# bench/bench.mk - gort's benchmarks (Google Benchmark, bodies in C) and Go's
# originals beside them. Included by the top Makefile, which declares
# `bench` and `bench-quick` phony; the recipes are here.
#
#   make bench-quick   the seed's pair, Serial, ParallelFloor and a few micro
#                      benchmarks for gort on both backends (< 2 min); prints
#                      the seed's tables; writes reports/out/bench.json
#                      (thread backend) and bench-mn.json (mn)
#   make bench         everything, 9 repetitions, gort (both backends) and
#                      Go: writes reports/out/bench.json (GORT_BACKEND=thread),
#                      bench-mn.json (mn) and bench-go.json and prints them
#                      side by side (the backend is in each file's context),
#                      then one table: gort-threads, gort-mn, Go, ratios
#   make bench-build   only build $(BENCH_BIN)
#   make bench-disasm  show the loops gcc and Go keep for doTask
#
# Knobs: BENCH_REPS (9), BENCH_ARGS (extra flags for the gort binary, e.g.
# --benchmark_filter=Mutex), BENCH_GO_FILTER (.), BENCH_GO_TIME (0.5s),
# BENCH_QUICK_GO (1: bench-quick also runs Go's seed pair when go exists).
# Benchmarks are always built with -O2 and never with sanitizers.

BENCH_O := $(O)/bench
BENCH_BIN := $(BENCH_O)/gort-bench
BENCH_C_SRCS := $(sort $(wildcard bench/*.c))
BENCH_OBJS := $(BENCH_C_SRCS:%.c=$(O)/%.o) $(BENCH_O)/shim.o
BENCH_OUT := reports/out
BENCH_REPS ?= 9
BENCH_ARGS ?=
BENCH_GO_FILTER ?= .
BENCH_GO_TIME ?= 0.5s
BENCH_QUICK_GO ?= 1
BENCH_CXXFLAGS := -std=c++17 -Wall -Wextra -Werror -O2 -g -pthread -fno-omit-frame-pointer
# Last on the line, so -O2 wins over any -O in CFLAGS.
BENCH_CFLAGS := $(GORT_CFLAGS) -Ibench/include -O2
BENCH_GO_ENV := GO111MODULE=on GOPROXY=off GOFLAGS='-mod=mod -modcacherw' \
  GOCACHE=$(abspath $(BENCH_O))/go-cache GOPATH=$(abspath $(BENCH_O))/gopath \
  GOTOOLCHAIN=local GOTELEMETRY=off

.PHONY: bench-build bench-disasm bench-nosan

bench-nosan:
	@if [ -n "$(SAN)" ]; then \
	  echo "bench: refusing to build benchmarks with SAN=$(SAN): sanitizers distort every figure. Run without SAN." >&2; \
	  exit 2; fi
	@if ! echo '#include <benchmark/benchmark.h>' | $(CXX) -x c++ -fsyntax-only - 2>/dev/null; then \
	  echo "bench: Google Benchmark's headers are missing: run 'make deps' (libbenchmark-dev)" >&2; \
	  exit 2; fi

bench-build: bench-nosan
	@$(MAKE) --no-print-directory $(BENCH_BIN)

$(O)/bench/%.o: bench/%.c bench/bench.h bench/include/gort_bench.h | bench-nosan
	@mkdir -p $(dir $@)
	$(CC) $(GORT_CPPFLAGS) $(BENCH_CFLAGS) -MMD -MP -c $< -o $@

# The allocator replacement: no builtins, so the compiler cannot turn its
# forwarding into calls of the functions it defines.
$(O)/bench/alloc_count.o: bench/alloc_count.c bench/include/gort_bench.h | bench-nosan
	@mkdir -p $(dir $@)
	$(CC) $(GORT_CPPFLAGS) $(BENCH_CFLAGS) -fno-builtin -MMD -MP -c $< -o $@

$(O)/bench/main.o: bench/main.c bench/bench.h bench/include/gort_bench.h | bench-nosan
	@mkdir -p $(dir $@)
	$(CC) $(GORT_CPPFLAGS) $(BENCH_CFLAGS) \
	  -DGORT_BENCH_CC='"$(CC)"' -DGORT_BENCH_CXX='"$(CXX)"' \
	  -DGORT_BENCH_CFLAGS='"$(strip $(BENCH_CFLAGS))"' -MMD -MP -c $< -o $@

$(BENCH_O)/shim.o: bench/shim.cc bench/include/gort_bench.h | bench-nosan
	@mkdir -p $(dir $@)
	$(CXX) $(GORT_CPPFLAGS) -Ibench/include $(BENCH_CXXFLAGS) -MMD -MP -c $< -o $@

$(BENCH_BIN): $(BENCH_OBJS) $(LIBGORT_A)
	$(CXX) -o $@ $(BENCH_OBJS) $(LIBGORT_A) $(GORT_LDFLAGS) -lbenchmark $(GORT_LIBS)

bench-quick: bench-nosan
	@$(MAKE) --no-print-directory bench-build
	@mkdir -p $(BENCH_OUT)
	GORT_BACKEND=thread $(BENCH_BIN) --gort_quick --benchmark_repetitions=3 --benchmark_display_aggregates_only=true \
	  --benchmark_out=$(BENCH_OUT)/bench.json --benchmark_out_format=json $(BENCH_ARGS)
	GORT_BACKEND=mn $(BENCH_BIN) --gort_quick --benchmark_repetitions=3 --benchmark_display_aggregates_only=true \
	  --benchmark_out=$(BENCH_OUT)/bench-mn.json --benchmark_out_format=json $(BENCH_ARGS)
	@echo "bench-quick: gort on the M:N backend (GORT_BACKEND=mn)"; python3 bench/table.py $(BENCH_OUT)/bench-mn.json
	@echo "bench-quick: gort on the thread backend (GORT_BACKEND=thread)"
	@if [ "$(BENCH_QUICK_GO)" = 1 ] && command -v go >/dev/null; then \
	  echo "bench-quick: Go's seed pair, Serial and ParallelFloor (bench/go)"; \
	  ( cd bench/go && env $(BENCH_GO_ENV) go test -run=NONE \
	      -bench='^Benchmark(NaiveSpawn|WorkerPool|Serial|ParallelFloor)$$' \
	      -benchmem -count=3 -benchtime=0.3s . ) > $(BENCH_O)/go-quick.txt \
	  && python3 bench/go2json.py --context go_version="$$(go env GOVERSION)" \
	       $(BENCH_O)/go-quick.txt > $(BENCH_OUT)/bench-go-quick.json \
	  && python3 bench/table.py $(BENCH_OUT)/bench.json $(BENCH_OUT)/bench-go-quick.json \
	  && python3 bench/table.py --backends $(BENCH_OUT)/bench.json $(BENCH_OUT)/bench-mn.json \
	       $(BENCH_OUT)/bench-go-quick.json; \
	else python3 bench/table.py $(BENCH_OUT)/bench.json; fi

# Both sides interleave their repetitions, so that a burst of load from
# elsewhere on a shared machine spreads over every benchmark instead of
# landing on a few: Google Benchmark shuffles its repetitions; Go's test
# binary is built once and run BENCH_REPS times with -test.count=1.
bench: bench-nosan
	@$(MAKE) --no-print-directory bench-build
	@mkdir -p $(BENCH_OUT)
	GORT_BACKEND=thread $(BENCH_BIN) --benchmark_repetitions=$(BENCH_REPS) --benchmark_enable_random_interleaving=true \
	  --benchmark_display_aggregates_only=true \
	  --benchmark_out=$(BENCH_OUT)/bench.json --benchmark_out_format=json $(BENCH_ARGS)
	GORT_BACKEND=mn $(BENCH_BIN) --benchmark_repetitions=$(BENCH_REPS) --benchmark_enable_random_interleaving=true \
	  --benchmark_display_aggregates_only=true \
	  --benchmark_out=$(BENCH_OUT)/bench-mn.json --benchmark_out_format=json $(BENCH_ARGS)
	@command -v go >/dev/null || { echo "bench: go not found; run 'make deps'" >&2; exit 2; }
	cd bench/go && env $(BENCH_GO_ENV) go test -c -o $(abspath $(BENCH_O))/go-bench.test .
	cd bench/go && for i in $$(seq $(BENCH_REPS)); do \
	  echo "bench: Go pass $$i of $(BENCH_REPS)" >&2; \
	  $(abspath $(BENCH_O))/go-bench.test -test.run=NONE -test.bench='$(BENCH_GO_FILTER)' \
	    -test.benchmem -test.count=1 -test.benchtime=$(BENCH_GO_TIME) -test.timeout=60m || exit 1; \
	done > $(abspath $(BENCH_O))/go-bench.txt
	python3 bench/go2json.py --context go_version="$$(go env GOVERSION)" \
	  --context go_benchtime=$(BENCH_GO_TIME) $(BENCH_O)/go-bench.txt > $(BENCH_OUT)/bench-go.json
	@echo "bench: gort on the thread backend (GORT_BACKEND=thread) beside Go"
	python3 bench/table.py $(BENCH_OUT)/bench.json $(BENCH_OUT)/bench-go.json
	@echo "bench: gort on the M:N backend (GORT_BACKEND=mn) beside Go"
	python3 bench/table.py $(BENCH_OUT)/bench-mn.json $(BENCH_OUT)/bench-go.json
	@echo "bench: both backends and Go, one row per benchmark"
	python3 bench/table.py --backends $(BENCH_OUT)/bench.json $(BENCH_OUT)/bench-mn.json $(BENCH_OUT)/bench-go.json

bench-disasm: bench-build
	objdump -d --no-show-raw-insn $(O)/bench/dotask.o | sed -n '/<gb_do_task>:/,/^$$/p'
	cd bench/go && env $(BENCH_GO_ENV) go test -c -o $(abspath $(BENCH_O))/go-bench.test . \
	  && env $(BENCH_GO_ENV) go tool objdump -s 'BenchmarkNaiveSpawn.func1$$' $(abspath $(BENCH_O))/go-bench.test

-include $(BENCH_OBJS:.o=.d)

# make bench-park: one million parked tasks (bench/park/park.c) under
# GORT_BACKEND=mn, then the same program in Go (bench/go/park); RSS per
# parked task and wall times. PARK_N (1000000) sets the task count.
PARK_N ?= 1000000
PARK_BIN := $(BENCH_O)/gort-park
.PHONY: bench-park
$(PARK_BIN): bench/park/park.c $(LIBGORT_A) | bench-nosan
	@mkdir -p $(dir $@)
	$(CC) $(GORT_CPPFLAGS) $(BENCH_CFLAGS) $< $(LIBGORT_A) $(GORT_LDFLAGS) $(GORT_LIBS) -o $@
bench-park: bench-nosan $(PARK_BIN)
	@uptime
	GORT_BACKEND=mn $(PARK_BIN) $(PARK_N)
	@command -v go >/dev/null || { echo "bench-park: go not found; run 'make deps'" >&2; exit 2; }
	cd bench/go && env $(BENCH_GO_ENV) go build -o $(abspath $(BENCH_O))/go-park ./park
	$(BENCH_O)/go-park $(PARK_N)
