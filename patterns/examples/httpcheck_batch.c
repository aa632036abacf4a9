/* httpcheck_batch - seed 003's "Production HTTP Batch Processor" main():
 * batchCheck(urls) and one line per result, "<url>: <status> (<latency>)",
 * or "batch check error: <err>".
 *
 * The seed fetches go.dev, pkg.go.dev and blog.golang.org; this example
 * never leaves the machine: it starts a local HTTP server on an ephemeral
 * port of 127.0.0.1 and checks three paths named after the seed's hosts.
 * With --fail it adds a URL nobody listens on, to show the error path
 * ("batch check error: fetch http://127.0.0.1:<port>/: Couldn't connect to
 * server").
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gort/gort.h"
#include "gortp/httpcheck.h"
#include "gortp/shutdown.h"

static void handle(gort_context *ctx, const gortp_shutdown_http_request *req, gortp_shutdown_http_response *resp,
                   void *arg) {
  (void)ctx;
  (void)arg;
  gortp_shutdown_http_reply(resp, 200, "hello from %s\n", req->path);
}

/* A local port that refuses connections: bound for a moment, never listened. */
static unsigned closed_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof sin;
  bind(fd, (struct sockaddr *)&sin, sizeof sin);
  getsockname(fd, (struct sockaddr *)&sin, &len);
  close(fd);
  return ntohs(sin.sin_port);
}

/* func batchCheck(urls []string) ([]CheckResult, error) */
static int batch_check(const char *const *urls, size_t n, gortp_httpcheck_result *results,
                       gortp_httpcheck_error *err) {
  gortp_httpcheck_options opt = {.limit = 20, .timeout = 10 * GORT_SECOND};
  return gortp_httpcheck_batch(gort_context_background(), urls, n, &opt, results, err);
}

int main(int argc, char **argv) {
  bool fail = argc > 1 && strcmp(argv[1], "--fail") == 0;
  gortp_shutdown_server *srv;
  gortp_shutdown_server_options so = {.handler = handle};
  if (gortp_shutdown_server_start(&srv, &so) != 0) {
    printf("cannot start the local server\n");
    return 1;
  }
  unsigned port = gortp_shutdown_server_port(srv);
  char urls_buf[4][96];
  snprintf(urls_buf[0], sizeof urls_buf[0], "http://127.0.0.1:%u/go.dev", port);
  snprintf(urls_buf[1], sizeof urls_buf[1], "http://127.0.0.1:%u/pkg.go.dev", port);
  snprintf(urls_buf[2], sizeof urls_buf[2], "http://127.0.0.1:%u/blog.golang.org", port);
  snprintf(urls_buf[3], sizeof urls_buf[3], "http://127.0.0.1:%u/", closed_port());
  const char *urls[4] = {urls_buf[0], urls_buf[1], urls_buf[2], urls_buf[3]};

  gortp_httpcheck_result results[4];
  gortp_httpcheck_error err;
  int rc = batch_check(urls, fail ? 4 : 3, results, &err);
  gortp_shutdown_server_free(srv);
  if (rc != 0) {
    printf("batch check error: %s\n", err.msg);
    return 0;
  }
  for (size_t i = 0; i < 3; i++) {
    char lat[32];
    gortp_httpcheck_format_duration(lat, sizeof lat, results[i].latency);
    printf("%s: %ld (%s)\n", results[i].url, results[i].status, lat);
  }
  return 0;
}
