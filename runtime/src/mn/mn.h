/* runtime/src/mn/mn.h - the M:N backend's private types: G (a green task's
 * context), M (a worker OS thread), P (a processor: the right to run Gs,
 * with its local run queue). Only mn/ includes this.
 */
#ifndef GORT_MN_H
#define GORT_MN_H

#include "backend.h"
#include "threads/token.h"

/* Sanitizer and Valgrind awareness (fiber interfaces). ThreadSanitizer
 * must not instrument the scheduler (mn.c says why): the Makefile compiles
 * mn/ without it in a TSan build (TSAN_UNINSTRUMENTED) and says so. */
#if defined(GORT_TSAN_UNINSTRUMENTED)
#define GORT_MN_TSAN 1
#elif defined(__SANITIZE_THREAD__)
#error "compile runtime/src/mn/ without -fsanitize=thread (Makefile: TSAN_UNINSTRUMENTED)"
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#error "compile runtime/src/mn/ without -fsanitize=thread (Makefile: TSAN_UNINSTRUMENTED)"
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define GORT_MN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GORT_MN_ASAN 1
#endif
#endif

typedef struct gort__g gort__g;
typedef struct gort__m gort__m;
typedef struct gort__p gort__p;

/* G status. A G is RUNNING from the moment an M switches to it until it
 * parks; a ready that arrives while it still RUNNING leaves a TOKEN that its
 * park consumes without switching (scheduler.h, step 4). */
enum { G_RUNNING, G_TOKEN, G_WAITING, G_RUNNABLE };

/* A green task. One per stack slot, kept beside its arena's others (stack.c):
 * no allocation per spawn, and a run queue walk touches cache lines, not a
 * page per G. Two lines, never shared with another G. */
struct gort__g {
  _Alignas(64) void *sp;                /* saved stack pointer while switched out */
  gort__task *task;
  _Atomic uint32_t status; /* G_* */
  gort__g *next;           /* next G of its batch in the global run queue */
  gort__g *gq_next;        /* a batch's first G: the next batch (sched lock) */
  gort__g *gq_last;        /* a batch's first G: its last G */
  int64_t gq_n;            /* a batch's first G: its length */
  char *map;               /* its slot: the guard, then the stack */
  size_t map_size, guard;  /* the slot's size and the guard's */
  void *arena;             /* the mapping that holds the slot (stack.c) */
  gort__g *cache_next;     /* M's stack cache link */
  void *tsan_fiber;
  void *asan_fake;         /* ASan's fake stack while switched out */
};

/* Context switch (ctx.c): save callee-saved registers on the current stack,
 * store its sp in *save, load to_sp and return into that context. */
void gort__ctx_switch(void **save, void *to_sp);
/* Build a fresh context on [lo, top) that calls entry(arg) when switched to. */
void *gort__ctx_make(char *top, void (*entry)(void *), void *arg);

/* Stacks (stack.c): guarded slots of gort_get_stack_size() bytes in shared
 * mappings, each with its G in the arena's array, kept warm for reuse. get: 0 and a fresh G
 * in *out, GORT_ENOMEM, or GORT_ETHREAD when the kernel refuses another
 * mapping (vm.max_map_count). */
int gort__stack_get(gort__m *m, gort__g **out);
void gort__stack_put(gort__m *m, gort__g *g);
void gort__stack_cache_drain(gort__m *m);
/* Release the pages of free stacks beyond keep. */
void gort__stack_cache_trim(int keep);
#define MN_STACK_CACHE_IDLE 256
/* Install the overflow reporter (once) and this thread's signal stack. */
void gort__stack_guard_thread_init(gort__m *m);
void gort__stack_guard_thread_exit(gort__m *m);
/* The G whose stack guard holds addr, on this M (for the reporter). */
gort__g *gort__mn_current_g(void);

#define MN_STACK_CACHE_PER_M 32

struct gort__m {
  gort__thread th;      /* tid, and the token it sleeps on when idle */
  void *g0_sp;          /* the scheduler's context while a G runs */
  gort__g *curg;
  gort__p *p;           /* the P it runs, NULL while idle or in a syscall */
  gort__p *nextp;       /* handed over with the wake-up */
  int after;            /* what the scheduler does once a G switched out */
  bool spinning;
  gort__m *idle_next;   /* sched lock */
  gort__m *all_next;    /* sched lock */
  gort__g *scache;      /* this M's stack cache */
  int nscache;
  char *altstack;
  void *g0_tsan_fiber;
  void *g0_asan_fake;
  const void *g0_lo;    /* the thread's own stack, for ASan's switch */
  size_t g0_size;
};

#endif
