/* shutdown_server.c - an HTTP server (libmicrohttpd) whose handlers run in a
 * fixed pool of gort tasks, with Go's three-phase graceful shutdown
 * (see gortp/shutdown.h).
 *
 * Life of a request (struct req, one per request):
 *  NEW     the MHD thread allocates it on the first access-handler call and
 *          copies method, path and query arguments into it;
 *  QUEUED  on the last call it counts the request in `inflight`, suspends the
 *          connection, and try-sends the req on `queue` (both under `lock`,
 *          after checking `closing`); a full queue answers 503 at once;
 *  DONE    a handler task ran the handler, set DONE and resumed the
 *          connection (its last touch of the req); the MHD thread is then
 *          called again and queues the response;
 *  freed   by the MHD thread's completion callback, which also takes the
 *          request out of `inflight`.
 *
 * Invariants:
 *  - Nothing is sent on `queue` once `closing` is set (sends happen under
 *    `lock` with closing false), so shutdown may close `queue` after setting
 *    closing: no "send on closed channel" is possible.
 *  - Every suspended connection has its req in `queue` or in a handler task,
 *    and every handler task resumes its connection before taking the next
 *    req; so once the handler tasks have exited no connection is suspended,
 *    which MHD_stop_daemon requires.
 *  - A suspended connection never times out or completes (MHD guarantees it),
 *    so the completion callback never frees a req a handler still holds.
 *  - `inflight` reaches zero only when every counted request has completed;
 *    after closing, nothing is added to it, so waiting on it is sound.
 * Happens-before between a handler task's writes to its req and the MHD
 * thread's reads: MHD_resume_connection and MHD's processing of resumed
 * connections take the same daemon mutex.
 */
#include "gortp/shutdown.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gort/chan.h"
#include "gort/err.h"
#include "gort/select.h"
#include "gort/sync.h"
#include "gort/task.h"

enum req_phase { REQ_NEW, REQ_QUEUED, REQ_DONE };

struct req {
  struct MHD_Connection *conn; /* immutable */
  enum req_phase phase;        /* see the life cycle above */
  bool counted;                /* MHD thread only: counted in inflight */
  gortp_shutdown_http_request req;      /* written by the MHD thread before the hand-off */
  gortp_shutdown_http_response resp;    /* written by the handler task before resuming */
};

struct gortp_shutdown_server {
  /* Immutable after start. */
  struct MHD_Daemon *daemon; /* NULL once stopped (owner only) */
  uint16_t port;
  gortp_http_handler handler;
  void *handler_arg;
  gort_context *req_ctx; /* handlers' context: cancelled only to force */
  gort_chan *queue;      /* of struct req *: MHD thread -> handler tasks */
  int nworkers;

  gort_mutex lock;           /* orders `closing` against sends on queue */
  atomic_bool closing;       /* written under lock; read by the MHD thread */
  gort_waitgroup workers_wg; /* handler tasks still running */
  gort_waitgroup inflight;   /* counted requests not yet completed */
  atomic_int inflight_n;     /* the same count, as a snapshot for callers */

  /* Owner only (the task calling stop_accepting/shutdown/free). */
  int listen_fd; /* the quiesced listening socket, closed after stopping */
  bool shut;     /* shutdown has run */
};

const char *gortp_shutdown_http_arg(const gortp_shutdown_http_request *req, const char *key) {
  for (size_t i = 0; i < req->nargs; i++)
    if (strcmp(req->args[i].key, key) == 0) return req->args[i].value;
  return NULL;
}

void gortp_shutdown_http_reply(gortp_shutdown_http_response *resp, unsigned status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(resp->body, sizeof resp->body, fmt, ap);
  va_end(ap);
  resp->status = status;
  resp->len = n < 0 ? 0 : (size_t)n >= sizeof resp->body ? sizeof resp->body - 1 : (size_t)n;
}

static void copy_str(char *dst, size_t cap, const char *src) {
  snprintf(dst, cap, "%s", src ? src : "");
}

static enum MHD_Result copy_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value) {
  (void)kind;
  gortp_shutdown_http_request *r = cls;
  if (r->nargs == GORTP_SHUTDOWN_HTTP_MAX_ARGS) return MHD_NO; /* stop iterating */
  copy_str(r->args[r->nargs].key, sizeof r->args[r->nargs].key, key);
  copy_str(r->args[r->nargs].value, sizeof r->args[r->nargs].value, value);
  r->nargs++;
  return MHD_YES;
}

/* Queue status/body on conn; during shutdown also ask the client to close. */
static enum MHD_Result send_reply(gortp_shutdown_server *s, struct MHD_Connection *conn, unsigned status,
                                  const char *body, size_t len) {
  struct MHD_Response *resp =
      MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
  if (!resp) return MHD_NO;
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
  if (atomic_load(&s->closing)) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
  enum MHD_Result rc = MHD_queue_response(conn, status, resp);
  MHD_destroy_response(resp);
  return rc;
}

/* MHD thread: hand a complete request to the handler tasks. */
static enum MHD_Result dispatch(gortp_shutdown_server *s, struct req *r) {
  MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, copy_arg, &r->req);
  r->resp.status = 200;
  gort_mutex_lock(&s->lock);
  if (atomic_load(&s->closing)) {
    gort_mutex_unlock(&s->lock);
    static const char msg[] = "server shutting down\n";
    return send_reply(s, r->conn, MHD_HTTP_SERVICE_UNAVAILABLE, msg, sizeof msg - 1);
  }
  r->counted = true;
  gort_waitgroup_add(&s->inflight, 1);
  atomic_fetch_add(&s->inflight_n, 1);
  r->phase = REQ_QUEUED;
  /* Suspend before the hand-off: a handler may resume it at once. */
  MHD_suspend_connection(r->conn);
  int rc = gort_chan_try_send(s->queue, &r);
  gort_mutex_unlock(&s->lock);
  if (rc != 0) {
    /* Queue full: refuse now rather than queue without bound. */
    gortp_shutdown_http_reply(&r->resp, MHD_HTTP_SERVICE_UNAVAILABLE, "server busy\n");
    r->phase = REQ_DONE;
    MHD_resume_connection(r->conn);
  }
  return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
  (void)version;
  (void)upload_data;
  gortp_shutdown_server *s = cls;
  struct req *r = *con_cls;
  if (!r) {
    r = calloc(1, sizeof *r);
    if (!r) return MHD_NO;
    r->conn = conn;
    copy_str(r->req.method, sizeof r->req.method, method);
    copy_str(r->req.path, sizeof r->req.path, url);
    *con_cls = r;
    return MHD_YES;
  }
  if (*upload_data_size != 0) { /* bodies are not used: discard */
    *upload_data_size = 0;
    return MHD_YES;
  }
  switch (r->phase) {
    case REQ_NEW:
      return dispatch(s, r);
    case REQ_DONE:
      return send_reply(s, conn, r->resp.status, r->resp.body, r->resp.len);
    case REQ_QUEUED:
      break;
  }
  return MHD_NO; /* not reached: a queued request's connection is suspended */
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  (void)conn;
  (void)toe;
  gortp_shutdown_server *s = cls;
  struct req *r = *con_cls;
  if (!r) return;
  *con_cls = NULL;
  if (r->counted) {
    atomic_fetch_sub(&s->inflight_n, 1);
    gort_waitgroup_done(&s->inflight);
  }
  free(r);
}

static void handler_task(void *arg) {
  gortp_shutdown_server *s = arg;
  struct req *r;
  while (gort_chan_recv(s->queue, &r, NULL) == 0) {
    s->handler(s->req_ctx, &r->req, &r->resp, s->handler_arg);
    struct MHD_Connection *conn = r->conn;
    r->phase = REQ_DONE;
    MHD_resume_connection(conn); /* r may be freed from here on */
  }
}

/* Start the handler tasks; on failure stop those already started. */
static int start_workers(gortp_shutdown_server *s) {
  for (int i = 0; i < s->nworkers; i++) {
    int rc = gort_waitgroup_go(&s->workers_wg, handler_task, s);
    if (rc != 0) {
      gort_chan_close(s->queue);
      gort_waitgroup_wait(&s->workers_wg);
      return rc;
    }
  }
  return 0;
}

static void server_destroy(gortp_shutdown_server *s) {
  gort_chan_release(s->queue);
  gort_context_free(s->req_ctx);
  gort_waitgroup_destroy(&s->workers_wg);
  gort_waitgroup_destroy(&s->inflight);
  gort_mutex_destroy(&s->lock);
  free(s);
}

int gortp_shutdown_server_start(gortp_shutdown_server **out, const gortp_shutdown_server_options *opt) {
  if (!out || !opt || !opt->handler) return GORT_EINVAL;
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(opt->port)};
  if (inet_pton(AF_INET, opt->host ? opt->host : "127.0.0.1", &sin.sin_addr) != 1)
    return GORT_EINVAL;
  gortp_shutdown_server *s = calloc(1, sizeof *s);
  if (!s) return GORT_ENOMEM;
  s->handler = opt->handler;
  s->handler_arg = opt->handler_arg;
  s->nworkers = opt->workers > 0 ? opt->workers : 8;
  s->listen_fd = -1;
  gort_mutex_init(&s->lock);
  gort_waitgroup_init(&s->workers_wg);
  gort_waitgroup_init(&s->inflight);
  int rc = gort_context_with_cancel(gort_context_background(), &s->req_ctx);
  if (rc != 0) {
    s->req_ctx = NULL;
    server_destroy(s);
    return rc;
  }
  rc = gort_chan_make(&s->queue, sizeof(struct req *), opt->queue < 0 ? 64 : opt->queue);
  if (rc == 0) rc = start_workers(s);
  if (rc != 0) {
    server_destroy(s);
    return rc;
  }
  s->daemon = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME, opt->port, NULL,
      NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_CONNECTION_TIMEOUT,
      (unsigned int)30, MHD_OPTION_END);
  const union MHD_DaemonInfo *info =
      s->daemon ? MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
  if (!info) {
    if (s->daemon) MHD_stop_daemon(s->daemon);
    gort_chan_close(s->queue);
    gort_waitgroup_wait(&s->workers_wg);
    server_destroy(s);
    return GORT_EIO;
  }
  s->port = info->port;
  *out = s;
  return 0;
}

uint16_t gortp_shutdown_server_port(const gortp_shutdown_server *srv) { return srv->port; }

int gortp_shutdown_server_inflight(gortp_shutdown_server *srv) { return atomic_load(&srv->inflight_n); }

int gortp_shutdown_server_stop_accepting(gortp_shutdown_server *srv) {
  gort_mutex_lock(&srv->lock);
  bool first = !atomic_load(&srv->closing);
  atomic_store(&srv->closing, true);
  gort_mutex_unlock(&srv->lock);
  if (!first || !srv->daemon) return 0;
  int fd = MHD_quiesce_daemon(srv->daemon);
  if (fd >= 0) {
    /* MHD's thread may still hold the descriptor, so it is closed only after
     * MHD_stop_daemon; shutting it down now turns the listener into a closed
     * socket at once, so new connections are refused instead of waiting in
     * a backlog nobody accepts from. */
    shutdown(fd, SHUT_RDWR);
    srv->listen_fd = fd;
  }
  return 0;
}

struct idle_watch {
  gortp_shutdown_server *srv;
  gort_chan *idle; /* the task's own reference */
};

static void idle_watch_task(void *arg) {
  struct idle_watch *w = arg;
  gort_waitgroup_wait(&w->srv->inflight);
  gort_chan *idle = w->idle;
  free(w);
  gort_chan_close(idle);
  gort_chan_release(idle);
}

/* A channel that is closed once every counted request has completed. */
static int watch_idle(gortp_shutdown_server *s, gort_chan **out) {
  struct idle_watch *w = malloc(sizeof *w);
  if (!w) return GORT_ENOMEM;
  int rc = gort_chan_make(out, 1, 0);
  if (rc != 0) {
    free(w);
    return rc;
  }
  w->srv = s;
  w->idle = gort_chan_retain(*out);
  rc = gort_go_named("http-shutdown-wait", idle_watch_task, w);
  if (rc != 0) {
    gort_chan_release(w->idle);
    gort_chan_release(*out);
    free(w);
  }
  return rc;
}

int gortp_shutdown_server_shutdown(gortp_shutdown_server *srv, gort_context *ctx) {
  if (!srv || srv->shut) return GORT_EINVAL;
  srv->shut = true;
  gortp_shutdown_server_stop_accepting(srv);

  int rc = 0;
  gort_chan *idle = NULL;
  if (watch_idle(srv, &idle) == 0) {
    gort_select_case cases[2] = {
        gort_case_recv(idle, NULL),
        gort_case_recv(ctx ? gort_context_done(ctx) : NULL, NULL),
    };
    if (gort_select(cases, 2) == 1) rc = gort_context_err(ctx);
  } else {
    rc = GORT_ENOMEM; /* cannot wait: force */
  }
  if (rc != 0) gort_context_cancel(srv->req_ctx); /* force: handlers give up */

  /* No send can happen any more (closing is set): stop the handler tasks.
   * They drain what is queued first, so every suspended connection is
   * resumed before MHD is stopped. */
  gort_chan_close(srv->queue);
  gort_waitgroup_wait(&srv->workers_wg);
  MHD_stop_daemon(srv->daemon); /* closes every connection: all complete */
  srv->daemon = NULL;
  if (srv->listen_fd >= 0) close(srv->listen_fd);
  srv->listen_fd = -1;
  if (idle) {
    gort_chan_recv(idle, NULL, NULL); /* the watcher is done with srv */
    gort_chan_release(idle);
  } else {
    gort_waitgroup_wait(&srv->inflight);
  }
  return rc;
}

void gortp_shutdown_server_free(gortp_shutdown_server *srv) {
  if (!srv) return;
  if (!srv->shut) {
    gort_context *now;
    if (gort_context_with_cancel(gort_context_background(), &now) == 0) {
      gort_context_cancel(now);
      gortp_shutdown_server_shutdown(srv, now);
      gort_context_free(now);
    } else {
      gortp_shutdown_server_shutdown(srv, NULL);
    }
  }
  server_destroy(srv);
}
