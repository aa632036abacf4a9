# reports/reports.mk - the main job (make report), the gate, the sweeps.
REPORT_DIR := reports/out

# make report: the harness end to end. It records findings instead of
# stopping at the first; `make gate` is the decision.
report: deps
	@mkdir -p $(REPORT_DIR)
	@rm -f $(REPORT_DIR)/tests-*.jsonl
	@echo "== report: tests"
	@$(MAKE) --no-print-directory test-build
	-@$(SAN_ENV) TEST_RESULTS=$(REPORT_DIR)/tests-default.jsonl ci/run-tests.sh $(TEST_BINS)
	@echo "== report: race sweep (ThreadSanitizer)"
	@$(MAKE) --no-print-directory SAN=thread O=build/$(CCNAME)-thread test-build
	-@$(MAKE) --no-print-directory -s SAN=thread O=build/$(CCNAME)-thread print-test-bins > $(REPORT_DIR)/.tsan-bins
	-@$(SAN_ENV) TEST_RESULTS=$(REPORT_DIR)/tests-thread.jsonl ci/run-tests.sh $$(cat $(REPORT_DIR)/.tsan-bins)
	@rm -f $(REPORT_DIR)/.tsan-bins
	@echo "== report: leakcheck"
	-@$(MAKE) --no-print-directory leakcheck
	@echo "== report: benchmarks (quick: descriptive; only make bench-compare BASE=<ref> judges regressions)"
	-@$(MAKE) --no-print-directory bench-quick
	@python3 reports/generate.py $(REPORT_DIR)
	@cat $(REPORT_DIR)/summary.md

print-test-bins:
	@echo $(TEST_BINS)

.PHONY: print-test-bins
