/* shutdown_server.c - an HTTP server (libmicrohttpd) whose handlers run in a
 * fixed pool of gort tasks, with Go's three-phase graceful shutdown
 * (see gortp/shutdown.h).
 *
 * Life of a request (struct req, one per request):
 *  NEW     the MHD thread allocates it on the first access-handler call and
 *          copies method, path and query arguments into it;
 *  QUEUED  on the last call it suspends the connection and try-sends the req
 *          on `queue` (under `lock`, after checking `queue_closed`); a full
 *          queue answers 503 at once;
 *  DONE    a handler task ran the handler, set DONE and resumed the
 *          connection (its last touch of the req); the MHD thread is then
 *          called again and queues the response;
 *  freed   by the MHD thread's completion callback, which counts it answered
 *          (response fully sent) or dropped (cut by the server).
 *
 * Busy connections, what graceful shutdown waits for (Go's Server.Shutdown
 * waits for every connection that is not idle): a connection is busy from
 * its accept until its first request begins; from then on each request is
 * busy from its first access-handler call until its completion. `busy`
 * counts both. So a connection the kernel or MHD accepted but whose request
 * is not read yet is waited for, not closed under the client.
 *
 * A connection adopted from the backlog (stop_accepting, below) is busy from
 * its adoption, not from MHD's start notification: MHD_add_connection only
 * queues it for MHD's thread, which may start it after shutdown has already
 * looked at `busy` (a half-sent request was then closed unanswered and
 * shutdown returned 0: test_shutdown's counts_dropped, 2 runs in 200 under
 * load). Its fd waits in `adopted` until MHD's thread starts it, which then
 * takes over the count instead of adding its own; one MHD closes without
 * starting it is counted dropped.
 *
 * Stopping to accept without resetting anyone (stop_accepting): closing or
 * shutting down a listening socket resets every connection still in its
 * backlog, connections whose clients already saw connect() succeed. So
 * first a socket filter on the listener drops new SYNs (new clients retry,
 * then are refused once the listener is closed), then the connections
 * already accepted by the kernel are taken from the backlog and handed to
 * MHD (MHD_add_connection) until no handshake is in progress (sock_diag),
 * and only then is the listener shut down: its backlog is empty by then.
 *
 * Invariants:
 *  - Nothing is sent on `queue` once `queue_closed` is set (sends happen
 *    under `lock` with queue_closed false), so shutdown may close `queue`
 *    after setting it: no "send on closed channel" is possible.
 *  - Every suspended connection has its req in `queue` or in a handler task,
 *    and every handler task resumes its connection before taking the next
 *    req; so once the handler tasks have exited no connection is suspended,
 *    which MHD_stop_daemon requires.
 *  - A suspended connection never times out or completes (MHD guarantees it),
 *    so the completion callback never frees a req a handler still holds.
 *  - After stop_accepting no connection is added (the listener is shut), so
 *    once `busy` is zero only idle keep-alive connections remain, which
 *    MHD_stop_daemon closes, as Go closes idle connections.
 * Happens-before between a handler task's writes to its req and the MHD
 * thread's reads: MHD_resume_connection and MHD's processing of resumed
 * connections take the same daemon mutex.
 */
#include "gortp/shutdown.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/tcp.h>
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
  bool counted;                /* MHD thread only: counted in inflight_n */
  gortp_shutdown_http_request req;      /* written by the MHD thread before the hand-off */
  gortp_shutdown_http_response resp;    /* written by the handler task before resuming */
};

struct gortp_shutdown_server {
  /* Immutable after start. */
  struct MHD_Daemon *daemon; /* NULL once stopped (owner only) */
  uint16_t port;
  gortp_shutdown_http_handler handler;
  void *handler_arg;
  gort_context *req_ctx; /* handlers' context: cancelled only to force */
  gort_chan *queue;      /* of struct req *: MHD thread -> handler tasks */
  int nworkers;

  gort_mutex lock;           /* orders `queue_closed` against sends on queue */
  bool queue_closed;         /* under lock: the handler tasks are stopping */
  /* Under lock: fds of connections adopted from the backlog that MHD's
   * thread has not started yet; each counts in `busy` already. */
  int *adopted;
  size_t nadopted, adopted_cap;
  atomic_bool closing;       /* stop_accepting has begun: responses say close */
  gort_waitgroup workers_wg; /* handler tasks still running */
  atomic_int inflight_n;     /* requests handed to handlers, not yet answered */
  atomic_long busy;          /* busy connections and requests (see above) */
  atomic_long answered;      /* requests whose response was fully sent */
  atomic_long dropped;       /* requests the server cut before answering */
  atomic_long accepted;      /* connections MHD's thread has started */
  atomic_bool stopping;      /* MHD_stop_daemon is closing what is left */

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
  if (s->queue_closed) {
    /* Only a keep-alive request racing the very end of a shutdown gets
     * here: busy was zero, so nothing else was in progress. */
    gort_mutex_unlock(&s->lock);
    static const char msg[] = "server shutting down\n";
    return send_reply(s, r->conn, MHD_HTTP_SERVICE_UNAVAILABLE, msg, sizeof msg - 1);
  }
  r->counted = true;
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

/* Per connection (MHD's socket context): whether a request has begun on it,
 * which ends the connection's own busy count. MHD thread, or the thread
 * that calls MHD_add_connection / MHD_stop_daemon, serialised by MHD. */
struct conn_state {
  bool requested;
};

/* Remove fd from the adopted connections not yet started; whether it was
 * there. Takes lock. */
static bool adopted_take(gortp_shutdown_server *s, int fd) {
  bool found = false;
  gort_mutex_lock(&s->lock);
  for (size_t i = 0; i < s->nadopted && !found; i++) {
    if (s->adopted[i] != fd) continue;
    s->adopted[i] = s->adopted[--s->nadopted];
    found = true;
  }
  gort_mutex_unlock(&s->lock);
  return found;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
  gortp_shutdown_server *s = cls;
  struct conn_state *cs = *socket_context;
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    /* An adopted connection counts in busy already: take its count over. */
    bool counted = ci && adopted_take(s, ci->connect_fd);
    cs = calloc(1, sizeof *cs);
    *socket_context = cs;
    if (cs && !counted) atomic_fetch_add(&s->busy, 1);
    if (!cs && counted) atomic_fetch_sub(&s->busy, 1); /* untracked without memory */
    atomic_fetch_add(&s->accepted, 1);
    return;
  }
  if (cs && !cs->requested) {
    /* Closed before any request was read. If the server closes it (a forced
     * shutdown), the client's request, sent or about to be, is lost. */
    if (atomic_load(&s->stopping)) atomic_fetch_add(&s->dropped, 1);
    atomic_fetch_sub(&s->busy, 1);
  }
  free(cs);
  *socket_context = NULL;
}

/* A request begins on conn: the connection's first request takes over its
 * busy count; a later one (keep-alive) adds its own. */
static void request_begins(gortp_shutdown_server *s, struct MHD_Connection *conn) {
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  struct conn_state *cs = ci ? ci->socket_context : NULL;
  if (cs && !cs->requested)
    cs->requested = true;
  else
    atomic_fetch_add(&s->busy, 1);
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
    request_begins(s, conn);
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
  gortp_shutdown_server *s = cls;
  struct req *r = *con_cls;
  if (!r) return;
  *con_cls = NULL;
  if (r->counted) atomic_fetch_sub(&s->inflight_n, 1);
  if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
    atomic_fetch_add(&s->answered, 1);
  else if (toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN)
    atomic_fetch_add(&s->dropped, 1); /* the server cut it (a client's abort or
                                       * error is not counted: no false alarm) */
  free(r);
  atomic_fetch_sub(&s->busy, 1); /* the request is over */
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
  free(s->adopted);
  gort_chan_release(s->queue);
  gort_context_free(s->req_ctx);
  gort_waitgroup_destroy(&s->workers_wg);
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
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
      s, MHD_OPTION_CONNECTION_TIMEOUT,
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

long gortp_shutdown_server_accepted(gortp_shutdown_server *srv) {
  return atomic_load(&srv->accepted);
}

/* ---- stopping to accept without resetting the backlog ---- */

/* Make the listener drop segments with SYN set and ACK clear: no new
 * handshake starts, the ones under way complete. A socket filter on a TCP
 * listener sees the TCP header at offset 0 (byte 13: the flags). */
static bool refuse_new_handshakes(int fd) {
  static struct sock_filter drop_syn[] = {
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),
      BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x12),       /* SYN | ACK */
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x02, 0, 1), /* SYN alone: */
      BPF_STMT(BPF_RET | BPF_K, 0),                    /*   drop */
      BPF_STMT(BPF_RET | BPF_K, 0xffffffff),           /* the rest: keep */
  };
  struct sock_fprog prog = {sizeof drop_syn / sizeof drop_syn[0], drop_syn};
  return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) == 0;
}

/* Handshakes in progress (SYN_RECV) to local port, from the kernel's
 * sock_diag; -1 when it cannot tell. */
static int handshakes_in_progress(uint16_t port) {
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return -1;
  struct {
    struct nlmsghdr nlh;
    struct inet_diag_req_v2 req;
  } msg = {.nlh = {.nlmsg_len = sizeof msg, .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                   .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
           .req = {.sdiag_family = AF_INET, .sdiag_protocol = IPPROTO_TCP,
                   .idiag_states = 1u << TCP_SYN_RECV}};
  int n = send(fd, &msg, sizeof msg, 0) < 0 ? -1 : 0;
  for (bool done = n < 0; !done;) {
    char buf[8192] __attribute__((aligned(4)));
    ssize_t got = recv(fd, buf, sizeof buf, 0);
    if (got <= 0) {
      n = -1;
      break;
    }
    unsigned len = (unsigned)got;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
        if (h->nlmsg_type == NLMSG_ERROR) n = -1;
        done = true;
        break;
      }
      const struct inet_diag_msg *m = NLMSG_DATA(h);
      if (ntohs(m->id.idiag_sport) == port) n++;
    }
  }
  close(fd);
  return n;
}

/* Note fd as adopted and count it busy, before MHD's thread can start it.
 * false: no memory to note it (then MHD's start counts it, late). */
static bool adopted_put(gortp_shutdown_server *s, int fd) {
  gort_mutex_lock(&s->lock);
  if (s->nadopted == s->adopted_cap) {
    size_t cap = s->adopted_cap ? 2 * s->adopted_cap : 16;
    int *a = realloc(s->adopted, cap * sizeof *a);
    if (!a) {
      gort_mutex_unlock(&s->lock);
      return false;
    }
    s->adopted = a;
    s->adopted_cap = cap;
  }
  s->adopted[s->nadopted++] = fd;
  atomic_fetch_add(&s->busy, 1);
  gort_mutex_unlock(&s->lock);
  return true;
}

/* Give MHD every connection waiting in the listener's backlog. Each is busy
 * from here on (see "Busy connections" above): MHD_add_connection only
 * queues it for MHD's thread. */
static void adopt_accepted(gortp_shutdown_server *s, int fd) {
  for (;;) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int c = accept4(fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0 && (errno == EINTR || errno == ECONNABORTED)) continue;
    if (c < 0) return;
    bool noted = adopted_put(s, c);
    /* MHD closes c when it cannot take it; then it never starts. */
    if (MHD_add_connection(s->daemon, c, (struct sockaddr *)&ss, len) != MHD_YES && noted &&
        adopted_take(s, c))
      atomic_fetch_sub(&s->busy, 1);
  }
}

/* With new handshakes refused: adopt the backlog until two looks, 1 ms
 * apart, find no handshake under way (the first wait lets a SYN that was
 * already past the filter become visible). Bounded by about a second: a
 * client that vanished mid-handshake leaves its entry for a minute. */
static void adopt_backlog(gortp_shutdown_server *s, int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  for (int look = 0, clean = 0; look < 1000 && clean < 2; look++) {
    gort_sleep(GORT_MILLISECOND);
    adopt_accepted(s, fd);
    clean = handshakes_in_progress(s->port) <= 0 ? clean + 1 : 0;
  }
  adopt_accepted(s, fd);
}

int gortp_shutdown_server_stop_accepting(gortp_shutdown_server *srv) {
  bool first = !atomic_exchange(&srv->closing, true);
  if (!first || !srv->daemon) return 0;
  const union MHD_DaemonInfo *li = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_LISTEN_FD);
  bool refused = li && refuse_new_handshakes(li->listen_fd);
  int fd = MHD_quiesce_daemon(srv->daemon);
  if (fd >= 0) {
    if (refused) adopt_backlog(srv, fd);
    /* MHD's thread may still hold the descriptor, so it is closed only after
     * MHD_stop_daemon; shutting it down now turns the listener into a closed
     * socket at once, so new connections are refused instead of waiting in
     * a backlog nobody accepts from (and the backlog is empty by now). */
    shutdown(fd, SHUT_RDWR);
    srv->listen_fd = fd;
  }
  return 0;
}

/* ---- waiting ---- */

/* Go's Shutdown loop: look until no connection or request is busy, the
 * interval doubling from 1 ms up to 500 ms (Go's pollIntervalBase and its
 * cap), or until ctx is done (NULL: no limit). 0 or the ctx's error. */
static int wait_not_busy(gortp_shutdown_server *s, gort_context *ctx) {
  gort_duration interval = GORT_MILLISECOND;
  while (atomic_load(&s->busy) > 0) {
    gort_timer *t;
    if (gort_timer_new(&t, interval) != 0) return GORT_ENOMEM; /* cannot wait: force */
    gort_select_case cases[2] = {gort_case_recv(gort_timer_chan(t), NULL),
                                 gort_case_recv(ctx ? gort_context_done(ctx) : NULL, NULL)};
    int which = gort_select(cases, 2);
    gort_timer_free(t);
    if (which == 1) return gort_context_err(ctx);
    if (interval < 500 * GORT_MILLISECOND) interval *= 2;
  }
  return 0;
}

int gortp_shutdown_server_shutdown(gortp_shutdown_server *srv, gort_context *ctx) {
  if (!srv || srv->shut) return GORT_EINVAL;
  srv->shut = true;
  gortp_shutdown_server_stop_accepting(srv);
  int rc = wait_not_busy(srv, ctx);
  if (rc != 0) gort_context_cancel(srv->req_ctx); /* force: handlers give up */

  /* Stop the handler tasks: nothing is sent on the queue from now on. They
   * drain what is queued first, so every suspended connection is resumed
   * before MHD is stopped. */
  gort_mutex_lock(&srv->lock);
  srv->queue_closed = true;
  gort_mutex_unlock(&srv->lock);
  gort_chan_close(srv->queue);
  gort_waitgroup_wait(&srv->workers_wg);
  /* Closes every connection: all complete. Only idle ones are left after a
   * graceful wait; after a forced one, what is still busy is dropped. */
  atomic_store(&srv->stopping, true);
  MHD_stop_daemon(srv->daemon);
  srv->daemon = NULL;
  /* Adopted connections MHD closed without starting them were cut unread. */
  gort_mutex_lock(&srv->lock);
  atomic_fetch_add(&srv->dropped, (long)srv->nadopted);
  atomic_fetch_sub(&srv->busy, (long)srv->nadopted);
  srv->nadopted = 0;
  gort_mutex_unlock(&srv->lock);
  if (srv->listen_fd >= 0) close(srv->listen_fd);
  srv->listen_fd = -1;
  return rc;
}

long gortp_shutdown_server_answered(gortp_shutdown_server *srv) { return atomic_load(&srv->answered); }
long gortp_shutdown_server_dropped(gortp_shutdown_server *srv) { return atomic_load(&srv->dropped); }

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
