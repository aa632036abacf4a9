/* stack.c - green task stacks: carved from arenas of guarded slots, kept
 * warm for reuse, and the reporter that names the task whose stack
 * overflowed.
 *
 * An arena is one mapping of n slots, each [guard | stack .......], and an
 * array of their n G records in its header (a G at the top of its stack put
 * each G on a page of its own: a run queue walk missed the TLB on every
 * one), so a spawn allocates nothing but (rarely) an arena. Guards: Linux 6.13+ has madvise(MADV_GUARD_INSTALL),
 * guard regions that do not split the mapping, so a million stacks cost a
 * few thousand mappings. Older kernels get mprotect(PROT_NONE): two mappings
 * per stack, so vm.max_map_count (65530 by default) caps the task count near
 * 32k; a spawn past it fails with GORT_ETHREAD and a message naming the
 * limit. GORT_STACK_GUARD=mprotect forces the old way (tests). The guard is
 * 64 KiB (at least a page): below it lies the next slot's stack top, and
 * gcc's stack clash protection assumes that much on aarch64.
 *
 * Reuse: a fresh slot costs a guard install and a page fault on first touch
 * (several us here), so a freed stack goes to its M's cache
 * (MN_STACK_CACHE_PER_M, no lock), then back to its arena "dirty" (pages
 * still resident; the last freed is reused first). When more than
 * GORT_STACK_CACHE (default 16384) slots are dirty, a purge unmaps arenas
 * with no stack in use and releases the pages of the others' free slots
 * (MADV_DONTNEED, one call per run of free slots: each is a TLB shootdown,
 * ~25 us here with a second thread running). A stack of a size other than
 * the current gort_get_stack_size() is never reused.
 *
 * Overflow: each worker has an alternate signal stack; a SIGSEGV whose
 * address lies in the running G's guard prints
 * "fatal error: stack overflow in task N "name"" and dies by the signal.
 * Any other SIGSEGV goes to the handler that was there before (installed
 * once, when the first worker starts; a handler installed later wins).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hb.h"
#include "lock.h"
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

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102 /* Linux 6.13 */
#endif

#define GUARD_BYTES ((size_t)64 << 10)
#define ARENA_BYTES ((size_t)64 << 20)

enum { SLOT_LIVE = 1, SLOT_DIRTY, SLOT_COLD };
enum { GUARD_UNKNOWN, GUARD_MADVISE, GUARD_MPROTECT };

typedef struct stack_arena stack_arena;
struct stack_arena {
  stack_arena *all_prev, *all_next;     /* every arena */
  stack_arena *avail_prev, *avail_next; /* arenas of the current size with a slot to give */
  bool in_avail;
  char *base;
  size_t slot, guard; /* slot = guard + stack */
  int nslots;
  int carved; /* slots [0, carved) have been handed out at least once */
  int live;   /* slots in use or in an M's cache */
  int ndirty; /* free slots whose pages are still resident */
  int nfree;
  int *free;      /* free carved slots, a stack: the last freed on top */
  uint8_t *state; /* SLOT_* of each carved slot */
  unsigned *vid;  /* Valgrind's id of each carved slot's stack */
  gort__g *gs;    /* the G of each slot, side by side (cache lines, not pages apart) */
};

/* Everything below is under lock; a spawn takes it only when its M's cache
 * is empty. */
static gort__lock lock; /* spin-then-futex: a spawn or exit waits for a few dozen instructions */
static stack_arena *all_head, *avail_head;
static int ndirty_total;
static int guard_mode;
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

/* The slot for a stack of want bytes: guard + want rounded up to pages. */
static size_t slot_size(size_t want, size_t *guard) {
  size_t pg = page_size();
  *guard = GUARD_BYTES > pg ? GUARD_BYTES : pg;
  return *guard + ((want + pg - 1) & ~(pg - 1));
}

static size_t current_slot(void) {
  size_t guard;
  return slot_size(gort_get_stack_size(), &guard);
}

static char *slot_lo(const stack_arena *a, int i) { return a->base + (size_t)i * a->slot; }

static int slot_of(const gort__g *g) {
  const stack_arena *a = g->arena;
  return (int)((size_t)(g->map - a->base) / a->slot);
}

static int cache_limit(void) {
  int n = __atomic_load_n(&cache_max, __ATOMIC_RELAXED);
  if (n < 0) {
    const char *env = getenv("GORT_STACK_CACHE");
    n = env ? atoi(env) : 16384;
    if (n < 0) n = 0;
    __atomic_store_n(&cache_max, n, __ATOMIC_RELAXED);
  }
  return n;
}

/* ---- refusals ---- */

static long read_long(const char *path) {
  FILE *f = fopen(path, "re");
  long v = -1;
  if (f) {
    if (fscanf(f, "%ld", &v) != 1) v = -1;
    fclose(f);
  }
  return v;
}

static long count_maps(void) {
  FILE *f = fopen("/proc/self/maps", "re");
  if (!f) return -1;
  long n = 0;
  for (int c; (c = getc(f)) != EOF;) n += c == '\n';
  fclose(f);
  return n;
}

/* The kernel refused a mapping (what failed with err): GORT_ETHREAD, and a
 * message once, when the process is at vm.max_map_count (the OS refuses
 * another task, as it refuses a thread at its limit); else GORT_ENOMEM. */
static int refused(const char *what, int err) {
  if (err != ENOMEM) return GORT_ENOMEM;
  long max = read_long("/proc/sys/vm/max_map_count"), n = count_maps();
  if (max <= 0 || n < 0 || n < max - 16) return GORT_ENOMEM;
  static _Atomic bool said;
  if (!atomic_exchange(&said, true))
    fprintf(
        stderr,
        "gort: cannot map another task stack (%s): the process has %ld memory mappings, "
        "vm.max_map_count is %ld%s; raise it (sysctl -w vm.max_map_count=N) or run fewer "
        "tasks at once\n",
        what, n, max,
        guard_mode == GUARD_MPROTECT
            ? " and each stack takes two (guard pages by mprotect: no MADV_GUARD_INSTALL before "
              "Linux 6.13, or GORT_STACK_GUARD=mprotect)"
            : "");
  return GORT_ETHREAD;
}

/* ---- arenas ---- */

static void avail_add(stack_arena *a) {
  if (a->in_avail) return;
  a->avail_prev = NULL;
  a->avail_next = avail_head;
  if (avail_head) avail_head->avail_prev = a;
  avail_head = a;
  a->in_avail = true;
}

static void avail_remove(stack_arena *a) {
  if (!a->in_avail) return;
  if (a->avail_prev)
    a->avail_prev->avail_next = a->avail_next;
  else
    avail_head = a->avail_next;
  if (a->avail_next) a->avail_next->avail_prev = a->avail_prev;
  a->in_avail = false;
}

static stack_arena *arena_new(size_t slot, size_t guard, int *rc) {
  int n = (int)(ARENA_BYTES / slot);
  if (n < 1) n = 1;
  size_t gs_at = (sizeof(stack_arena) + (size_t)n * (sizeof(int) + sizeof(unsigned) + 1) + 63) & ~(size_t)63;
  char *mem = gort__calloc(1, gs_at + 63 + (size_t)n * sizeof(gort__g));
  stack_arena *a = (stack_arena *)mem;
  if (!a) {
    *rc = GORT_ENOMEM;
    return NULL;
  }
  a->free = (int *)(a + 1);
  a->vid = (unsigned *)(a->free + n);
  a->state = (uint8_t *)(a->vid + n);
  a->gs = (gort__g *)(((uintptr_t)mem + gs_at + 63) & ~(uintptr_t)63);
  a->slot = slot;
  a->guard = guard;
  a->nslots = n;
  a->base = mmap(NULL, slot * (size_t)n, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (a->base == MAP_FAILED) {
    *rc = refused("mmap", errno);
    gort__free(a);
    return NULL;
  }
#ifdef MADV_NOHUGEPAGE
  /* With THP "always", a stack's first touch could fault in 2 MiB. */
  madvise(a->base, slot * (size_t)n, MADV_NOHUGEPAGE);
#endif
  a->all_next = all_head;
  if (all_head) all_head->all_prev = a;
  all_head = a;
  return a;
}

static void arena_free(stack_arena *a) {
  avail_remove(a);
  if (a->all_prev)
    a->all_prev->all_next = a->all_next;
  else
    all_head = a->all_next;
  if (a->all_next) a->all_next->all_prev = a->all_prev;
  ndirty_total -= a->ndirty;
#ifdef GORT_MN_VALGRIND
  if (!GORT__HB_DRD()) /* none registered (valgrind_register) */
    for (int i = 0; i < a->carved; i++) VALGRIND_STACK_DEREGISTER(a->vid[i]);
#endif
  munmap(a->base, a->slot * (size_t)a->nslots);
  gort__free(a);
}

static int guard_install(char *lo, size_t guard) {
  if (guard_mode == GUARD_UNKNOWN) {
    const char *env = getenv("GORT_STACK_GUARD");
    guard_mode = env && strcmp(env, "mprotect") == 0 ? GUARD_MPROTECT : GUARD_MADVISE;
    if (guard_mode == GUARD_MADVISE) {
      if (madvise(lo, guard, MADV_GUARD_INSTALL) == 0) return 0;
      if (errno != EINVAL) return refused("madvise(MADV_GUARD_INSTALL)", errno);
      guard_mode = GUARD_MPROTECT; /* kernel older than 6.13 */
    }
  }
  if (guard_mode == GUARD_MADVISE) {
    if (madvise(lo, guard, MADV_GUARD_INSTALL) == 0) return 0;
    return refused("madvise(MADV_GUARD_INSTALL)", errno);
  }
  if (mprotect(lo, guard, PROT_NONE) == 0) return 0;
  return refused("mprotect", errno);
}

/* Release the pages of free slots until at most keep are dirty: arenas
 * with no stack in use are unmapped first (one call for them all), then
 * each run of free slots elsewhere gets one MADV_DONTNEED (guards survive
 * it). */
static void purge_locked(int keep) {
  for (stack_arena *a = all_head, *next; a; a = next) {
    next = a->all_next;
    if (a->live == 0 && (a->ndirty == 0 || ndirty_total > keep)) arena_free(a);
  }
  for (stack_arena *a = all_head; a && ndirty_total > keep; a = a->all_next) {
    for (int i = 0; i < a->carved && a->ndirty > 0;) {
      if (a->state[i] != SLOT_DIRTY) {
        i++;
        continue;
      }
      int j = i;
      while (j < a->carved && a->state[j] != SLOT_LIVE) {
        if (a->state[j] == SLOT_DIRTY) {
          a->state[j] = SLOT_COLD;
          a->ndirty--;
          ndirty_total--;
        }
        j++;
      }
      madvise(slot_lo(a, i), (size_t)(j - i) * a->slot, MADV_DONTNEED);
      i = j;
    }
  }
}

/* g's slot back to its arena, pages resident. */
static void release_locked(gort__g *g, size_t cur_slot) {
  stack_arena *a = g->arena;
  int i = slot_of(g);
  a->state[i] = SLOT_DIRTY;
  a->ndirty++;
  ndirty_total++;
  a->free[a->nfree++] = i;
  a->live--;
  if (a->slot == cur_slot) avail_add(a);
}

/* Tell Valgrind that slot i is a stack, so that a switch to or from it is
 * a stack switch, not a frame of megabytes (memcheck would mark the gap
 * undefined or inaccessible). Not under DRD: DRD (3.19) asserts when the
 * main thread exits once that thread has registered a stack
 * ("drd_main.c:378 (drd_stop_using_mem): Assertion 'a1 <= a2' failed", a
 * ten-line program registering one unused stack from main reproduces it),
 * and a spawn from main registers the first slots. DRD needs no
 * registration: it race-checks a task's stack like any other memory (the
 * hand-offs in mn.c order it) and uses stack-pointer moves only to keep its
 * per-thread stack bounds, which a switch leaves sane. */
static void valgrind_register(stack_arena *a, int i) {
#ifdef GORT_MN_VALGRIND
  if (!GORT__HB_DRD())
    a->vid[i] = VALGRIND_STACK_REGISTER(slot_lo(a, i) + a->guard, slot_lo(a, i) + a->slot);
#else
  (void)a;
  (void)i;
#endif
}

/* A fresh G for slot i. */
static gort__g *slot_g(stack_arena *a, int i) {
  gort__g *g = &a->gs[i];
  memset(g, 0, sizeof *g);
  /* Read by a readier while the task runs: an atomic with its edges stated
   * in mn.c, plain memory to Helgrind and DRD (hb.h). */
  GORT__HB_ATOMIC(&g->status, sizeof g->status);
  g->map = slot_lo(a, i);
  g->map_size = a->slot;
  g->guard = a->guard;
  g->arena = a;
  return g;
}

/* ---- the interface ---- */

static bool fits(const gort__g *g, size_t slot) { return g->map_size == slot; }

/* A slot taken under lock; its G is written after the lock is dropped (the
 * line is cold: another M freed it, and a batch is a dozen of them). */
typedef struct {
  stack_arena *a;
  int i;
} slot_ref;

/* Under lock: a free slot of size slot, carving a new one only when carve
 * (else only a dirty one; out->a NULL when there is none). */
static int take_locked(size_t slot, size_t guard, bool carve, slot_ref *out) {
  out->a = NULL;
  stack_arena *a = avail_head;
  while (a && a->slot != slot) { /* a stack size no longer wanted: drained by purges */
    stack_arena *next = a->avail_next;
    avail_remove(a);
    a = next;
  }
  int rc = 0, i;
  if (!carve && (!a || a->nfree == 0 || a->state[a->free[a->nfree - 1]] != SLOT_DIRTY)) return 0;
  if (!a && (a = arena_new(slot, guard, &rc)) != NULL) avail_add(a);
  if (!a) return rc;
  if (a->nfree > 0) {
    i = a->free[--a->nfree];
    if (a->state[i] == SLOT_DIRTY) {
      a->ndirty--;
      ndirty_total--;
    }
  } else {
    i = a->carved;
    if ((rc = guard_install(slot_lo(a, i), guard)) != 0) return rc;
    valgrind_register(a, i);
    a->carved++;
  }
  a->state[i] = SLOT_LIVE;
  a->live++;
  if (a->nfree == 0 && a->carved == a->nslots) avail_remove(a);
  out->a = a;
  out->i = i;
  return 0;
}

/* An M's cache moves to and from the arenas half a cache at a time, one
 * lock each: a task spawned on one M often exits on another (NaiveSpawn's
 * spawner frees no stack, the M that runs its tasks frees them all), and
 * one lock per stack on both sides was a twentieth of a green spawn. */
#define STACK_BATCH (MN_STACK_CACHE_PER_M / 2)

int gort__stack_get(gort__m *m, gort__g **out) {
  size_t guard, slot = slot_size(gort_get_stack_size(), &guard);
  while (m && m->scache) {
    gort__g *g = m->scache;
    m->scache = g->cache_next;
    m->nscache--;
    if (fits(g, slot)) {
      *out = slot_g(g->arena, slot_of(g));
      GORT__TSAN_ACQUIRE(*out);
      return 0;
    }
    gort__lock_acquire(&lock);
    release_locked(g, slot);
    gort__lock_release(&lock);
  }
  slot_ref got[STACK_BATCH];
  int n = 0;
  gort__lock_acquire(&lock);
  int rc = take_locked(slot, guard, true, &got[0]);
  /* Refill the empty cache with stacks that are warm already. */
  if (rc == 0)
    for (n = 1; m && n < STACK_BATCH; n++)
      if (take_locked(slot, guard, false, &got[n]) != 0 || !got[n].a) break;
  gort__lock_release(&lock);
  if (rc != 0) return rc;
  for (int k = 1; k < n; k++) {
    gort__g *g = slot_g(got[k].a, got[k].i);
    g->cache_next = m->scache;
    m->scache = g;
    m->nscache++;
  }
  *out = slot_g(got[0].a, got[0].i);
  GORT__TSAN_ACQUIRE(*out);
  return 0;
}

/* Called on the scheduler's stack once g's task has exited. */
void gort__stack_put(gort__m *m, gort__g *g) {
#ifdef GORT_MN_ASAN
  /* Frames of the dead task leave poisoned redzones behind. */
  ASAN_UNPOISON_MEMORY_REGION(g->map + g->guard, g->map_size - g->guard);
#endif
  /* TSan remembers the dead task's accesses to its stack, and fiber
   * switches order nothing: the next task on this slot would race with
   * them. Reuse is the edge (taken in gort__stack_get), as a thread's exit
   * is for the next thread on its recycled stack. */
  GORT__TSAN_RELEASE(g);
  if (m && m->nscache < MN_STACK_CACHE_PER_M) {
    g->cache_next = m->scache;
    m->scache = g;
    m->nscache++;
    return;
  }
  size_t slot = current_slot();
  int max = cache_limit();
  gort__lock_acquire(&lock);
  release_locked(g, slot);
  for (int k = 1; m && m->scache && k < STACK_BATCH; k++) { /* half the full cache along */
    gort__g *x = m->scache;
    m->scache = x->cache_next;
    m->nscache--;
    release_locked(x, slot);
  }
  if (ndirty_total > max) purge_locked(max / 2); /* amortized: a purge per max/2 frees */
  gort__lock_release(&lock);
}

void gort__stack_cache_trim(int keep) {
  gort__lock_acquire(&lock);
  if (ndirty_total > keep) purge_locked(keep);
  gort__lock_release(&lock);
}

/* m's cache back to the arenas (m exits); with m NULL, unmap every arena
 * with no stack in use (quiesce: all of them). */
void gort__stack_cache_drain(gort__m *m) {
  if (m) {
    size_t slot = current_slot();
    gort__lock_acquire(&lock);
    while (m->scache) {
      gort__g *g = m->scache;
      m->scache = g->cache_next;
      m->nscache--;
      release_locked(g, slot);
    }
    gort__lock_release(&lock);
    return;
  }
  gort__lock_acquire(&lock);
  purge_locked(0);
  gort__lock_release(&lock);
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
