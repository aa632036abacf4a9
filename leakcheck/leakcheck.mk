# leakcheck/leakcheck.mk - goleak-style leak detection (included by the top Makefile).
#
#   $(O)/leakcheck/libgort_leakcheck.a   the library, linked into test binaries
#   $(O)/leakcheck/libgort_leakcheck.so  the same, for LD_PRELOAD into any binary
#   $(O)/leakcheck/leakcheck             the command
#   make leakcheck             every test of runtime/ and patterns/ under leakcheck:
#                              native (tasks, threads, fds), SAN=address (+ LSan heap)
#                              and Valgrind (+ memcheck heap); reports/out/leakcheck.json
#   make leakcheck-calibrate   the calibration programs; reports/out/leakcheck-calibration.json

LEAKCHECK_CORE_SRCS := $(addprefix leakcheck/src/,lc_check.c lc_heap.c lc_proc.c lc_report.c lc_timer.c \
                         lc_stack.c lc_sym.c)
LEAKCHECK_CORE_OBJS := $(LEAKCHECK_CORE_SRCS:%.c=$(O)/%.o)
LEAKCHECK_CMOCKA_OBJ := $(O)/leakcheck/src/lc_cmocka.o
LEAKCHECK_PRELOAD_OBJS := $(LEAKCHECK_CORE_SRCS:leakcheck/src/%.c=$(O)/leakcheck/preload/%.o)
LEAKCHECK_A := $(O)/leakcheck/libgort_leakcheck.a
LEAKCHECK_SO := $(O)/leakcheck/libgort_leakcheck.so
LEAKCHECK_CMD := $(O)/leakcheck/leakcheck
LEAKCHECK_TOOLS := $(LEAKCHECK_A) $(LEAKCHECK_SO) $(LEAKCHECK_CMD)

# Every test program may include gort/leakcheck.h and link the library: the
# test support turns the per-test check on (see leakcheck/README.md). Members
# of the archive are only linked when something calls them.
LEAKCHECK_CPPFLAGS := $(GORT_CPPFLAGS) -Ileakcheck/include
# Symbolisation is elfutils' (libdw-dev): whatever links the library links
# these too. Only test programs do, so the runtime itself stays libc-only.
LEAKCHECK_LIBS := -ldw -lelf

.PHONY: leakcheck-tools
leakcheck-tools: $(LEAKCHECK_TOOLS)

# Library objects export only their GORT_API declarations.
$(O)/leakcheck/src/%.o: leakcheck/src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(LEAKCHECK_CPPFLAGS) $(GORT_CFLAGS) $(LIB_VISIBILITY) -MMD -MP -c $< -o $@

$(LEAKCHECK_A): $(LEAKCHECK_CORE_OBJS) $(LEAKCHECK_CMOCKA_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# The preload build: the runtime's symbols are weak references, so the
# library loads into binaries without gort too (then it has no task layer).
# It goes into Valgrind runs too: DWARF 4, which Valgrind 3.19 reads from
# clang builds as well.
$(O)/leakcheck/preload/%.o: leakcheck/src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(LEAKCHECK_CPPFLAGS) -DGORT_LC_PRELOAD $(GORT_CFLAGS) $(LIB_VISIBILITY) -gdwarf-4 -MMD -MP -c $< -o $@

$(LEAKCHECK_SO): $(LEAKCHECK_PRELOAD_OBJS)
	$(CC) -shared $(GORT_LDFLAGS) -o $@ $^ $(LEAKCHECK_LIBS)

LEAKCHECK_HDRS := leakcheck/src/lc_internal.h leakcheck/include/gort/leakcheck.h \
                  leakcheck/include/gort/leakcheck_cmocka.h

$(LEAKCHECK_CMD): leakcheck/tool/leakcheck.c $(O)/leakcheck/src/lc_sym.o \
                  $(O)/leakcheck/src/lc_heap.o $(O)/leakcheck/src/lc_report.o $(LEAKCHECK_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(LEAKCHECK_CPPFLAGS) -Ileakcheck/src $(GORT_CFLAGS) $(filter %.c %.o,$^) $(GORT_LDFLAGS) \
	  -ljansson $(LEAKCHECK_LIBS) -o $@

# ---- leakcheck's own tests ---------------------------------------------------
LEAKCHECK_TEST_SRCS := $(sort $(wildcard leakcheck/tests/test_*.c))
LEAKCHECK_TEST_BINS := $(LEAKCHECK_TEST_SRCS:leakcheck/tests/%.c=$(O)/tests/leakcheck/%)
TEST_BINS += $(LEAKCHECK_TEST_BINS)
PUBLIC_HDRS += $(sort $(wildcard leakcheck/include/gort/*.h))

# A cmocka program that uses the integration as a user would; test_lc_cmocka
# runs it.
LEAKCHECK_HELPER := $(O)/tests/leakcheck-helpers/helper_cmocka_group
$(LEAKCHECK_HELPER): leakcheck/tests/helper_cmocka_group.c $(LEAKCHECK_A) $(LIBGORT_A) \
                     $(LEAKCHECK_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(LEAKCHECK_CPPFLAGS) $(GORT_CFLAGS) $< $(LEAKCHECK_A) $(LIBGORT_A) $(GORT_LDFLAGS) -lcmocka \
	  $(GORT_LIBS) $(LEAKCHECK_LIBS) -o $@
$(O)/tests/leakcheck/test_lc_cmocka: $(LEAKCHECK_HELPER)

$(O)/tests/leakcheck/%: leakcheck/tests/%.c $$(TEST_LIBS) $(LIBGORT_A) $(LEAKCHECK_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(LEAKCHECK_CPPFLAGS) $(TEST_CPPFLAGS) -Ileakcheck/src $(GORT_CFLAGS) \
	  -DLEAKCHECK_GOLDEN_DIR='"$(CURDIR)/leakcheck/tests/golden"' \
	  -DLEAKCHECK_HELPER='"$(abspath $(LEAKCHECK_HELPER))"' $(LEAKCHECK_TEST_DEFS) $< \
	  $(TEST_LIBS) $(LIBGORT_A) $(GORT_LDFLAGS) $(TEST_LDLIBS) $(GORT_LIBS) -o $@

# ---- calibration ---------------------------------------------------------------
# Each leakcheck/calibration/<case>.c builds twice: <case> leaks one way,
# <case>_fixed (-DLEAKCHECK_FIXED) is its fixed twin. heap_malloc also builds
# with LeakSanitizer alone, to calibrate that heap backend.
LEAKCHECK_CALIB_SRCS := $(sort $(wildcard leakcheck/calibration/*.c))
LEAKCHECK_CALIB_DIR := $(O)/leakcheck/calibration
LEAKCHECK_CALIB_BINS := $(foreach s,$(LEAKCHECK_CALIB_SRCS:leakcheck/calibration/%.c=%), \
                          $(LEAKCHECK_CALIB_DIR)/$(s) $(LEAKCHECK_CALIB_DIR)/$(s)_fixed) \
                        $(LEAKCHECK_CALIB_DIR)/heap_malloc_lsan $(LEAKCHECK_CALIB_DIR)/heap_malloc_lsan_fixed
# Calibration programs are ordinary user programs: plain flags, no sanitizer.
# DWARF 4: Valgrind 3.19 cannot read the DWARF 5 that clang 14 emits.
LEAKCHECK_CALIB_CFLAGS := -std=c11 $(WARN) -pthread -fno-omit-frame-pointer -O1 -g -gdwarf-4
LEAKCHECK_CALIB_LINK := -pthread -rdynamic

$(LEAKCHECK_CALIB_DIR)/heap_malloc_lsan: leakcheck/calibration/heap_malloc.c
	@mkdir -p $(dir $@)
	$(CC) $(LEAKCHECK_CPPFLAGS) $(LEAKCHECK_CALIB_CFLAGS) -fsanitize=leak $< $(LEAKCHECK_CALIB_LINK) \
	  -fsanitize=leak -o $@
$(LEAKCHECK_CALIB_DIR)/heap_malloc_lsan_fixed: leakcheck/calibration/heap_malloc.c
	@mkdir -p $(dir $@)
	$(CC) $(LEAKCHECK_CPPFLAGS) $(LEAKCHECK_CALIB_CFLAGS) -DLEAKCHECK_FIXED -fsanitize=leak $< \
	  $(LEAKCHECK_CALIB_LINK) -fsanitize=leak -o $@
$(LEAKCHECK_CALIB_DIR)/%_fixed: leakcheck/calibration/%.c $(LIBGORT_A)
	@mkdir -p $(dir $@)
	$(CC) $(LEAKCHECK_CPPFLAGS) $(LEAKCHECK_CALIB_CFLAGS) -DLEAKCHECK_FIXED $< $(LIBGORT_A) \
	  $(LEAKCHECK_CALIB_LINK) $(GORT_LIBS) -o $@
$(LEAKCHECK_CALIB_DIR)/%: leakcheck/calibration/%.c $(LIBGORT_A)
	@mkdir -p $(dir $@)
	$(CC) $(LEAKCHECK_CPPFLAGS) $(LEAKCHECK_CALIB_CFLAGS) $< $(LIBGORT_A) $(LEAKCHECK_CALIB_LINK) \
	  $(GORT_LIBS) -o $@

LEAKCHECK_CALIB_RUNS ?= 50
leakcheck-calibrate: $(LEAKCHECK_TOOLS) $(LEAKCHECK_CALIB_BINS)
	@mkdir -p reports/out
	$(LEAKCHECK_CMD) --calibrate leakcheck/calibration/cases.txt --bindir $(LEAKCHECK_CALIB_DIR) \
	  --runs $(LEAKCHECK_CALIB_RUNS) -j 2 --json reports/out/leakcheck-calibration.json

# ---- make leakcheck ------------------------------------------------------------
LEAKCHECK_BINS = $(filter $(O)/tests/runtime/% $(O)/tests/patterns/%,$(TEST_BINS))
LEAKCHECK_ASAN_O := $(O)-leakcheck-asan
LEAKCHECK_JOBS ?= 2

leakcheck:
	@$(MAKE) --no-print-directory lib leakcheck-tools $(LEAKCHECK_BINS)
	@$(MAKE) --no-print-directory O=$(LEAKCHECK_ASAN_O) SAN=address lib leakcheck-tools \
	  $(patsubst $(O)/%,$(LEAKCHECK_ASAN_O)/%,$(LEAKCHECK_BINS))
	@LEAKCHECK_JOBS=$(LEAKCHECK_JOBS) leakcheck/run-leakcheck.sh $(O) $(LEAKCHECK_ASAN_O) \
	  reports/out/leakcheck.json $(patsubst $(O)/%,%,$(LEAKCHECK_BINS))

-include $(LEAKCHECK_CORE_OBJS:.o=.d) $(LEAKCHECK_CMOCKA_OBJ:.o=.d) $(LEAKCHECK_PRELOAD_OBJS:.o=.d)

# make install also installs leakcheck: headers and the static library for
# users' own cmocka tests (the README's three lines), gort_leakcheck.pc, the
# preload library that lets gort-leakcheck check any dynamically linked
# program, and the command. The preload goes to lib/gort/, off the linker's
# path, so that -lgort_leakcheck always means the static library (the
# preload build lacks the cmocka integration); the command finds it next to
# itself (build tree) or in ../lib/gort (installed).
install: install-leakcheck
.PHONY: install-leakcheck
install-leakcheck: $(LEAKCHECK_A) $(LEAKCHECK_SO) $(LEAKCHECK_CMD)
	install -d $(DESTDIR)$(PREFIX)/include/gort $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	  $(DESTDIR)$(PREFIX)/bin
	install -m 644 leakcheck/include/gort/*.h $(DESTDIR)$(PREFIX)/include/gort/
	install -m 644 $(LEAKCHECK_A) $(DESTDIR)$(PREFIX)/lib/
	install -d $(DESTDIR)$(PREFIX)/lib/gort
	install -m 755 $(LEAKCHECK_SO) $(DESTDIR)$(PREFIX)/lib/gort/
	install -m 755 $(LEAKCHECK_CMD) $(DESTDIR)$(PREFIX)/bin/gort-leakcheck
	sed -e 's|@PREFIX@|$(PREFIX)|' leakcheck/gort_leakcheck.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/gort_leakcheck.pc

# ---- the installed command, tested from outside -------------------------------
# test_lc_installed runs leakcheck/tests/test_lc_installed.sh, which installs
# into an empty prefix and checks plain C programs that never heard of gort.
$(O)/tests/leakcheck/test_lc_installed: leakcheck/tests/test_lc_installed.sh
$(O)/tests/leakcheck/test_lc_installed: private LEAKCHECK_TEST_DEFS = \
  -DLEAKCHECK_INSTALLED_SH='"$(CURDIR)/leakcheck/tests/test_lc_installed.sh"' \
  -DLEAKCHECK_SRCDIR='"$(CURDIR)"' -DLEAKCHECK_CC='"$(CC)"'
