/* gort/err.h - error codes, gort_strerror, and the misuse switch.
 *
 * Every gort function that can fail returns int: 0 on success or a negative
 * GORT_E* code. One X-macro table below generates the enum, the messages and
 * the names, so they can never drift apart.
 *
 * Misuse is what Go turns into a panic (send on closed channel, close of
 * closed channel, negative WaitGroup counter, releasing an unheld
 * semaphore...). By default gort aborts with Go's message and a task dump,
 * as Go does. gort_set_misuse_mode(GORT_MISUSE_RETURN) (or the environment
 * variable GORT_MISUSE=return) makes the offending call return its code and
 * call the misuse hook instead; that is how tests and the anti-pattern
 * catalog observe misuse.
 *
 * Bad input, the rule for every public call: a call that returns int
 * answers a NULL object or output pointer (and any other invalid argument)
 * with GORT_EINVAL and changes nothing. A call with no error return (void,
 * bool, a pointer) treats a NULL object as misuse, as Go panics on a nil
 * *Mutex: GORT_ENILPTR, "runtime error: invalid memory address or nil
 * pointer dereference". Exceptions, each documented where it applies: free
 * and release functions ignore NULL, as free(3) does; a NULL channel is
 * Go's nil channel; a NULL context in queries (done, deadline, value) answers
 * like Background; snapshots that return a quantity (len, cap, counts, a
 * limiter's burst) answer 0.
 */
#ifndef GORT_ERR_H
#define GORT_ERR_H

#include "gort/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, value, message). Messages of misuse codes are Go's panic texts. */
#define GORT_ERRNO_MAP(X)                                                     \
  X(OK, 0, "success")                                                         \
  X(EINVAL, -1, "invalid argument")                                           \
  X(ENOMEM, -2, "out of memory")                                              \
  X(EAGAIN, -3, "operation would block")                                      \
  X(ECLOSED, -4, "channel closed")                                            \
  X(ETIMEDOUT, -5, "timed out")                                               \
  X(ECANCELED, -6, "context canceled")                                        \
  X(EDEADLINE, -7, "context deadline exceeded")                               \
  X(ETHREAD, -8, "thread creation failed")                                    \
  X(ESHUTDOWN, -9, "object is stopped")                                       \
  X(EFULL, -10, "queue is full")                                              \
  X(EBURST, -11, "rate: Wait(n) exceeds limiter's burst")                     \
  X(EWOULDEXCEED, -12, "rate: Wait(n) would exceed context deadline")         \
  X(EIO, -13, "input/output error")                                           \
  X(EFAILED, -14, "operation failed")                                         \
  X(ENOTFOUND, -15, "not found")                                              \
  X(EDEADLOCK, -16, "all tasks are asleep - deadlock!")                       \
  X(ELEAK, -17, "leaks found")                                                \
  /* misuse: Go panics on these */                                            \
  X(ESENDCLOSED, -32, "send on closed channel")                               \
  X(ECLOSECLOSED, -33, "close of closed channel")                             \
  X(ECLOSENIL, -34, "close of nil channel")                                   \
  X(ENEGWG, -35, "sync: negative WaitGroup counter")                          \
  X(EUNLOCK, -36, "sync: unlock of unlocked mutex")                           \
  X(ERUNLOCK, -37, "sync: RUnlock of unlocked RWMutex")                       \
  X(ESEMRELEASE, -38, "semaphore: released more than held")                   \
  X(EWGREUSE, -39, "sync: WaitGroup is reused before previous Wait has returned") \
  X(ENEGDELAY, -40, "non-positive interval for NewTicker")                    \
  X(EGROUPLIMIT, -41, "errgroup: modify limit while goroutines in the group are still active") \
  X(ENILPTR, -42, "runtime error: invalid memory address or nil pointer dereference") \
  X(EWGOVERFLOW, -43, "sync: WaitGroup counter overflows")                    \
  X(ERWUNLOCK, -44, "sync: Unlock of unlocked RWMutex")

/* How Go reports the codes whose report is more than the message above:
 * X(name, fatal, format). fatal: Go throws ("fatal error: <message>", which
 * no recover stops) instead of panicking ("panic: <message>"). format: Go's
 * text with the numbers it prints, a printf format for the values the
 * failing call records (NULL: the message as it is). The misuse abort and
 * the misuse hook get the formatted text; gort_errmsg returns it for the
 * calling task's last error; gort_strerror stays the fixed message. */
#define GORT_ERR_GO_MAP(X)                                                    \
  X(EBURST, 0, "rate: Wait(n=%d) exceeds limiter's burst %d")                 \
  X(EWOULDEXCEED, 0, "rate: Wait(n=%d) would exceed context deadline")        \
  X(EUNLOCK, 1, NULL)                                                         \
  X(ERUNLOCK, 1, NULL)                                                        \
  X(ERWUNLOCK, 1, NULL)                                                       \
  X(EGROUPLIMIT, 0, "errgroup: modify limit while %d goroutines in the group are still active")

typedef enum {
#define GORT__ERR_ENUM(name, value, msg) GORT_##name = (value),
  GORT_ERRNO_MAP(GORT__ERR_ENUM)
#undef GORT__ERR_ENUM
} gort_errno;

/* The message for code ("unknown error -N" for an unknown code; never NULL). */
GORT_API const char *gort_strerror(int code);
/* The symbolic name ("GORT_EAGAIN"), or "GORT_UNKNOWN". */
GORT_API const char *gort_err_name(int code);
/* True for the codes that Go would raise as a panic (or a fatal error). */
GORT_API int gort_is_misuse(int code);
/* True for the codes Go reports as "fatal error:" (GORT_ERR_GO_MAP). */
GORT_API int gort_is_fatal(int code);
/* Go's text for the calling task's last error if it was code, with the
 * numbers Go prints ("rate: Wait(n=5) exceeds limiter's burst 3"); else
 * gort_strerror(code). Never NULL; valid until this thread's next gort call
 * that fails. */
GORT_API const char *gort_errmsg(int code);

typedef enum {
  GORT_MISUSE_ABORT = 0,  /* default: print "panic: <msg>" (or Go's "fatal error:
                           * <msg>", see GORT_ERR_GO_MAP), a task dump, abort() */
  GORT_MISUSE_RETURN = 1, /* call the hook, then return the code to the caller */
} gort_misuse_mode;

/* Process-wide switch. The environment variable GORT_MISUSE=return|abort
 * sets the initial mode. Returns the previous mode, or GORT_EINVAL (and the
 * mode is unchanged) when mode is neither of the two. */
GORT_API int gort_set_misuse_mode(gort_misuse_mode mode);
GORT_API gort_misuse_mode gort_get_misuse_mode(void);

/* Called (in RETURN mode) with the code and Go's message, from the task that
 * misused the object, before the call returns. NULL removes the hook. */
typedef void (*gort_misuse_hook)(int code, const char *message, void *arg);
GORT_API void gort_set_misuse_hook(gort_misuse_hook hook, void *arg);

#ifdef __cplusplus
}
#endif
#endif
