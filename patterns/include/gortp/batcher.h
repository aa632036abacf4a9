/* gortp/batcher.h - batching: collect items and hand them to a handler in
 * batches, when a batch is full and when an interval has passed.
 *
 * Seed: 004 "Optimization 2: Batching" (Batcher[T, R]: Add appends under a
 * mutex and calls the handler when batchSize is reached; Flush hands over
 * what is left).
 *
 * The seed's batcher has a flushInterval field that nothing uses: items
 * added after the last full batch wait until someone calls Flush, forever in
 * a quiet system. It also appends to b.results outside the mutex (a data
 * race between two Adds that both fill a batch), and two handlers may run at
 * once in any order. Here:
 *  - a ticker task flushes a non-empty buffer every flush_interval;
 *  - every batch has at most batch_size items, and handler calls are made
 *    one at a time, in the order the batches were cut, so the items reach
 *    the handler in the order add was called (per adding task);
 *  - the adder that fills a batch runs the handler and gets its error; other
 *    adders are not held up by it (beyond waiting for their own turn when
 *    they too fill one).
 *
 * Items are copied by value (item_size bytes). Ownership: new allocates;
 * close stops the ticker and flushes the rest; free closes (if needed) and
 * frees. Concurrency: add, flush and stats from any number of tasks; close
 * once at the end (later adds get GORT_ESHUTDOWN).
 */
#ifndef GORTP_BATCHER_H
#define GORTP_BATCHER_H

#include "gort/export.h"

#include <stddef.h>
#include <stdint.h>

#include "gort/context.h"
#include "gort/err.h"
#include "gort/timer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Handle items[0..n) (n >= 1). 0 or an error code. */
typedef int (*gortp_batcher_fn)(gort_context *ctx, const void *items, size_t n, void *arg);

typedef struct {
  size_t item_size;             /* > 0 */
  size_t batch_size;            /* > 0 */
  gort_duration flush_interval; /* > 0: ticker flushes; 0: no ticker */
  gortp_batcher_fn handler;
  void *arg;
} gortp_batcher_config;

typedef struct {
  uint64_t items;           /* handed to the handler */
  uint64_t batches;         /* handler calls */
  uint64_t full_batches;    /* cut because batch_size was reached */
  uint64_t interval_batches; /* cut by the ticker */
  uint64_t failed;          /* handler calls that returned an error */
  int first_error;
} gortp_batcher_stats;

typedef struct gortp_batcher gortp_batcher;

/* ctx (NULL: Background) is passed to the handler. 0, GORT_EINVAL,
 * GORT_ENOMEM, GORT_ETHREAD. */
GORT_API int gortp_batcher_new(gortp_batcher **out, gort_context *ctx,
                               const gortp_batcher_config *cfg);
/* Append a copy of *item. If that fills the batch, run the handler on it
 * (in order, see above) and return its error; else 0. GORT_ESHUTDOWN after
 * close; GORT_ENOMEM. */
GORT_API int gortp_batcher_add(gortp_batcher *b, const void *item);
/* Hand over what is buffered now (if anything); the handler's error. */
GORT_API int gortp_batcher_flush(gortp_batcher *b);
/* Stop the ticker, flush the rest, refuse later adds. Returns the final
 * flush's error. Idempotent. */
GORT_API int gortp_batcher_close(gortp_batcher *b);
GORT_API void gortp_batcher_stats_get(gortp_batcher *b, gortp_batcher_stats *out);
GORT_API void gortp_batcher_free(gortp_batcher *b);

#ifdef __cplusplus
}
#endif
#endif
