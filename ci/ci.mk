# ci/ci.mk - the sweeps and the gate a pipeline runs (included by the top
# Makefile). `report` (the main job) lives in reports/reports.mk.
#
#   make race        every test under ThreadSanitizer
#   make valgrind    every test binary under memcheck
#   make bench-compare BASE=<ref>
#                    base and current gort-bench interleaved; writes
#                    reports/out/compare.json (gort.compare/1, bench/README.md)
#   make gate        gort-gate on reports/out (report.json, compare.json)
#   make ci [BASE=<ref>]
#                    report, bench-compare (with BASE), the reports again, gate
#   make gate-selftest
#                    plants a slowdown and extra instructions in scratch
#                    commits and checks the gate catches them, nothing else
#
# make turns every failing recipe into its own exit status 2, so `make gate`
# cannot tell "findings" from "no report": a pipeline that needs the
# difference runs gort-gate itself (0 pass, 1 findings, 2 bad input).

.PHONY: race valgrind gate ci bench-compare gate-selftest install-gate test-py

# Debian's python3 (where python3-scipy etc. are installed), not whatever
# python3 comes first on PATH.
PYTHON ?= /usr/bin/python3
GATE_PY := PYTHONPATH=$(CURDIR)/reports $(PYTHON)

# bench-compare knobs (bench/README.md, "Comparing two commits").
BASE ?=
BENCH_ROUNDS ?= 9
BENCH_FILTER ?= ^(NaiveSpawn|WorkerPool|Serial|ParallelFloor|Chan[A-Za-z0-9]*|Select[A-Za-z0-9]*|Mutex[A-Za-z]*|CreateGoroutines|ContextWithCancel|SemaphoreAcquireRelease|SingleflightDo|RateLimiterAllow|Pool|PoolPutGet)/
BENCH_MIN_TIME ?= 0.2
BENCH_THRESHOLD ?= 0.10
BENCH_ICOUNT ?= 1
BENCH_ICOUNT_ITERS ?= 20000
BENCH_ICOUNT_THRESHOLD ?= 0.01
BENCH_BASE_CACHE ?= $(O)/bench-base

# The race sweep: every test under ThreadSanitizer.
race:
	@$(MAKE) --no-print-directory SAN=thread test

# make valgrind: every test binary under memcheck.
valgrind: deps
	@$(MAKE) --no-print-directory test-build
	@REPORT_DIR=$(REPORT_DIR) ci/valgrind.sh $(TEST_BINS)

# The gate's Python tests (statistics with known answers, exit codes).
test: test-py
test-py: deps
	@$(PYTHON) -m pytest -q -p no:cacheprovider reports/tests

bench-compare: bench-nosan
	@if [ -z "$(BASE)" ]; then echo "bench-compare: give the base, e.g. make bench-compare BASE=HEAD~1" >&2; exit 2; fi
	@$(MAKE) --no-print-directory bench-build
	@mkdir -p $(REPORT_DIR)
	@CC="$(CC)" CXX="$(CXX)" CFLAGS="$(CFLAGS)" ci/bench-base.sh "$(BASE)" "$(BENCH_BASE_CACHE)" > $(O)/.bench-base-bin
	@$(GATE_PY) -m gortreport.compare --base-ref "$(BASE)" \
	  --base-commit "$$(git rev-parse --verify '$(BASE)^{commit}')" \
	  --base-bin "$$(cat $(O)/.bench-base-bin)" --current-bin $(BENCH_BIN) \
	  --rounds $(BENCH_ROUNDS) --filter '$(BENCH_FILTER)' --min-time $(BENCH_MIN_TIME) \
	  --threshold $(BENCH_THRESHOLD) --thresholds bench/thresholds.txt \
	  $(if $(filter 1,$(BENCH_ICOUNT)),--icount-list bench/icount.txt) \
	  --icount-iterations $(BENCH_ICOUNT_ITERS) --icount-threshold $(BENCH_ICOUNT_THRESHOLD) \
	  --out $(REPORT_DIR)/compare.json

# make gate: gort-gate's decision on whatever of report.json and
# compare.json reports/out holds (neither: exit 2).
gate:
	@reports/gort-gate $(REPORT_DIR)

# make ci: what a pipeline runs. Without BASE no benchmark is compared, and
# it says so; a compare.json left from an earlier run is removed first so
# the gate never decides on a stale comparison.
REPORT_GENERATE ?= $(PYTHON) reports/generate.py $(REPORT_DIR)
ci:
	@rm -f $(REPORT_DIR)/compare.json
	@$(MAKE) --no-print-directory report
	@if [ -n "$(BASE)" ]; then \
	  $(MAKE) --no-print-directory bench-compare BASE="$(BASE)" && \
	  echo "== ci: the reports again, with the comparison" && $(REPORT_GENERATE); \
	else \
	  echo "ci: ************************************************************" >&2; \
	  echo "ci: NO BENCHMARK COMPARISON WAS MADE: give BASE=<git ref>" >&2; \
	  echo "ci: (e.g. make ci BASE=origin/main); only report.json is gated" >&2; \
	  echo "ci: ************************************************************" >&2; \
	fi
	@$(MAKE) --no-print-directory gate

gate-selftest: bench-nosan
	@BENCH_BASE_CACHE="$(abspath $(BENCH_BASE_CACHE))" $(PYTHON) ci/gate_selftest.py $(O)/gate-selftest $(if $(GATE_SELFTEST_RUNS),--runs $(GATE_SELFTEST_RUNS))

# gort-gate and the package it runs on (with its schema files).
GATE_PYDIR = $(DESTDIR)$(PREFIX)/share/gort/python
install: install-gate
install-gate:
	install -d $(DESTDIR)$(PREFIX)/bin $(GATE_PYDIR)/gortreport $(GATE_PYDIR)/schemas
	install -m 644 reports/gortreport/*.py $(GATE_PYDIR)/gortreport/
	install -m 644 reports/schemas/*.json $(GATE_PYDIR)/schemas/
	install -m 755 reports/gort-gate $(DESTDIR)$(PREFIX)/bin/gort-gate
