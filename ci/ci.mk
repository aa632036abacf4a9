# ci/ci.mk - the sweeps and the gate a pipeline runs (included by the top
# Makefile). `report` (the main job) lives in reports/reports.mk.
#
#   make race        every test under ThreadSanitizer, through gort-race
#                    (RACE_RUNS runs each); reports/out/race.json (gort.race/1)
#   make valgrind    every test binary under memcheck
#   make gate        the decision on reports/out (see reports/README)
#   make ci          report, then gate

.PHONY: race valgrind gate ci

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
TOOL_TESTS += ci/tests/test_gort_race.py
test-tools:
	@/usr/bin/python3 -m pytest -q -p no:cacheprovider $(TOOL_TESTS)

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
