# ci/ci.mk - the sweeps and the gate a pipeline runs (included by the top
# Makefile). `report` (the main job) lives in reports/reports.mk.
#
#   make race        every test under ThreadSanitizer, through gort-race
#                    (RACE_RUNS runs each); reports/out/race.json (gort.race/1)
#   make valgrind    every test binary under memcheck, HELGRIND_BINS under
#                    Helgrind (races, lock order), DRD_BINS under DRD
#                    (races); reports/out/valgrind/*.xml,
#                    valgrind.json
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

.PHONY: race valgrind gate ci bench-compare gate-selftest install-gate

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
BENCH_BACKEND ?= thread

# The race sweep: every test binary of the TSan build through gort-race,
# RACE_RUNS times each (run 1 on all CPUs, run 2 on one CPU with GORT_CHAOS;
# gort-race --runs 20 on one binary for a deeper look). A test that fails
# without a race report fails the sweep too (--require-success).
RACE_RUNS ?= 2
RACE_O := build/$(CCNAME)-thread
race: deps
	@$(MAKE) --no-print-directory SAN=thread O=$(RACE_O) test-build
	@mkdir -p $(REPORT_DIR)
	@$(SAN_ENV) ci/gort-race --each --runs $(RACE_RUNS) --require-success --timeout $(TEST_TIMEOUT) \
	  --json $(REPORT_DIR)/race.json $(patsubst $(O)/%,$(RACE_O)/%,$(TEST_BINS))

# gort-race is installed beside gort-leakcheck; its Python package and the
# schemas go to share/gort (bin/gort-race finds them there).
install: install-race
.PHONY: install-race test-tools
install-race:
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/gort/gortreport \
	  $(DESTDIR)$(PREFIX)/share/gort/schemas
	install -m 644 reports/gortreport/*.py $(DESTDIR)$(PREFIX)/share/gort/gortreport/
	install -m 644 reports/schemas/*.json $(DESTDIR)$(PREFIX)/share/gort/schemas/
	install -m 755 ci/gort-race $(DESTDIR)$(PREFIX)/bin/gort-race

# The installed tools' own tests, from outside (make test runs them once, in
# the plain build): plain C programs that never heard of gort.
TOOL_TESTS += ci/tests/test_gort_race.py ci/tests/test_valgrind_sweep.py ci/tests/test_bench_table.py
test-tools:
	@/usr/bin/python3 -m pytest -q -p no:cacheprovider $(TOOL_TESTS)

# make valgrind: every test binary under memcheck, and Helgrind on
# HELGRIND_BINS: the suites whose Helgrind run is clean today, because the
# runtime annotates their happens-before edges (runtime/src/hb.h); make
# valgrind HELGRIND_BINS= runs Helgrind on every binary. ci/valgrind.sh says
# what it writes. The binaries read GORT_BACKEND from the environment:
# GORT_BACKEND=mn make valgrind is the same sweep on the M:N backend, whose
# scheduler states its hand-offs to Helgrind and DRD too (.ci/run runs it).
HELGRIND_BINS ?= test_chan test_select
# DRD as a second opinion where it is quick: test_select takes 12 s under
# DRD (39 s under mn at load 0.5), test_chan 6 min (measured at load 7-10),
# so only test_select.
DRD_BINS ?= test_select
valgrind: deps
	@$(MAKE) --no-print-directory test-build
	@REPORT_DIR=$(REPORT_DIR) HELGRIND_BINS="$(HELGRIND_BINS)" DRD_BINS="$(DRD_BINS)" \
	  ci/valgrind.sh $(TEST_BINS)

# The gate's Python tests (statistics with known answers, exit codes) run
# with the installed tools' tests.
TOOL_TESTS += reports/tests

bench-compare: bench-nosan
	@if [ -z "$(BASE)" ]; then echo "bench-compare: give the base, e.g. make bench-compare BASE=HEAD~1" >&2; exit 2; fi
	@$(MAKE) --no-print-directory bench-build
	@mkdir -p $(REPORT_DIR)
	@CC="$(CC)" CXX="$(CXX)" CFLAGS="$(CFLAGS)" ci/bench-base.sh "$(BASE)" "$(BENCH_BASE_CACHE)" > $(O)/.bench-base-bin
	@GORT_BACKEND=$(BENCH_BACKEND) $(GATE_PY) -m gortreport.compare --base-ref "$(BASE)" \
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
# the gate never decides on a stale comparison. The reports' generator exits
# 1 when the report has findings: that is the gate's to decide, so only its
# exit 2 (bad input) stops make ci before the gate.
REPORT_GENERATE ?= PYTHONPATH=$(CURDIR)/reports $(PYTHON) -m gortreport.generate $(REPORT_DIR)
ci:
	@rm -f $(REPORT_DIR)/compare.json
	@$(MAKE) --no-print-directory report
	@if [ -n "$(BASE)" ]; then \
	  $(MAKE) --no-print-directory bench-compare BASE="$(BASE)" || exit 2; \
	  echo "== ci: the reports again, with the comparison"; \
	  $(REPORT_GENERATE); [ $$? -le 1 ] || exit 2; \
	else \
	  echo "ci: ************************************************************" >&2; \
	  echo "ci: NO BENCHMARK COMPARISON WAS MADE: give BASE=<git ref>" >&2; \
	  echo "ci: (e.g. make ci BASE=origin/main); only report.json is gated" >&2; \
	  echo "ci: ************************************************************" >&2; \
	fi
	@$(MAKE) --no-print-directory gate

gate-selftest: bench-nosan
	@BENCH_BASE_CACHE="$(abspath $(BENCH_BASE_CACHE))" $(PYTHON) ci/gate_selftest.py $(O)/gate-selftest $(if $(GATE_SELFTEST_RUNS),--runs $(GATE_SELFTEST_RUNS))

# gort-gate beside gort-race; it runs on the package install-race puts in
# share/gort.
install: install-gate
install-gate: install-race
	install -m 755 reports/gort-gate $(DESTDIR)$(PREFIX)/bin/gort-gate
