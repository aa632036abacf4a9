/* test_httpcheck.c - the HTTP batch checker (seed 003 "Production HTTP Batch
 * Processor", "Errgroup" checkServices; seed 004 "Pattern 4"/"Pattern 6"),
 * against a local libmicrohttpd server with fast, slow and failing (500)
 * endpoints on 127.0.0.1 - never the internet.
 */
#include "ptest.h"

#include "httptest.h"

#include "gortp/httpcheck.h"
#include "gortp/shutdown.h"
#include "gortp/ctxchan.h"

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

/* ---- the local server ---- */

typedef struct {
  gort_mutex lock; /* protects active, max_active, served */
  int active, max_active, served;
} load;

/* /fast: 200 at once; /slow?ms=N: 200 after N ms; /fail: 500. */
static void handle(gort_context *ctx, const gortp_shutdown_http_request *req, gortp_shutdown_http_response *resp,
                   void *arg) {
  load *l = arg;
  gort_mutex_lock(&l->lock);
  if (++l->active > l->max_active) l->max_active = l->active;
  gort_mutex_unlock(&l->lock);
  if (strcmp(req->path, "/slow") == 0) {
    const char *ms = gortp_shutdown_http_arg(req, "ms");
    if (gortp_ctxchan_sleep(ctx, (ms ? atol(ms) : 100) * GORT_MILLISECOND) != 0)
      gortp_shutdown_http_reply(resp, 503, "canceled\n");
    else
      gortp_shutdown_http_reply(resp, 200, "slow\n");
  } else if (strcmp(req->path, "/fail") == 0) {
    gortp_shutdown_http_reply(resp, 500, "internal error\n");
  } else {
    gortp_shutdown_http_reply(resp, 200, "fast\n");
  }
  gort_mutex_lock(&l->lock);
  l->active--;
  l->served++;
  gort_mutex_unlock(&l->lock);
}

typedef struct {
  baseline base;
  load load;
  gortp_shutdown_server *srv;
  char urls[HTTPTEST_MAX_GETS][128];
  const char *u[HTTPTEST_MAX_GETS];
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  f->base = take_baseline();
  gort_mutex_init(&f->load.lock);
  gortp_shutdown_server_options o = {.workers = 16, .queue = 64, .handler = handle, .handler_arg = &f->load};
  if (gortp_shutdown_server_start(&f->srv, &o) != 0) return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  gortp_shutdown_server_free(f->srv); /* forces: slow handlers still running give up */
  assert_back_to(f->base);
  free(f);
  return 0;
}

static const char *url(fixture *f, int i, const char *path) {
  snprintf(f->urls[i], sizeof f->urls[i], "http://127.0.0.1:%u%s",
           (unsigned)gortp_shutdown_server_port(f->srv), path);
  return f->u[i] = f->urls[i];
}

static bool has_prefix(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- tests ---- */

static void httpcheck_all_ok_results_by_index(void **state) {
  fixture *f = *state;
  url(f, 0, "/fast?i=0");
  url(f, 1, "/slow?ms=50");
  url(f, 2, "/fast?i=2");
  gortp_httpcheck_result res[3];
  gortp_httpcheck_error err;
  assert_int_equal(gortp_httpcheck_batch(gort_context_background(), f->u, 3, NULL, res, &err), 0);
  assert_int_equal(err.code, 0);
  for (int i = 0; i < 3; i++) {
    assert_ptr_equal(res[i].url, f->u[i]);
    assert_int_equal(res[i].status, 200);
    assert_true(res[i].latency > 0);
  }
  assert_int_equal(res[1].body_len, strlen("slow\n"));
  assert_true(res[1].latency >= 45 * GORT_MILLISECOND);
}

/* batchCheck treats a 500 as a result, not an error. */
static void httpcheck_500_is_a_result_by_default(void **state) {
  fixture *f = *state;
  url(f, 0, "/fast");
  url(f, 1, "/fail");
  gortp_httpcheck_result res[2];
  assert_int_equal(gortp_httpcheck_batch(gort_context_background(), f->u, 2, NULL, res, NULL), 0);
  assert_int_equal(res[0].status, 200);
  assert_int_equal(res[1].status, 500);
}

/* checkServices: a status >= 500 is an error naming the URL, and it cancels
 * the slow requests still running (the batch returns long before them). */
static void httpcheck_500_is_an_error_when_asked(void **state) {
  fixture *f = *state;
  url(f, 0, "/slow?ms=10000");
  url(f, 1, "/slow?ms=10000");
  url(f, 2, "/fail");
  gortp_httpcheck_options opt = {.error_status = 500};
  gortp_httpcheck_result res[3];
  gortp_httpcheck_error err;
  int64_t t0 = gort_now();
  assert_int_equal(gortp_httpcheck_batch(gort_context_background(), f->u, 3, &opt, res, &err),
                   GORT_EFAILED);
  assert_true(httptest_ms_since(t0) < 5000);
  assert_int_equal(err.code, GORT_EFAILED);
  assert_int_equal(err.index, 2);
  char want[200];
  snprintf(want, sizeof want, "%s returned 500", f->u[2]);
  assert_string_equal(err.msg, want);
  assert_null(res[0].url); /* cancelled: no result */
}

/* A transport error is the first error: "fetch <url>: <reason>". */
static void httpcheck_transport_error_names_url(void **state) {
  fixture *f = *state;
  url(f, 0, "/slow?ms=10000");
  url(f, 1, "/fast");
  snprintf(f->urls[2], sizeof f->urls[2], "http://127.0.0.1:%u/", httptest_closed_port());
  f->u[2] = f->urls[2];
  gortp_httpcheck_result res[3];
  gortp_httpcheck_error err;
  int64_t t0 = gort_now();
  assert_int_equal(gortp_httpcheck_batch(gort_context_background(), f->u, 3, NULL, res, &err),
                   GORT_EIO);
  assert_true(httptest_ms_since(t0) < 5000);
  assert_int_equal(err.index, 2);
  char want[200];
  snprintf(want, sizeof want, "fetch %s: ", f->u[2]);
  assert_true(has_prefix(err.msg, want));
  assert_non_null(strstr(err.msg, "onnect")); /* curl: "Couldn't connect to server" */
}

/* The overall timeout: "fetch <url>: context deadline exceeded". */
static void httpcheck_overall_timeout(void **state) {
  fixture *f = *state;
  url(f, 0, "/fast");
  url(f, 1, "/slow?ms=10000");
  gortp_httpcheck_options opt = {.timeout = 200 * GORT_MILLISECOND};
  gortp_httpcheck_result res[2];
  gortp_httpcheck_error err;
  int64_t t0 = gort_now();
  assert_int_equal(gortp_httpcheck_batch(gort_context_background(), f->u, 2, &opt, res, &err),
                   GORT_EDEADLINE);
  int64_t took = httptest_ms_since(t0);
  assert_true(took >= 150 && took < 3000);
  char want[200];
  snprintf(want, sizeof want, "fetch %s: context deadline exceeded", f->u[1]);
  assert_string_equal(err.msg, want);
  assert_int_equal(err.index, 1);
  assert_int_equal(res[0].status, 200); /* finished before the deadline */
}

/* Cancelling the caller's context cancels the batch. */
static void httpcheck_parent_cancel(void **state) {
  fixture *f = *state;
  url(f, 0, "/slow?ms=10000");
  gort_context *parent;
  assert_int_equal(gort_context_with_timeout(gort_context_background(), 100 * GORT_MILLISECOND,
                                             &parent), 0);
  gortp_httpcheck_result res[1];
  gortp_httpcheck_error err;
  int rc = gortp_httpcheck_batch(parent, f->u, 1, NULL, res, &err);
  assert_int_equal(rc, GORT_EDEADLINE); /* the parent's deadline, inherited */
  gort_context_free(parent);

  assert_int_equal(gort_context_with_cancel(gort_context_background(), &parent), 0);
  gort_context_cancel(parent);
  rc = gortp_httpcheck_batch(parent, f->u, 1, NULL, res, &err);
  assert_int_equal(rc, GORT_ECANCELED);
  char want[200];
  snprintf(want, sizeof want, "fetch %s: context canceled", f->u[0]);
  assert_string_equal(err.msg, want);
  gort_context_free(parent);
}

/* SetLimit: never more than limit requests at the server at once. */
static void httpcheck_concurrency_is_bounded(void **state) {
  fixture *f = *state;
  for (int i = 0; i < 12; i++) url(f, i, "/slow?ms=40");
  gortp_httpcheck_options opt = {.limit = 3};
  gortp_httpcheck_result res[12];
  assert_int_equal(gortp_httpcheck_batch(gort_context_background(), f->u, 12, &opt, res, NULL), 0);
  for (int i = 0; i < 12; i++) assert_int_equal(res[i].status, 200);
  gort_mutex_lock(&f->load.lock);
  int max = f->load.max_active, served = f->load.served;
  gort_mutex_unlock(&f->load.lock);
  assert_int_equal(served, 12);
  assert_true(max >= 1 && max <= 3);
}

/* AfterFunc body: cancel, then drop the reference the timer was given. */
static void cancel_fn(void *ctx) {
  gort_context_cancel(ctx);
  gort_context_release(ctx);
}

static void httpcheck_get_honours_cancel(void **state) {
  fixture *f = *state;
  url(f, 0, "/slow?ms=10000");
  gort_context *ctx;
  assert_int_equal(gort_context_with_cancel(gort_context_background(), &ctx), 0);
  gort_timer *t;
  /* Cancel from another task after 100 ms. The clock starts before the
   * timer is armed, so a preemption in between cannot shorten `took`. */
  int64_t t0 = gort_now();
  assert_int_equal(gort_timer_after_func(&t, 100 * GORT_MILLISECOND,
                                         cancel_fn, gort_context_retain(ctx)), 0);
  long status = 0;
  char why[128];
  assert_int_equal(gortp_httpcheck_get(ctx, f->u[0], &status, NULL, why, sizeof why), GORT_ECANCELED);
  int64_t took = httptest_ms_since(t0);
  assert_true(took >= 100 && took < 3000);
  assert_string_equal(why, "context canceled");
  gort_timer_free(t);
  gort_context_free(ctx);
}

static void httpcheck_format_duration_like_go(void **state) {
  (void)state;
  struct {
    gort_duration d;
    const char *want;
  } cases[] = {
      {0, "0s"},
      {1, "1ns"},
      {999, "999ns"},
      {1000, "1µs"},
      {1500, "1.5µs"},
      {1000000, "1ms"},
      {1234567, "1.234567ms"},
      {300 * GORT_MILLISECOND, "300ms"},
      {GORT_SECOND, "1s"},
      {2500 * GORT_MILLISECOND, "2.5s"},
      {90 * GORT_SECOND, "1m30s"},
      {3600 * GORT_SECOND, "1h0m0s"},
      {-1500 * GORT_MILLISECOND, "-1.5s"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char buf[32];
    gortp_httpcheck_format_duration(buf, sizeof buf, cases[i].d);
    assert_string_equal(buf, cases[i].want);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(httpcheck_all_ok_results_by_index, setup, teardown),
      cmocka_unit_test_setup_teardown(httpcheck_500_is_a_result_by_default, setup, teardown),
      cmocka_unit_test_setup_teardown(httpcheck_500_is_an_error_when_asked, setup, teardown),
      cmocka_unit_test_setup_teardown(httpcheck_transport_error_names_url, setup, teardown),
      cmocka_unit_test_setup_teardown(httpcheck_overall_timeout, setup, teardown),
      cmocka_unit_test_setup_teardown(httpcheck_parent_cancel, setup, teardown),
      cmocka_unit_test_setup_teardown(httpcheck_concurrency_is_bounded, setup, teardown),
      cmocka_unit_test_setup_teardown(httpcheck_get_honours_cancel, setup, teardown),
      cmocka_unit_test(httpcheck_format_duration_like_go),
  };
  httptest_warm_up();
  curl_global_init(CURL_GLOBAL_DEFAULT);
  int rc = cmocka_run_group_tests(tests, gort_test_group_setup, gort_test_group_teardown);
  curl_global_cleanup();
  return rc;
}
