/* err.c - the error table, and misuse handling (Go's panics). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

const char *gort_strerror(int code) {
  switch (code) {
#define GORT__ERR_MSG(name, value, msg) \
  case value:                           \
    return msg;
    GORT_ERRNO_MAP(GORT__ERR_MSG)
#undef GORT__ERR_MSG
  }
  static _Thread_local char buf[32];
  snprintf(buf, sizeof buf, "unknown error %d", code);
  return buf;
}

const char *gort_err_name(int code) {
  switch (code) {
#define GORT__ERR_NAME(name, value, msg) \
  case value:                            \
    return "GORT_" #name;
    GORT_ERRNO_MAP(GORT__ERR_NAME)
#undef GORT__ERR_NAME
  }
  return "GORT_UNKNOWN";
}

/* Misuse codes are the block from -32 down (see err.h). */
int gort_is_misuse(int code) {
  return code <= GORT_ESENDCLOSED && code > GORT_ESENDCLOSED - 32 &&
         strncmp(gort_strerror(code), "unknown", 7) != 0;
}

/* ---- Go's reports (GORT_ERR_GO_MAP) ---- */

typedef struct {
  int code;
  bool fatal;
  const char *format;
} go_report;

static const go_report go_reports[] = {
#define GORT__GO_ROW(name, fatal, format) {GORT_##name, (fatal), (format)},
    GORT_ERR_GO_MAP(GORT__GO_ROW)
#undef GORT__GO_ROW
};

static const go_report *go_report_of(int code) {
  for (size_t i = 0; i < sizeof go_reports / sizeof go_reports[0]; i++)
    if (go_reports[i].code == code) return &go_reports[i];
  return NULL;
}

int gort_is_fatal(int code) {
  const go_report *r = go_report_of(code);
  return r != NULL && r->fatal;
}

/* Go's text for code: its format filled with the call's values, or the
 * table's message. */
static void go_text(char *buf, size_t len, int code, va_list ap) {
  const go_report *r = go_report_of(code);
  if (r != NULL && r->format != NULL)
    vsnprintf(buf, len, r->format, ap);
  else
    snprintf(buf, len, "%s", gort_strerror(code));
}

/* The calling thread's last error with its text; gort_errmsg answers only
 * for the same task (a task of the M:N backend may move between threads). */
static _Thread_local struct {
  uint64_t task;
  int code;
  char text[160];
} last_error;

int gort__errorf(int code, ...) {
  va_list ap;
  va_start(ap, code);
  go_text(last_error.text, sizeof last_error.text, code, ap);
  va_end(ap);
  last_error.code = code;
  last_error.task = gort_task_id();
  return code;
}

const char *gort_errmsg(int code) {
  if (code != 0 && last_error.code == code && last_error.task == gort_task_id())
    return last_error.text;
  return gort_strerror(code);
}

/* -1: not yet read from the environment. */
static _Atomic int misuse_mode = -1;
static _Atomic(gort_misuse_hook) misuse_hook;
static _Atomic(void *) misuse_hook_arg;

static gort_misuse_mode current_mode(void) {
  int m = atomic_load(&misuse_mode);
  if (m < 0) {
    const char *env = getenv("GORT_MISUSE");
    int want = (env && strcmp(env, "return") == 0) ? GORT_MISUSE_RETURN : GORT_MISUSE_ABORT;
    int expected = -1;
    atomic_compare_exchange_strong(&misuse_mode, &expected, want);
    m = atomic_load(&misuse_mode);
  }
  return (gort_misuse_mode)m;
}

int gort_set_misuse_mode(gort_misuse_mode mode) {
  if (mode != GORT_MISUSE_ABORT && mode != GORT_MISUSE_RETURN) return GORT_EINVAL;
  gort_misuse_mode old = current_mode();
  atomic_store(&misuse_mode, (int)mode);
  return (int)old;
}

gort_misuse_mode gort_get_misuse_mode(void) { return current_mode(); }

void gort_set_misuse_hook(gort_misuse_hook hook, void *arg) {
  atomic_store(&misuse_hook_arg, arg);
  atomic_store(&misuse_hook, hook);
}

int gort__misuse(int code) { return gort__misusef(code); }

int gort__misusef(int code, ...) {
  char msg[160];
  va_list ap;
  va_start(ap, code);
  go_text(msg, sizeof msg, code, ap);
  va_end(ap);
  if (current_mode() == GORT_MISUSE_ABORT) {
    /* As Go's panic (or fatal error): the message, the panicking task with
     * the misuse site (its caller's frames, runtime frames hidden), then
     * every task. */
    fprintf(stderr, "%s: %s\n\ntask %llu [running]:\n", gort_is_fatal(code) ? "fatal error" : "panic",
            msg, (unsigned long long)gort_task_id());
    gort__print_caller_stack(stderr);
    fputs("\n", stderr);
    gort_dump_tasks(stderr);
    fflush(stderr);
    abort();
  }
  gort_misuse_hook hook = atomic_load(&misuse_hook);
  if (hook) hook(code, msg, atomic_load(&misuse_hook_arg));
  return code;
}

bool gort__nil(const void *p) {
  if (p != NULL) return false;
  gort__misuse(GORT_ENILPTR);
  return true;
}

_Noreturn void gort__fatal(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("fatal error: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputs("\n\n", stderr);
  va_end(ap);
  gort_dump_tasks(stderr);
  fflush(stderr);
  abort();
}
