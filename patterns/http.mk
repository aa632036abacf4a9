# patterns/http.mk - the part of the patterns layer that needs libmicrohttpd
# and libcurl (graceful shutdown, HTTP batch checker) and the tests that exec
# example or catalog binaries (the catalog itself: patterns/antipatterns.mk).
# The contract with patterns/patterns.mk: every path listed in
# PATTERNS_HTTP_SRCS is excluded from its globs and built here. Other
# fragments' variables are named $$(VAR) in prerequisites (second
# expansion), so the include order does not matter.
#
# Everything here is on runtime's public headers only; objects are compiled
# by patterns.mk's `$(O)/patterns/%.o` rule (PATTERNS_CPPFLAGS: no
# runtime/src on the include path).

PATTERNS_HTTP_LDLIBS := -lmicrohttpd -lcurl

PATTERNS_HTTP_SRCS := \
  patterns/src/shutdown_server.c patterns/src/shutdown_signal.c patterns/src/httpcheck.c \
  patterns/tests/test_shutdown.c patterns/tests/test_httpcheck.c \
  patterns/tests/test_antipatterns.c \
  patterns/examples/shutdown_server.c patterns/examples/httpcheck_batch.c

PATTERNS_HTTP_LIB := $(O)/libgort_patterns_http.a
PATTERNS_HTTP_OBJS := $(patsubst %.c,$(O)/%.o,$(filter patterns/src/%,$(PATTERNS_HTTP_SRCS)))

$(PATTERNS_HTTP_LIB): $(PATTERNS_HTTP_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# ---- examples ----------------------------------------------------------------
PATTERNS_HTTP_EXAMPLE_BINS := $(O)/examples/shutdown_server $(O)/examples/httpcheck_batch

$(PATTERNS_HTTP_EXAMPLE_BINS): $(O)/examples/%: patterns/examples/%.c $(PATTERNS_HTTP_LIB) \
    $$(PATTERNS_LIB) $(LIBGORT_A)
	@mkdir -p $(dir $@)
	$(CC) $(PATTERNS_CPPFLAGS) $(GORT_CFLAGS) -MMD -MP -MF $@.d $< $(PATTERNS_HTTP_LIB) \
	  $(PATTERNS_LIB) $(LIBGORT_A) $(GORT_LDFLAGS) $(PATTERNS_HTTP_LDLIBS) $(GORT_LIBS) -o $@

examples: $(PATTERNS_HTTP_EXAMPLE_BINS)

# ---- tests -------------------------------------------------------------------
# Tests that exec a binary get its absolute path at compile time.
PATTERNS_HTTP_TEST_BINS := $(O)/tests/patterns/test_shutdown $(O)/tests/patterns/test_httpcheck \
  $(O)/tests/patterns/test_antipatterns

$(O)/tests/patterns/test_shutdown: $(O)/examples/shutdown_server
$(O)/tests/patterns/test_shutdown: TEST_EXTRA_CPPFLAGS = \
  -DSHUTDOWN_SERVER_BIN='"$(abspath $(O)/examples/shutdown_server)"'
$(O)/tests/patterns/test_antipatterns: $$(ANTIPATTERN_BIN)
$(O)/tests/patterns/test_antipatterns: TEST_EXTRA_CPPFLAGS = \
  -DANTIPATTERN_BIN='"$(abspath $(ANTIPATTERN_BIN))"' \
  -DANTIPATTERN_README='"$(abspath patterns/antipatterns/README.md)"'

$(PATTERNS_HTTP_TEST_BINS): $(O)/tests/patterns/%: patterns/tests/%.c $$(TEST_LIBS) \
    $(PATTERNS_HTTP_LIB) $$(PATTERNS_LIB) $(LIBGORT_A)
	@mkdir -p $(dir $@)
	$(CC) $(PATTERNS_CPPFLAGS) $(TEST_CPPFLAGS) $(TEST_EXTRA_CPPFLAGS) $(GORT_CFLAGS) \
	  -MMD -MP -MF $@.d $< $(TEST_LIBS) $(PATTERNS_HTTP_LIB) $(PATTERNS_LIB) $(LIBGORT_A) \
	  $(GORT_LDFLAGS) $(TEST_LDLIBS) \
	  $(PATTERNS_HTTP_LDLIBS) $(GORT_LIBS) -o $@

TEST_BINS += $(PATTERNS_HTTP_TEST_BINS)
PUBLIC_ARCHIVES += $(PATTERNS_HTTP_LIB)

-include $(PATTERNS_HTTP_OBJS:.o=.d) \
  $(PATTERNS_HTTP_TEST_BINS:=.d) $(PATTERNS_HTTP_EXAMPLE_BINS:=.d)
