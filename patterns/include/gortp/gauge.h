/* gortp/gauge.h - backpressure: a pressure gauge that runs work only while
 * there is capacity, and rejects the rest at once.
 *
 * Seed: 002 "Backpressure" (PressureGauge: a channel pre-filled with `limit`
 * tokens; Do takes a token without blocking, runs fn, puts the token back;
 * no token: "out of capacity", which the HTTP handler turns into "too many
 * requests").
 *
 * Rejecting instead of queueing is the point: under overload the caller
 * learns at once and can shed load (HTTP 429/503) rather than pile up
 * blocked tasks.
 *
 * Ownership: new allocates, free frees (nobody may be inside do then).
 * Concurrency: do from any number of tasks at once.
 */
#ifndef GORTP_GAUGE_H
#define GORTP_GAUGE_H

#include "gort/export.h"

#include <stdint.h>

#include "gort/err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gortp_gauge gortp_gauge;

/* limit >= 1. 0, GORT_EINVAL, GORT_ENOMEM. */
GORT_API int gortp_gauge_new(gortp_gauge **out, int limit);
GORT_API void gortp_gauge_free(gortp_gauge *g);
/* Run fn(arg) if fewer than `limit` calls are inside do; else return
 * GORT_EFULL ("out of capacity") without running it. 0 otherwise. */
GORT_API int gortp_gauge_do(gortp_gauge *g, void (*fn)(void *arg), void *arg);
/* Calls inside do right now (a snapshot). */
GORT_API int gortp_gauge_in_use(gortp_gauge *g);
/* Calls rejected so far. */
GORT_API uint64_t gortp_gauge_rejected(gortp_gauge *g);

#ifdef __cplusplus
}
#endif
#endif
