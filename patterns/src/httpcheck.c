/* httpcheck.c - the HTTP batch checker (see gortp/httpcheck.h).
 *
 * gortp_httpcheck_get runs one transfer on its own curl multi handle, in the
 * calling task: perform, then poll until curl has something to do. Go's
 * context.AfterFunc registers wake_transfer on the context: if the context
 * ends during the transfer, it runs in its own task and calls
 * curl_multi_wakeup, which is documented as callable from any thread and
 * wakes the current (or the next) curl_multi_poll, so the wake-up cannot be
 * lost between the loop's context check and its poll. No task runs when the
 * transfer ends first.
 *
 * Invariants:
 *  - wake_transfer touches the multi handle only before it closes `woken`;
 *    the getter cleans the handle up only after stop said wake_transfer
 *    will never run, or after `woken` is closed.
 *  - wake_transfer owns one reference to `woken` (dropped by the getter if
 *    stop prevented it from running); it touches nothing after closing it.
 *  - curl's own timeout is the context's deadline (or the cap), so the
 *    transfer loop ends even if nobody cancels anything.
 *  - Batch: each task writes only results[its index]; the first error is
 *    recorded under the batch's mutex, before the task returns it to the
 *    errgroup (which is what cancels the others). wait happens-after every
 *    task, so the caller reads results and the error without a lock.
 */
#include "gortp/httpcheck.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gort/chan.h"
#include "gort/err.h"
#include "gort/errgroup.h"
#include "gort/select.h"
#include "gort/sync.h"
#include "gort/task.h"

static gort_once curl_once = GORT_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void *arg) {
  (void)arg;
  curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void set_msg(char *buf, size_t len, const char *fmt, ...) {
  if (!buf || len == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, len, fmt, ap);
  va_end(ap);
}

/* ---- one context-aware GET ---- */

/* context.AfterFunc(ctx, wake the transfer's poll): no task runs unless
 * ctx ends while the transfer is still going. */
struct get_watch {
  CURLM *multi;
  gort_context_after *stop;
  gort_chan *woken; /* closed by wake_transfer as its last act, with its own
                     * reference, once it is done with multi */
};

static void wake_transfer(void *arg) {
  struct get_watch *w = arg;
  curl_multi_wakeup(w->multi);
  gort_chan *woken = w->woken;
  gort_chan_close(woken);
  gort_chan_release(woken);
}

static size_t count_body(char *data, size_t size, size_t nmemb, void *arg) {
  (void)data;
  *(size_t *)arg += size * nmemb;
  return size * nmemb;
}

/* curl's timeout for a request under ctx: the time left until its deadline
 * (at least 1 ms), capped. 0 when the deadline has already passed.
 * *by_deadline (may be NULL) tells whether the deadline, not the cap, set it. */
static long timeout_ms(gort_context *ctx, bool *by_deadline) {
  gort_duration left = GORTP_HTTPCHECK_MAX_REQUEST;
  int64_t deadline;
  if (by_deadline) *by_deadline = false;
  if (ctx && gort_context_deadline(ctx, &deadline)) {
    gort_duration d = deadline - gort_now();
    if (d <= 0) return 0;
    if (d < left) {
      left = d;
      if (by_deadline) *by_deadline = true;
    }
  }
  long ms = (long)((left + GORT_MILLISECOND - 1) / GORT_MILLISECOND);
  return ms > 0 ? ms : 1;
}

/* Drive the transfer until it ends or ctx is done. Returns curl's result
 * for the transfer, or -1 when the loop was left because ctx is done. */
static int run_transfer(gort_context *ctx, CURLM *multi) {
  int running = 1;
  for (;;) {
    if (curl_multi_perform(multi, &running) != CURLM_OK) return CURLE_FAILED_INIT;
    if (!running) break;
    if (ctx && gort_context_err(ctx) != 0) return -1;
    /* Wakes on socket activity, curl's timers, or curl_multi_wakeup. */
    if (curl_multi_poll(multi, NULL, 0, 1000, NULL) != CURLM_OK) return CURLE_FAILED_INIT;
  }
  int left;
  CURLMsg *m;
  while ((m = curl_multi_info_read(multi, &left)))
    if (m->msg == CURLMSG_DONE) return (int)m->data.result;
  return CURLE_FAILED_INIT;
}

static int start_watch(struct get_watch *w, gort_context *ctx, CURLM *multi) {
  *w = (struct get_watch){.multi = multi};
  int rc = gort_chan_make(&w->woken, 0, 0);
  if (rc != 0) return rc;
  gort_chan_retain(w->woken); /* wake_transfer's */
  rc = gort_context_after_func(ctx, wake_transfer, w, &w->stop);
  if (rc != 0) {
    gort_chan_release(w->woken);
    gort_chan_release(w->woken);
  }
  return rc;
}

static void stop_watch(struct get_watch *w) {
  if (gort_context_after_func_stop(w->stop))
    gort_chan_release(w->woken); /* wake_transfer never runs: drop its reference */
  else
    gort_chan_recv(w->woken, NULL, NULL); /* it runs: wait until it is done with multi */
  gort_context_after_func_free(w->stop);
  gort_chan_release(w->woken);
}

int gortp_httpcheck_get(gort_context *ctx, const char *url, long *status, size_t *body_len,
                   char *errmsg, size_t errlen) {
  set_msg(errmsg, errlen, "%s", "");
  if (!url) {
    set_msg(errmsg, errlen, "%s", gort_strerror(GORT_EINVAL));
    return GORT_EINVAL;
  }
  int err = ctx ? gort_context_err(ctx) : 0;
  bool by_deadline = false;
  long limit_ms = timeout_ms(ctx, &by_deadline);
  if (err == 0 && limit_ms == 0) err = GORT_EDEADLINE; /* passed, not yet fired */
  if (err != 0) {
    set_msg(errmsg, errlen, "%s", gort_strerror(err));
    return err;
  }
  gort_once_do(&curl_once, curl_init, NULL);
  CURL *easy = curl_init_rc == CURLE_OK ? curl_easy_init() : NULL;
  CURLM *multi = easy ? curl_multi_init() : NULL;
  if (!multi) {
    if (easy) curl_easy_cleanup(easy);
    set_msg(errmsg, errlen, "%s", gort_strerror(GORT_ENOMEM));
    return GORT_ENOMEM;
  }
  size_t got = 0;
  curl_easy_setopt(easy, CURLOPT_URL, url);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L); /* no SIGALRM in a threaded program */
  curl_easy_setopt(easy, CURLOPT_NOPROXY, "127.0.0.1,localhost,::1");
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, limit_ms);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, count_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &got);
  curl_multi_add_handle(multi, easy);

  struct get_watch watch;
  bool watching = ctx && gort_context_done(ctx);
  int rc = watching ? start_watch(&watch, ctx, multi) : 0;
  if (rc == 0) {
    int cr = run_transfer(ctx, multi);
    if (watching) stop_watch(&watch);
    int cerr = ctx ? gort_context_err(ctx) : 0;
    if (cr == CURLE_OK) {
      long code = 0;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
      if (status) *status = code;
      if (body_len) *body_len = got;
    } else if (cr < 0 || cerr != 0 || (cr == CURLE_OPERATION_TIMEDOUT && by_deadline)) {
      /* The context ended it. curl's timeout is the context's deadline, and
       * may expire a moment before the context's own timer fires. */
      rc = cerr != 0 ? cerr : GORT_EDEADLINE;
      set_msg(errmsg, errlen, "%s", gort_strerror(rc));
    } else if (cr == CURLE_OPERATION_TIMEDOUT) {
      rc = GORT_ETIMEDOUT; /* the cap, GORTP_HTTPCHECK_MAX_REQUEST */
      set_msg(errmsg, errlen, "%s", curl_easy_strerror((CURLcode)cr));
    } else {
      rc = GORT_EIO;
      set_msg(errmsg, errlen, "%s", curl_easy_strerror((CURLcode)cr));
    }
  } else {
    set_msg(errmsg, errlen, "%s", gort_strerror(rc));
  }
  curl_multi_remove_handle(multi, easy);
  curl_easy_cleanup(easy);
  curl_multi_cleanup(multi);
  return rc;
}

/* ---- the batch ---- */

struct batch {
  const char *const *urls;
  gortp_httpcheck_result *results; /* slot i written only by task i */
  long error_status;
  gort_mutex lock;        /* protects first */
  gortp_httpcheck_error first; /* code 0 until the first error */
};

struct item {
  struct batch *b;
  size_t i;
};

/* Record an error unless one was recorded before; return its code. */
static int record(struct batch *b, size_t i, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int record(struct batch *b, size_t i, int code, const char *fmt, ...) {
  gort_mutex_lock(&b->lock);
  if (b->first.code == 0) {
    b->first.code = code;
    b->first.index = i;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->first.msg, sizeof b->first.msg, fmt, ap);
    va_end(ap);
  }
  gort_mutex_unlock(&b->lock);
  return code;
}

static int check_one(gort_context *ctx, void *arg) {
  struct item *it = arg;
  struct batch *b = it->b;
  const char *url = b->urls[it->i];
  int64_t start = gort_now();
  long status = 0;
  size_t len = 0;
  char why[200];
  int rc = gortp_httpcheck_get(ctx, url, &status, &len, why, sizeof why);
  if (rc != 0) return record(b, it->i, rc, "fetch %s: %s", url, why);
  if (b->error_status > 0 && status >= b->error_status)
    return record(b, it->i, GORT_EFAILED, "%s returned %ld", url, status);
  b->results[it->i] = (gortp_httpcheck_result){url, status, gort_now() - start, len};
  return 0;
}

int gortp_httpcheck_batch(gort_context *parent, const char *const *urls, size_t n,
                      const gortp_httpcheck_options *opt, gortp_httpcheck_result *results,
                      gortp_httpcheck_error *err) {
  if (err) *err = (gortp_httpcheck_error){0};
  if (!parent || (n > 0 && (!urls || !results))) return GORT_EINVAL;
  gortp_httpcheck_options o = opt ? *opt : (gortp_httpcheck_options){0};
  if (o.limit <= 0) o.limit = 20;
  if (o.timeout <= 0) o.timeout = 10 * GORT_SECOND;
  memset(results, 0, n * sizeof *results);

  struct batch b = {.urls = urls, .results = results, .error_status = o.error_status};
  gort_mutex_init(&b.lock);
  struct item *items = calloc(n ? n : 1, sizeof *items);
  gort_context *ctx = NULL;
  gort_errgroup *g = NULL;
  gort_context *gctx = NULL;
  int rc = items ? 0 : GORT_ENOMEM;
  if (rc == 0) rc = gort_context_with_timeout(parent, o.timeout, &ctx);
  if (rc == 0) rc = gort_errgroup_with_context(ctx, &g, &gctx);
  if (rc == 0) rc = gort_errgroup_set_limit(g, o.limit);
  if (rc != 0) {
    record(&b, 0, rc, "batch setup: %s", gort_strerror(rc));
  } else {
    size_t started = 0;
    for (size_t i = 0; i < n; i++) {
      /* A batch that has failed starts nothing more. */
      if (gort_context_err(gctx) != 0) break;
      items[i] = (struct item){&b, i};
      int grc = gort_errgroup_go(g, check_one, &items[i]); /* blocks at the limit */
      if (grc != 0) {
        record(&b, i, grc, "fetch %s: %s", urls[i], gort_strerror(grc));
        break;
      }
      started++;
    }
    gort_errgroup_wait(g); /* every error it could return is recorded */
    /* Stopped early without a failure of its own: the parent was cancelled
     * or the deadline passed between two starts. */
    if (b.first.code == 0 && started < n) {
      int cerr = gort_context_err(ctx) ? gort_context_err(ctx) : GORT_ECANCELED;
      record(&b, started, cerr, "fetch %s: %s", urls[started], gort_strerror(cerr));
    }
  }
  gort_errgroup_free(g);
  if (ctx) gort_context_free(ctx);
  free(items);
  gort_mutex_destroy(&b.lock);
  if (err) *err = b.first;
  return b.first.code;
}

/* ---- Go's Duration.String ---- */

/* v / 10^digits with the fraction's trailing zeros dropped, then unit. */
static int put_fixed(char *buf, size_t len, uint64_t v, int digits, const char *unit) {
  uint64_t scale = 1;
  for (int i = 0; i < digits; i++) scale *= 10;
  uint64_t whole = v / scale, frac = v % scale;
  if (frac == 0) return snprintf(buf, len, "%llu%s", (unsigned long long)whole, unit);
  while (frac % 10 == 0) {
    frac /= 10;
    digits--;
  }
  return snprintf(buf, len, "%llu.%0*llu%s", (unsigned long long)whole, digits,
                  (unsigned long long)frac, unit);
}

void gortp_httpcheck_format_duration(char *buf, size_t len, gort_duration d) {
  if (!buf || len == 0) return;
  if (d == 0) {
    snprintf(buf, len, "0s");
    return;
  }
  const char *sign = d < 0 ? "-" : "";
  uint64_t u = d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;
  int off = snprintf(buf, len, "%s", sign);
  if (off < 0 || (size_t)off >= len) return;
  buf += off;
  len -= (size_t)off;
  if (u < 1000) {
    snprintf(buf, len, "%lluns", (unsigned long long)u);
  } else if (u < 1000000) {
    put_fixed(buf, len, u, 3, "µs");
  } else if (u < 1000000000) {
    put_fixed(buf, len, u, 6, "ms");
  } else {
    uint64_t h = u / 3600000000000ull, m = u / 60000000000ull % 60;
    uint64_t s = u % 60000000000ull;
    int k = 0;
    if (h) k = snprintf(buf, len, "%lluh%llum", (unsigned long long)h, (unsigned long long)m);
    else if (m) k = snprintf(buf, len, "%llum", (unsigned long long)m);
    if (k < 0 || (size_t)k >= len) return;
    put_fixed(buf + k, len - (size_t)k, s, 9, "s");
  }
}
