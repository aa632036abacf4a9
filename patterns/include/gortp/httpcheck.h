/* gortp/httpcheck.h - the HTTP batch checker: GET many URLs with bounded
 * concurrency and one overall timeout; the first error cancels the rest and
 * is returned with its URL.
 *
 * Seeds: 003 "Putting It All Together: A Production HTTP Batch Processor"
 * (batchCheck: context.WithTimeout 10 s, errgroup.WithContext +
 * SetLimit(20), results by index, "fetch <url>: <err>"), 003 "Errgroup"
 * checkServices (a status >= 500 is an error: "<url> returned 500"), 004
 * "Pattern 4" fetchMultiple and "Pattern 6" FetchWithTimeout.
 *
 * Built on gort's errgroup (gort/errgroup.h) and libcurl. A request is
 * context-aware like http.NewRequestWithContext: it ends with the context's
 * error as soon as the context is done (a watcher task wakes the transfer's
 * poll), and curl's own timeout is set to the context's deadline, so every
 * transfer loop is bounded. A request whose context has no deadline is
 * capped at GORTP_HTTPCHECK_MAX_REQUEST.
 */
#ifndef GORTP_HTTPCHECK_H
#define GORTP_HTTPCHECK_H

#include "gort/export.h"

#include <stddef.h>

#include "gort/context.h"
#include "gort/timer.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GORTP_HTTPCHECK_MAX_REQUEST (60 * GORT_SECOND)

/* CheckResult. */
typedef struct {
  const char *url;       /* the caller's string; NULL if the URL was not fetched */
  long status;           /* HTTP status code */
  gort_duration latency; /* request start to end of response */
  size_t body_len;       /* bytes of body received (the body is discarded) */
} gortp_httpcheck_result;

typedef struct {
  int limit;              /* requests at once; <= 0: 20 (the seed's SetLimit) */
  gort_duration timeout;  /* for the whole batch; <= 0: 10 s (the seed's) */
  long error_status;      /* a status >= this is an error ("<url> returned N");
                           * 0: any status is a result, as in batchCheck */
} gortp_httpcheck_options;

/* The first error, with the URL it came from. */
typedef struct {
  int code;      /* GORT_EIO (transport), GORT_EFAILED (status), the context's
                  * error, GORT_ETIMEDOUT, GORT_ENOMEM/GORT_ETHREAD; 0: none */
  size_t index;  /* urls[index] failed */
  char msg[320]; /* "fetch <url>: <reason>" or "<url> returned <status>" */
} gortp_httpcheck_error;

/* batchCheck(urls). opt NULL: the defaults. Returns 0 with every
 * results[i] filled (results[i].url == urls[i]); or the first error's code,
 * with *err (may be NULL) describing it; then results of the URLs that
 * completed are filled and the others are zero. Cancelling parent cancels the
 * batch. Every task the call starts has exited when it returns. */
GORT_API int gortp_httpcheck_batch(gort_context *parent, const char *const *urls, size_t n,
                               const gortp_httpcheck_options *opt, gortp_httpcheck_result *results,
                               gortp_httpcheck_error *err);

/* One context-aware GET (ctx NULL: Background). 0 with *status and *body_len
 * (either may be NULL) set; GORT_EIO with curl's reason in errmsg; the
 * context's error (GORT_ECANCELED, GORT_EDEADLINE) if it was done first (or
 * its deadline passed); GORT_ETIMEDOUT when GORTP_HTTPCHECK_MAX_REQUEST passed;
 * GORT_ENOMEM/GORT_ETHREAD. errmsg (may be NULL) always gets a message. */
GORT_API int gortp_httpcheck_get(gort_context *ctx, const char *url, long *status, size_t *body_len,
                            char *errmsg, size_t errlen);

/* Format d as Go's time.Duration.String ("1.5s", "301.25ms", "850µs"). */
GORT_API void gortp_httpcheck_format_duration(char *buf, size_t len, gort_duration d);

#ifdef __cplusplus
}
#endif
#endif
