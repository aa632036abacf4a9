/* gort/leakcheck.h - goleak for C: find the tasks, OS threads, file
 * descriptors and heap blocks that outlive a test.
 *
 * Four layers:
 *  - tasks:   every live gort task except the caller (from the registry in
 *             gort/introspect.h), with state, wait reason, how long it has
 *             been parked, entry function and spawn site ("created by");
 *  - threads: OS threads of the process (/proc/self/task) that gort did not
 *             start: neither a task's thread nor a runtime helper thread;
 *  - fds:     file descriptors (/proc/self/fd) opened since the baseline,
 *             classified as pipe, socket, file, eventfd, timerfd, ...;
 *  - heap:    LeakSanitizer's recoverable check (builds with SAN=address or
 *             SAN=leak) or Valgrind memcheck's leak check (under Valgrind).
 *             Whole-process, so only for binary-level checks;
 *  - timers:  gort timers still pending (gort_timer_snapshot): time.After
 *             in a loop, a context never cancelled, a ticker never stopped,
 *             with the function that created each. A sleeping task's own
 *             timer is the task layer's.
 *
 * As goleak: a clean check returns at once; a dirty one retries with
 * exponential backoff (1 us doubling, at most max_sleep per sleep, at most
 * max_retries retries: about 0.45 s by default) before it reports, so a task
 * that is about to exit is not called a leak.
 *
 * What counts as "new" is decided by a baseline: threads and fds present in
 * the baseline are never reported, nor are tasks whose ids are in it. Without
 * one, the process baseline (taken when the library was loaded) applies to
 * threads and fds, and every task but the caller's is a leak (as goleak's
 * VerifyNone treats goroutines).
 *
 * Concurrency: every function may be called from any thread, but checks are
 * serialised internally (one at a time). Not async-signal-safe.
 *
 * Environment (all optional):
 *   GORT_LEAKCHECK_OUT=path    append findings and run records as JSON lines
 *                              (the `leakcheck` command reads them);
 *   GORT_LEAKCHECK_PID=pid     record only in the process with this pid (the
 *                              command sets it; children that inherit the
 *                              environment stay silent);
 *   GORT_LEAKCHECK_ATEXIT=1    run a binary-level check at exit (implied by
 *                              GORT_LEAKCHECK_OUT unless the program ran one);
 *   GORT_LEAKCHECK_STACKS=0    do not interrupt leaked threads for their stack;
 *   GORT_LEAKCHECK_SYMBOLIZE=0 names only: no file:line or inlined frames from DWARF.
 */
#ifndef GORT_LEAKCHECK_H
#define GORT_LEAKCHECK_H

#include "gort/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Layers, as a bit mask. */
enum {
  GORT_LEAKCHECK_TASKS = 1u << 0,
  GORT_LEAKCHECK_THREADS = 1u << 1,
  GORT_LEAKCHECK_FDS = 1u << 2,
  GORT_LEAKCHECK_HEAP = 1u << 3,
  GORT_LEAKCHECK_TIMERS = 1u << 4, /* timers and tickers left pending (lc_timer.c) */
  /* The default for find/verify_none: heap is whole-process. */
  GORT_LEAKCHECK_DEFAULT =
      GORT_LEAKCHECK_TASKS | GORT_LEAKCHECK_THREADS | GORT_LEAKCHECK_FDS | GORT_LEAKCHECK_TIMERS,
  GORT_LEAKCHECK_ALL = GORT_LEAKCHECK_DEFAULT | GORT_LEAKCHECK_HEAP,
};

typedef enum {
  GORT_LEAK_TASK = 0,
  GORT_LEAK_THREAD = 1,
  GORT_LEAK_FD = 2,
  GORT_LEAK_HEAP = 3,
  GORT_LEAK_TIMER = 4,
} gort_leak_kind;
#define GORT_LEAK_KINDS 5

/* "task", "thread", "fd", "heap", "timer". */
GORT_API const char *gort_leak_kind_string(gort_leak_kind k);

/* ---- options ----------------------------------------------------------- */

#define GORT_LEAKCHECK_MAX_IGNORES 32
#define GORT_LEAKCHECK_PATTERN_MAX 128

typedef enum {
  GORT_LEAKCHECK_IGNORE_TOP = 1,     /* entry function (goleak's IgnoreTopFunction) */
  GORT_LEAKCHECK_IGNORE_ANY = 2,     /* any function: entry or spawn stack */
  GORT_LEAKCHECK_IGNORE_CREATOR = 3, /* "created by": spawn-site function or parent's entry */
  GORT_LEAKCHECK_IGNORE_NAME = 4,    /* task name, or thread name (comm) */
} gort_leakcheck_ignore_kind;

typedef struct gort_leakcheck_snapshot gort_leakcheck_snapshot;

/* Options live where the caller puts them (stack, static). Initialise with
 * gort_leakcheck_opts_init; release with gort_leakcheck_opts_destroy when
 * ignore_current was used. Fields may be set directly. */
typedef struct {
  int max_retries;      /* retries before reporting; default 20 */
  int64_t max_sleep_ns; /* cap on one backoff sleep; default 100 ms */
  unsigned layers;      /* GORT_LEAKCHECK_* mask; default GORT_LEAKCHECK_DEFAULT */
  /* Ignore what this snapshot holds (not owned; NULL: process baseline). */
  const gort_leakcheck_snapshot *baseline;
  gort_leakcheck_snapshot *owned; /* set by ignore_current; freed by destroy */
  size_t n_ignores;
  struct {
    gort_leakcheck_ignore_kind kind;
    char pattern[GORT_LEAKCHECK_PATTERN_MAX]; /* fnmatch(3) glob */
  } ignores[GORT_LEAKCHECK_MAX_IGNORES];
} gort_leakcheck_opts;

GORT_API void gort_leakcheck_opts_init(gort_leakcheck_opts *o);
GORT_API void gort_leakcheck_opts_destroy(gort_leakcheck_opts *o);

/* Add an ignore rule; function names are symbol names as in the binary
 * (static functions too, when the binary is not stripped), matched as
 * fnmatch(3) globs. Return 0, GORT_EINVAL (NULL, empty or too long) or
 * GORT_EFULL (more than GORT_LEAKCHECK_MAX_IGNORES rules). */
GORT_API int gort_leakcheck_ignore(gort_leakcheck_opts *o, gort_leakcheck_ignore_kind kind,
                                   const char *pattern);
GORT_API int gort_leakcheck_ignore_top_function(gort_leakcheck_opts *o, const char *function);
GORT_API int gort_leakcheck_ignore_any_function(gort_leakcheck_opts *o, const char *function);
GORT_API int gort_leakcheck_ignore_creator(gort_leakcheck_opts *o, const char *function);
GORT_API int gort_leakcheck_ignore_name(gort_leakcheck_opts *o, const char *name);
/* IgnoreCurrent: snapshot what lives now and ignore it from then on.
 * 0 or GORT_ENOMEM. */
GORT_API int gort_leakcheck_ignore_current(gort_leakcheck_opts *o);

/* ---- snapshots ---------------------------------------------------------- */

/* Record the live tasks (ids), threads (tid and start time) and fds (number,
 * device, inode). 0, GORT_EINVAL (out NULL) or GORT_ENOMEM. */
GORT_API int gort_leakcheck_snapshot_take(gort_leakcheck_snapshot **out);
GORT_API void gort_leakcheck_snapshot_free(gort_leakcheck_snapshot *s);

/* ---- findings and reports ---------------------------------------------- */

typedef struct {
  void *pc;
  char function[128]; /* "" when unknown */
  char file[256];     /* "" when unknown */
  int line;           /* 0 when unknown */
  char object[128];   /* basename of the binary or library */
} gort_leakcheck_frame;

typedef struct {
  gort_leak_kind kind;
  char test[128]; /* test that was running ("" at binary level) */
  /* identity */
  uint64_t task_id; /* tasks; timers: the timer's id */
  pid_t tid;        /* tasks (0 until running) and threads */
  int fd;           /* fds; -1 otherwise */
  char name[64];    /* task name or thread comm */
  /* state: "chan send", "S (sleeping)", "pipe (read end)", "definitely lost" */
  char state[64];
  int64_t waiting_ms; /* tasks: parked for that long; -1 otherwise */
  char detail[320];   /* fd target; heap: bytes and objects; thread: ... */
  size_t bytes, objects; /* heap */
  /* where it came from: spawn site (tasks), start routine (threads),
   * allocating function (heap); fds: the fd's target in detail, test name */
  char site_function[128];
  char site_file[256];
  int site_line;
  uint64_t parent_id;      /* tasks: creator task */
  char top_function[128];  /* goleak's "with X on top of the stack" */
  char entry_file[256];    /* tasks: where the entry function is */
  int entry_line;
  size_t n_frames;         /* spawn stack (tasks), stack (threads, heap) */
  gort_leakcheck_frame *frames;
} gort_leakcheck_finding;

typedef struct gort_leakcheck_report gort_leakcheck_report;

GORT_API size_t gort_leakcheck_report_count(const gort_leakcheck_report *r);
GORT_API const gort_leakcheck_finding *gort_leakcheck_report_finding(const gort_leakcheck_report *r,
                                                                     size_t i);
/* Count of findings of one kind. */
GORT_API size_t gort_leakcheck_report_count_kind(const gort_leakcheck_report *r, gort_leak_kind k);
/* goleak's message: "found unexpected tasks:" then each leaked task with
 * its state and stack, likewise threads, fds, heap. */
GORT_API void gort_leakcheck_report_print(const gort_leakcheck_report *r, FILE *out);
/* A whole JSON document, schema "gort.leakcheck/1". 0 or GORT_EIO. */
GORT_API int gort_leakcheck_report_write_json(const gort_leakcheck_report *r, FILE *out);
GORT_API void gort_leakcheck_report_free(gort_leakcheck_report *r);

/* ---- checks ------------------------------------------------------------- */

/* Find: look for leaks (o NULL: defaults). Returns 0 when clean (then *out
 * is NULL), GORT_ELEAK when leaks were found (then *out, if out is not
 * NULL, holds them; free it), GORT_ENOMEM. */
GORT_API int gort_leakcheck_find(const gort_leakcheck_opts *o, gort_leakcheck_report **out);

/* VerifyNone: find; on leaks print the report to stderr and record it in
 * GORT_LEAKCHECK_OUT. 0 or GORT_ELEAK. */
GORT_API int gort_leakcheck_verify_none(const gort_leakcheck_opts *o);

/* VerifyTestMain: given the exit code of a test run, when it is 0 verify
 * all layers (heap included) against the process baseline; print
 * "leakcheck: errors on successful test run" and the report on leaks.
 * Returns the exit code to use: exit_code, or 1 on leaks. */
GORT_API int gort_leakcheck_verify_main(int exit_code, const gort_leakcheck_opts *o);

/* The test now running, attached to findings (NULL or "" clears it).
 * The cmocka integration sets it. */
GORT_API void gort_leakcheck_set_test_name(const char *name);

#ifdef __cplusplus
}
#endif
#endif
