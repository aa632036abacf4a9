/* leakcheck/src/lc_internal.h - leakcheck's private interface.
 *
 * Modules:
 *   lc_proc.c    /proc parsers and listings (threads, fds); pure parsers are
 *                exposed for the golden-data tests
 *   lc_sym.c     symbolisation through elfutils: names (static functions
 *                too), file:line and inlined frames
 *   lc_stack.c   the current stack of another thread, by signal
 *   lc_heap.c    LeakSanitizer and Valgrind heap checks, LSan report parser
 *   lc_report.c  findings, the goleak-shaped text, JSON
 *   lc_check.c   options, snapshots, find/verify, retries, the record sink
 *   lc_cmocka.c  cmocka integration (only in the static library)
 *
 * The library reads the runtime only through gort/introspect.h and
 * gort/task.h. Built for LD_PRELOAD (GORT_LC_PRELOAD), the runtime's symbols
 * are weak: a binary without gort simply has no task layer.
 */
#ifndef GORT_LC_INTERNAL_H
#define GORT_LC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "gort/err.h" /* codes only: nothing to link */
#include "gort/introspect.h"
#include "gort/leakcheck.h"
#include "gort/task.h"

#ifdef GORT_LC_PRELOAD
#pragma weak gort_task_snapshot
#pragma weak gort_runtime_threads
#pragma weak gort_runtime_exiting_threads
#pragma weak gort_wait_reason_string
#pragma weak gort_set_spawn_traces
#pragma weak gort_timer_snapshot
#pragma weak gort_timer_kind_string
#define GORT_LC_HAVE_RUNTIME() (gort_task_snapshot != NULL && gort_runtime_threads != NULL)
#define GORT_LC_HAVE(fn) ((fn) != NULL)
#else
#define GORT_LC_HAVE_RUNTIME() 1
#define GORT_LC_HAVE(fn) 1
#endif

/* ---- lc_proc.c --------------------------------------------------------- */

typedef struct {
  pid_t tid;
  char state;                   /* R, S, D, T, t, Z, X, I */
  bool exiting;                 /* the kernel's PF_EXITING: in exit, never a leak */
  unsigned long long starttime; /* clock ticks after boot: tid + starttime is unique */
  char comm[17];
} gort__lc_thread;

/* Parse one /proc/<pid>/task/<tid>/stat line ("tid (comm) S ppid ..."; comm
 * may hold spaces and parentheses). 0 or -1 on malformed text. */
int gort__lc_parse_stat(const char *text, gort__lc_thread *out);
/* "sleeping" for 'S' and so on; "unknown" otherwise. */
const char *gort__lc_thread_state_name(char state);
/* The tids in /proc/self/task (malloc'd, *n of them). 0 or -1. */
int gort__lc_list_tids(pid_t **out, size_t *n);
/* Read and parse one thread's stat. 0, or -1 when it is gone. */
int gort__lc_read_thread(pid_t tid, gort__lc_thread *out);

typedef struct {
  int fd;
  unsigned long long dev, ino;
  char target[256]; /* readlink of /proc/self/fd/N */
} gort__lc_fd;

/* The open fds (malloc'd), excluding the directory stream used to list them
 * and, under Valgrind, Valgrind's own fds. 0 or -1. */
int gort__lc_list_fds(gort__lc_fd **out, size_t *n);
/* Classify a link target: "pipe", "socket", "eventfd", "timerfd",
 * "signalfd", "epoll", "inotify", "memfd", "anon_inode" or "file". */
const char *gort__lc_fd_type(const char *target);
/* Parse /proc/self/fdinfo/N text: pos and flags (octal). 0 or -1. */
int gort__lc_parse_fdinfo(const char *text, long long *pos, unsigned *flags);
/* "read end" / "write end" / "read-write" from O_ACCMODE of flags. */
const char *gort__lc_fd_access(unsigned flags);
/* Read a whole small file into buf (NUL-terminated); bytes read or -1. */
ssize_t gort__lc_read_file(const char *path, char *buf, size_t size);

/* ---- lc_sym.c ---------------------------------------------------------- */

/* Name of the function containing pc ("" when unknown), from the object's
 * symbol table (static functions too), through libdwfl. Thread-safe. */
bool gort__lc_function_name(const void *pc, char *name, size_t size);
/* Symbolise pcs into at most max frames: function, object, and (unless
 * GORT_LEAKCHECK_SYMBOLIZE=0) file:line from DWARF, with inlined calls
 * expanded into frames of their own (innermost first). Return addresses are
 * looked up at pc-1, except pcs[0] when first_is_exact. Returns the frames
 * written. */
size_t gort__lc_symbolize(void *const *pcs, size_t n, bool first_is_exact,
                          gort_leakcheck_frame *frames, size_t max);
/* End the symbolisation session (the next lookup starts a new one). */
void gort__lc_sym_release(void);
/* True when an ELF file is dynamically linked (has PT_INTERP), so that
 * LD_PRELOAD applies to it. */
bool gort__lc_elf_is_dynamic(const char *path);
/* True when an ELF file defines a symbol named sym (.symtab or .dynsym). */
bool gort__lc_elf_has_symbol(const char *path, const char *sym);

/* ---- lc_stack.c -------------------------------------------------------- */

/* Interrupt thread tid with a signal and take its stack with backtrace(3).
 * Returns the depth (0 when the thread did not answer within timeout_ms or
 * stacks are disabled). pcs[0] is the interrupted pc itself. */
int gort__lc_thread_stack(pid_t tid, void **pcs, int max, int timeout_ms);

/* ---- lc_heap.c --------------------------------------------------------- */

/* Run the heap check of whatever is present (LSan, Valgrind) and add heap
 * findings to r. Returns 1 when a heap checker ran, 0 when none is present. */
int gort__lc_heap_check(gort_leakcheck_report *r);
/* Parse LeakSanitizer's report text into heap findings. Returns how many. */
size_t gort__lc_parse_lsan(const char *text, gort_leakcheck_report *r);
/* Parse a Valgrind memcheck log (text mode) into heap findings: loss records
 * after the last "HEAP SUMMARY:" of kinds definitely/indirectly/possibly
 * lost. Returns how many. */
size_t gort__lc_parse_valgrind(const char *text, gort_leakcheck_report *r);
/* Pick the allocation site: the first frame that is not the allocator. */
void gort__lc_heap_site(gort_leakcheck_finding *f);
/* True when running under Valgrind. */
bool gort__lc_on_valgrind(void);

/* ---- lc_timer.c -------------------------------------------------------- */

/* The pending timers a leak check considers (not sleeps, not the runtime's
 * own), minus those whose ids are in base_ids (sorted; may be NULL).
 * malloc'd into *out (NULL when none). 0 or -1. */
int gort__lc_timer_scan(const uint64_t *base_ids, size_t n_base, gort_timer_info **out,
                        size_t *n);
/* The ids of the timers pending now, sorted (for a baseline). 0 or -1. */
int gort__lc_timer_ids(uint64_t **out, size_t *n);
/* Turn one candidate into a finding (symbolizing its site); NULL when the
 * report cannot grow. */
gort_leakcheck_finding *gort__lc_timer_add(gort_leakcheck_report *r, const gort_timer_info *t,
                                           int64_t now, const char *test);

/* ---- lc_report.c ------------------------------------------------------- */

struct gort_leakcheck_report {
  size_t n, cap;
  gort_leakcheck_finding *items;
};

gort_leakcheck_report *gort__lc_report_new(void);
/* Append a zeroed finding of kind k (fd = -1, waiting_ms = -1); NULL on
 * allocation failure. */
gort_leakcheck_finding *gort__lc_report_add(gort_leakcheck_report *r, gort_leak_kind k);
/* Give f a copy of n frames. 0 or -1. */
int gort__lc_finding_set_frames(gort_leakcheck_finding *f, const gort_leakcheck_frame *fr,
                                size_t n);
/* One finding as a JSON object (no newline). */
void gort__lc_finding_json(const gort_leakcheck_finding *f, FILE *out);
/* One finding in goleak's shape, for one kind's block. */
void gort__lc_finding_text(const gort_leakcheck_finding *f, FILE *out);
/* JSON string with escapes. */
void gort__lc_json_string(FILE *out, const char *s);
/* strncpy that always terminates. */
void gort__lc_copy(char *dst, size_t size, const char *src);

/* ---- lc_check.c -------------------------------------------------------- */

/* Append records (one JSON object per line) to GORT_LEAKCHECK_OUT. */
void gort__lc_record_findings(const gort_leakcheck_report *r, const char *scope);
/* leaks < 0: the check was skipped (the run had failed). */
void gort__lc_record_run(const char *scope, unsigned layers, int heap_checked, int tests,
                         int leaks);
/* Called by the cmocka runner: one more test checked. */
void gort__lc_count_test(void);
/* The binary-level check ran (so the exit-time one is not needed). */
void gort__lc_mark_main_checked(void);

#endif
