/* gortp/fetchall.h - errgroup fetch-all: run n fetches concurrently,
 * collect results by index, the first error cancels the rest.
 *
 * Seeds: 000 "errgroup" (getUserProfile: user, posts and friends fetched
 * concurrently into one profile); 001 "Pattern 3: Fan-Out / Fan-In"
 * (FetchAll(ctx, urls): results[i] written by task i, "fetching %s: %w");
 * 003 "Errgroup" (checkServices); 004 "Pattern 4: errgroup"
 * (fetchMultiple, and fetchWithLimit with SetLimit).
 *
 * Each fetch writes its own slot results[index] (result_size bytes), so no
 * lock is needed (the seeds' "each goroutine writes to a unique index"); the
 * slots are complete when fetch_all returns, because it waits for every task.
 * On failure the caller learns which index failed (the seeds wrap the URL
 * into the error text; C returns the index instead).
 *
 * Seed 004's fetchWithLimit does `results[i], _ = fetchOne(ctx, url)`:
 * errors are dropped and the caller gets zero values as if they were
 * results. Here every error reaches the caller.
 */
#ifndef GORTP_FETCHALL_H
#define GORTP_FETCHALL_H

#include "gort/export.h"

#include <stddef.h>

#include "gort/context.h"
#include "gort/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Fetch item index into result (zeroed before the call). ctx is the
 * group's: it is cancelled when another fetch fails. 0 or an error. */
typedef int (*gortp_fetchall_fn)(gort_context *ctx, size_t index, void *result, void *arg);

/* Run fetch for 0..n-1 (at most `limit` at once; limit <= 0: no limit) and
 * wait for all. Returns 0, or the first error any fetch returned, with
 * *failed_index (may be NULL) set to its index; or GORT_EINVAL, GORT_ENOMEM
 * or a spawn error (then *failed_index is n). results may be NULL when
 * result_size is 0. ctx may be NULL. */
GORT_API int gortp_fetchall_run(gort_context *ctx, size_t n, int limit, gortp_fetchall_fn fetch,
                             void *arg, void *results, size_t result_size, size_t *failed_index);

#ifdef __cplusplus
}
#endif
#endif
