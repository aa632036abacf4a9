/* alloc.c - the runtime's replaceable, counted allocator. */
#include <stdlib.h>

#include "internal.h"
#include "local.h"

static _Atomic(void *(*)(size_t)) user_malloc;
static _Atomic(void *(*)(size_t, size_t)) user_calloc;
static _Atomic(void (*)(void *)) user_free;

void gort_set_allocator(const gort_allocator *a) {
  atomic_store(&user_malloc, a ? a->malloc : NULL);
  atomic_store(&user_calloc, a ? a->calloc : NULL);
  atomic_store(&user_free, a ? a->free : NULL);
}

void *gort__malloc(size_t n) {
  void *(*m)(size_t) = atomic_load_explicit(&user_malloc, memory_order_relaxed);
  void *p = m ? m(n) : malloc(n);
  if (p) {
    gort__stat_add(GORT__STAT_ALLOCS, 1);
    gort__stat_add(GORT__STAT_BYTES, n);
  }
  return p;
}

void *gort__calloc(size_t n, size_t size) {
  void *(*c)(size_t, size_t) = atomic_load_explicit(&user_calloc, memory_order_relaxed);
  void *p = c ? c(n, size) : calloc(n, size);
  if (p) {
    gort__stat_add(GORT__STAT_ALLOCS, 1);
    gort__stat_add(GORT__STAT_BYTES, n * size);
  }
  return p;
}

bool gort__allocator_default(void) {
  return atomic_load_explicit(&user_malloc, memory_order_relaxed) == NULL &&
         atomic_load_explicit(&user_free, memory_order_relaxed) == NULL;
}

void gort__count_alloc(size_t n) {
  gort__stat_add(GORT__STAT_ALLOCS, 1);
  gort__stat_add(GORT__STAT_BYTES, n);
}

void gort__count_free(void) { gort__stat_add(GORT__STAT_FREES, 1); }

void gort__free(void *p) {
  if (!p) return;
  gort__stat_add(GORT__STAT_FREES, 1);
  void (*f)(void *) = atomic_load_explicit(&user_free, memory_order_relaxed);
  if (f)
    f(p);
  else
    free(p);
}
