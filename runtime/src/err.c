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

gort_misuse_mode gort_set_misuse_mode(gort_misuse_mode mode) {
  gort_misuse_mode old = current_mode();
  atomic_store(&misuse_mode, (int)mode);
  return old;
}

gort_misuse_mode gort_get_misuse_mode(void) { return current_mode(); }

void gort_set_misuse_hook(gort_misuse_hook hook, void *arg) {
  atomic_store(&misuse_hook_arg, arg);
  atomic_store(&misuse_hook, hook);
}

int gort__misuse(int code) {
  const char *msg = gort_strerror(code);
  if (current_mode() == GORT_MISUSE_ABORT) {
    /* As Go's panic: the message, the panicking task with the misuse site
     * (its caller's frames, runtime frames hidden), then every task. */
    fprintf(stderr, "panic: %s\n\ntask %llu [running]:\n", msg, (unsigned long long)gort_task_id());
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
