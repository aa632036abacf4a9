#include "support/gort_test.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gort/gort.h"
#include "gort/introspect.h"

bool gort_test_child_aborts(void (*fn)(void *), void *arg, const char *expect) {
  int pipefd[2];
  if (pipe(pipefd) != 0) return false;
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    close(pipefd[0]);
    dup2(pipefd[1], STDERR_FILENO);
    gort_set_misuse_mode(GORT_MISUSE_ABORT);
    fn(arg);
    _exit(0); /* not reached when fn misuses */
  }
  close(pipefd[1]);
  char buf[16384];
  size_t len = 0;
  ssize_t r;
  while ((r = read(pipefd[0], buf + len, sizeof buf - 1 - len)) > 0) len += (size_t)r;
  buf[len] = '\0';
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  bool aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
  bool said = strstr(buf, expect) != NULL;
  if (!aborted || !said)
    fprintf(stderr, "child: status %d, stderr:\n%s\n", status, buf);
  return aborted && said;
}

static int misuse_calls;
static int misuse_last;

static void count_misuse(int code, const char *msg, void *arg) {
  (void)msg;
  (void)arg;
  __atomic_add_fetch(&misuse_calls, 1, __ATOMIC_SEQ_CST);
  __atomic_store_n(&misuse_last, code, __ATOMIC_SEQ_CST);
}

int *gort_test_misuse_return_mode(void) {
  __atomic_store_n(&misuse_calls, 0, __ATOMIC_SEQ_CST);
  __atomic_store_n(&misuse_last, 0, __ATOMIC_SEQ_CST);
  gort_set_misuse_hook(count_misuse, NULL);
  gort_set_misuse_mode(GORT_MISUSE_RETURN);
  return &misuse_calls;
}

int gort_test_misuse_last(void) { return __atomic_load_n(&misuse_last, __ATOMIC_SEQ_CST); }

void gort_test_misuse_abort_mode(void) {
  gort_set_misuse_mode(GORT_MISUSE_ABORT);
  gort_set_misuse_hook(NULL, NULL);
}

bool gort_test_eventually(bool (*cond)(void *), void *arg, int timeout_ms) {
  int64_t deadline = gort_now() + (int64_t)timeout_ms * GORT_MILLISECOND;
  while (!cond(arg)) {
    if (gort_now() > deadline) return false;
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL);
  }
  return true;
}

bool gort_test_parked_at_least(void *n) {
  gort_counters c;
  gort_get_counters(&c);
  return c.parked >= (uint64_t)(intptr_t)n;
}

static bool only_caller_left(void *unused) {
  (void)unused;
  return gort_num_tasks() <= 1;
}

int gort_test_group_setup(void **state) {
  (void)state;
  return 0;
}

int gort_test_group_teardown(void **state) {
  (void)state;
  /* Tasks that finish right after the last assertion get a moment to exit. */
  if (!gort_test_eventually(only_caller_left, NULL, 2000)) {
    fprintf(stderr, "teardown: %d tasks still alive:\n", gort_num_tasks());
    gort_dump_tasks(stderr);
    return -1;
  }
  gort_runtime_quiesce();
  return 0;
}
