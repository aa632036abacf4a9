# patterns/http.mk - the part of the patterns layer that needs libmicrohttpd
# and libcurl (graceful shutdown, HTTP batch checker), the anti-pattern
# catalog (patterns/antipatterns/) and the tests that exec example or catalog
# binaries. The contract with patterns/patterns.mk (included after this
# file): every path listed in PATTERNS_HTTP_SRCS is excluded from its globs
# and built here.
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
    $(O)/libgort_patterns.a $(LIBGORT_A)
	@mkdir -p $(dir $@)
	$(CC) $(PATTERNS_CPPFLAGS) $(GORT_CFLAGS) -MMD -MP -MF $@.d $< $(PATTERNS_HTTP_LIB) \
	  $(O)/libgort_patterns.a $(LIBGORT_A) $(GORT_LDFLAGS) $(PATTERNS_HTTP_LDLIBS) $(GORT_LIBS) -o $@

examples: $(PATTERNS_HTTP_EXAMPLE_BINS)

# ---- the anti-pattern catalog: one driver, `antipattern <name> [--fixed]` ----
ANTIPATTERN_SRCS := $(sort $(wildcard patterns/antipatterns/*.c))
ANTIPATTERN_OBJS := $(ANTIPATTERN_SRCS:%.c=$(O)/%.o)
ANTIPATTERN_BIN := $(O)/bin/antipattern
# The catalog also uses the service module, which patterns.mk archives
# (PATTERNS_LIB is defined after this file is read: name it literally).
ANTIPATTERN_LIBS := $(PATTERNS_HTTP_LIB) $(O)/libgort_patterns.a $(LIBGORT_A)

$(ANTIPATTERN_BIN): $(ANTIPATTERN_OBJS) $(ANTIPATTERN_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ANTIPATTERN_OBJS) $(ANTIPATTERN_LIBS) \
	  $(GORT_LDFLAGS) $(PATTERNS_HTTP_LDLIBS) $(GORT_LIBS) -o $@

antipatterns: $(ANTIPATTERN_BIN)
examples: $(ANTIPATTERN_BIN)
.PHONY: antipatterns

# ---- tests -------------------------------------------------------------------
# Tests that exec a binary get its absolute path at compile time.
PATTERNS_HTTP_TEST_BINS := $(O)/tests/patterns/test_shutdown $(O)/tests/patterns/test_httpcheck \
  $(O)/tests/patterns/test_antipatterns

$(O)/tests/patterns/test_shutdown: $(O)/examples/shutdown_server
$(O)/tests/patterns/test_shutdown: TEST_EXTRA_CPPFLAGS = \
  -DSHUTDOWN_SERVER_BIN='"$(abspath $(O)/examples/shutdown_server)"'
$(O)/tests/patterns/test_antipatterns: $(ANTIPATTERN_BIN)
$(O)/tests/patterns/test_antipatterns: TEST_EXTRA_CPPFLAGS = \
  -DANTIPATTERN_BIN='"$(abspath $(ANTIPATTERN_BIN))"' \
  -DANTIPATTERN_README='"$(abspath patterns/antipatterns/README.md)"'

$(PATTERNS_HTTP_TEST_BINS): $(O)/tests/patterns/%: patterns/tests/%.c $(TEST_SUPPORT_OBJS) \
    $(PATTERNS_HTTP_LIB) $(O)/libgort_patterns.a $(LIBGORT_A)
	@mkdir -p $(dir $@)
	$(CC) $(PATTERNS_CPPFLAGS) -Iruntime/tests $(TEST_EXTRA_CPPFLAGS) $(GORT_CFLAGS) \
	  -MMD -MP -MF $@.d $< $(TEST_SUPPORT_OBJS) $(PATTERNS_HTTP_LIB) $(O)/libgort_patterns.a $(LIBGORT_A) $(GORT_LDFLAGS) -lcmocka \
	  $(PATTERNS_HTTP_LDLIBS) $(GORT_LIBS) -o $@

TEST_BINS += $(PATTERNS_HTTP_TEST_BINS)
PUBLIC_ARCHIVES += $(PATTERNS_HTTP_LIB)

-include $(PATTERNS_HTTP_OBJS:.o=.d) $(ANTIPATTERN_OBJS:.o=.d) \
  $(PATTERNS_HTTP_TEST_BINS:=.d) $(PATTERNS_HTTP_EXAMPLE_BINS:=.d)
