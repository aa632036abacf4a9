/* stack.c - green task stacks: mmap'd, with a PROT_NONE guard page below,
 * kept in a cache, and the reporter that names the task whose stack
 * overflowed.
 *
 * Layout of one mapping: [guard | stack ......... | G]. The G record sits at
 * the top, so a spawn allocates nothing but (rarely) the mapping. A fresh
 * mmap plus first touch costs 8-15 us on this machine, so freed stacks go to
 * the M's own cache (MN_STACK_CACHE_PER_M, no lock), then to a global cache
 * of GORT_STACK_CACHE stacks (default 256, under a lock), and only then back
 * to the kernel. A stack of a size other than the current
 * gort_get_stack_size() is never reused.
 *
 * Overflow: each worker has an alternate signal stack; a SIGSEGV whose
 * address lies in the running G's guard page prints
 * "fatal error: stack overflow in task N "name"" and dies by the signal.
 * Any other SIGSEGV goes to the handler that was there before (installed
 * once, when the first worker starts; a handler installed later wins).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mn/mn.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define GORT_MN_VALGRIND 1
#endif
#endif
#ifdef GORT_MN_ASAN
#include <sanitizer/asan_interface.h>
#endif

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static gort__g *cache_head; /* cache_lock */
static int cache_count;     /* cache_lock */
static int cache_max = -1;

static size_t page_size(void) {
  static size_t page; /* sysconf is a call per use otherwise; racy init is benign */
  size_t p = __atomic_load_n(&page, __ATOMIC_RELAXED);
  if (p == 0) {
    p = (size_t)sysconf(_SC_PAGESIZE);
    __atomic_store_n(&page, p, __ATOMIC_RELAXED);
  }
  return p;
}

static gort__g *stack_map(size_t size) {
  size_t guard = page_size();
  size = (size + guard - 1) & ~(guard - 1);
  size_t len = size + guard;
  char *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (map == MAP_FAILED) return NULL;
  if (mprotect(map, guard, PROT_NONE) != 0) {
    munmap(map, len);
    return NULL;
  }
  gort__g *g = (gort__g *)((uintptr_t)(map + len - sizeof(gort__g)) & ~(uintptr_t)63);
  memset(g, 0, sizeof *g);
  g->map = map;
  g->map_size = len;
  g->guard = guard;
#ifdef GORT_MN_VALGRIND
  g->valgrind_id = VALGRIND_STACK_REGISTER(map + guard, map + len);
#endif
  return g;
}

static void stack_unmap(gort__g *g) {
#ifdef GORT_MN_VALGRIND
  VALGRIND_STACK_DEREGISTER(g->valgrind_id);
#endif
  munmap(g->map, g->map_size);
}

static bool fits(const gort__g *g, size_t want) {
  size_t guard = page_size();
  return g->map_size == ((want + guard - 1) & ~(guard - 1)) + guard;
}

/* Reset the G part of a cached stack for its next task. */
static gort__g *reuse(gort__g *g) {
  char *map = g->map;
  size_t len = g->map_size, guard = g->guard;
  unsigned vid = g->valgrind_id;
  memset(g, 0, sizeof *g);
  g->map = map;
  g->map_size = len;
  g->guard = guard;
  g->valgrind_id = vid;
  return g;
}

gort__g *gort__stack_get(gort__m *m) {
  size_t want = gort_get_stack_size();
  while (m && m->scache) {
    gort__g *g = m->scache;
    m->scache = g->cache_next;
    m->nscache--;
    if (fits(g, want)) return reuse(g);
    stack_unmap(g);
  }
  for (;;) {
    pthread_mutex_lock(&cache_lock);
    gort__g *g = cache_head;
    if (g) {
      cache_head = g->cache_next;
      cache_count--;
    }
    pthread_mutex_unlock(&cache_lock);
    if (!g) break;
    if (fits(g, want)) return reuse(g);
    stack_unmap(g);
  }
  return stack_map(want);
}

static int global_cache_max(void) {
  int n = __atomic_load_n(&cache_max, __ATOMIC_RELAXED);
  if (n < 0) {
    const char *env = getenv("GORT_STACK_CACHE");
    n = env ? atoi(env) : 16384;
    if (n < 0) n = 0;
    __atomic_store_n(&cache_max, n, __ATOMIC_RELAXED);
  }
  return n;
}

/* Called on the scheduler's stack once g's task has exited. */
void gort__stack_put(gort__m *m, gort__g *g) {
#ifdef GORT_MN_ASAN
  /* Frames of the dead task leave poisoned redzones behind. */
  ASAN_UNPOISON_MEMORY_REGION(g->map + g->guard, (size_t)((char *)g - (g->map + g->guard)));
#endif
#ifdef GORT_MN_TSAN
  /* TSan remembers the dead task's accesses to its stack: the next task on
   * it would race with them (fiber switches order nothing). munmap makes
   * TSan forget them, as a thread's exit does for its stack: no cache. */
  stack_unmap(g);
  return;
#endif
  if (m && m->nscache < MN_STACK_CACHE_PER_M) {
    g->cache_next = m->scache;
    m->scache = g;
    m->nscache++;
    return;
  }
  pthread_mutex_lock(&cache_lock);
  bool keep = cache_count < global_cache_max();
  if (keep) {
    g->cache_next = cache_head;
    cache_head = g;
    cache_count++;
  }
  pthread_mutex_unlock(&cache_lock);
  if (!keep) stack_unmap(g);
}

void gort__stack_cache_trim(int keep) {
  for (;;) {
    pthread_mutex_lock(&cache_lock);
    gort__g *g = cache_count > keep ? cache_head : NULL;
    if (g) {
      cache_head = g->cache_next;
      cache_count--;
    }
    pthread_mutex_unlock(&cache_lock);
    if (!g) return;
    stack_unmap(g);
  }
}

/* m's cache to the global one (m exits); with m NULL, unmap the global
 * cache (quiesce). */
void gort__stack_cache_drain(gort__m *m) {
  if (m) {
    while (m->scache) {
      gort__g *g = m->scache;
      m->scache = g->cache_next;
      m->nscache--;
      gort__stack_put(NULL, g);
    }
    return;
  }
  pthread_mutex_lock(&cache_lock);
  gort__g *g = cache_head;
  cache_head = NULL;
  cache_count = 0;
  pthread_mutex_unlock(&cache_lock);
  while (g) {
    gort__g *next = g->cache_next;
    stack_unmap(g);
    g = next;
  }
}

/* ---- overflow reporting ---- */

static struct sigaction old_segv;
static pthread_once_t guard_once = PTHREAD_ONCE_INIT;
static bool guard_installed;

static void write_str(const char *s) {
  size_t n = strlen(s);
  while (n > 0) {
    ssize_t w = write(STDERR_FILENO, s, n);
    if (w <= 0) return;
    s += w;
    n -= (size_t)w;
  }
}

static void on_segv(int sig, siginfo_t *si, void *uc) {
  gort__g *g = gort__mn_current_g();
  char *addr = si->si_addr;
  if (g && addr >= g->map && addr < g->map + g->guard) {
    char line[160];
    snprintf(line, sizeof line, "fatal error: stack overflow in task %llu \"%s\" (stack %zu bytes)\n",
             (unsigned long long)g->task->id, g->task->name, g->map_size - g->guard);
    write_str(line);
    signal(SIGSEGV, SIG_DFL); /* returning re-faults and dies by SIGSEGV */
    return;
  }
  /* Not ours: chain to the handler that was there before (as Go does), or
   * put the default back and let the re-fault take it. */
  if (old_segv.sa_flags & SA_SIGINFO) {
    if (old_segv.sa_sigaction) {
      old_segv.sa_sigaction(sig, si, uc);
      return;
    }
  } else if (old_segv.sa_handler != SIG_DFL && old_segv.sa_handler != SIG_IGN) {
    old_segv.sa_handler(sig);
    return;
  }
  signal(SIGSEGV, SIG_DFL);
}

static void install_guard(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGSEGV, &sa, &old_segv) == 0) guard_installed = true;
}

#define ALTSTACK_SIZE ((size_t)64 * 1024)

void gort__stack_guard_thread_init(gort__m *m) {
  pthread_once(&guard_once, install_guard);
  if (!guard_installed) return;
  char *alt = mmap(NULL, ALTSTACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (alt == MAP_FAILED) return;
  stack_t ss = {.ss_sp = alt, .ss_size = ALTSTACK_SIZE, .ss_flags = 0};
  if (sigaltstack(&ss, NULL) != 0) {
    munmap(alt, ALTSTACK_SIZE);
    return;
  }
  m->altstack = alt;
}

void gort__stack_guard_thread_exit(gort__m *m) {
  if (!m->altstack) return;
  stack_t ss = {.ss_sp = NULL, .ss_size = 0, .ss_flags = SS_DISABLE};
  sigaltstack(&ss, NULL);
  munmap(m->altstack, ALTSTACK_SIZE);
  m->altstack = NULL;
}
