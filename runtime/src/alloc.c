/* alloc.c - the runtime's replaceable, counted allocator. */
#include <stdlib.h>

#include "internal.h"

static _Atomic(void *(*)(size_t)) user_malloc;
static _Atomic(void *(*)(size_t, size_t)) user_calloc;
static _Atomic(void (*)(void *)) user_free;

_Atomic uint64_t gort__allocs, gort__frees, gort__alloc_bytes;

void gort_set_allocator(const gort_allocator *a) {
  atomic_store(&user_malloc, a ? a->malloc : NULL);
  atomic_store(&user_calloc, a ? a->calloc : NULL);
  atomic_store(&user_free, a ? a->free : NULL);
}

void *gort__malloc(size_t n) {
  void *(*m)(size_t) = atomic_load_explicit(&user_malloc, memory_order_relaxed);
  void *p = m ? m(n) : malloc(n);
  if (p) {
    atomic_fetch_add_explicit(&gort__allocs, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&gort__alloc_bytes, n, memory_order_relaxed);
  }
  return p;
}

void *gort__calloc(size_t n, size_t size) {
  void *(*c)(size_t, size_t) = atomic_load_explicit(&user_calloc, memory_order_relaxed);
  void *p = c ? c(n, size) : calloc(n, size);
  if (p) {
    atomic_fetch_add_explicit(&gort__allocs, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&gort__alloc_bytes, n * size, memory_order_relaxed);
  }
  return p;
}

bool gort__allocator_default(void) {
  return atomic_load_explicit(&user_malloc, memory_order_relaxed) == NULL &&
         atomic_load_explicit(&user_free, memory_order_relaxed) == NULL;
}

void gort__count_alloc(size_t n) {
  atomic_fetch_add_explicit(&gort__allocs, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&gort__alloc_bytes, n, memory_order_relaxed);
}

void gort__count_free(void) { atomic_fetch_add_explicit(&gort__frees, 1, memory_order_relaxed); }

void gort__free(void *p) {
  if (!p) return;
  atomic_fetch_add_explicit(&gort__frees, 1, memory_order_relaxed);
  void (*f)(void *) = atomic_load_explicit(&user_free, memory_order_relaxed);
  if (f)
    f(p);
  else
    free(p);
}
