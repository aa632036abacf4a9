/* gortp/pipeline.h - the pipeline pattern: stages connected by channels.
 *
 * Seeds: 000 "Pipeline Pattern" (generate -> square -> filter, prints 16 and
 * 25), 001 "Pattern 4: Pipeline" (a context-aware transform stage), 003
 * "Pipeline Pattern" (generate -> toUpper -> addPrefix over strings, with
 * cancellation; prints ">> GOROUTINES", ">> CHANNELS", ...).
 *
 * Every stage is one task that owns its output channel: it closes the output
 * when its input is closed and drained, or when ctx is cancelled. A NULL ctx
 * means Background (seed 000's stages take no context at all; with one, a
 * consumer that stops early cancels instead of leaking the stages).
 *
 * Ownership:
 *  - every constructor returns a new reference to the output channel in *out;
 *    the caller releases it (gort_chan_release) when done with it;
 *  - a stage retains its input channel and ctx for as long as it runs, so the
 *    caller may release its own references right after building the stage;
 *  - int channels carry `int`; string channels carry `char *` (heap strings,
 *    free()d by whoever receives them last). A string stage that is
 *    cancelled frees what it holds and keeps draining its input, freeing
 *    every string, until the input is closed: no string is ever lost, and
 *    when the last output closes every upstream stage has finished.
 * On a constructor error nothing was started and *out is untouched.
 */
#ifndef GORTP_PIPELINE_H
#define GORTP_PIPELINE_H

#include "gort/export.h"

#include <stddef.h>

#include "gort/chan.h"
#include "gort/context.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- int stages (unbuffered channels of int) ---- */

/* Stage 1: send nums[0..n) (copied) in order, then close. */
GORT_API int gortp_pipeline_gen_ints(gort_context *ctx, const int *nums, size_t n, gort_chan **out);
/* Stage 2: n -> n * n. */
GORT_API int gortp_pipeline_square(gort_context *ctx, gort_chan *in, gort_chan **out);
/* Stage 3: keep only values above threshold. */
GORT_API int gortp_pipeline_filter_above(gort_context *ctx, gort_chan *in, int threshold, gort_chan **out);
/* Any transform: n -> fn(n, arg). fn runs in the stage's task. */
GORT_API int gortp_pipeline_map_int(gort_context *ctx, gort_chan *in, int (*fn)(int n, void *arg), void *arg,
                           gort_chan **out);

/* ---- string stages (unbuffered channels of char *) ---- */

/* Send a heap copy of each items[i] in order, then close. */
GORT_API int gortp_pipeline_str_generate(gort_context *ctx, const char *const *items, size_t n,
                                gort_chan **out);
/* Upper-case each string (ASCII, in place: no allocation). */
GORT_API int gortp_pipeline_str_to_upper(gort_context *ctx, gort_chan *in, gort_chan **out);
/* prefix + s (prefix copied). */
GORT_API int gortp_pipeline_str_add_prefix(gort_context *ctx, const char *prefix, gort_chan *in,
                                  gort_chan **out);
/* Receive and free strings until c is closed. Use it to dispose of a
 * string pipeline's output after cancelling it. */
GORT_API void gortp_pipeline_str_drain(gort_chan *c);

#ifdef __cplusplus
}
#endif
#endif
