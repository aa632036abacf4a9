/* shutdown_server - seed 000's "Graceful Shutdown" main(): an HTTP server and
 * a background worker; on SIGINT or SIGTERM it stops accepting, cancels the
 * background work and waits for in-flight requests, up to a deadline.
 *
 * Prints what the seed prints ("Background work tick", "Shutdown signal
 * received...", "Worker shutting down...", "Graceful shutdown complete" or
 * "Shutdown timed out, forcing exit"), plus one first line with the address,
 * since it listens on an ephemeral port of 127.0.0.1 instead of :8080.
 *
 * Endpoints: "/" answers "OK"; "/slow?ms=N" answers "OK" after N ms (300 by
 * default) unless the shutdown is forced.
 *
 * Differences from the seed, on purpose: background work is cancelled right
 * after the listener closes, not after the in-flight requests finish (it has
 * nothing to do with them); the deadline covers both; it prints how many
 * requests were answered and how many the server had to cut ("Requests: N
 * answered, M dropped"); and a forced exit, or any request dropped, exits
 * with status 1, so a supervisor can tell it from a clean one.
 *
 * Options: --tick-ms N (1000), --deadline-ms N (30000), --workers N (8),
 *          -v (log each request as a handler takes it).
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gort/gort.h"
#include "gortp/shutdown.h"
#include "gortp/ctxchan.h"

static bool verbose;

static void handle(gort_context *ctx, const gortp_shutdown_http_request *req, gortp_shutdown_http_response *resp,
                   void *arg) {
  (void)arg;
  if (verbose) printf("handling %s %s\n", req->method, req->path);
  if (strcmp(req->path, "/") == 0) {
    gortp_shutdown_http_reply(resp, 200, "OK\n");
  } else if (strcmp(req->path, "/slow") == 0) {
    const char *ms = gortp_shutdown_http_arg(req, "ms");
    int rc = gortp_ctxchan_sleep(ctx, (ms ? atol(ms) : 300) * GORT_MILLISECOND);
    if (rc == 0)
      gortp_shutdown_http_reply(resp, 200, "OK\n");
    else
      gortp_shutdown_http_reply(resp, 503, "%s\n", gort_strerror(rc));
  } else {
    gortp_shutdown_http_reply(resp, 404, "404 page not found\n");
  }
}

struct background {
  gort_context *ctx;
  gort_duration tick;
};

/* StartBackgroundWorker's goroutine. */
static void background_worker(void *arg) {
  struct background *bg = arg;
  gort_ticker *ticker;
  if (gort_ticker_new(&ticker, bg->tick) != 0) return;
  for (;;) {
    gort_select_case cases[2] = {gort_case_recv(gort_ticker_chan(ticker), NULL),
                                 gort_case_recv(gort_context_done(bg->ctx), NULL)};
    if (gort_select(cases, 2) == 0) {
      printf("Background work tick\n");
    } else {
      printf("Worker shutting down...\n");
      break;
    }
  }
  gort_ticker_free(ticker);
}

struct waiter {
  gort_waitgroup *wg;
  gort_chan *done; /* the task's reference */
};

/* go func() { workers.Wait(); close(done) }() */
static void wait_then_close(void *arg) {
  struct waiter *w = arg;
  gort_waitgroup_wait(w->wg);
  /* Read before the close: w lives in main's frame, and main may return as
   * soon as done is closed. */
  gort_chan *done = w->done;
  gort_chan_close(done);
  gort_chan_release(done);
}

static long opt_long(int argc, char **argv, const char *name, long def) {
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp(argv[i], name) == 0) return atol(argv[i + 1]);
  return def;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "-v") == 0) verbose = true;
  gort_duration tick = opt_long(argc, argv, "--tick-ms", 1000) * GORT_MILLISECOND;
  gort_duration deadline = opt_long(argc, argv, "--deadline-ms", 30000) * GORT_MILLISECOND;

  /* signal.Notify(sigCh, SIGINT, SIGTERM) - first, before any thread exists,
   * so that every thread inherits the blocked mask. */
  static const int sigs[] = {SIGINT, SIGTERM};
  gort_context *sigctx;
  gortp_shutdown_signal *notify;
  if (gortp_shutdown_signal_new(gort_context_background(), sigs, 2, &sigctx, &notify) != 0) {
    fprintf(stderr, "signal setup failed\n");
    return 1;
  }

  gort_context *ctx;
  gort_context_with_cancel(gort_context_background(), &ctx);

  gortp_shutdown_server *server;
  gortp_shutdown_server_options opts = {.host = "127.0.0.1",
                               .workers = (int)opt_long(argc, argv, "--workers", 8),
                               .queue = 64,
                               .handler = handle};
  int rc = gortp_shutdown_server_start(&server, &opts);
  if (rc != 0) {
    printf("HTTP server error: %s\n", gort_strerror(rc));
    return 1;
  }
  printf("listening on http://127.0.0.1:%u\n", (unsigned)gortp_shutdown_server_port(server));

  gort_waitgroup workers = GORT_WAITGROUP_INIT;
  struct background bg = {ctx, tick};
  gort_waitgroup_go(&workers, background_worker, &bg);

  /* <-sigCh */
  gort_chan_recv(gort_context_done(sigctx), NULL, NULL);
  printf("\nShutdown signal received...\n");

  gort_context *shutdown_ctx;
  gort_context_with_timeout(gort_context_background(), deadline, &shutdown_ctx);

  /* Phase 1: stop accepting new requests. */
  gortp_shutdown_server_stop_accepting(server);
  /* Phase 2: cancel background work. */
  gort_context_cancel(ctx);
  /* Phase 3: wait for in-flight requests and background work, up to the
   * deadline. */
  gort_chan *done;
  GORT_CHAN_MAKE(&done, char, 0);
  struct waiter w = {&workers, gort_chan_retain(done)};
  gort_go(wait_then_close, &w);
  rc = gortp_shutdown_server_shutdown(server, shutdown_ctx);
  gort_select_case cases[2] = {gort_case_recv(done, NULL),
                               gort_case_recv(gort_context_done(shutdown_ctx), NULL)};
  bool in_time = rc == 0 && gort_select(cases, 2) == 0;
  /* Every request the server accepted was answered, or the exit says so. */
  long dropped = gortp_shutdown_server_dropped(server);
  printf("Requests: %ld answered, %ld dropped\n", gortp_shutdown_server_answered(server), dropped);
  bool clean = in_time && dropped == 0;
  if (clean)
    printf("Graceful shutdown complete\n");
  else if (in_time)
    printf("Shutdown dropped %ld requests\n", dropped);
  else
    printf("Shutdown timed out, forcing exit\n");

  /* Release everything (the background worker honours ctx, so it is done or
   * about to be). */
  gort_chan_recv(done, NULL, NULL);
  gort_chan_release(done);
  gortp_shutdown_server_free(server);
  gortp_shutdown_signal_stop(notify);
  gort_context_free(shutdown_ctx);
  gort_context_free(ctx);
  return clean ? 0 : 1;
}
