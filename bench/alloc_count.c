/* alloc_count.c - allocation accounting for the bench binary, like
 * `go test -benchmem`: every malloc-family call in the process (gort, libc,
 * libstdc++, Google Benchmark) is counted, with the bytes requested.
 *
 * How: this file, linked into the executable, defines malloc, calloc,
 * realloc, reallocarray, free, posix_memalign, aligned_alloc, memalign,
 * valloc and pvalloc. The dynamic linker binds every caller in the process to
 * the executable's definitions (glibc supports replacing malloc this way, and
 * its own internal callers go through the same symbols); each one counts and
 * forwards to glibc's allocator through its __libc_* entry points, so the
 * memory is glibc's and malloc_usable_size, mallinfo etc. keep working.
 *
 * Invariants:
 *  - counting never allocates and never takes a lock: each thread adds to one
 *    of STRIPES cache-line-sized stripes with relaxed atomic adds; a thread
 *    picks its stripe once (round robin) and remembers it in an initial-exec
 *    TLS slot, so threads rarely share a stripe and never share it with the
 *    reader's hot path. gort_alloc_totals sums the stripes: a relaxed
 *    snapshot, exact once the counting threads have synchronised with the
 *    reader (the benchmark's own wait/join gives that before a run ends);
 *  - counters only grow; the bench shim takes differences;
 *  - an allocation is counted once, at the size requested: realloc counts as
 *    one allocation of its new size (as Go counts growslice), realloc(p, 0)
 *    and free count nothing; a failed call counts nothing.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gort_bench.h"

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t align, size_t n);
extern void *__libc_valloc(size_t n);
extern void *__libc_pvalloc(size_t n);

#define STRIPES 64

typedef struct {
  alignas(64) _Atomic uint64_t allocs;
  _Atomic uint64_t bytes;
} stripe;

static stripe stripes[STRIPES];
static _Atomic unsigned next_stripe;
static _Atomic bool counting;
/* UINT32_MAX until the thread's first allocation. initial-exec: the slot is
 * in the static TLS block, so reading it never calls into the allocator. */
static __thread __attribute__((tls_model("initial-exec"))) uint32_t my_stripe = UINT32_MAX;

static inline void count(size_t n) {
  uint32_t s = my_stripe;
  if (__builtin_expect(s == UINT32_MAX, 0)) {
    s = atomic_fetch_add_explicit(&next_stripe, 1, memory_order_relaxed) % STRIPES;
    my_stripe = s;
    atomic_store_explicit(&counting, true, memory_order_relaxed);
  }
  atomic_fetch_add_explicit(&stripes[s].allocs, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&stripes[s].bytes, n, memory_order_relaxed);
}

void gort_alloc_totals(uint64_t *allocs, uint64_t *bytes) {
  uint64_t a = 0, b = 0;
  for (int i = 0; i < STRIPES; i++) {
    a += atomic_load_explicit(&stripes[i].allocs, memory_order_relaxed);
    b += atomic_load_explicit(&stripes[i].bytes, memory_order_relaxed);
  }
  if (allocs) *allocs = a;
  if (bytes) *bytes = b;
}

bool gort_alloc_counting(void) { return atomic_load_explicit(&counting, memory_order_relaxed); }

void *malloc(size_t n) {
  void *p = __libc_malloc(n);
  if (p) count(n);
  return p;
}

void *calloc(size_t n, size_t size) {
  void *p = __libc_calloc(n, size);
  if (p) count(n * size); /* no overflow: glibc refused those */
  return p;
}

void *realloc(void *old, size_t n) {
  void *p = __libc_realloc(old, n);
  if (p && n) count(n);
  return p;
}

void *reallocarray(void *old, size_t n, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(n, size, &total)) {
    errno = ENOMEM;
    return NULL;
  }
  return realloc(old, total);
}

void free(void *p) { __libc_free(p); }

void *memalign(size_t align, size_t n) {
  void *p = __libc_memalign(align, n);
  if (p) count(n);
  return p;
}

void *aligned_alloc(size_t align, size_t n) { return memalign(align, n); }

int posix_memalign(void **out, size_t align, size_t n) {
  if (align % sizeof(void *) != 0 || (align & (align - 1)) != 0 || align == 0) return EINVAL;
  void *p = __libc_memalign(align, n);
  if (!p) return ENOMEM;
  count(n);
  *out = p;
  return 0;
}

void *valloc(size_t n) {
  void *p = __libc_valloc(n);
  if (p) count(n);
  return p;
}

void *pvalloc(size_t n) {
  void *p = __libc_pvalloc(n);
  if (p) count(n);
  return p;
}
