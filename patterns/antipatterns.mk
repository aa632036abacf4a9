# patterns/antipatterns.mk - the anti-pattern catalog graded by detectors
# (included by the top Makefile; the catalog's driver is built by the
# `antipatterns` target).
#
#   make antipatterns-check [AP_RUNS=20] [AP_JOBS=2]
#
# antipatterns-check runs every entry's bad program and fixed twin AP_RUNS times each under
# the entry's detector - the leakcheck command (task and timer layers), a
# SAN=thread build under ThreadSanitizer through gort-race, the deadlock detector, the misuse
# abort - and writes reports/out/verdicts.json (gort.verdicts/1). Fails
# unless every detectable bad run is detected, no fixed run raises an alarm
# and every run was judged. See patterns/antipatterns/README.md.

# The driver, $(O)/bin/antipattern (`make antipatterns`): one program with
# every entry, `antipattern <name> [--fixed]`. It links the HTTP patterns and the core patterns (the service
# module): named $$(...) in prerequisites and recursive here, as patterns/
# fragments define them (second expansion: include order does not matter).
ANTIPATTERN_SRCS := $(sort $(wildcard patterns/antipatterns/*.c))
ANTIPATTERN_OBJS := $(ANTIPATTERN_SRCS:%.c=$(O)/%.o)
ANTIPATTERN_BIN := $(O)/bin/antipattern
ANTIPATTERN_LIBS = $(PATTERNS_HTTP_LIB) $(PATTERNS_LIB) $(LIBGORT_A)

$(ANTIPATTERN_BIN): $(ANTIPATTERN_OBJS) $$(ANTIPATTERN_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ANTIPATTERN_OBJS) $(ANTIPATTERN_LIBS) \
	  $(GORT_LDFLAGS) $(PATTERNS_HTTP_LDLIBS) $(GORT_LIBS) -o $@

antipatterns: $(ANTIPATTERN_BIN)
examples: $(ANTIPATTERN_BIN)
.PHONY: antipatterns

-include $(ANTIPATTERN_OBJS:.o=.d)

AP_RUNS ?= 20
AP_JOBS ?= 2
AP_TSAN_O := build/$(CCNAME)-thread

.PHONY: antipatterns-check
antipatterns-check: deps
	@$(MAKE) --no-print-directory antipatterns leakcheck-tools
	@$(MAKE) --no-print-directory SAN=thread O=$(AP_TSAN_O) antipatterns
	@mkdir -p reports/out
	@PYTHONPATH=$(CURDIR)/reports python3 -m gortreport.verdicts \
	  --antipattern $(O)/bin/antipattern --tsan-antipattern $(AP_TSAN_O)/bin/antipattern \
	  --leakcheck $(O)/leakcheck/leakcheck --gort-race $(CURDIR)/ci/gort-race \
	  --runs $(AP_RUNS) --jobs $(AP_JOBS) \
	  --tsan-options "suppressions=$(CURDIR)/ci/tsan.supp" --out reports/out/verdicts.json

# The checker's own tests (fixed detector outputs), with the tools' tests.
TOOL_TESTS += reports/tests/test_verdicts.py
