/* lc_stack.c - the current stack of another thread of this process.
 *
 * There is no portable way to unwind another thread, so we ask it: send it
 * a real-time signal with tgkill; its handler runs backtrace(3) on its own
 * stack, writes the frames into the request and sets done. Only threads
 * already judged leaked are interrupted, and only in the reporting path.
 *
 * Invariants:
 *  - One request at a time (stack_lock). The handler writes only into the
 *    request it finds in `current` and only when its own tid matches.
 *  - A request that timed out may still be written by a late handler, so
 *    requests come from a small static ring and are not reused until
 *    LC_RING later requests: the slot outlives any plausible late handler.
 *  - The handler is installed once, only over SIG_DFL, and stays installed
 *    (a signal still pending in a thread that blocks it must not later kill
 *    the process with the default action).
 */
#include <errno.h>
#include <execinfo.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "lc_internal.h"

#define LC_MAX_FRAMES 64
#define LC_RING 8

typedef struct {
  pid_t tid;
  _Atomic int done;
  int depth;
  void *pc;                  /* interrupted pc, from the signal context */
  void *pcs[LC_MAX_FRAMES];
} lc_req;

static pthread_mutex_t stack_lock = PTHREAD_MUTEX_INITIALIZER;
static lc_req ring[LC_RING];       /* stack_lock (handler: see invariants) */
static unsigned ring_next;         /* stack_lock */
static _Atomic(lc_req *) current;
static int stack_signal;           /* stack_lock: 0 = not yet decided, -1 = off */

static void on_stack_signal(int sig, siginfo_t *si, void *ctx) {
  (void)sig;
  (void)si;
  int saved = errno;
  lc_req *r = atomic_load_explicit(&current, memory_order_acquire);
  if (r && r->tid == (pid_t)syscall(SYS_gettid) &&
      !atomic_load_explicit(&r->done, memory_order_relaxed)) {
#if defined(__x86_64__)
    r->pc = (void *)((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    r->pc = (void *)((ucontext_t *)ctx)->uc_mcontext.pc;
#else
    (void)ctx;
    r->pc = NULL;
#endif
    r->depth = backtrace(r->pcs, LC_MAX_FRAMES);
    atomic_store_explicit(&r->done, 1, memory_order_release);
  }
  errno = saved;
}

/* stack_lock held. */
static int choose_signal(void) {
  if (stack_signal) return stack_signal;
  stack_signal = -1;
  const char *e = getenv("GORT_LEAKCHECK_STACKS");
  if (e && strcmp(e, "0") == 0) return stack_signal;
  int sig = SIGRTMAX - 3;
  const char *s = getenv("GORT_LEAKCHECK_SIGNAL");
  if (s && atoi(s) > 0) sig = atoi(s);
  struct sigaction old;
  if (sigaction(sig, NULL, &old) != 0) return stack_signal;
  if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler != SIG_DFL) return stack_signal;
  if ((old.sa_flags & SA_SIGINFO) && old.sa_sigaction != on_stack_signal) return stack_signal;
  /* backtrace() loads the unwinder on first use, which is not
   * async-signal-safe: do it here, outside any handler. */
  void *warm[4];
  backtrace(warm, 4);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_stack_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigfillset(&sa.sa_mask);
  if (sigaction(sig, &sa, NULL) != 0) return stack_signal;
  stack_signal = sig;
  return stack_signal;
}

int gort__lc_thread_stack(pid_t tid, void **pcs, int max, int timeout_ms) {
  pthread_mutex_lock(&stack_lock);
  int sig = choose_signal();
  if (sig < 0) {
    pthread_mutex_unlock(&stack_lock);
    return 0;
  }
  lc_req *r = &ring[ring_next++ % LC_RING];
  r->tid = tid;
  r->depth = 0;
  r->pc = NULL;
  atomic_store(&r->done, 0);
  atomic_store_explicit(&current, r, memory_order_release);
  int depth = 0;
  if (syscall(SYS_tgkill, getpid(), tid, sig) == 0) {
    struct timespec ts = {0, 100000};
    for (int waited = 0; waited < timeout_ms * 10; waited++) {
      if (atomic_load_explicit(&r->done, memory_order_acquire)) break;
      nanosleep(&ts, NULL);
    }
  }
  atomic_store_explicit(&current, NULL, memory_order_release);
  if (atomic_load_explicit(&r->done, memory_order_acquire)) {
    /* Drop the handler's own frames and the signal trampoline: start at the
     * interrupted pc, which the unwinder reports exactly when it could step
     * through the signal frame. When it could not, keep just the pc. */
    int start = -1;
    for (int i = 0; i < r->depth && start < 0; i++)
      if (r->pcs[i] == r->pc) start = i;
    if (start < 0) {
      if (r->pc && max > 0) pcs[depth++] = r->pc;
    } else {
      for (int i = start; i < r->depth && depth < max; i++) pcs[depth++] = r->pcs[i];
    }
  }
  pthread_mutex_unlock(&stack_lock);
  return depth;
}
