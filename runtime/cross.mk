# runtime/cross.mk - the M:N backend on aarch64, cross-compiled and run under
# qemu-user (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross, qemu-user):
#   make cross-aarch64   builds libgort for aarch64 in build/aarch64 and runs
#                        runtime/tests/cross/smoke.c (channels, select, many
#                        tasks, registers across switches) and bench/park
#                        (20k parked tasks) with GORT_BACKEND=mn (~30 s).
# The cmocka suite does not run there: no cmocka or libdw for the target.
CROSS_AARCH64_CC ?= aarch64-linux-gnu-gcc
CROSS_AARCH64_O := build/aarch64
CROSS_AARCH64_RUN := qemu-aarch64 -L /usr/aarch64-linux-gnu
.PHONY: cross-aarch64
cross-aarch64:
	@command -v $(CROSS_AARCH64_CC) >/dev/null && command -v qemu-aarch64 >/dev/null || \
	  { echo "cross-aarch64: needs $(CROSS_AARCH64_CC) and qemu-aarch64 (gcc-aarch64-linux-gnu, qemu-user)" >&2; exit 2; }
	@$(MAKE) --no-print-directory O=$(CROSS_AARCH64_O) CC=$(CROSS_AARCH64_CC) SAN= $(CROSS_AARCH64_O)/libgort.a
	$(CROSS_AARCH64_CC) $(GORT_CPPFLAGS) -std=c11 $(WARN) -O2 -g -pthread runtime/tests/cross/smoke.c \
	  $(CROSS_AARCH64_O)/libgort.a -lm -o $(CROSS_AARCH64_O)/smoke
	$(CROSS_AARCH64_CC) $(GORT_CPPFLAGS) -std=c11 $(WARN) -O2 -g -pthread bench/park/park.c \
	  $(CROSS_AARCH64_O)/libgort.a -lm -o $(CROSS_AARCH64_O)/gort-park
	GORT_BACKEND=mn timeout 120 $(CROSS_AARCH64_RUN) $(CROSS_AARCH64_O)/smoke
	GORT_BACKEND=thread timeout 120 $(CROSS_AARCH64_RUN) $(CROSS_AARCH64_O)/gort-park 2000
	GORT_BACKEND=mn timeout 120 $(CROSS_AARCH64_RUN) $(CROSS_AARCH64_O)/gort-park 20000
