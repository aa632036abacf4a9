/* patterns/tests/httptest.h - helpers for the tests of the HTTP patterns and
 * of the anti-pattern catalog: counting fds and threads, a child process
 * whose output is read while the test does other things, and several
 * concurrent HTTP requests driven by curl's multi interface in the test's
 * own thread (so a test starts no client threads at all).
 *
 * Header-only (static functions) so each test binary stays one file.
 */
#ifndef GORTP_HTTPTEST_H
#define GORTP_HTTPTEST_H

#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gort/timer.h"

/* Entries in /proc/self/<dir> ("fd" or "task"), or -1. */
static inline int httptest_count_dir(const char *dir) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/%s", dir);
  DIR *d = opendir(path);
  if (!d) return -1;
  int n = 0;
  for (struct dirent *e; (e = readdir(d));)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n - (strcmp(dir, "fd") == 0); /* the DIR's own fd */
}
static inline int httptest_fds(void) { return httptest_count_dir("fd"); }
static inline int httptest_threads(void) { return httptest_count_dir("task"); }

static void *httptest_nothing(void *arg) { return arg; }

/* Start and join one thread, so that a sanitizer's own background thread
 * (ThreadSanitizer starts one with the first pthread_create) exists before
 * any test counts threads. Call it at the start of main. */
static inline void httptest_warm_up(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, httptest_nothing, NULL) == 0) pthread_join(t, NULL);
}

/* True when a TCP connect to 127.0.0.1:port is refused. */
static inline bool httptest_connect_refused(unsigned port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int rc = connect(fd, (struct sockaddr *)&sin, sizeof sin);
  int err = errno;
  close(fd);
  return rc != 0 && err == ECONNREFUSED;
}

/* A local port nobody listens on (bound for a moment, never listened). */
static inline unsigned httptest_closed_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof sin;
  bind(fd, (struct sockaddr *)&sin, sizeof sin);
  getsockname(fd, (struct sockaddr *)&sin, &len);
  close(fd);
  return ntohs(sin.sin_port);
}

static inline int64_t httptest_ms_since(int64_t t0) { return (gort_now() - t0) / GORT_MILLISECOND; }

/* ---- a child process with its stdout and stderr on one pipe ---- */

typedef struct {
  pid_t pid;
  int fd; /* read end, non-blocking; -1 once closed */
  bool eof;
  size_t len;
  char out[32768];
} httptest_child;

/* Start argv[0] (a path) with argv; env (may be NULL) is one more
 * "NAME=value" for the child's environment. */
static inline bool httptest_child_start_env(httptest_child *c, char *const argv[],
                                            const char *env) {
  memset(c, 0, sizeof *c);
  c->fd = -1;
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return false;
  fflush(stdout);
  fflush(stderr);
  c->pid = fork();
  if (c->pid < 0) return false;
  if (c->pid == 0) {
    dup2(p[1], STDOUT_FILENO);
    dup2(p[1], STDERR_FILENO);
    if (env) putenv((char *)env);
    execv(argv[0], argv);
    _exit(127);
  }
  close(p[1]);
  c->fd = p[0];
  fcntl(c->fd, F_SETFL, O_NONBLOCK);
  return true;
}

static inline bool httptest_child_start(httptest_child *c, char *const argv[]) {
  return httptest_child_start_env(c, argv, NULL);
}

/* Read what is available now. */
static inline void httptest_child_read(httptest_child *c) {
  while (!c->eof && c->len < sizeof c->out - 1) {
    ssize_t r = read(c->fd, c->out + c->len, sizeof c->out - 1 - c->len);
    if (r > 0) {
      c->len += (size_t)r;
    } else if (r == 0) {
      c->eof = true;
    } else {
      if (errno == EINTR) continue;
      break; /* EAGAIN */
    }
  }
  c->out[c->len] = '\0';
}

static inline int httptest_count(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
  return n;
}

/* Wait up to timeout_ms until the output contains needle at least n times. */
static inline bool httptest_child_wait_output(httptest_child *c, const char *needle, int n,
                                              int timeout_ms) {
  int64_t t0 = gort_now();
  for (;;) {
    httptest_child_read(c);
    if (httptest_count(c->out, needle) >= n) return true;
    int left = timeout_ms - (int)httptest_ms_since(t0);
    if (c->eof || left <= 0) return false;
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    poll(&p, 1, left);
  }
}

/* Read to EOF (the child exited or closed its output) and reap it. Returns
 * the wait status, or -1 if the child is still running after timeout_ms (it
 * is then killed). */
static inline int httptest_child_finish(httptest_child *c, int timeout_ms) {
  int64_t t0 = gort_now();
  while (!c->eof) {
    httptest_child_read(c);
    int left = timeout_ms - (int)httptest_ms_since(t0);
    if (c->eof) break;
    if (left <= 0) {
      kill(c->pid, SIGKILL);
      break;
    }
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    poll(&p, 1, left);
  }
  int status = 0;
  bool timed_out = !c->eof;
  waitpid(c->pid, &status, 0);
  close(c->fd);
  c->fd = -1;
  if (timed_out) fprintf(stderr, "child output so far:\n%s\n", c->out);
  return timed_out ? -1 : status;
}

/* ---- several GETs at once on curl's multi interface ---- */

#define HTTPTEST_MAX_GETS 16

typedef struct {
  CURLM *multi;
  int n, done;
  CURL *easy[HTTPTEST_MAX_GETS];
  long status[HTTPTEST_MAX_GETS];
  CURLcode result[HTTPTEST_MAX_GETS];
  size_t len[HTTPTEST_MAX_GETS];
  char body[HTTPTEST_MAX_GETS][128];
  bool finished[HTTPTEST_MAX_GETS];
} httptest_gets;

typedef struct {
  httptest_gets *g;
  int i;
} httptest_sink;

static size_t httptest_write(char *data, size_t size, size_t nmemb, void *arg) {
  httptest_gets *g = ((httptest_sink *)arg)->g;
  int i = ((httptest_sink *)arg)->i;
  size_t n = size * nmemb, room = sizeof g->body[i] - 1 - g->len[i];
  memcpy(g->body[i] + g->len[i], data, n < room ? n : room);
  g->len[i] += n < room ? n : room;
  g->body[i][g->len[i]] = '\0';
  return n;
}

static httptest_sink httptest_sinks[HTTPTEST_MAX_GETS];

/* Start n GETs (not yet sent: httptest_gets_step sends them). Each uses a
 * connection of its own. */
static inline void httptest_gets_start(httptest_gets *g, const char *const *urls, int n) {
  memset(g, 0, sizeof *g);
  g->multi = curl_multi_init();
  g->n = n;
  for (int i = 0; i < n; i++) {
    httptest_sinks[i] = (httptest_sink){g, i};
    CURL *e = g->easy[i] = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, urls[i]);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 15000L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, httptest_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &httptest_sinks[i]);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)(intptr_t)i);
    curl_multi_add_handle(g->multi, e);
  }
}

/* One round: perform, collect finished transfers, then poll up to
 * timeout_ms (also waking when extra_fd, if >= 0, is readable). Returns the
 * number of finished transfers. */
static inline int httptest_gets_step(httptest_gets *g, int extra_fd, int timeout_ms) {
  int running;
  curl_multi_perform(g->multi, &running);
  int left;
  for (CURLMsg *m; (m = curl_multi_info_read(g->multi, &left));) {
    if (m->msg != CURLMSG_DONE) continue;
    char *priv;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
    int i = (int)(intptr_t)priv;
    g->result[i] = m->data.result;
    curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &g->status[i]);
    g->finished[i] = true;
    g->done++;
  }
  if (g->done < g->n) {
    struct curl_waitfd w = {.fd = extra_fd, .events = CURL_WAIT_POLLIN};
    curl_multi_poll(g->multi, extra_fd >= 0 ? &w : NULL, extra_fd >= 0 ? 1 : 0, timeout_ms, NULL);
  }
  return g->done;
}

/* Drive until every transfer finished or timeout_ms passed. */
static inline bool httptest_gets_finish(httptest_gets *g, int timeout_ms) {
  int64_t t0 = gort_now();
  while (httptest_gets_step(g, -1, 50) < g->n)
    if (httptest_ms_since(t0) > timeout_ms) return false;
  return true;
}

static inline void httptest_gets_cleanup(httptest_gets *g) {
  for (int i = 0; i < g->n; i++) {
    curl_multi_remove_handle(g->multi, g->easy[i]);
    curl_easy_cleanup(g->easy[i]);
  }
  curl_multi_cleanup(g->multi);
}

#endif
