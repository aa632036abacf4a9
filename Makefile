# gort - one Makefile. Honours CC, CFLAGS, LDFLAGS, PREFIX.
#   make SAN=thread|address|undefined|leak ...  builds into its own directory.
#   make O=dir ...                               overrides the build directory.
# Layers add their rules from */*.mk fragments (included at the end).

CC ?= cc
CXX ?= c++
PREFIX ?= /usr/local
CFLAGS ?= -O2 -g
LDFLAGS ?=
SAN ?=
TEST_TIMEOUT ?= 300
# Per test (ci/run-tests.sh): a test that runs longer fails by name, with a
# task dump, and the rest of its binary still runs.
TEST_CASE_TIMEOUT ?= 120
# make test RUN=<regex>: only the tests whose name matches (SKIP=<regex>: not
# those), like go test -run.
RUN ?=
SKIP ?=

CCNAME := $(notdir $(firstword $(CC)))
O ?= build/$(CCNAME)$(if $(SAN),-$(SAN))
export O

SAN_FLAGS := $(if $(SAN),-fsanitize=$(SAN) -fno-sanitize-recover=all)
WARN := -Wall -Wextra -Werror
# Include paths by layer (no fragment changes another layer's):
#   GORT_CPPFLAGS     the public headers: what every layer and user sees
#   RUNTIME_CPPFLAGS  + runtime/src: runtime sources, and runtime tests named
#                     test_internal_*.c (the only tests that see internals)
#   TEST_CPPFLAGS     what a cmocka test program adds: the runtime's test
#                     support and leakcheck's cmocka integration
GORT_CPPFLAGS := -D_GNU_SOURCE -Iruntime/include
RUNTIME_CPPFLAGS := $(GORT_CPPFLAGS) -Iruntime/src
TEST_CPPFLAGS := -Iruntime/tests -Ileakcheck/include
GORT_CFLAGS := -std=c11 $(WARN) -pthread -fPIC -fno-omit-frame-pointer $(SAN_FLAGS) $(CFLAGS)
GORT_LDFLAGS := -pthread -rdynamic $(SAN_FLAGS) $(LDFLAGS)
GORT_LIBS := -lm
# Library objects export only what a public header marks GORT_API.
LIB_VISIBILITY := -fvisibility=hidden

# The version lives in one place, gort/version.h; the soname and gort.pc
# follow it.
gort_version_part = $(shell sed -n 's/^\#define GORT_VERSION_$(1) \([0-9]*\)$$/\1/p' \
  runtime/include/gort/version.h)
GORT_VERSION_MAJOR := $(call gort_version_part,MAJOR)
GORT_VERSION := $(GORT_VERSION_MAJOR).$(call gort_version_part,MINOR).$(call gort_version_part,PATCH)
LIBGORT_SONAME := libgort.so.$(GORT_VERSION_MAJOR)

RUNTIME_SRCS := $(sort $(wildcard runtime/src/*.c runtime/src/*/*.c))
RUNTIME_OBJS := $(RUNTIME_SRCS:%.c=$(O)/%.o)
LIBGORT_A := $(O)/libgort.a
LIBGORT_SO := $(O)/libgort.so

TEST_SUPPORT_SRCS := $(sort $(wildcard runtime/tests/support/*.c))
TEST_SUPPORT_OBJS := $(TEST_SUPPORT_SRCS:%.c=$(O)/%.o)
# What every test program links besides its own layer: the support objects
# and leakcheck (GORT_TEST_MAIN checks each test for leaks). Recursive, and
# named as $$(TEST_LIBS) in prerequisites (second expansion), so that it
# does not matter which fragment is read first.
TEST_LIBS = $(TEST_SUPPORT_OBJS) $(LEAKCHECK_A)
# The wrap routes every cmocka group through runtime/tests/support/watchdog.c
# (per-test timeout, selection by name).
TEST_LDLIBS = -Wl,--wrap=_cmocka_run_group_tests -lcmocka $(LEAKCHECK_LIBS)
RUNTIME_TEST_SRCS := $(sort $(wildcard runtime/tests/test_*.c))
RUNTIME_TEST_BINS := $(RUNTIME_TEST_SRCS:runtime/tests/%.c=$(O)/tests/runtime/%)
# Layers append their test binaries to TEST_BINS, their public headers to
# PUBLIC_HDRS and their static libraries to PUBLIC_ARCHIVES in their
# fragments, included here so that the rules below see the complete lists.
# (Recursive variables: a fragment's list may depend on another's.)
TEST_BINS = $(RUNTIME_TEST_BINS)
PUBLIC_HDRS = $(sort $(wildcard runtime/include/gort/*.h))
PUBLIC_ARCHIVES =
# Prerequisites may name another fragment's variables as $$(VAR): they are
# expanded once every fragment has been read, whatever the include order.
.SECONDEXPANSION:
-include $(sort $(wildcard */*.mk))

.PHONY: all lib deps test check bench bench-quick race valgrind leakcheck \
        leakcheck-calibrate report gate ci install clean examples format \
        check-headers check-exports check-runner format-all lint
.DEFAULT_GOAL := all

all: lib

lib: $(LIBGORT_A) $(LIBGORT_SO)

# ThreadSanitizer does not instrument the M:N scheduler and the runtime's
# per-worker state, as Go's race detector does not instrument Go's runtime:
# that state (run queues, the current task, the random sources, sync.Pool's
# caches, the spawn counters and task-record cache) is used by one task after
# another on a worker with nothing a task could see ordering them, and the
# scheduler's atomics must not order the tasks it runs. This code states the real edges itself (runtime/src/hb.h:
# GORT__TSAN_RELEASE/ACQUIRE). GORT_TSAN_UNINSTRUMENTED tells it that it is
# in a TSan build.
TSAN_UNINSTRUMENTED := runtime/src/mn/%.c runtime/src/clock.c runtime/src/chaos.c \
  runtime/src/local.c runtime/src/pool.c
runtime_cflags = $(if $(and $(filter thread,$(SAN)),$(filter $(TSAN_UNINSTRUMENTED),$(1))),\
  $(filter-out -fsanitize=thread,$(GORT_CFLAGS)) -DGORT_TSAN_UNINSTRUMENTED=1,$(GORT_CFLAGS))

$(O)/runtime/src/%.o: runtime/src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(RUNTIME_CPPFLAGS) $(call runtime_cflags,$<) $(LIB_VISIBILITY) -MMD -MP -c $< -o $@

$(O)/runtime/tests/support/%.o: runtime/tests/support/%.c
	@mkdir -p $(dir $@)
	$(CC) $(GORT_CPPFLAGS) $(TEST_CPPFLAGS) $(GORT_CFLAGS) -MMD -MP -c $< -o $@

$(LIBGORT_A): $(RUNTIME_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIBGORT_SO): $(RUNTIME_OBJS)
	$(CC) -shared -Wl,-soname,$(LIBGORT_SONAME) $(GORT_LDFLAGS) -o $@ $^ $(GORT_LIBS)

$(O)/tests/runtime/%: runtime/tests/%.c $$(TEST_LIBS) $(LIBGORT_A)
	@mkdir -p $(dir $@)
	$(CC) $(if $(filter test_internal_%,$*),$(RUNTIME_CPPFLAGS),$(GORT_CPPFLAGS)) $(TEST_CPPFLAGS) \
	  $(GORT_CFLAGS) -MMD -MP -MF $@.d $< $(TEST_LIBS) $(LIBGORT_A) $(GORT_LDFLAGS) $(TEST_LDLIBS) \
	  $(GORT_LIBS) -o $@

# ---- dependencies (Debian packages) --------------------------------------
deps:
	@ci/deps.sh

# ---- tests ------------------------------------------------------------------
# Sanitizer runtime options: stop at the first report; suppressions, each
# with its reason, live in ci/*.supp.
SAN_ENV := TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/ci/tsan.supp $(TSAN_OPTIONS)" \
  ASAN_OPTIONS="detect_leaks=1 abort_on_error=1 $(ASAN_OPTIONS)" \
  LSAN_OPTIONS="suppressions=$(CURDIR)/ci/lsan.supp $(LSAN_OPTIONS)" \
  UBSAN_OPTIONS="halt_on_error=1 print_stacktrace=1 $(UBSAN_OPTIONS)"
export SAN

test: deps
	@$(MAKE) --no-print-directory test-build check-headers check-exports check-runner
	@$(SAN_ENV) TEST_TIMEOUT=$(TEST_TIMEOUT) TEST_CASE_TIMEOUT=$(TEST_CASE_TIMEOUT) \
	  TEST_RUN='$(RUN)' TEST_SKIP='$(SKIP)' ci/run-tests.sh $(TEST_BINS)
	$(if $(SAN),,@$(MAKE) --no-print-directory test-tools)

test-build: lib $(TEST_BINS)
check: test

# The test runner itself: a hung test is named and the rest still run.
RUNNER_HANG_BIN := $(O)/tests/runner/hang
$(RUNNER_HANG_BIN): runtime/tests/runner/hang.c $$(TEST_LIBS) $(LIBGORT_A)
	@mkdir -p $(dir $@)
	$(CC) $(GORT_CPPFLAGS) $(TEST_CPPFLAGS) $(GORT_CFLAGS) $< $(TEST_LIBS) $(LIBGORT_A) \
	  $(GORT_LDFLAGS) $(TEST_LDLIBS) $(GORT_LIBS) -o $@
check-runner: $(RUNNER_HANG_BIN)
	@$(SAN_ENV) ci/check-runner.sh $(RUNNER_HANG_BIN)

# Each public header compiles alone as C11 and as C++17.
check-headers:
	@CC="$(CC)" CXX="$(CXX)" ci/check-headers.sh $(PUBLIC_HDRS)

# libgort.so exports its public names and nothing else (nm -D); the layers'
# archives define only their own prefix.
check-exports: lib $(PUBLIC_ARCHIVES)
	@ci/check-exports.sh $(LIBGORT_SO) $(LIBGORT_A) $(PUBLIC_ARCHIVES)

# ---- install ----------------------------------------------------------------
install: lib
	install -d $(DESTDIR)$(PREFIX)/include/gort $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 runtime/include/gort/*.h $(DESTDIR)$(PREFIX)/include/gort/
	install -m 644 $(LIBGORT_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIBGORT_SO) $(DESTDIR)$(PREFIX)/lib/libgort.so.$(GORT_VERSION)
	ln -sf libgort.so.$(GORT_VERSION) $(DESTDIR)$(PREFIX)/lib/$(LIBGORT_SONAME)
	ln -sf $(LIBGORT_SONAME) $(DESTDIR)$(PREFIX)/lib/libgort.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(GORT_VERSION)|' runtime/gort.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/gort.pc

# Formatting (.clang-format): `make format` formats the lines changed since
# FORMAT_BASE (default: the merge base with main), so it never rewrites
# someone else's code; `make format-all` formats every file.
FORMAT_BASE ?= $(shell git merge-base HEAD main 2>/dev/null || echo HEAD)
format:
	git clang-format --extensions c,h,cc $(FORMAT_BASE)
format-all:
	clang-format -i $$(git ls-files '*.c' '*.h' '*.cc')

# compile_commands.json for clang-tidy and editors: every object of a full
# rebuild (in its own build directory), as bear records it.
compile_commands.json:
	bear --output $@ -- $(MAKE) --no-print-directory -B O=build/ccdb lib test-build

# make lint: clang-tidy (.clang-tidy: bugprone-* and concurrency-*, each
# exception with its reason) and cppcheck on the library sources; clean or
# it fails. Inline cppcheck suppressions carry their reason too.
LINT_SRCS = $(sort $(wildcard runtime/src/*.c runtime/src/*/*.c patterns/src/*.c leakcheck/src/*.c))
lint: compile_commands.json
	@echo "lint: clang-tidy on $(words $(LINT_SRCS)) files"
	@echo $(LINT_SRCS) | xargs -n 8 -P 2 clang-tidy -p . --quiet 2>/dev/null | \
	  { ! grep -E -A3 'warning:|error:'; }
	@echo "lint: cppcheck"
	@cppcheck --quiet --enable=warning,portability --inline-suppr --std=c11 --error-exitcode=1 -j2 \
	  -D_GNU_SOURCE -D__GNUC__ -D__x86_64__ -Iruntime/include -Iruntime/src -Ipatterns/include \
	  -Ileakcheck/include -Ileakcheck/src runtime/src patterns/src leakcheck/src
	@echo "lint: clean"

clean:
	rm -rf build reports/out compile_commands.json

-include $(RUNTIME_OBJS:.o=.d) $(TEST_SUPPORT_OBJS:.o=.d) $(RUNTIME_TEST_BINS:=.d)
