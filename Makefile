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

CCNAME := $(notdir $(firstword $(CC)))
O ?= build/$(CCNAME)$(if $(SAN),-$(SAN))
export O

SAN_FLAGS := $(if $(SAN),-fsanitize=$(SAN) -fno-sanitize-recover=all)
WARN := -Wall -Wextra -Werror
GORT_CPPFLAGS := -D_GNU_SOURCE -Iruntime/include -Iruntime/src
GORT_CFLAGS := -std=c11 $(WARN) -pthread -fPIC -fno-omit-frame-pointer $(SAN_FLAGS) $(CFLAGS)
GORT_LDFLAGS := -pthread -rdynamic $(SAN_FLAGS) $(LDFLAGS)
GORT_LIBS := -lm

RUNTIME_SRCS := $(sort $(wildcard runtime/src/*.c))
RUNTIME_OBJS := $(RUNTIME_SRCS:%.c=$(O)/%.o)
LIBGORT_A := $(O)/libgort.a
LIBGORT_SO := $(O)/libgort.so

TEST_SUPPORT_SRCS := $(sort $(wildcard runtime/tests/support/*.c))
TEST_SUPPORT_OBJS := $(TEST_SUPPORT_SRCS:%.c=$(O)/%.o)
RUNTIME_TEST_SRCS := $(sort $(wildcard runtime/tests/test_*.c))
RUNTIME_TEST_BINS := $(RUNTIME_TEST_SRCS:runtime/tests/%.c=$(O)/tests/runtime/%)
# Layers append their test binaries to TEST_BINS in their fragments, included
# here so that the rules below see the complete list.
TEST_BINS := $(RUNTIME_TEST_BINS)
-include $(sort $(wildcard */*.mk))

.PHONY: all lib deps test check bench bench-quick race valgrind leakcheck \
        leakcheck-calibrate report gate ci install clean examples format
.DEFAULT_GOAL := all

all: lib

lib: $(LIBGORT_A) $(LIBGORT_SO)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(GORT_CPPFLAGS) $(GORT_CFLAGS) -MMD -MP -c $< -o $@

$(LIBGORT_A): $(RUNTIME_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIBGORT_SO): $(RUNTIME_OBJS)
	$(CC) -shared -Wl,-soname,libgort.so.0 $(GORT_LDFLAGS) -o $@ $^ $(GORT_LIBS)

$(O)/tests/runtime/%: runtime/tests/%.c $(TEST_SUPPORT_OBJS) $(LIBGORT_A)
	@mkdir -p $(dir $@)
	$(CC) $(GORT_CPPFLAGS) -Iruntime/tests $(GORT_CFLAGS) $< $(TEST_SUPPORT_OBJS) $(LIBGORT_A) \
	  $(GORT_LDFLAGS) -lcmocka $(GORT_LIBS) -o $@

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
	@$(MAKE) --no-print-directory test-build
	@$(SAN_ENV) TEST_TIMEOUT=$(TEST_TIMEOUT) ci/run-tests.sh $(TEST_BINS)
	$(if $(SAN),,@$(MAKE) --no-print-directory test-tools)

test-build: lib $(TEST_BINS)
check: test

# ---- install ----------------------------------------------------------------
install: lib
	install -d $(DESTDIR)$(PREFIX)/include/gort $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 runtime/include/gort/*.h $(DESTDIR)$(PREFIX)/include/gort/
	install -m 644 $(LIBGORT_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIBGORT_SO) $(DESTDIR)$(PREFIX)/lib/libgort.so.0
	ln -sf libgort.so.0 $(DESTDIR)$(PREFIX)/lib/libgort.so
	sed -e 's|@PREFIX@|$(PREFIX)|' runtime/gort.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/gort.pc

format:
	clang-format -i $$(git ls-files '*.c' '*.h' '*.cc')

clean:
	rm -rf build reports/out

-include $(RUNTIME_OBJS:.o=.d) $(patsubst %.o,%.d,$(filter %.o,$(TEST_SUPPORT_OBJS)))
