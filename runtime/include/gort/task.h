/* gort/task.h - tasks (goroutines).
 *
 * gort_go(fn, arg) starts a task: the analogue of `go fn(arg)`. Every live
 * task is in a registry (see gort/introspect.h) with its id, name, entry
 * function, spawn site, state and wait reason. The thread that first uses
 * gort (normally main) is task 1; other threads not started by gort are
 * adopted as tasks the first time they block in gort.
 *
 * Backends (gort_set_backend, GORT_BACKEND): "thread", the default, runs
 * each task on its own OS thread; threads of finished tasks are kept idle
 * for a while and reused by later gort_go calls (as Go reuses its Ms), so a
 * spawn rarely pays for pthread_create. "mn" runs tasks as green tasks on
 * one worker thread per core (Go's G/M/P). All blocking goes through the
 * runtime's park/ready, never through raw condition variables, so both run
 * the same code.
 */
#ifndef GORT_TASK_H
#define GORT_TASK_H

#include "gort/export.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*gort_task_fn)(void *arg);

/* Start fn(arg) in a new task. Returns 0, GORT_EINVAL (fn NULL),
 * GORT_ENOMEM, or GORT_ETHREAD when the OS refuses another thread (M:N
 * backend: another stack mapping, at vm.max_map_count; a message on stderr
 * says so); on failure nothing was started and arg is still owned by the
 * caller. */
#define gort_go(fn, arg) gort_go_at((fn), (arg), NULL, __FILE__, __LINE__)
/* Same, with a name shown in dumps and leak reports (copied, may be NULL). */
#define gort_go_named(name, fn, arg) gort_go_at((fn), (arg), (name), __FILE__, __LINE__)
GORT_API int gort_go_at(gort_task_fn fn, void *arg, const char *name, const char *file, int line);

/* Id of the calling task (adopting the calling thread if needed). */
GORT_API uint64_t gort_task_id(void);
/* Number of live tasks, including task 1: runtime.NumGoroutine(). */
GORT_API int gort_num_tasks(void);
/* Give up the processor (sched_yield on the thread backend). */
GORT_API void gort_yield(void);

/* Bracket a call that may block outside gort (a read, a sleep, a library
 * call): on the M:N backend the task's processor goes to another worker
 * meanwhile, so one blocked task never stalls the others (Go's
 * entersyscall/exitsyscall). No-ops on the thread backend and on threads gort
 * did not start. Every enter needs its exit on the same task. */
GORT_API void gort_syscall_enter(void);
GORT_API void gort_syscall_exit(void);

/* Stack size for task threads (M:N backend: task stacks) started from now on. Default 256 KiB (1 MiB
 * in sanitizer builds, whose frames are larger), or GORT_STACK_SIZE (bytes,
 * suffix k/m allowed) from the environment. An idle thread whose stack is
 * smaller than the current size is not reused. Values
 * below the platform minimum are raised to it. Returns GORT_EINVAL for 0. */
GORT_API int gort_set_stack_size(size_t bytes);
GORT_API size_t gort_get_stack_size(void);

/* Write a dump of every live task, in the shape of Go's goroutine dump, to
 * out (NULL: misuse, GORT_ENILPTR): entry functions and spawn sites by name,
 * static functions included, through elfutils' libdwfl when libdw.so.1 can be
 * loaded (dlopen, at the first dump), by dladdr otherwise. The same dump goes
 * to stderr on SIGQUIT (unless GORT_NO_SIGQUIT is set
 * in the environment), after which the process exits with status 2. As in
 * Go, this holds when SIGQUIT was inherited as ignored too; a handler the
 * program installed before gort loaded is left in place. */
GORT_API void gort_dump_tasks(FILE *out);

/* Deadlock: when every task is parked, no timer is pending, and no thread
 * unknown to gort could still wake one, gort reports "all tasks are asleep -
 * deadlock!" with a task dump. Default: abort(). A handler replaces the
 * abort; it runs on the thread that saw the last task park (or the last
 * running task exit, or the last timer fire, or on the timer thread when
 * the threads unknown to gort that vetoed the verdict have exited: it
 * looks again, every 1 to 100 ms, while every task stays parked), and is
 * called once per deadlock: a later ready re-arms it. */
typedef void (*gort_deadlock_handler)(void *arg);
GORT_API void gort_set_deadlock_handler(gort_deadlock_handler handler, void *arg);

/* Stop the runtime's helper threads (idle task threads, the timer thread)
 * and wait for them to exit. Safe to call more than once; gort restarts them
 * on demand. Tests and leak checks call it so that only the caller's own
 * threads remain. */
GORT_API void gort_runtime_quiesce(void);

#ifdef __cplusplus
}
#endif
#endif
