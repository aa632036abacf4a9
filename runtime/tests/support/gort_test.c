#include "gort_test.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gort/gort.h"
#include "gort/introspect.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif

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

/* Misuse hooks run on whichever tasks misused at once (a close waking many
 * senders): the message buffer has its own lock. */
static pthread_mutex_t misuse_msg_lock = PTHREAD_MUTEX_INITIALIZER;
static char misuse_last_msg[256]; /* misuse_msg_lock */

static void count_misuse(int code, const char *msg, void *arg) {
  (void)arg;
  pthread_mutex_lock(&misuse_msg_lock);
  snprintf(misuse_last_msg, sizeof misuse_last_msg, "%s", msg);
  pthread_mutex_unlock(&misuse_msg_lock);
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

/* The last message, copied under its lock into a buffer of the caller's
 * thread, so a concurrent hook cannot change it while it is read. */
const char *gort_test_misuse_last_message(void) {
  static _Thread_local char copy[sizeof misuse_last_msg];
  pthread_mutex_lock(&misuse_msg_lock);
  memcpy(copy, misuse_last_msg, sizeof copy);
  pthread_mutex_unlock(&misuse_msg_lock);
  return copy;
}

void gort_test_misuse_abort_mode(void) {
  gort_set_misuse_mode(GORT_MISUSE_ABORT);
  gort_set_misuse_hook(NULL, NULL);
}

/* Bounds stretch where everything runs slower: under Valgrind (which
 * serialises threads) by 20, and by GORT_TEST_TIME_SCALE when set. */
static int64_t time_scale(void) {
  int64_t k = 1;
  const char *env = getenv("GORT_TEST_TIME_SCALE");
  if (env && atoi(env) > 0) k = atoi(env);
#ifdef RUNNING_ON_VALGRIND
  if (RUNNING_ON_VALGRIND) k *= 20;
#endif
  return k;
}

bool gort_test_eventually(bool (*cond)(void *), void *arg, int timeout_ms) {
  int64_t deadline = gort_now() + (int64_t)timeout_ms * GORT_MILLISECOND * time_scale();
  while (!cond(arg)) {
    if (gort_now() > deadline) return false;
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL);
  }
  return true;
}

static _Atomic int allocs_left;

static void *limited_malloc(size_t n) {
  return atomic_fetch_sub(&allocs_left, 1) > 0 ? malloc(n) : NULL;
}

static void *limited_calloc(size_t n, size_t m) {
  return atomic_fetch_sub(&allocs_left, 1) > 0 ? calloc(n, m) : NULL;
}

void gort_test_fail_allocs_after(int n) {
  static const gort_allocator limited = {limited_malloc, limited_calloc, free};
  atomic_store(&allocs_left, n);
  gort_set_allocator(&limited);
}

void gort_test_allocator_restore(void) { gort_set_allocator(NULL); }

bool gort_test_parked_at_least(void *n) {
  gort_counters c;
  gort_get_counters(&c);
  return c.parked >= (uint64_t)(intptr_t)n;
}

static bool only_caller_left(void *unused) {
  (void)unused;
  return gort_num_tasks() <= 1;
}

static void run_scenario_if_asked(void); /* below, with the scenario helpers */

gort_chan *gort_test_make_chan(size_t elem, long cap) {
  gort_chan *c = NULL;
  assert_int_equal(gort_chan_make(&c, elem, cap), 0);
  assert_non_null(c);
  return c;
}

void gort_test_join(gort_chan *done, int n) {
  for (int i = 0; i < n; i++) assert_int_equal(gort_chan_recv(done, NULL, NULL), 0);
}

void gort_test_signal_done(gort_chan *done) { gort_chan_send(done, &(char){1}); }

uint64_t gort_test_live_allocs(void) {
  gort_counters c;
  gort_get_counters(&c);
  return c.allocs - c.frees;
}

uint64_t gort_test_timers_pending(void) {
  gort_counters c;
  gort_get_counters(&c);
  return c.timers_pending;
}

static bool no_timer_pending(void *unused) {
  (void)unused;
  return gort_test_timers_pending() == 0;
}

bool gort_test_timers_settle(void) { return gort_test_eventually(no_timer_pending, NULL, 10000); }

uint64_t gort_test_quiet_allocs(void) {
  assert_true(gort_test_eventually(only_caller_left, NULL, 10000));
  assert_true(gort_test_timers_settle());
  gort_runtime_quiesce();
  return gort_test_live_allocs();
}

int gort_test_group_setup(void **state) {
  (void)state;
  run_scenario_if_asked(); /* only in a process started by gort_test_exec_run */
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

/* ---- Additions for the core suites. ---- */

#include <errno.h>
#include <poll.h>

/* A snapshot of every live task, malloc'ed; *n is the number of entries. */
static gort_task_info *snapshot_all(size_t *n) {
  size_t cap = 64;
  for (;;) {
    gort_task_info *v = calloc(cap, sizeof *v);
    if (v == NULL) return NULL;
    size_t live = gort_task_snapshot(v, cap);
    if (live <= cap) {
      *n = live;
      return v;
    }
    free(v);
    cap = live + 16;
  }
}

int gort_test_count_parked(gort_task_fn fn, gort_wait_reason reason) {
  size_t n = 0;
  gort_task_info *v = snapshot_all(&n);
  if (v == NULL) return -1;
  int count = 0;
  for (size_t i = 0; i < n; i++) {
    if (fn != NULL && v[i].entry != (void *)fn) continue;
    if (v[i].state == GORT_TASK_WAITING && v[i].wait_reason == reason) count++;
  }
  free(v);
  return count;
}

typedef struct {
  gort_task_fn fn;
  gort_wait_reason reason;
  int n;
} parked_query;

static bool parked_enough(void *arg) {
  parked_query *q = arg;
  return gort_test_count_parked(q->fn, q->reason) >= q->n;
}

bool gort_test_wait_parked(gort_task_fn fn, gort_wait_reason reason, int n, int timeout_ms) {
  parked_query q = {fn, reason, n};
  return gort_test_eventually(parked_enough, &q, timeout_ms);
}

bool gort_test_task_info(uint64_t id, gort_task_info *out) {
  size_t n = 0;
  gort_task_info *v = snapshot_all(&n);
  if (v == NULL) return false;
  bool found = false;
  for (size_t i = 0; i < n && !found; i++) {
    if (v[i].id == id) {
      *out = v[i];
      found = true;
    }
  }
  free(v);
  return found;
}

/* Write end of the ready pipe in a child of gort_test_child_run (-1 elsewhere). */
static int child_ready_fd = -1;

void gort_test_child_ready(void) {
  if (child_ready_fd < 0) return;
  char b = 'r';
  while (write(child_ready_fd, &b, 1) < 0 && errno == EINTR) {
  }
}

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Parent side of a child: read its stderr until EOF or timeout (then SIGKILL),
 * send sig_on_ready when it reports ready, reap it. Closes both fds. */
static void collect_child(pid_t pid, int err_fd, int ready_fd, int timeout_ms, int sig_on_ready,
                          gort_test_child_result *r) {
  int64_t deadline = mono_ms() + timeout_ms;
  bool err_open = true, ready_open = true, signalled = false;
  while (err_open) {
    int64_t left = deadline - mono_ms();
    if (left <= 0) {
      kill(pid, SIGKILL);
      r->timed_out = true;
      break;
    }
    struct pollfd pf[2] = {{err_fd, POLLIN, 0}, {ready_open ? ready_fd : -1, POLLIN, 0}};
    int pr = poll(pf, 2, (int)left);
    if (pr < 0 && errno == EINTR) continue;
    if (pr < 0) break;
    if (pf[1].revents) {
      char b;
      ssize_t got = read(ready_fd, &b, 1);
      if (got <= 0) ready_open = false;
      if (got == 1 && sig_on_ready != 0 && !signalled) {
        kill(pid, sig_on_ready);
        signalled = true;
      }
    }
    if (pf[0].revents) {
      char tmp[4096];
      ssize_t got = read(err_fd, tmp, sizeof tmp);
      if (got <= 0) {
        err_open = false;
      } else {
        size_t room = sizeof r->err - 1 - r->err_len;
        size_t take = (size_t)got < room ? (size_t)got : room;
        memcpy(r->err + r->err_len, tmp, take);
        r->err_len += take;
      }
    }
  }
  r->err[r->err_len] = '\0';
  close(err_fd);
  close(ready_fd);
  /* stderr closed; the child may still be exiting (or, after a timeout, dying). */
  while (waitpid(pid, &r->status, 0) < 0 && errno == EINTR) {
  }
}

bool gort_test_child_run(void (*fn)(void *), void *arg, int timeout_ms, int sig_on_ready,
                         gort_test_child_result *r) {
  memset(r, 0, sizeof *r);
  int errp[2], readyp[2];
  if (pipe(errp) != 0) return false;
  if (pipe(readyp) != 0) {
    close(errp[0]);
    close(errp[1]);
    return false;
  }
  gort_runtime_quiesce();
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    close(errp[0]);
    close(readyp[0]);
    dup2(errp[1], STDERR_FILENO);
    close(errp[1]);
    child_ready_fd = readyp[1];
    fn(arg);
    fflush(stdout);
    fflush(stderr);
    _exit(0);
  }
  close(errp[1]);
  close(readyp[1]);
  collect_child(pid, errp[0], readyp[0], timeout_ms, sig_on_ready, r);
  return true;
}

bool gort_test_child_exited(const gort_test_child_result *r, int code) {
  bool ok = !r->timed_out && WIFEXITED(r->status) && WEXITSTATUS(r->status) == code;
  if (!ok)
    fprintf(stderr, "child: expected exit %d; status 0x%x%s, stderr:\n%s\n", code, r->status,
            r->timed_out ? " (timed out)" : "", r->err);
  return ok;
}

bool gort_test_child_signaled(const gort_test_child_result *r, int sig) {
  bool ok = !r->timed_out && WIFSIGNALED(r->status) && WTERMSIG(r->status) == sig;
  if (!ok)
    fprintf(stderr, "child: expected signal %d; status 0x%x%s, stderr:\n%s\n", sig, r->status,
            r->timed_out ? " (timed out)" : "", r->err);
  return ok;
}

double gort_test_stress_scale(void) {
  const char *s = getenv("GORT_STRESS_SCALE");
  if (s == NULL || *s == '\0') return 1.0;
  char *end = NULL;
  double v = strtod(s, &end);
  return (end != s && v > 0) ? v : 1.0;
}

long gort_test_scaled(long n, long min) {
  long v = (long)((double)n * gort_test_stress_scale());
  return v < min ? min : v;
}

/* ---- scenarios run in a fresh process ---- */

#include <fcntl.h>

extern char **environ;

#define MAX_SCENARIOS 64
static struct {
  const char *name;
  gort_test_scenario_fn fn;
} scenarios[MAX_SCENARIOS];
static int nscenarios;

void gort_test_scenario_register(const char *name, gort_test_scenario_fn fn) {
  if (nscenarios < MAX_SCENARIOS) {
    scenarios[nscenarios].name = name;
    scenarios[nscenarios].fn = fn;
    nscenarios++;
  }
}

static void run_scenario_if_asked(void) {
  const char *name = getenv("GORT_TEST_SCENARIO");
  if (name == NULL) return;
  const char *fd = getenv("GORT_TEST_READY_FD");
  if (fd != NULL) child_ready_fd = atoi(fd);
  for (int i = 0; i < nscenarios; i++) {
    if (strcmp(scenarios[i].name, name) == 0) {
      scenarios[i].fn();
      fflush(stderr);
      _exit(0);
    }
  }
  fprintf(stderr, "no scenario named %s\n", name);
  _exit(99);
}

bool gort_test_exec_run(const char *scenario, int timeout_ms, int sig_on_ready,
                        gort_test_child_result *r) {
  memset(r, 0, sizeof *r);
  /* Everything the child needs is prepared before fork: between fork and
   * exec it only calls async-signal-safe functions. */
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return false;
  exe[n] = '\0';
  int errp[2], readyp[2];
  if (pipe(errp) != 0) return false;
  if (pipe(readyp) != 0) {
    close(errp[0]);
    close(errp[1]);
    return false;
  }
  fcntl(errp[0], F_SETFD, FD_CLOEXEC);
  fcntl(readyp[0], F_SETFD, FD_CLOEXEC);
  size_t nenv = 0;
  while (environ[nenv]) nenv++;
  char **envp = calloc(nenv + 3, sizeof *envp);
  char scen[256], readyfd[64];
  if (envp == NULL) return false;
  size_t k = 0;
  for (size_t i = 0; i < nenv; i++)
    if (strncmp(environ[i], "GORT_TEST_", 10) != 0) envp[k++] = environ[i];
  snprintf(scen, sizeof scen, "GORT_TEST_SCENARIO=%s", scenario);
  snprintf(readyfd, sizeof readyfd, "GORT_TEST_READY_FD=%d", readyp[1]);
  envp[k++] = scen;
  envp[k++] = readyfd;
  envp[k] = NULL;
  char *argv[] = {exe, NULL};
  int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    free(envp);
    return false;
  }
  if (pid == 0) {
    dup2(errp[1], STDERR_FILENO);
    if (devnull >= 0) dup2(devnull, STDOUT_FILENO);
    execve(exe, argv, envp);
    _exit(127);
  }
  free(envp);
  if (devnull >= 0) close(devnull);
  close(errp[1]);
  close(readyp[1]);
  collect_child(pid, errp[0], readyp[0], timeout_ms, sig_on_ready, r);
  return true;
}
