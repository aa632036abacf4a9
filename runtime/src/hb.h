/* runtime/src/hb.h - happens-before edges the runtime creates with atomics,
 * told to Valgrind's thread checkers (Helgrind, DRD).
 *
 * Helgrind and DRD understand pthread mutexes and condition variables, not
 * C11 atomics or futexes. Every place where an atomic carries a
 * happens-before edge (a release store or RMW that another thread's acquire
 * reads) says so here: GORT__HB_BEFORE(obj) just before the release,
 * GORT__HB_AFTER(obj) just after the acquire that observed it, on the same
 * address (Valgrind's ANNOTATE_HAPPENS_BEFORE/AFTER). Without these, the
 * checkers report every hand-off through park/ready as a race.
 *
 * GORT__HB_HANDOFF(obj) / GORT__HB_TAKEOVER(obj): the same edge for an
 * object handed over strictly in turn, each hand-off taken over exactly
 * once and every take-over preceded by its hand-off (a green task's
 * context, from the worker it switched out on to the one that resumes it);
 * GORT__HB_HANDOFF_END(obj) once obj is handed off no more (the task
 * ended). To Helgrind these are HAPPENS_BEFORE/AFTER (and FORGET_ALL); to
 * DRD a semaphore's post and wait (and destroy). DRD keeps, for each
 * happens-before object, the latest segment of every thread that released
 * it, alive and unmergeable: one object per task stack made
 * select_nonblock_race (2000 spawns) take 37-65 s under DRD instead of
 * 2.4 s. A semaphore's wait consumes the one post it pairs with.
 *
 * Atomics that carry no edge (counters, the state a dump reads) are still
 * plain memory to the checkers: GORT__HB_ATOMIC(ptr, size) tells them not to
 * race-check that object (ThreadSanitizer understands atomics itself).
 *
 * GORT__HB_OWNED(ptr, size): the calling thread now owns the object alone
 * (it dropped the last reference), so earlier accesses by other threads are
 * ordered before it even where the checkers cannot see how: glibc's
 * pthread_mutex_unlock writes the mutex word after Helgrind and DRD record
 * the release, so the last owner's pthread_mutex_destroy would otherwise
 * "race" with another thread's unlock that happened before it. Helgrind
 * only: DRD checks destroy itself, and takes Helgrind's clean-memory request
 * as "forget the mutex" (then "not a mutex" at destroy).
 *
 * Compiled in when Valgrind's headers are present (Debian: valgrind), out
 * with -DGORT_NO_VALGRIND. Each request runs only when the process runs
 * under Helgrind or DRD (gort__hb_on, set once before main by hb.c): a
 * client request costs a few instructions even outside Valgrind, and on the
 * uncontended mutex path those came to +44% instructions per op (caught by
 * the instruction-count gate); a predicted branch on a read-mostly flag is
 * what is left, and memcheck/callgrind runs count no requests.
 */
#ifndef GORT_HB_H
#define GORT_HB_H

#if !defined(GORT_NO_VALGRIND) && defined(__has_include)
#if __has_include(<valgrind/helgrind.h>) && __has_include(<valgrind/drd.h>)
#define GORT__HAVE_VALGRIND 1
#endif
#endif

#ifdef GORT__HAVE_VALGRIND
/* helgrind.h first: drd.h then keeps Helgrind's happens-before requests,
 * which DRD understands as well. */
#include <valgrind/helgrind.h>
#include <valgrind/drd.h>

#include <stdbool.h>

/* True when running under Helgrind or DRD; written once, before main.
 * gort__hb_drd: under DRD (where the two differ: stack.c). */
extern bool gort__hb_on, gort__hb_drd;
#define GORT__HB_IF(request)                           \
  do {                                                 \
    if (__builtin_expect(gort__hb_on, 0)) { request; } \
  } while (0)

#define GORT__HB_BEFORE(obj) GORT__HB_IF(ANNOTATE_HAPPENS_BEFORE(obj))
#define GORT__HB_AFTER(obj) GORT__HB_IF(ANNOTATE_HAPPENS_AFTER(obj))
#define GORT__HB_ATOMIC(ptr, size)                                                        \
  GORT__HB_IF(VALGRIND_HG_DISABLE_CHECKING((ptr), (size));                                \
              VALGRIND_DO_CLIENT_REQUEST_STMT(VG_USERREQ__DRD_START_SUPPRESSION, (ptr), \
                                              (size), 0, 0, 0))
/* DRD answers its own thread-id request with a non-zero id, other tools
 * (Helgrind) with the default 0. */
#define GORT__HB_OWNED(ptr, size)                                                   \
  GORT__HB_IF(if (DRD_GET_DRD_THREADID == 0) VALGRIND_HG_CLEAN_MEMORY((ptr), (size)))
#define GORT__HB_DRD() __builtin_expect(gort__hb_drd, 0)
/* DRD's request, or else Helgrind's. */
#define GORT__HB_DRD_OR(drd, helgrind) \
  if (gort__hb_drd) {                  \
    drd;                               \
  } else {                             \
    helgrind;                          \
  }
#define GORT__HB_HANDOFF(obj) \
  GORT__HB_IF(GORT__HB_DRD_OR(ANNOTATE_SEM_POST_PRE(obj), ANNOTATE_HAPPENS_BEFORE(obj)))
#define GORT__HB_TAKEOVER(obj)                            \
  GORT__HB_IF(GORT__HB_DRD_OR(ANNOTATE_SEM_WAIT_PRE(obj); \
                              ANNOTATE_SEM_WAIT_POST(obj), ANNOTATE_HAPPENS_AFTER(obj)))
#define GORT__HB_HANDOFF_END(obj) \
  GORT__HB_IF(                    \
      GORT__HB_DRD_OR(ANNOTATE_SEM_DESTROY_POST(obj), ANNOTATE_HAPPENS_BEFORE_FORGET_ALL(obj)))
#else
#define GORT__HB_DRD() 0
#define GORT__HB_HANDOFF(obj) ((void)(obj))
#define GORT__HB_TAKEOVER(obj) ((void)(obj))
#define GORT__HB_HANDOFF_END(obj) ((void)(obj))
#define GORT__HB_OWNED(ptr, size) ((void)(ptr), (void)(size))
#define GORT__HB_BEFORE(obj) ((void)(obj))
#define GORT__HB_AFTER(obj) ((void)(obj))
#define GORT__HB_ATOMIC(ptr, size) ((void)(ptr), (void)(size))
#endif

/* ThreadSanitizer does not instrument the M:N scheduler and the runtime's
 * per-worker state (Makefile, TSAN_UNINSTRUMENTED), as Go's race detector
 * does not instrument Go's runtime: what that code hands from one task to
 * another, it orders explicitly, GORT__TSAN_RELEASE(obj) before the hand-off
 * and GORT__TSAN_ACQUIRE(obj) after it on the same address (Go's
 * racerelease/raceacquire). No-ops in every other build. */
#ifdef GORT_TSAN_UNINSTRUMENTED
#include <sanitizer/tsan_interface.h>
#define GORT__TSAN_RELEASE(obj) __tsan_release((void *)(obj))
#define GORT__TSAN_ACQUIRE(obj) __tsan_acquire((void *)(obj))
#else
#define GORT__TSAN_RELEASE(obj) ((void)(obj))
#define GORT__TSAN_ACQUIRE(obj) ((void)(obj))
#endif

/* Just after taking one of the runtime's own pthread mutexes: its bytes are
 * glibc's, and every earlier holder's writes to them are ordered before
 * this acquire. Helgrind records a release before glibc's unlock writes the
 * mutex word, so without this it blames whoever reuses that memory later
 * (a stack frame that held a WaitGroup, a freed channel). */
#define GORT__HB_LOCKED(m) GORT__HB_OWNED((m), sizeof *(m))

#endif
