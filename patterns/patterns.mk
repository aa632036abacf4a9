# patterns/patterns.mk - the patterns layer: libgort_patterns.a, its tests and
# its examples. Included by the top Makefile; other fragments name PATTERNS_LIB
# as $$(PATTERNS_LIB) in prerequisites, so the include order does not matter.
#
# Layering: pattern code is compiled with PATTERNS_CPPFLAGS, which puts only
# runtime/include and patterns/include on the include path, so a pattern cannot
# reach runtime/src/internal.h even by accident. Tests add runtime/tests (for
# support/gort_test.h) and may use gort/introspect.h.
#
# HTTP patterns live in the same directories but are built by
# patterns/http.mk, which lists their files (sources, tests, examples) in
# PATTERNS_HTTP_SRCS; those are excluded from the globs below.

PATTERNS_CPPFLAGS := -D_GNU_SOURCE -Iruntime/include -Ipatterns/include
PATTERNS_LIB := $(O)/libgort_patterns.a

PATTERNS_SRCS = $(filter-out $(PATTERNS_HTTP_SRCS),$(sort $(wildcard patterns/src/*.c)))
PATTERNS_OBJS = $(PATTERNS_SRCS:%.c=$(O)/%.o)
PATTERNS_TEST_SRCS = $(filter-out $(PATTERNS_HTTP_SRCS),$(sort $(wildcard patterns/tests/test_*.c)))
PATTERNS_TEST_BINS = $(PATTERNS_TEST_SRCS:patterns/tests/%.c=$(O)/tests/patterns/%)
PATTERNS_EXAMPLE_SRCS = $(filter-out $(PATTERNS_HTTP_SRCS),$(sort $(wildcard patterns/examples/*.c)))
PATTERNS_EXAMPLE_BINS = $(PATTERNS_EXAMPLE_SRCS:patterns/examples/%.c=$(O)/examples/%)

TEST_BINS += $(PATTERNS_TEST_BINS)
PUBLIC_HDRS += $(sort $(wildcard patterns/include/gortp/*.h))
PUBLIC_ARCHIVES += $(PATTERNS_LIB)

# More specific than the top Makefile's $(O)/%.o rule, so it wins for
# everything under patterns/ (the HTTP objects included).
$(O)/patterns/%.o: patterns/%.c
	@mkdir -p $(dir $@)
	$(CC) $(PATTERNS_CPPFLAGS) $(GORT_CFLAGS) -MMD -MP -c $< -o $@

# Library objects export only their GORT_API declarations.
$(O)/patterns/src/%.o: patterns/src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(PATTERNS_CPPFLAGS) $(GORT_CFLAGS) $(LIB_VISIBILITY) -MMD -MP -c $< -o $@

$(PATTERNS_LIB): $$(PATTERNS_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(O)/tests/patterns/%: patterns/tests/%.c $$(TEST_LIBS) $(PATTERNS_LIB) $(LIBGORT_A)
	@mkdir -p $(dir $@)
	$(CC) $(PATTERNS_CPPFLAGS) $(TEST_CPPFLAGS) $(GORT_CFLAGS) $< $(TEST_LIBS) \
	  $(PATTERNS_LIB) $(LIBGORT_A) $(GORT_LDFLAGS) $(TEST_LDLIBS) $(GORT_LIBS) -o $@

$(O)/examples/%: patterns/examples/%.c $(PATTERNS_LIB) $(LIBGORT_A)
	@mkdir -p $(dir $@)
	$(CC) $(PATTERNS_CPPFLAGS) $(GORT_CFLAGS) $< $(PATTERNS_LIB) $(LIBGORT_A) \
	  $(GORT_LDFLAGS) $(GORT_LIBS) -o $@

# `examples` is declared phony by the top Makefile; patterns/http.mk adds its
# own binaries with another `examples: ...` line.
examples: $$(PATTERNS_EXAMPLE_BINS)

# Build the examples and compare each one's output with
# patterns/examples/expected/<name>.txt (sorted first when the example's
# output order is nondeterministic: expected/<name>.sorted).
examples-check: examples
	@patterns/examples/check.sh $(O)/examples

.PHONY: examples-check

-include $(PATTERNS_OBJS:.o=.d)
