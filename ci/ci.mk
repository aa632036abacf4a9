# ci/ci.mk - the sweeps and the gate a pipeline runs (included by the top
# Makefile). `report` (the main job) lives in reports/reports.mk.
#
#   make race        every test under ThreadSanitizer
#   make valgrind    every test binary under memcheck
#   make gate        the decision on reports/out (see reports/README)
#   make ci          report, then gate

.PHONY: race valgrind gate ci

# The race sweep: every test under ThreadSanitizer.
race:
	@$(MAKE) --no-print-directory SAN=thread test

# make valgrind: every test binary under memcheck.
valgrind: deps
	@$(MAKE) --no-print-directory test-build
	@REPORT_DIR=$(REPORT_DIR) ci/valgrind.sh $(TEST_BINS)

# make gate: fail the build on any finding in the report, and on a benchmark
# regression against BASELINE=<old bench.json> when given.
gate:
	@python3 reports/gate.py --out $(REPORT_DIR) $(if $(BASELINE),--baseline $(BASELINE))

# make ci: what a pipeline runs - the report, then the gate.
ci: report
	@$(MAKE) --no-print-directory gate
