# reports/reports.mk - the main job (make report) and the reports package's
# own tests (make reports-test, part of make test).
REPORT_DIR := reports/out
# Every step runs through gortreport.progress: on a terminal one status line
# with the elapsed time and counters; in CI one line at each end of a step.
# --output names what a step must write: a step that exits non-zero without
# a finding of its own, or leaves an output missing or unreadable, is a
# step-failed finding (gortreport.build).
# REPORT_STEPS="tests leakcheck ..." runs only those steps (default: all);
# make report-planted-check uses it.
REPORT_STEP = PYTHONPATH=$(CURDIR)/reports $(PYTHON) -m gortreport.progress --out $(REPORT_DIR) \
  $(if $(REPORT_STEPS),--only "$(REPORT_STEPS)")
REPORT_OUTPUTS := report.json summary.md index.html junit.xml findings.sarif
# The race sweep does not halt at the first report (make test SAN=thread
# does): every test runs to the end and has its own result, every race is
# reported, and TSan still fails the binary at exit (status 66). (The later
# TSAN_OPTIONS given to env wins.)
REPORT_TSAN_ENV = TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1 suppressions=$(CURDIR)/ci/tsan.supp $(TSAN_OPTIONS)"

# make report: the harness end to end. It records findings instead of
# stopping at the first (a failed build step is one); `make gate` is the
# decision.
report: deps
	@mkdir -p $(REPORT_DIR)
	@# What this run produces is removed first, so that a step that fails
	@# before writing its file cannot leave an earlier run's verdict behind.
	@# (Files of separate commands - make race, make valgrind, make bench,
	@# make leakcheck-calibrate - stay; the report shows when each was written.)
	@# The five outputs too: if the generator cannot write them, make gate
	@# must find no report rather than the last one.
	@rm -f $(REPORT_DIR)/tests-*.jsonl $(REPORT_DIR)/steps.jsonl $(REPORT_DIR)/leakcheck.json \
	  $(REPORT_DIR)/verdicts.json $(REPORT_DIR)/bench.json $(REPORT_DIR)/bench-mn.json \
	  $(REPORT_DIR)/bench-go-quick.json $(REPORT_DIR)/bench-sweep.json $(REPORT_DIR)/compare.json \
	  $(REPORT_DIR)/gate.json $(addprefix $(REPORT_DIR)/,$(REPORT_OUTPUTS))
	-@$(REPORT_STEP) build -- $(MAKE) --no-print-directory test-build
	-@$(REPORT_STEP) --output tests-default.jsonl tests -- env $(SAN_ENV) TEST_RESULTS=$(REPORT_DIR)/tests-default.jsonl \
	  ci/run-tests.sh $(TEST_BINS)
	-@$(REPORT_STEP) build-thread -- $(MAKE) --no-print-directory SAN=thread O=build/$(CCNAME)-thread test-build
	-@$(MAKE) --no-print-directory -s SAN=thread O=build/$(CCNAME)-thread print-test-bins > $(REPORT_DIR)/.tsan-bins
	-@$(REPORT_STEP) --output tests-thread.jsonl race-sweep -- env $(SAN_ENV) $(REPORT_TSAN_ENV) \
	  TEST_RESULTS=$(REPORT_DIR)/tests-thread.jsonl \
	  ci/run-tests.sh $$(cat $(REPORT_DIR)/.tsan-bins)
	@rm -f $(REPORT_DIR)/.tsan-bins
	-@$(REPORT_STEP) --output leakcheck.json leakcheck -- $(MAKE) --no-print-directory leakcheck
	-@$(REPORT_STEP) --output verdicts.json antipatterns -- $(MAKE) --no-print-directory antipatterns-check
	@# bench-quick is descriptive; only make bench-compare BASE=<ref> judges regressions
	-@$(REPORT_STEP) --output bench.json --output bench-mn.json bench-quick -- $(MAKE) --no-print-directory bench-quick
	-@$(REPORT_STEP) --output bench-sweep.json sweeps -- $(BENCH_BIN) --benchmark_filter='Sweep|IO' --benchmark_repetitions=3 \
	  --benchmark_min_time=0.05 --benchmark_out=$(REPORT_DIR)/bench-sweep.json --benchmark_out_format=json
	-@PYTHONPATH=reports $(PYTHON) -m gortreport.generate $(REPORT_DIR)
	@cat $(REPORT_DIR)/summary.md

# make report-generate: the five outputs again from what reports/out holds,
# without running anything (e.g. after make bench, for the micro section).
report-generate:
	-@PYTHONPATH=reports $(PYTHON) -m gortreport.generate $(REPORT_DIR)

print-test-bins:
	@echo $(TEST_BINS)

# make report-planted-check: make report on real binaries with a planted
# failing assert, task leak, heap leak and race (reports/planted-check.sh:
# a scratch copy of the tree, those steps and binaries only, ~2-3 min); each
# must reach junit.xml, findings.sarif and index.html once, and make gate
# must fail. Not part of make test (it builds and runs three variants).
report-planted-check:
	@reports/planted-check.sh

# The reports package: mypy --strict and pytest (golden fixtures, headless
# Chromium), with Debian's python3 (its packages are the dependencies).
# make test runs both once, in the plain build: mypy here, pytest through
# TOOL_TESTS (ci/ci.mk), which holds reports/tests.
reports-mypy:
	@cd reports && $(PYTHON) -m mypy --strict --no-error-summary gortreport \
	  && echo "reports: mypy --strict clean"
reports-test: reports-mypy
	@cd reports && $(PYTHON) -m pytest -q -p no:cacheprovider tests
test-tools: reports-mypy

.PHONY: print-test-bins reports-mypy reports-test report-generate report-planted-check
