/* dump.c - task dumps in the shape of Go's goroutine dump, wait-reason
 * names, and the SIGQUIT handler that prints one. Backend-neutral: reads
 * only the registry.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "chaos.h"

static const char *const reason_names[GORT_WAIT__COUNT] = {
    [GORT_WAIT_NONE] = "running",
    [GORT_WAIT_CHAN_SEND] = "chan send",
    [GORT_WAIT_CHAN_RECV] = "chan receive",
    [GORT_WAIT_CHAN_SEND_NIL] = "chan send (nil chan)",
    [GORT_WAIT_CHAN_RECV_NIL] = "chan receive (nil chan)",
    [GORT_WAIT_SELECT] = "select",
    [GORT_WAIT_SELECT_NO_CASES] = "select (no cases)",
    [GORT_WAIT_SLEEP] = "sleep",
    [GORT_WAIT_SEMACQUIRE] = "semacquire",
    [GORT_WAIT_WAITGROUP] = "sync.WaitGroup.Wait",
    [GORT_WAIT_MUTEX] = "sync.Mutex.Lock",
    [GORT_WAIT_RWMUTEX_R] = "sync.RWMutex.RLock",
    [GORT_WAIT_RWMUTEX_W] = "sync.RWMutex.Lock",
    [GORT_WAIT_COND] = "sync.Cond.Wait",
    [GORT_WAIT_IDLE] = "idle",
};

const char *gort_wait_reason_string(gort_wait_reason r) {
  return (r >= 0 && r < GORT_WAIT__COUNT && reason_names[r]) ? reason_names[r] : "unknown";
}

/* ---- dumps ---- */

/* Dumps format each line into a stack buffer and hand it to a sink: a FILE,
 * or (from the SIGQUIT handler) a raw fd, since stdio may allocate and is not
 * async-signal-safe. */
typedef struct {
  FILE *file;
  int fd;
} dump_sink;

__attribute__((format(printf, 2, 3))) static void emit(const dump_sink *s, const char *fmt, ...) {
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
  if (s->file) {
    fwrite(line, 1, len, s->file);
    return;
  }
  for (size_t off = 0; off < len;) {
    ssize_t w = write(s->fd, line + off, len - off);
    if (w <= 0) return;
    off += (size_t)w;
  }
}

/* A code address by name. Outside signal handlers (a FILE sink) through
 * gort__symbolize: static functions named, and file:line when asked; from
 * the SIGQUIT handler only dladdr, which is what is safe enough there. */
static void emit_symbol(const dump_sink *s, const char *prefix, void *pc, bool return_address,
                        bool with_line, const char *suffix) {
  if (s->file && pc) {
    gort__symbol sym;
    gort__symbolize(pc, return_address, &sym);
    if (sym.function[0])
      emit(s, "%s%s%s", prefix, sym.function, suffix);
    else
      emit(s, "%s%p (%s+0x%lx)%s", prefix, pc, sym.object, (unsigned long)sym.offset, suffix);
    if (with_line && sym.file[0]) emit(s, "\n\t\t%s:%d", sym.file, sym.line); /* spawn stack */
    return;
  }
  Dl_info info;
  if (pc && dladdr(pc, &info) && info.dli_sname)
    emit(s, "%s%s+0x%lx%s", prefix, info.dli_sname,
         (unsigned long)((char *)pc - (char *)info.dli_saddr), suffix);
  else
    emit(s, "%s%p%s", prefix, pc, suffix);
}

static void dump_one(const dump_sink *s, const gort__task *t, int64_t now) {
  gort_task_info i;
  gort__task_info_fill(&i, t);
  /* The header keeps Go's exact shape, "goroutine N [reason, T]:" with
   * "task" for "goroutine", so Go-dump parsers read it; the name follows. */
  if (i.state == GORT_TASK_WAITING)
    emit(s, "task %llu [%s, %lld ms]:\n", (unsigned long long)i.id,
         gort_wait_reason_string(i.wait_reason), (long long)((now - i.waiting_since) / GORT_MILLISECOND));
  else
    emit(s, "task %llu [running]:\n", (unsigned long long)i.id);
  if (i.name[0]) emit(s, "\tname \"%s\"\n", i.name);
  if (i.adopted) {
    emit(s, "\t(%s thread, tid %d)\n", i.tid == getpid() ? "main" : "adopted", (int)i.tid);
    return;
  }
  /* Go's "main.worker(0x...)" then its file:line: here the entry function. */
  emit_symbol(s, "\t", i.entry, false, false, "");
  emit(s, "(%p), tid %d\n", t->arg, (int)i.tid);
  emit_symbol(s, "created by ", i.spawn_pc, true, false, "");
  emit(s, " in task %llu\n\t%s:%d\n", (unsigned long long)i.parent_id, i.file ? i.file : "?", i.line);
  for (int k = 1; k < i.spawn_depth; k++) {
    emit_symbol(s, "\t", i.spawn_stack[k], true, true, "");
    emit(s, "\n");
  }
}

static void dump_all(const dump_sink *s) {
  int64_t now = gort__nanotime();
  /* A dump may come from a signal handler or a fatal path that interrupted a
   * registry operation: do not wait forever for the lock. */
  bool locked = false;
  for (int i = 0; i < 1000 && !locked; i++) {
    locked = pthread_mutex_trylock(&gort__reg_lock) == 0;
    if (!locked) {
      struct timespec ts = {0, 100000};
      nanosleep(&ts, NULL);
    }
  }
  if (!locked) emit(s, "(registry busy; dump may be inconsistent)\n");
  if (locked) gort__reg_read_begin();
  if (gort__chaos_on) emit(s, "(schedule perturbation GORT_CHAOS=%llu)\n\n", gort__chaos_seed());
  /* In the order first listed, as Go walks allgs: task 1 first; a reused
   * record keeps its place. Walk to the tail. */
  gort__task *t = gort__reg_head;
  while (t && t->reg_next) t = t->reg_next;
  for (; t; t = t->reg_prev) {
    if (!gort__reg_alive(t)) continue; /* a cached record */
    dump_one(s, t, now);
    emit(s, "\n");
  }
  if (locked) {
    gort__reg_read_end();
    pthread_mutex_unlock(&gort__reg_lock);
  }
}

void gort_dump_tasks(FILE *out) {
  if (gort__nil(out)) return;
  dump_sink s = {out, -1};
  dump_all(&s);
  fflush(out);
  gort__symbolize_done(); /* the process goes on: hold nothing of libdwfl's */
}

static void on_sigquit(int sig) {
  (void)sig;
  dump_sink s = {NULL, STDERR_FILENO};
  emit(&s, "SIGQUIT: quit\n\n");
  dump_all(&s);
  _exit(2);
}

/* The dump on SIGQUIT, as Go does, unless GORT_NO_SIGQUIT is set. As Go's
 * runtime: an inherited SIG_IGN is respected only for SIGHUP and SIGINT
 * (sigInstallGoHandler), so SIGQUIT dumps even when the process was started
 * with it ignored (nohup, background jobs, CI runners). A handler someone
 * else installed before us is kept: a C library must not take a signal from
 * its host program. */
void gort__install_sigquit(void) {
  if (getenv("GORT_NO_SIGQUIT")) return;
  struct sigaction old;
  if (sigaction(SIGQUIT, NULL, &old) == 0 && !(old.sa_flags & SA_SIGINFO) &&
      (old.sa_handler == SIG_DFL || old.sa_handler == SIG_IGN)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigquit;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGQUIT, &sa, NULL);
  }
}
