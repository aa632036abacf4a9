/* test_shutdown.c - graceful shutdown (seed 000 "Graceful Shutdown", seed
 * 004 "Pattern 6" and "Challenge 4").
 *
 * In-process: the server module (handlers in gort tasks, stop accepting,
 * wait for in-flight requests, force at the deadline, 503 when the queue is
 * full). Out of process: the example program, sent real requests and a real
 * SIGTERM (or SIGINT) while slow requests are in flight.
 *
 * Every test checks that the tasks, threads and fds it created are gone.
 */
#include "ptest.h"

#include "httptest.h"

#include "gortp/httpcheck.h"
#include "gortp/shutdown.h"
#include "gortp/ctxchan.h"

/* ---- per-test resource accounting ---- */

typedef struct {
  int fds, threads;
} baseline;

static baseline take_baseline(void) {
  gort_runtime_quiesce();
  return (baseline){httptest_fds(), httptest_threads()};
}

static bool threads_at_most(void *n) { return httptest_threads() <= (int)(intptr_t)n; }

/* Tasks, fds and threads are back to the baseline. A joined thread can
 * linger in /proc for a moment after pthread_join, hence "eventually". */
static void assert_back_to(baseline b) {
  assert_true(ptest_tasks_settle(1));
  gort_runtime_quiesce();
  assert_int_equal(httptest_fds(), b.fds);
  assert_true(gort_test_eventually(threads_at_most, (void *)(intptr_t)b.threads, 2000));
}

static int setup(void **state) {
  (void)state;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  curl_global_cleanup();
  return 0;
}

/* ---- an in-process server ---- */

typedef struct {
  gort_chan *started; /* buffered: one int per request a handler takes */
  gort_chan *gate;    /* /gate blocks until this is closed */
} handler_env;

static void handle(gort_context *ctx, const gortp_shutdown_http_request *req, gortp_shutdown_http_response *resp,
                   void *arg) {
  handler_env *env = arg;
  if (env && env->started) GORT_CHAN_SEND(env->started, int, 1);
  if (strcmp(req->path, "/slow") == 0) {
    const char *ms = gortp_shutdown_http_arg(req, "ms");
    int rc = gortp_ctxchan_sleep(ctx, (ms ? atol(ms) : 300) * GORT_MILLISECOND);
    if (rc != 0) {
      gortp_shutdown_http_reply(resp, 503, "%s\n", gort_strerror(rc));
      return;
    }
  } else if (strcmp(req->path, "/gate") == 0) {
    gort_chan_recv(env->gate, NULL, NULL);
  }
  gortp_shutdown_http_reply(resp, 200, "OK %s\n", req->path);
}

static gortp_shutdown_server *start_server(handler_env *env, int workers, int queue) {
  gortp_shutdown_server *srv = NULL;
  gortp_shutdown_server_options o = {.workers = workers, .queue = queue, .handler = handle,
                            .handler_arg = env};
  assert_int_equal(gortp_shutdown_server_start(&srv, &o), 0);
  assert_true(gortp_shutdown_server_port(srv) > 0);
  return srv;
}

/* How long a wait may last before it is called a hang: far beyond what any
 * load makes of these tests' waits (the test case timeout is 120 s), so
 * that what fails is a wrong outcome, never a slow machine. */
#define SHUTDOWN_HANG_MS 60000
/* The example's shutdown deadline where the test wants a graceful one: as
 * for the in-process server, a bound on a broken wait, not a timing. */
#define SHUTDOWN_HANG_DEADLINE "60000"

static bool has_accepted_one(void *srv) { return gortp_shutdown_server_accepted(srv) >= 1; }

static void url_of(char *buf, size_t len, gortp_shutdown_server *srv, const char *path) {
  snprintf(buf, len, "http://127.0.0.1:%u%s", (unsigned)gortp_shutdown_server_port(srv), path);
}

static void shutdown_server_serves_requests(void **state) {
  (void)state;
  baseline b = take_baseline();
  gortp_shutdown_server *srv = start_server(NULL, 4, 16);
  char url[128];
  url_of(url, sizeof url, srv, "/hello?x=1");
  long status = 0;
  size_t len = 0;
  char why[128];
  for (int i = 0; i < 5; i++) {
    assert_int_equal(gortp_httpcheck_get(NULL, url, &status, &len, why, sizeof why), 0);
    assert_int_equal(status, 200);
    assert_int_equal(len, strlen("OK /hello\n"));
  }
  gortp_shutdown_server_free(srv);
  assert_back_to(b);
}

struct shutdown_call {
  gortp_shutdown_server *srv;
  gort_context *ctx;
  gort_chan *rc; /* buffered, 1 int */
};

static void shutdown_task(void *arg) {
  struct shutdown_call *c = arg;
  GORT_CHAN_SEND(c->rc, int, gortp_shutdown_server_shutdown(c->srv, c->ctx));
}

/* Slow requests in flight when the shutdown begins all complete with 200; a
 * new connection is refused meanwhile; shutdown returns 0. */
static void shutdown_server_waits_for_inflight(void **state) {
  (void)state;
  baseline b = take_baseline();
  handler_env env = {0};
  GORT_CHAN_MAKE(&env.started, int, 16);
  gortp_shutdown_server *srv = start_server(&env, 8, 16);
  unsigned port = gortp_shutdown_server_port(srv);
  char urls[4][128];
  const char *u[4];
  for (int i = 0; i < 4; i++) {
    url_of(urls[i], sizeof urls[i], srv, "/slow?ms=300");
    u[i] = urls[i];
  }
  httptest_gets g;
  httptest_gets_start(&g, u, 4);
  /* Drive the clients until all four requests are in handlers. */
  int started = 0;
  int64_t t0 = gort_now();
  while (started < 4 && httptest_ms_since(t0) < SHUTDOWN_HANG_MS) {
    httptest_gets_step(&g, -1, 10);
    while (gort_chan_try_recv(env.started, NULL, NULL) == 0) started++;
  }
  assert_int_equal(started, 4);
  assert_int_equal(gortp_shutdown_server_inflight(srv), 4);

  assert_int_equal(gortp_shutdown_server_stop_accepting(srv), 0);
  assert_true(httptest_connect_refused(port));

  /* The deadline is only a bound on a broken wait: rc 0 is what says the
   * shutdown waited for the requests rather than forcing them, whatever
   * the load makes their 300 ms take. */
  struct shutdown_call call = {srv, NULL, NULL};
  assert_int_equal(gort_context_with_timeout(gort_context_background(),
                                             SHUTDOWN_HANG_MS * GORT_MILLISECOND, &call.ctx),
                   0);
  GORT_CHAN_MAKE(&call.rc, int, 1);
  assert_int_equal(gort_go(shutdown_task, &call), 0);
  assert_true(httptest_gets_finish(&g, SHUTDOWN_HANG_MS));
  for (int i = 0; i < 4; i++) {
    assert_int_equal(g.result[i], CURLE_OK);
    assert_int_equal(g.status[i], 200);
    assert_string_equal(g.body[i], "OK /slow\n");
  }
  int rc = -1;
  gort_chan_recv(call.rc, &rc, NULL);
  assert_int_equal(rc, 0);
  assert_int_equal(gortp_shutdown_server_inflight(srv), 0);
  httptest_gets_cleanup(&g);
  gortp_shutdown_server_free(srv);
  gort_context_free(call.ctx);
  gort_chan_release(call.rc);
  gort_chan_release(env.started);
  assert_back_to(b);
}

/* An accepted connection whose request never completes (the client sent
 * half of its headers) is waited for, as Go waits for a new connection;
 * at the deadline it is closed, and counted as dropped. A graceful
 * shutdown drops nothing. */
static void shutdown_server_counts_dropped(void **state) {
  (void)state;
  baseline b = take_baseline();
  handler_env env = {0};
  gortp_shutdown_server *srv = start_server(&env, 2, 4);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(gortp_shutdown_server_port(srv)),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
  static const char half[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  assert_int_equal(send(fd, half, sizeof half - 1, MSG_NOSIGNAL), (ssize_t)(sizeof half - 1));
  /* connect() succeeds once the kernel has the connection in the listener's
   * backlog; the server takes it from there (its thread, or stop_accepting
   * adopting the backlog) a moment later. The scenario is a connection the
   * server has accepted: wait for that, as Go's tests wait on ConnState. */
  assert_true(gort_test_eventually(has_accepted_one, srv, SHUTDOWN_HANG_MS));
  gort_context *ctx;
  assert_int_equal(
      gort_context_with_timeout(gort_context_background(), 200 * GORT_MILLISECOND, &ctx), 0);
  assert_int_equal(gortp_shutdown_server_shutdown(srv, ctx), GORT_EDEADLINE);
  assert_int_equal(gortp_shutdown_server_dropped(srv), 1);
  assert_int_equal(gortp_shutdown_server_answered(srv), 0);
  assert_int_equal(gortp_shutdown_server_accepted(srv), 1);
  char buf[64];
  assert_true(recv(fd, buf, sizeof buf, 0) <= 0); /* closed, unanswered */
  close(fd);
  gortp_shutdown_server_free(srv);
  gort_context_free(ctx);

  /* Graceful: a request answered, nothing dropped. */
  srv = start_server(&env, 2, 4);
  char url[128];
  url_of(url, sizeof url, srv, "/");
  const char *u[1] = {url};
  httptest_gets g;
  httptest_gets_start(&g, u, 1);
  assert_true(httptest_gets_finish(&g, SHUTDOWN_HANG_MS));
  assert_int_equal(g.status[0], 200);
  httptest_gets_cleanup(&g);
  assert_int_equal(gortp_shutdown_server_shutdown(srv, NULL), 0);
  assert_int_equal(gortp_shutdown_server_answered(srv), 1);
  assert_int_equal(gortp_shutdown_server_dropped(srv), 0);
  gortp_shutdown_server_free(srv);
  assert_back_to(b);
}

/* A request that outlives the deadline is cut short: shutdown cancels the
 * handlers' context and returns the deadline error, not before the deadline.
 * How long after it is the machine's business, not asserted: the handler
 * would run for 10 minutes, so a shutdown that waited for it instead of
 * forcing fails at the bounded waits below (or the test case timeout). */
static void shutdown_server_forces_at_deadline(void **state) {
  (void)state;
  baseline b = take_baseline();
  handler_env env = {0};
  GORT_CHAN_MAKE(&env.started, int, 16);
  gortp_shutdown_server *srv = start_server(&env, 4, 16);
  char url[128];
  url_of(url, sizeof url, srv, "/slow?ms=600000");
  const char *u[1] = {url};
  httptest_gets g;
  httptest_gets_start(&g, u, 1);
  int64_t t0 = gort_now();
  while (gort_chan_try_recv(env.started, NULL, NULL) != 0 &&
         httptest_ms_since(t0) < SHUTDOWN_HANG_MS)
    httptest_gets_step(&g, -1, 10);
  assert_int_equal(gortp_shutdown_server_inflight(srv), 1);

  struct shutdown_call call = {srv, NULL, NULL};
  assert_int_equal(gort_context_with_timeout(gort_context_background(), 200 * GORT_MILLISECOND,
                                             &call.ctx), 0);
  GORT_CHAN_MAKE(&call.rc, int, 1);
  assert_int_equal(gort_go(shutdown_task, &call), 0);
  assert_true(httptest_gets_finish(&g, SHUTDOWN_HANG_MS));
  int rc = 0;
  gort_chan_recv(call.rc, &rc, NULL);
  /* Measured from the context's own deadline, not from a time taken after
   * creating it: on a loaded machine that gap alone can exceed any slack. */
  int64_t returned = gort_now(), deadline = 0;
  assert_true(gort_context_deadline(call.ctx, &deadline));
  assert_int_equal(rc, GORT_EDEADLINE);
  assert_true(returned >= deadline);
  assert_true(g.result[0] != CURLE_OK || g.status[0] != 200); /* not completed */
  httptest_gets_cleanup(&g);
  gortp_shutdown_server_free(srv);
  gort_context_free(call.ctx);
  gort_chan_release(call.rc);
  gort_chan_release(env.started);
  assert_back_to(b);
}

/* Backpressure: with one handler busy and no queue, a request is refused
 * with 503 at once instead of piling up. */
static void shutdown_server_busy_answers_503(void **state) {
  (void)state;
  baseline b = take_baseline();
  handler_env env = {0};
  GORT_CHAN_MAKE(&env.started, int, 16);
  GORT_CHAN_MAKE(&env.gate, char, 0);
  gortp_shutdown_server *srv = start_server(&env, 1, 0);
  /* With no queue, a request is taken only by a handler idle at that moment:
   * let the one handler task reach its receive first. */
  assert_true(ptest_parked(1));
  char url[128], busy_url[128];
  url_of(url, sizeof url, srv, "/gate");
  url_of(busy_url, sizeof busy_url, srv, "/");
  const char *u[1] = {url};
  httptest_gets g;
  httptest_gets_start(&g, u, 1);
  int64_t t0 = gort_now();
  while (gort_chan_try_recv(env.started, NULL, NULL) != 0 &&
         httptest_ms_since(t0) < SHUTDOWN_HANG_MS)
    httptest_gets_step(&g, -1, 10);

  long status = 0;
  char why[128];
  assert_int_equal(gortp_httpcheck_get(NULL, busy_url, &status, NULL, why, sizeof why), 0);
  assert_int_equal(status, 503);

  gort_chan_close(env.gate);
  assert_true(httptest_gets_finish(&g, SHUTDOWN_HANG_MS));
  assert_int_equal(g.status[0], 200);
  httptest_gets_cleanup(&g);
  gortp_shutdown_server_free(srv);
  gort_chan_release(env.gate);
  gort_chan_release(env.started);
  assert_back_to(b);
}

/* ---- the example program, with real signals ---- */

/* How long the example may take to start (exec, TSan's start-up, listen):
 * a fraction of a second alone, but make report runs it under TSan beside
 * the other engineers' sweeps on 2 shared cores, where one start took over
 * 5 s. What these tests judge is the shutdown, not the start-up; a server
 * that never starts still fails, and its output is printed. */
#define EXAMPLE_START_MS 30000

static void wait_started(httptest_child *c, const char *needle) {
  if (!httptest_child_wait_output(c, needle, 1, EXAMPLE_START_MS))
    fail_msg("no \"%s\" from the example within %d ms (eof %d); its output:\n%s", needle,
             EXAMPLE_START_MS, c->eof, c->out);
}

static int start_example(httptest_child *c, const char *deadline_ms, unsigned *port) {
  char *argv[] = {SHUTDOWN_SERVER_BIN, "-v", "--tick-ms", "20", "--deadline-ms",
                  (char *)deadline_ms, NULL};
  assert_true(httptest_child_start(c, argv));
  wait_started(c, "\n");
  assert_int_equal(sscanf(c->out, "listening on http://127.0.0.1:%u", port), 1);
  /* The background worker runs before anything else is asked of it. */
  wait_started(c, "Background work tick\n");
  return 0;
}

/* Drive the clients and read the child until its output has n needles. */
static bool drive_until(httptest_gets *g, httptest_child *c, const char *needle, int n,
                        int timeout_ms) {
  int64_t t0 = gort_now();
  for (;;) {
    httptest_child_read(c);
    if (httptest_count(c->out, needle) >= n) return true;
    if (c->eof || httptest_ms_since(t0) > timeout_ms) return false;
    httptest_gets_step(g, c->fd, 20);
  }
}

/* Lines of want appear in out in this order. */
static bool in_order(const char *out, const char *const *want, int n) {
  const char *p = out;
  for (int i = 0; i < n; i++) {
    p = strstr(p, want[i]);
    if (!p) {
      fprintf(stderr, "missing (in order): %s\noutput:\n%s\n", want[i], out);
      return false;
    }
    p += strlen(want[i]);
  }
  return true;
}

static void shutdown_example_sigterm_completes_inflight(void **state) {
  (void)state;
  baseline b = take_baseline();
  httptest_child c;
  unsigned port = 0;
  start_example(&c, SHUTDOWN_HANG_DEADLINE, &port);

  char urls[6][128];
  const char *u[6];
  for (int i = 0; i < 6; i++) {
    snprintf(urls[i], sizeof urls[i], "http://127.0.0.1:%u%s", port,
             i < 4 ? "/slow?ms=400" : "/");
    u[i] = urls[i];
  }
  httptest_gets g;
  httptest_gets_start(&g, u, 6);
  /* Every request has reached a handler before the signal is sent (the slow
   * ones are still there); a request that arrives after it gets 503. */
  assert_true(drive_until(&g, &c, "handling GET /slow\n", 4, SHUTDOWN_HANG_MS));
  assert_true(drive_until(&g, &c, "handling GET /\n", 2, SHUTDOWN_HANG_MS));
  assert_int_equal(kill(c.pid, SIGTERM), 0);
  /* The worker's goodbye comes after the listener was closed. */
  assert_true(drive_until(&g, &c, "Worker shutting down...\n", 1, SHUTDOWN_HANG_MS));
  assert_true(httptest_connect_refused(port));

  assert_true(httptest_gets_finish(&g, SHUTDOWN_HANG_MS));
  for (int i = 0; i < 6; i++) {
    assert_int_equal(g.result[i], CURLE_OK);
    assert_int_equal(g.status[i], 200);
    assert_string_equal(g.body[i], "OK\n");
  }
  int status = httptest_child_finish(&c, SHUTDOWN_HANG_MS);
  /* Graceful, so before its deadline: exit 0 and no "timed out" (below). */
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  static const char *const want[] = {"listening on http://127.0.0.1:", "Background work tick\n",
                                     "\nShutdown signal received...\n",
                                     "Worker shutting down...\n",
                                     "Graceful shutdown complete\n"};
  assert_true(in_order(c.out, want, 5));
  assert_null(strstr(c.out, "timed out"));
  httptest_gets_cleanup(&g);
  assert_back_to(b);
}

static void shutdown_example_deadline_forces_exit(void **state) {
  (void)state;
  baseline b = take_baseline();
  httptest_child c;
  unsigned port = 0;
  start_example(&c, "300", &port);
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/slow?ms=20000", port);
  const char *u[1] = {url};
  httptest_gets g;
  httptest_gets_start(&g, u, 1);
  assert_true(drive_until(&g, &c, "handling GET /slow\n", 1, SHUTDOWN_HANG_MS));
  int64_t t0 = gort_now();
  assert_int_equal(kill(c.pid, SIGTERM), 0);
  assert_true(httptest_gets_finish(&g, SHUTDOWN_HANG_MS));
  assert_true(g.result[0] != CURLE_OK || g.status[0] != 200);
  int status = httptest_child_finish(&c, SHUTDOWN_HANG_MS);
  int64_t took = httptest_ms_since(t0);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 1);
  /* Not before its 300 ms deadline (which starts when the signal arrives);
   * how long after is not asserted: the exit status and the message below
   * say it forced rather than waited for the 20 s request. */
  assert_true(took >= 250);
  static const char *const want[] = {"\nShutdown signal received...\n",
                                     "Shutdown timed out, forcing exit\n"};
  assert_true(in_order(c.out, want, 2));
  httptest_gets_cleanup(&g);
  assert_back_to(b);
}

static void shutdown_example_sigint_when_idle(void **state) {
  (void)state;
  baseline b = take_baseline();
  httptest_child c;
  unsigned port = 0;
  start_example(&c, SHUTDOWN_HANG_DEADLINE, &port);
  assert_int_equal(kill(c.pid, SIGINT), 0);
  int status = httptest_child_finish(&c, SHUTDOWN_HANG_MS);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  static const char *const want[] = {"\nShutdown signal received...\n",
                                     "Worker shutting down...\n",
                                     "Graceful shutdown complete\n"};
  assert_true(in_order(c.out, want, 3));
  assert_true(httptest_connect_refused(port));
  assert_back_to(b);
}

/* ---- fast load: 64 clients, SIGTERM mid-load, nothing lost ---- */

/* One client of the load: a new connection per request (Connection:
 * close), so every request is a fresh accept, as the reported load was. */
enum { LOAD_CLIENTS = 64, LOAD_PER_CLIENT = 40, LOAD_SIGNAL_AFTER = 256 };

typedef enum { CL_IDLE, CL_CONNECTING, CL_SENDING, CL_READING, CL_DONE } cl_state;

typedef struct {
  int fd;
  cl_state st;
  int requests; /* requests started */
  size_t sent, got;
  char buf[1024];
} load_client;

/* Every request ends in exactly one of these. "refused" never reached the
 * server (the listener was closed); everything else was accepted, and
 * graceful shutdown must answer it. A "connect error" is a handshake the
 * kernel had completed (a blocking connect() would have returned success)
 * that was reset from the listener's backlog before we looked. */
typedef struct {
  long ok, refused, reset, empty, bad_status, connect_error;
} load_counts;

static const char load_request[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";

static void cl_start(load_client *cl, unsigned port, load_counts *n) {
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  cl->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  assert_true(cl->fd >= 0);
  cl->requests++;
  cl->sent = cl->got = 0;
  if (connect(cl->fd, (struct sockaddr *)&sin, sizeof sin) == 0 || errno == EINPROGRESS) {
    cl->st = CL_CONNECTING;
    return;
  }
  if (errno == ECONNREFUSED)
    n->refused++;
  else
    n->connect_error++;
  close(cl->fd);
  cl->st = CL_DONE; /* the server is gone: this client stops */
}

/* The request is over: classify it, close, and go again unless done. */
static void cl_end(load_client *cl, long *bucket) {
  (*bucket)++;
  close(cl->fd);
  cl->fd = -1;
  cl->st = cl->requests < LOAD_PER_CLIENT ? CL_IDLE : CL_DONE;
}

static void cl_response(load_client *cl, load_counts *n) {
  cl->buf[cl->got] = '\0';
  if (cl->got == 0)
    cl_end(cl, &n->empty);
  else if (strncmp(cl->buf, "HTTP/1.1 200", 12) == 0 && strstr(cl->buf, "\r\n\r\nOK\n"))
    cl_end(cl, &n->ok);
  else
    cl_end(cl, &n->bad_status);
}

static void cl_step(load_client *cl, short revents, load_counts *n) {
  if (cl->st == CL_CONNECTING) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(cl->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err == EINPROGRESS || (err == 0 && !(revents & (POLLOUT | POLLERR | POLLHUP)))) return;
    if (err != 0) { /* the handshake failed: never accepted */
      cl_end(cl, err == ECONNREFUSED ? &n->refused : &n->connect_error);
      cl->st = CL_DONE;
      return;
    }
    cl->st = CL_SENDING;
  }
  if (cl->st == CL_SENDING) {
    ssize_t w = send(cl->fd, load_request + cl->sent, sizeof load_request - 1 - cl->sent,
                     MSG_NOSIGNAL);
    if (w < 0 && errno == EAGAIN) return;
    if (w < 0) return cl_end(cl, &n->reset);
    cl->sent += (size_t)w;
    if (cl->sent == sizeof load_request - 1) cl->st = CL_READING;
    return;
  }
  if (cl->st == CL_READING && (revents & (POLLIN | POLLERR | POLLHUP))) {
    ssize_t r = recv(cl->fd, cl->buf + cl->got, sizeof cl->buf - 1 - cl->got, 0);
    if (r < 0 && errno == EAGAIN) return;
    if (r < 0) return cl_end(cl, &n->reset);
    if (r == 0) return cl_response(cl, n);
    cl->got += (size_t)r;
    if (cl->got == sizeof cl->buf - 1) cl_response(cl, n);
  }
}

static short cl_events(const load_client *cl) {
  return cl->st == CL_READING ? POLLIN : POLLOUT;
}

/* Drive the 64 clients (bounded: LOAD_PER_CLIENT requests each) against
 * port, sending SIGTERM to pid once LOAD_SIGNAL_AFTER requests have been
 * answered; the child's output is read all along. Returns when every
 * client is done (or after timeout_ms: false). */
static bool run_load(unsigned port, httptest_child *c, load_counts *n, int timeout_ms) {
  load_client cl[LOAD_CLIENTS];
  struct pollfd pfd[LOAD_CLIENTS];
  memset(cl, 0, sizeof cl);
  memset(n, 0, sizeof *n);
  bool signalled = false;
  int64_t t0 = gort_now();
  for (;;) {
    int active = 0;
    for (int i = 0; i < LOAD_CLIENTS; i++) {
      if (cl[i].st == CL_IDLE) cl_start(&cl[i], port, n);
      pfd[i] = (struct pollfd){.fd = cl[i].st == CL_DONE ? -1 : cl[i].fd,
                               .events = cl_events(&cl[i])};
      active += cl[i].st != CL_DONE;
    }
    if (active == 0) return true;
    if (httptest_ms_since(t0) > timeout_ms) return false;
    if (!signalled && n->ok >= LOAD_SIGNAL_AFTER) {
      assert_int_equal(kill(c->pid, SIGTERM), 0);
      signalled = true;
    }
    httptest_child_read(c);
    if (poll(pfd, LOAD_CLIENTS, 100) < 0 && errno != EINTR) return false;
    for (int i = 0; i < LOAD_CLIENTS; i++)
      if (pfd[i].fd >= 0 && pfd[i].revents) cl_step(&cl[i], pfd[i].revents, n);
  }
}

/* The reported failure: under fast load, SIGTERM mid-load, requests whose
 * connection the kernel had accepted got a reset or an empty reply, and
 * the server still said "Graceful shutdown complete" and exited 0. Five
 * runs: every accepted request is answered, the server's count of answered
 * requests is the clients' count, and it exits 0 with nothing dropped. */
static void shutdown_example_fast_load_loses_nothing(void **state) {
  (void)state;
  baseline b = take_baseline();
  for (int run = 0; run < 5; run++) {
    httptest_child c;
    char *argv[] = {SHUTDOWN_SERVER_BIN, "--tick-ms", "1000", "--deadline-ms", "20000", NULL};
    assert_true(httptest_child_start(&c, argv));
    wait_started(&c, "\n");
    unsigned port = 0;
    assert_int_equal(sscanf(c.out, "listening on http://127.0.0.1:%u", &port), 1);
    load_counts n;
    assert_true(run_load(port, &c, &n, 120000));
    int status = httptest_child_finish(&c, 30000);
    long answered = -1, dropped = -1;
    const char *line = strstr(c.out, "Requests: ");
    if (line) sscanf(line, "Requests: %ld answered, %ld dropped", &answered, &dropped);
    fprintf(stderr,
            "run %d: ok %ld, refused %ld, reset %ld, empty %ld, bad status %ld, connect error "
            "%ld; server: %ld answered, %ld dropped, exit %d\n",
            run, n.ok, n.refused, n.reset, n.empty, n.bad_status, n.connect_error, answered,
            dropped, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    assert_true(n.ok >= LOAD_SIGNAL_AFTER); /* the signal came mid-load */
    assert_int_equal(n.reset + n.empty + n.bad_status + n.connect_error, 0); /* 0 lost */
    assert_int_equal(answered, n.ok); /* every request in is a request out */
    assert_int_equal(dropped, 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_non_null(strstr(c.out, "Graceful shutdown complete\n"));
    /* The clients ended on the closed listener (a later connect could reach
     * another test's server on a reused port, so it is not tried here). */
    assert_true(n.refused > 0);
  }
  assert_back_to(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(shutdown_server_serves_requests, setup, teardown),
      cmocka_unit_test_setup_teardown(shutdown_server_waits_for_inflight, setup, teardown),
      cmocka_unit_test_setup_teardown(shutdown_server_forces_at_deadline, setup, teardown),
      cmocka_unit_test_setup_teardown(shutdown_server_busy_answers_503, setup, teardown),
      cmocka_unit_test_setup_teardown(shutdown_server_counts_dropped, setup, teardown),
      cmocka_unit_test_setup_teardown(shutdown_example_sigterm_completes_inflight, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(shutdown_example_deadline_forces_exit, setup, teardown),
      cmocka_unit_test_setup_teardown(shutdown_example_fast_load_loses_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(shutdown_example_sigint_when_idle, setup, teardown),
  };
  httptest_warm_up();
  return cmocka_run_group_tests(tests, gort_test_group_setup, gort_test_group_teardown);
}
