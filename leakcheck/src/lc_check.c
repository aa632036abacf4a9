/* lc_check.c - find, verify-none, snapshots, options, and the record sink.
 *
 * A check is a loop of cheap scans, as goleak's Find: each scan lists the
 * candidates of every enabled layer and drops what the baseline or an ignore
 * rule covers; an empty scan returns at once. Otherwise we sleep (1 us
 * doubling, at most max_sleep) and scan again, up to max_retries times. Only
 * the candidates of the last scan are turned into findings, and only then do
 * we pay for symbols, DWARF lines and thread stacks.
 *
 * Which threads are gort's: the thread of every task in the registry (tid in
 * the task snapshot) and the runtime's helper threads (gort_runtime_threads:
 * idle task threads, the timer thread). A task thread moves between those
 * two sets when its task ends; a scan that catches it in between sees an
 * unknown thread, which the next scan no longer sees. That is one of the
 * transients the retries absorb.
 *
 * A thread that has left gort's code is on its way out for a while longer
 * (glibc's and a sanitizer's teardown, then the kernel's exit; hundreds of
 * them under ASan on a loaded machine take seconds). Two facts keep those
 * from being called leaks: the thread's own state (the kernel's PF_EXITING
 * flag: it is in exit, so it is no leak whoever started it), and gort's
 * record of its exiting threads (gort_runtime_exiting_threads): while a
 * candidate is one of those, the check keeps retrying past goleak's budget,
 * up to LC_EXIT_WAIT_NS, before it reports anything.
 *
 * Invariants:
 *  - Checks are serialised by check_lock; the process baseline is written
 *    once by the constructor, before main, and only read afterwards.
 *  - Nothing here keeps an fd open across calls (the fd layer would see it).
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lc_internal.h"

struct gort_leakcheck_snapshot {
  bool has_tasks;
  uint64_t *task_ids; /* sorted */
  size_t n_tasks;
  gort__lc_thread *threads; /* threads not known to gort when taken */
  size_t n_threads;
  gort__lc_fd *fds;
  size_t n_fds;
  uint64_t *timer_ids; /* sorted */
  size_t n_timers;
};

/* How long past the retry budget a check waits for gort's exiting threads. */
#define LC_EXIT_WAIT_NS (30 * 1000000000LL)

static pthread_mutex_t check_lock = PTHREAD_MUTEX_INITIALIZER;
static gort_leakcheck_snapshot *process_baseline; /* constructor, then read-only */
static pid_t init_pid;
static pthread_mutex_t name_lock = PTHREAD_MUTEX_INITIALIZER;
static char test_name[128];  /* name_lock */
static int tests_checked;    /* name_lock */
static bool main_checked;    /* name_lock */

static pid_t self_tid(void) { return (pid_t)syscall(SYS_gettid); }

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- options ---- */

void gort_leakcheck_opts_init(gort_leakcheck_opts *o) {
  memset(o, 0, sizeof *o);
  o->max_retries = 20;
  o->max_sleep_ns = 100 * 1000000LL;
  o->layers = GORT_LEAKCHECK_DEFAULT;
}

void gort_leakcheck_opts_destroy(gort_leakcheck_opts *o) {
  if (!o) return;
  if (o->owned) {
    if (o->baseline == o->owned) o->baseline = NULL;
    gort_leakcheck_snapshot_free(o->owned);
    o->owned = NULL;
  }
}

int gort_leakcheck_ignore(gort_leakcheck_opts *o, gort_leakcheck_ignore_kind kind,
                          const char *pattern) {
  if (!o || !pattern || !pattern[0] || strlen(pattern) >= GORT_LEAKCHECK_PATTERN_MAX ||
      kind < GORT_LEAKCHECK_IGNORE_TOP || kind > GORT_LEAKCHECK_IGNORE_NAME)
    return GORT_EINVAL;
  if (o->n_ignores >= GORT_LEAKCHECK_MAX_IGNORES) return GORT_EFULL;
  o->ignores[o->n_ignores].kind = kind;
  gort__lc_copy(o->ignores[o->n_ignores].pattern, GORT_LEAKCHECK_PATTERN_MAX, pattern);
  o->n_ignores++;
  return 0;
}

int gort_leakcheck_ignore_top_function(gort_leakcheck_opts *o, const char *f) {
  return gort_leakcheck_ignore(o, GORT_LEAKCHECK_IGNORE_TOP, f);
}
int gort_leakcheck_ignore_any_function(gort_leakcheck_opts *o, const char *f) {
  return gort_leakcheck_ignore(o, GORT_LEAKCHECK_IGNORE_ANY, f);
}
int gort_leakcheck_ignore_creator(gort_leakcheck_opts *o, const char *f) {
  return gort_leakcheck_ignore(o, GORT_LEAKCHECK_IGNORE_CREATOR, f);
}
int gort_leakcheck_ignore_name(gort_leakcheck_opts *o, const char *n) {
  return gort_leakcheck_ignore(o, GORT_LEAKCHECK_IGNORE_NAME, n);
}

int gort_leakcheck_ignore_current(gort_leakcheck_opts *o) {
  if (!o) return GORT_EINVAL;
  gort_leakcheck_snapshot *s;
  int rc = gort_leakcheck_snapshot_take(&s);
  if (rc != 0) return rc;
  gort_leakcheck_opts_destroy(o);
  o->owned = s;
  o->baseline = s;
  return 0;
}

static bool has_rule(const gort_leakcheck_opts *o, gort_leakcheck_ignore_kind k) {
  for (size_t i = 0; i < o->n_ignores; i++)
    if (o->ignores[i].kind == k) return true;
  return false;
}

static bool rule_matches(const gort_leakcheck_opts *o, gort_leakcheck_ignore_kind k,
                         const char *s) {
  if (!s || !s[0]) return false;
  for (size_t i = 0; i < o->n_ignores; i++)
    if (o->ignores[i].kind == k && fnmatch(o->ignores[i].pattern, s, 0) == 0) return true;
  return false;
}

/* ---- the runtime's view: tasks and gort's own threads ---- */

typedef struct {
  gort_task_info *tasks;
  size_t n_tasks;
  pid_t *helpers;
  size_t n_helpers;
  pid_t *exiting; /* gort's task threads on their way out */
  size_t n_exiting;
} lc_runtime;

static void runtime_free(lc_runtime *rt) {
  free(rt->tasks);
  free(rt->helpers);
  free(rt->exiting);
  memset(rt, 0, sizeof *rt);
}

static int runtime_read(lc_runtime *rt) {
  memset(rt, 0, sizeof *rt);
  if (!GORT_LC_HAVE_RUNTIME()) return 0;
  for (;;) {
    size_t n = gort_task_snapshot(NULL, 0) + 8;
    rt->tasks = malloc(n * sizeof *rt->tasks);
    if (!rt->tasks) return -1;
    rt->n_tasks = gort_task_snapshot(rt->tasks, n);
    if (rt->n_tasks <= n) break;
    free(rt->tasks); /* grew meanwhile */
  }
  for (;;) {
    size_t n = gort_runtime_threads(NULL, 0) + 8;
    rt->helpers = malloc(n * sizeof *rt->helpers);
    if (!rt->helpers) return -1;
    rt->n_helpers = gort_runtime_threads(rt->helpers, n);
    if (rt->n_helpers <= n) break;
    free(rt->helpers);
  }
  if (!GORT_LC_HAVE(gort_runtime_exiting_threads)) return 0;
  for (;;) {
    size_t n = gort_runtime_exiting_threads(NULL, 0) + 8;
    rt->exiting = malloc(n * sizeof *rt->exiting);
    if (!rt->exiting) return -1;
    rt->n_exiting = gort_runtime_exiting_threads(rt->exiting, n);
    if (rt->n_exiting <= n) break;
    free(rt->exiting);
  }
  return 0;
}

static bool gort_exiting_tid(const lc_runtime *rt, pid_t tid) {
  for (size_t i = 0; i < rt->n_exiting; i++)
    if (rt->exiting[i] == tid) return true;
  return false;
}

static bool gort_owns_tid(const lc_runtime *rt, pid_t tid) {
  for (size_t i = 0; i < rt->n_tasks; i++)
    if (rt->tasks[i].tid == tid) return true;
  for (size_t i = 0; i < rt->n_helpers; i++)
    if (rt->helpers[i] == tid) return true;
  return false;
}

static const gort_task_info *task_by_id(const lc_runtime *rt, uint64_t id) {
  for (size_t i = 0; i < rt->n_tasks; i++)
    if (rt->tasks[i].id == id) return &rt->tasks[i];
  return NULL;
}

/* ---- snapshots ---- */

void gort_leakcheck_snapshot_free(gort_leakcheck_snapshot *s) {
  if (!s) return;
  free(s->task_ids);
  free(s->threads);
  free(s->fds);
  free(s->timer_ids);
  free(s);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Threads not owned by gort (per rt), with their start times. */
static int foreign_threads(const lc_runtime *rt, gort__lc_thread **out, size_t *n) {
  *out = NULL;
  *n = 0;
  pid_t *tids;
  size_t nt;
  if (gort__lc_list_tids(&tids, &nt) != 0) return -1;
  gort__lc_thread *v = malloc((nt ? nt : 1) * sizeof *v);
  if (!v) {
    free(tids);
    return -1;
  }
  size_t len = 0;
  for (size_t i = 0; i < nt; i++) {
    if (gort_owns_tid(rt, tids[i])) continue;
    if (gort__lc_read_thread(tids[i], &v[len]) == 0) len++;
  }
  free(tids);
  *out = v;
  *n = len;
  return 0;
}

static int snapshot_take(gort_leakcheck_snapshot **out, bool with_tasks) {
  gort_leakcheck_snapshot *s = calloc(1, sizeof *s);
  if (!s) return GORT_ENOMEM;
  lc_runtime rt;
  if ((with_tasks ? runtime_read(&rt) : (memset(&rt, 0, sizeof rt), 0)) != 0) goto fail;
  if (with_tasks && GORT_LC_HAVE_RUNTIME()) {
    s->has_tasks = true;
    s->task_ids = malloc((rt.n_tasks ? rt.n_tasks : 1) * sizeof *s->task_ids);
    if (!s->task_ids) goto fail;
    for (size_t i = 0; i < rt.n_tasks; i++) s->task_ids[i] = rt.tasks[i].id;
    s->n_tasks = rt.n_tasks;
    qsort(s->task_ids, s->n_tasks, sizeof *s->task_ids, cmp_u64);
  }
  if (foreign_threads(&rt, &s->threads, &s->n_threads) != 0) goto fail;
  if (gort__lc_list_fds(&s->fds, &s->n_fds) != 0) goto fail;
  if (with_tasks && gort__lc_timer_ids(&s->timer_ids, &s->n_timers) != 0) goto fail;
  runtime_free(&rt);
  *out = s;
  return 0;
fail:
  runtime_free(&rt);
  gort_leakcheck_snapshot_free(s);
  return GORT_ENOMEM;
}

int gort_leakcheck_snapshot_take(gort_leakcheck_snapshot **out) {
  if (!out) return GORT_EINVAL;
  pthread_mutex_lock(&check_lock);
  int rc = snapshot_take(out, true);
  pthread_mutex_unlock(&check_lock);
  return rc;
}

static bool base_has_task(const gort_leakcheck_snapshot *b, uint64_t id) {
  return bsearch(&id, b->task_ids, b->n_tasks, sizeof id, cmp_u64) != NULL;
}

static bool base_has_thread(const gort_leakcheck_snapshot *b, const gort__lc_thread *t) {
  for (size_t i = 0; i < b->n_threads; i++)
    if (b->threads[i].tid == t->tid && b->threads[i].starttime == t->starttime) return true;
  return false;
}

static bool base_has_fd(const gort_leakcheck_snapshot *b, const gort__lc_fd *f) {
  for (size_t i = 0; i < b->n_fds; i++)
    if (b->fds[i].fd == f->fd && b->fds[i].dev == f->dev && b->fds[i].ino == f->ino) return true;
  return false;
}

/* ---- one scan ---- */

typedef struct {
  lc_runtime rt;
  gort_task_info **tasks; /* into rt.tasks */
  size_t n_tasks;
  gort__lc_thread *threads;
  size_t n_threads;
  gort__lc_fd *fds;
  size_t n_fds;
  gort_timer_info *timers;
  size_t n_timers;
} lc_scan;

static void scan_free(lc_scan *s) {
  runtime_free(&s->rt);
  free(s->tasks);
  free(s->threads);
  free(s->fds);
  free(s->timers);
  memset(s, 0, sizeof *s);
}

static size_t scan_count(const lc_scan *s) {
  return s->n_tasks + s->n_threads + s->n_fds + s->n_timers;
}

/* True when a candidate thread is one gort says is on its way out. */
static bool scan_awaits_exit(const lc_scan *s) {
  for (size_t i = 0; i < s->n_threads; i++)
    if (gort_exiting_tid(&s->rt, s->threads[i].tid)) return true;
  return false;
}

/* The creator's name for IGNORE_CREATOR: the function that called gort_go,
 * and the parent task's entry (or name, for adopted parents like main). */
static bool task_ignored(const gort_leakcheck_opts *o, const lc_runtime *rt,
                         const gort_task_info *t) {
  if (rule_matches(o, GORT_LEAKCHECK_IGNORE_NAME, t->name)) return true;
  char fn[128];
  bool any = has_rule(o, GORT_LEAKCHECK_IGNORE_ANY);
  if (has_rule(o, GORT_LEAKCHECK_IGNORE_TOP) || any) {
    gort__lc_function_name(t->entry, fn, sizeof fn);
    if (rule_matches(o, GORT_LEAKCHECK_IGNORE_TOP, fn) ||
        rule_matches(o, GORT_LEAKCHECK_IGNORE_ANY, fn))
      return true;
  }
  if (any) {
    for (int i = 1; i < t->spawn_depth && i < GORT_SPAWN_FRAMES; i++) {
      gort__lc_function_name((char *)t->spawn_stack[i] - 1, fn, sizeof fn);
      if (rule_matches(o, GORT_LEAKCHECK_IGNORE_ANY, fn)) return true;
    }
    if (t->spawn_pc) {
      gort__lc_function_name((char *)t->spawn_pc - 1, fn, sizeof fn);
      if (rule_matches(o, GORT_LEAKCHECK_IGNORE_ANY, fn)) return true;
    }
  }
  if (has_rule(o, GORT_LEAKCHECK_IGNORE_CREATOR)) {
    if (t->spawn_pc) {
      gort__lc_function_name((char *)t->spawn_pc - 1, fn, sizeof fn);
      if (rule_matches(o, GORT_LEAKCHECK_IGNORE_CREATOR, fn)) return true;
    }
    const gort_task_info *p = task_by_id(rt, t->parent_id);
    if (p) {
      if (p->entry) {
        gort__lc_function_name(p->entry, fn, sizeof fn);
        if (rule_matches(o, GORT_LEAKCHECK_IGNORE_CREATOR, fn)) return true;
      } else if (rule_matches(o, GORT_LEAKCHECK_IGNORE_CREATOR, p->name)) {
        return true;
      }
    }
  }
  return false;
}

static int scan_once(const gort_leakcheck_opts *o, const gort_leakcheck_snapshot *base,
                     lc_scan *s) {
  memset(s, 0, sizeof *s);
  pid_t me = self_tid();
  /* Threads are listed before the runtime is read, so a task thread is
   * either already in the registry or in the helper list when we look it
   * up (or between the two: a transient, see the file comment). */
  pid_t *tids = NULL;
  size_t nt = 0;
  if ((o->layers & GORT_LEAKCHECK_THREADS) && gort__lc_list_tids(&tids, &nt) != 0) return -1;
  if (runtime_read(&s->rt) != 0) goto fail;

  if (o->layers & GORT_LEAKCHECK_TASKS) {
    s->tasks = malloc((s->rt.n_tasks ? s->rt.n_tasks : 1) * sizeof *s->tasks);
    if (!s->tasks) goto fail;
    for (size_t i = 0; i < s->rt.n_tasks; i++) {
      gort_task_info *t = &s->rt.tasks[i];
      if (t->tid == me) continue;
      /* The main thread is task 1 from gort's constructor on: it is the
       * process, not a task the test started. */
      if (t->adopted && t->tid == init_pid) continue;
      if (base && base->has_tasks && base_has_task(base, t->id)) continue;
      if (task_ignored(o, &s->rt, t)) continue;
      s->tasks[s->n_tasks++] = t;
    }
  }
  if (o->layers & GORT_LEAKCHECK_THREADS) {
    s->threads = malloc((nt ? nt : 1) * sizeof *s->threads);
    if (!s->threads) goto fail;
    for (size_t i = 0; i < nt; i++) {
      if (tids[i] == me || gort_owns_tid(&s->rt, tids[i])) continue;
      gort__lc_thread *t = &s->threads[s->n_threads];
      if (gort__lc_read_thread(tids[i], t) != 0) continue; /* gone */
      if (t->state == 'Z' || t->state == 'X' || t->exiting) continue; /* in exit */
      if (base && base_has_thread(base, t)) continue;
      if (rule_matches(o, GORT_LEAKCHECK_IGNORE_NAME, t->comm)) continue;
      s->n_threads++;
    }
  }
  if (o->layers & GORT_LEAKCHECK_FDS) {
    gort__lc_fd *fds;
    size_t nf;
    if (gort__lc_list_fds(&fds, &nf) != 0) goto fail;
    s->fds = fds;
    for (size_t i = 0; i < nf; i++) {
      if (base && base_has_fd(base, &fds[i])) continue;
      if (rule_matches(o, GORT_LEAKCHECK_IGNORE_NAME, fds[i].target)) continue;
      s->fds[s->n_fds++] = fds[i];
    }
  }
  if ((o->layers & GORT_LEAKCHECK_TIMERS) &&
      gort__lc_timer_scan(base ? base->timer_ids : NULL, base ? base->n_timers : 0, &s->timers,
                          &s->n_timers) != 0)
    goto fail;
  free(tids);
  return 0;
fail:
  free(tids);
  scan_free(s);
  return -1;
}

/* ---- turning candidates into findings ---- */

static bool is_system_frame(const gort_leakcheck_frame *fr) {
  static const char *const objs[] = {"libc.so*", "libpthread*", "ld-linux*", "linux-vdso*",
                                     "libasan*", "libtsan*", "liblsan*", "libubsan*",
                                     "libgcc_s*", "vgpreload*"};
  static const char *const fns[] = {"__tsan*", "__asan*", "__lsan*", "__interceptor*",
                                    "___interceptor*", "__sanitizer*", "asan_thread_start",
                                    "start_thread", "clone", "clone3"};
  for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
    if (fr->object[0] && fnmatch(objs[i], fr->object, 0) == 0) return true;
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
    if (fr->function[0] && fnmatch(fns[i], fr->function, 0) == 0) return true;
  return !fr->function[0] && !fr->file[0];
}

static const char *test_now(char *buf, size_t size) {
  pthread_mutex_lock(&name_lock);
  gort__lc_copy(buf, size, test_name);
  pthread_mutex_unlock(&name_lock);
  return buf;
}

#define LC_MAX_FRAMES 128

/* Frames up to and including main: what libc does before main is noise. */
static size_t trim_at_main(const gort_leakcheck_frame *fr, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(fr[i].function, "main") == 0) return i + 1;
  return n;
}

/* Stack of a foreign thread (or adopted task), its top and start routine. */
static void thread_stack(gort_leakcheck_finding *f, pid_t tid) {
  /* Only paid on the reporting path, for a thread already judged leaked: a
   * generous bound, since a signalled thread may wait long for a CPU here. */
  void *pcs[64];
  int depth = gort__lc_thread_stack(tid, pcs, 64, 1000);
  if (depth <= 0) return;
  gort_leakcheck_frame *fr = malloc(LC_MAX_FRAMES * sizeof *fr);
  if (!fr) return;
  size_t n = gort__lc_symbolize(pcs, (size_t)depth, true, fr, LC_MAX_FRAMES);
  gort__lc_finding_set_frames(f, fr, n);
  for (size_t i = 0; i < n; i++)
    if (!is_system_frame(&fr[i])) {
      gort__lc_copy(f->top_function, sizeof f->top_function, fr[i].function);
      break;
    }
  for (size_t i = n; i-- > 0;)
    if (!is_system_frame(&fr[i])) {
      gort__lc_copy(f->site_function, sizeof f->site_function, fr[i].function);
      gort__lc_copy(f->site_file, sizeof f->site_file, fr[i].file);
      f->site_line = fr[i].line;
      break;
    }
  free(fr);
}

/* Ignore rules again, now against what symbolisation found (inlined
 * functions, from DWARF): the scan used symbol tables only. */
static bool finding_ignored(const gort_leakcheck_opts *o, const gort_leakcheck_finding *f) {
  if (rule_matches(o, GORT_LEAKCHECK_IGNORE_TOP, f->top_function) ||
      rule_matches(o, GORT_LEAKCHECK_IGNORE_ANY, f->top_function) ||
      rule_matches(o, GORT_LEAKCHECK_IGNORE_CREATOR, f->site_function))
    return true;
  if (f->kind == GORT_LEAK_TASK && rule_matches(o, GORT_LEAKCHECK_IGNORE_ANY, f->site_function))
    return true;
  for (size_t i = 0; i < f->n_frames; i++)
    if (rule_matches(o, GORT_LEAKCHECK_IGNORE_ANY, f->frames[i].function)) return true;
  return false;
}

static void drop_last(gort_leakcheck_report *r) {
  free(r->items[r->n - 1].frames);
  r->n--;
}

static void add_task(gort_leakcheck_report *r, const gort_leakcheck_opts *o,
                     const gort_task_info *t, int64_t now, const char *test) {
  gort_leakcheck_finding *f = gort__lc_report_add(r, GORT_LEAK_TASK);
  if (!f) return;
  gort__lc_copy(f->test, sizeof f->test, test);
  f->task_id = t->id;
  f->tid = t->tid;
  f->parent_id = t->parent_id;
  gort__lc_copy(f->name, sizeof f->name, t->name);
  if (t->state == GORT_TASK_WAITING) {
    gort__lc_copy(f->state, sizeof f->state,
                  GORT_LC_HAVE(gort_wait_reason_string) ? gort_wait_reason_string(t->wait_reason)
                                                          : "waiting");
    f->waiting_ms = t->waiting_since ? (now - t->waiting_since) / 1000000 : 0;
  } else {
    gort__lc_copy(f->state, sizeof f->state, "running");
  }
  if (t->adopted) {
    /* A thread gort did not start that used gort: its stack says more. */
    gort__lc_copy(f->detail, sizeof f->detail, "adopted thread (not started by gort_go)");
    if (t->tid) thread_stack(f, t->tid);
    if (!f->top_function[0]) gort__lc_copy(f->top_function, sizeof f->top_function, "?");
  } else {
    gort_leakcheck_frame *fr = malloc(LC_MAX_FRAMES * sizeof *fr);
    if (!fr) return;
    void *pc = t->entry;
    if (gort__lc_symbolize(&pc, 1, true, fr, LC_MAX_FRAMES) > 0) {
      gort__lc_copy(f->top_function, sizeof f->top_function, fr[0].function);
      gort__lc_copy(f->entry_file, sizeof f->entry_file, fr[0].file);
      f->entry_line = fr[0].line;
    }
    gort__lc_copy(f->site_file, sizeof f->site_file, t->file);
    f->site_line = t->line;
    /* "created by": the innermost function at the call, inlined or not. */
    pc = t->spawn_pc;
    if (pc && gort__lc_symbolize(&pc, 1, false, fr, LC_MAX_FRAMES) > 0)
      gort__lc_copy(f->site_function, sizeof f->site_function, fr[0].function);
    /* The spawn stack starts inside gort_go_at (under a sanitizer, inside
     * its backtrace interceptor first): show it from gort_go_at's caller. */
    if (t->spawn_depth > 1) {
      size_t n = gort__lc_symbolize(t->spawn_stack, (size_t)t->spawn_depth, false, fr,
                                    LC_MAX_FRAMES);
      size_t start = 1;
      for (size_t i = 0; i < n && i < 6; i++)
        if (strcmp(fr[i].function, "gort_go_at") == 0) start = i + 1;
      if (start < n) gort__lc_finding_set_frames(f, fr + start, trim_at_main(fr + start, n - start));
    }
    free(fr);
  }
  if (finding_ignored(o, f)) drop_last(r);
}

static void add_thread(gort_leakcheck_report *r, const gort_leakcheck_opts *o,
                       const gort__lc_thread *t, bool gorts_exiting, const char *test) {
  gort_leakcheck_finding *f = gort__lc_report_add(r, GORT_LEAK_THREAD);
  if (!f) return;
  gort__lc_copy(f->test, sizeof f->test, test);
  if (gorts_exiting) /* the wait ran out: say whose it is, never "foreign" */
    snprintf(f->detail, sizeof f->detail, "a task thread of gort's, still exiting after %lld s",
             LC_EXIT_WAIT_NS / 1000000000LL);
  f->tid = t->tid;
  gort__lc_copy(f->name, sizeof f->name, t->comm);
  snprintf(f->state, sizeof f->state, "%c (%s)", t->state, gort__lc_thread_state_name(t->state));
  thread_stack(f, t->tid);
  if (finding_ignored(o, f)) drop_last(r);
}

static void add_fd(gort_leakcheck_report *r, const gort__lc_fd *d, const char *test) {
  gort_leakcheck_finding *f = gort__lc_report_add(r, GORT_LEAK_FD);
  if (!f) return;
  gort__lc_copy(f->test, sizeof f->test, test);
  f->fd = d->fd;
  gort__lc_copy(f->detail, sizeof f->detail, d->target);
  gort__lc_copy(f->name, sizeof f->name, gort__lc_fd_type(d->target));
  char path[64], info[512];
  snprintf(path, sizeof path, "/proc/self/fdinfo/%d", d->fd);
  long long pos = 0;
  unsigned flags = 0;
  if (gort__lc_read_file(path, info, sizeof info) > 0 &&
      gort__lc_parse_fdinfo(info, &pos, &flags) == 0)
    snprintf(f->state, sizeof f->state, "%s, pos %lld", gort__lc_fd_access(flags), pos);
  else
    gort__lc_copy(f->state, sizeof f->state, "unknown access");
  gort__lc_copy(f->site_function, sizeof f->site_function, test);
}

/* ---- find ---- */

static int find_locked(const gort_leakcheck_opts *o, gort_leakcheck_report **out,
                       int *heap_checked) {
  const gort_leakcheck_snapshot *base = o->baseline ? o->baseline : process_baseline;
  lc_scan s;
  int retries = o->max_retries < 0 ? 0 : o->max_retries;
  int64_t exit_deadline = 0;
  for (int i = 0;; i++) {
    if (scan_once(o, base, &s) != 0) return GORT_ENOMEM;
    if (scan_count(&s) == 0) break;
    if (i >= retries) { /* goleak's budget is spent */
      if (!scan_awaits_exit(&s)) break;
      if (!exit_deadline) exit_deadline = now_ns() + LC_EXIT_WAIT_NS;
      if (now_ns() > exit_deadline) break;
    }
    scan_free(&s);
    int64_t d = i < 40 ? (int64_t)1000 << i : o->max_sleep_ns;
    if (d > o->max_sleep_ns) d = o->max_sleep_ns;
    struct timespec ts = {(time_t)(d / 1000000000), (long)(d % 1000000000)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
  }
  gort_leakcheck_report *r = gort__lc_report_new();
  if (!r) {
    scan_free(&s);
    return GORT_ENOMEM;
  }
  char test[128];
  test_now(test, sizeof test);
  int64_t now = now_ns();
  for (size_t i = 0; i < s.n_tasks; i++) add_task(r, o, s.tasks[i], now, test);
  for (size_t i = 0; i < s.n_threads; i++)
    add_thread(r, o, &s.threads[i], gort_exiting_tid(&s.rt, s.threads[i].tid), test);
  for (size_t i = 0; i < s.n_fds; i++) add_fd(r, &s.fds[i], test);
  for (size_t i = 0; i < s.n_timers; i++) {
    gort_leakcheck_finding *f = gort__lc_timer_add(r, &s.timers[i], now, test);
    if (f && finding_ignored(o, f)) drop_last(r);
  }
  scan_free(&s);
  int heap = 0;
  gort__lc_sym_release(); /* before the heap check: libdwfl's memory is no leak */
  if (o->layers & GORT_LEAKCHECK_HEAP) heap = gort__lc_heap_check(r);
  if (heap_checked) *heap_checked = heap;
  if (r->n == 0) {
    gort_leakcheck_report_free(r);
    if (out) *out = NULL;
    return 0;
  }
  if (out)
    *out = r;
  else
    gort_leakcheck_report_free(r);
  return GORT_ELEAK;
}

static int find_with(const gort_leakcheck_opts *o, gort_leakcheck_report **out,
                     int *heap_checked) {
  gort_leakcheck_opts defaults;
  if (!o) {
    gort_leakcheck_opts_init(&defaults);
    o = &defaults;
  }
  pthread_mutex_lock(&check_lock);
  int rc = find_locked(o, out, heap_checked);
  gort__lc_sym_release(); /* the findings hold their names: keep nothing */
  pthread_mutex_unlock(&check_lock);
  return rc;
}

int gort_leakcheck_find(const gort_leakcheck_opts *o, gort_leakcheck_report **out) {
  if (out) *out = NULL;
  return find_with(o, out, NULL);
}

int gort_leakcheck_verify_none(const gort_leakcheck_opts *o) {
  gort_leakcheck_report *r = NULL;
  int rc = find_with(o, &r, NULL);
  if (rc == GORT_ELEAK && r) {
    gort_leakcheck_report_print(r, stderr);
    gort__lc_record_findings(r, "test");
  }
  gort_leakcheck_report_free(r);
  return rc == GORT_ELEAK ? GORT_ELEAK : 0;
}

static int tests_count(void) {
  pthread_mutex_lock(&name_lock);
  int n = tests_checked;
  pthread_mutex_unlock(&name_lock);
  return n;
}

static int verify_main_scope(int exit_code, const gort_leakcheck_opts *o, const char *scope) {
  if (exit_code != 0) {
    /* As goleak: leaks are not judged on a failed run, but say so. */
    gort__lc_record_run(scope, 0, 0, tests_count(), -1);
    return exit_code;
  }
  gort_leakcheck_opts defaults;
  if (!o) {
    gort_leakcheck_opts_init(&defaults);
    defaults.layers = GORT_LEAKCHECK_ALL;
    o = &defaults;
  }
  gort_leakcheck_set_test_name(NULL);
  gort_leakcheck_report *r = NULL;
  int heap = 0;
  int rc = find_with(o, &r, &heap);
  gort__lc_record_run(scope, o->layers, heap, tests_count(), (int)gort_leakcheck_report_count(r));
  if (rc == GORT_ELEAK && r) {
    fprintf(stderr, "leakcheck: errors on successful test run:\n");
    gort_leakcheck_report_print(r, stderr);
    gort__lc_record_findings(r, scope);
    exit_code = 1;
  }
  gort_leakcheck_report_free(r);
  return exit_code;
}

int gort_leakcheck_verify_main(int exit_code, const gort_leakcheck_opts *o) {
  gort__lc_mark_main_checked();
  return verify_main_scope(exit_code, o, "binary");
}

void gort_leakcheck_set_test_name(const char *name) {
  pthread_mutex_lock(&name_lock);
  gort__lc_copy(test_name, sizeof test_name, name ? name : "");
  pthread_mutex_unlock(&name_lock);
}

void gort__lc_count_test(void) {
  pthread_mutex_lock(&name_lock);
  tests_checked++;
  pthread_mutex_unlock(&name_lock);
}

void gort__lc_mark_main_checked(void) {
  pthread_mutex_lock(&name_lock);
  main_checked = true;
  pthread_mutex_unlock(&name_lock);
}

/* ---- records for the leakcheck command ---- */

static void exe_path(char *buf, size_t size) {
  ssize_t r = readlink("/proc/self/exe", buf, size - 1);
  buf[r > 0 ? r : 0] = '\0';
}

/* One whole line per write(2), so that concurrent writers (forked children,
 * several binaries sharing a file) never interleave within a record. */
/* The leakcheck command names the process it started (GORT_LEAKCHECK_PID):
 * processes that one starts in turn (a test re-executing itself, say)
 * inherit the environment but are not what the command is checking. */
static bool recording(void) {
  const char *path = getenv("GORT_LEAKCHECK_OUT");
  if (!path || !path[0]) return false;
  const char *pid = getenv("GORT_LEAKCHECK_PID");
  return !pid || !pid[0] || atol(pid) == (long)getpid();
}

static void record_line(const char *text, size_t len) {
  if (!recording()) return;
  const char *path = getenv("GORT_LEAKCHECK_OUT");
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  while (len > 0) {
    ssize_t w = write(fd, text, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    text += w;
    len -= (size_t)w;
  }
  close(fd);
}

static void record_head(FILE *m, const char *record, const char *scope) {
  char exe[512];
  exe_path(exe, sizeof exe);
  fprintf(m, "{\"record\":\"%s\",\"binary\":", record);
  gort__lc_json_string(m, exe);
  fprintf(m, ",\"pid\":%d,\"scope\":", (int)getpid());
  gort__lc_json_string(m, scope);
}

void gort__lc_record_findings(const gort_leakcheck_report *r, const char *scope) {
  if (!recording()) return;
  for (size_t i = 0; r && i < r->n; i++) {
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m) return;
    record_head(m, "finding", scope);
    fprintf(m, ",\"finding\":");
    gort__lc_finding_json(&r->items[i], m);
    fprintf(m, "}\n");
    fclose(m);
    record_line(buf, len);
    free(buf);
  }
}

void gort__lc_record_run(const char *scope, unsigned layers, int heap_checked, int tests,
                         int leaks) {
  if (!recording()) return;
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  if (!m) return;
  record_head(m, "run", scope);
  fprintf(m, ",\"layers\":[");
  const char *names[5] = {"task", "thread", "fd", "heap", "timer"};
  bool first = true;
  for (int k = 0; k < 5; k++) {
    if (!(layers & (1u << k))) continue;
    if (k == 3 && !heap_checked) continue;
    if (k == 0 && !GORT_LC_HAVE_RUNTIME()) continue; /* no gort, no tasks */
    fprintf(m, "%s\"%s\"", first ? "" : ",", names[k]);
    first = false;
  }
  const char *heap = !heap_checked ? "none" : gort__lc_on_valgrind() ? "valgrind" : "lsan";
  fprintf(m, "],\"heap_checker\":\"%s\",\"task_layer\":%s,\"tests_checked\":%d,\"checked\":%s",
          heap, GORT_LC_HAVE_RUNTIME() ? "true" : "false", tests, leaks >= 0 ? "true" : "false");
  fprintf(m, ",\"leaks\":%d}\n", leaks < 0 ? 0 : leaks);
  fclose(m);
  record_line(buf, len);
  free(buf);
}

/* ---- process start and exit ---- */

/* on_exit, not atexit: the exit status decides, as in verify_main, whether
 * the run is judged at all (a failed run's leaks are its failure's). */
static void exit_check(int status, void *arg) {
  (void)arg;
  if (getpid() != init_pid) return; /* a forked child that exited normally */
  pthread_mutex_lock(&name_lock);
  bool done = main_checked;
  pthread_mutex_unlock(&name_lock);
  if (done) return;
  verify_main_scope(status, NULL, "exit");
}

static bool env_is(const char *name, const char *value) {
  const char *e = getenv(name);
  return e && strcmp(e, value) == 0;
}

static void *nothing(void *arg) { return arg; }

__attribute__((constructor)) static void gort__lc_init(void) {
  init_pid = getpid();
  /* ThreadSanitizer starts a background thread with the process's first
   * pthread_create; start it now so that it is part of the baseline. */
  extern void __tsan_init(void) __attribute__((weak));
  if (__tsan_init) {
    pthread_t t;
    if (pthread_create(&t, NULL, nothing, NULL) == 0) pthread_join(t, NULL);
  }
  gort_leakcheck_snapshot *s = NULL;
  if (snapshot_take(&s, false) == 0) process_baseline = s;
  bool rec = recording();
  if (GORT_LC_HAVE(gort_set_spawn_traces) && (rec || env_is("GORT_TRACEBACK", "1")))
    gort_set_spawn_traces(true);
  if ((rec || env_is("GORT_LEAKCHECK_ATEXIT", "1")) && !env_is("GORT_LEAKCHECK_ATEXIT", "0"))
    on_exit(exit_check, NULL);
}
