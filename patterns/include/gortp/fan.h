/* gortp/fan.h - fan-out and fan-in.
 *
 * Seeds: 000 "Fan-Out / Fan-In" (3 workers share a producer's channel, their
 * outputs are merged), 002 "The Fan-In Pattern" / "The Fan-Out Pattern",
 * 003 "Fan-Out / Fan-In" (fanOut(input, n, fn) squares 1..10, fanIn merges),
 * 004 "Pattern 2: Fan-out/Fan-in" (generic, both honour a context).
 *
 * Fan-out: n tasks receive from one source channel, so each element goes to
 * exactly one of them; each task forwards (or transforms) it to its own
 * unbuffered output channel and closes that when the source is closed and
 * drained, or when ctx is cancelled.
 * Fan-in: one task per input forwards everything to one unbuffered merged
 * channel; the merged channel is closed once every input is closed (or ctx is
 * cancelled and every forwarder has stopped). The last forwarder to stop
 * closes it, so fan-in needs no extra "closer" task (the seeds' wg.Wait()
 * goroutine).
 *
 * Elements are copied by value (elem_size bytes). ctx may be NULL
 * (Background: no cancellation, as in seeds 000, 002 and 003). As in Go,
 * an element in hand when cancellation wins is dropped: if elements own
 * memory, drain the outputs instead of cancelling, or free the elements you
 * still receive.
 *
 * Ownership: outs[i] / *out are new references for the caller to release.
 * The tasks retain the channels and ctx they use, so the caller may release
 * its references to src / ins right after the call.
 */
#ifndef GORTP_FAN_H
#define GORTP_FAN_H

#include "gort/export.h"

#include <stddef.h>

#include "gort/chan.h"
#include "gort/context.h"
#include "gort/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Fan-out: outs[0..n) receive the source's elements (same elem_size).
 * Returns 0, GORT_EINVAL (src/outs NULL, n == 0), GORT_ENOMEM,
 * GORT_ETHREAD; on error nothing runs and outs[] holds no references. */
GORT_API int gortp_fan_out(gort_context *ctx, gort_chan *src, size_t n, gort_chan **outs);

/* Transform for gortp_fan_out_map: write fn(*in) into out (out_elem_size
 * bytes, zeroed before the call). worker is 0..n-1. Runs in worker tasks
 * concurrently: arg must be safe to share. */
typedef void (*gortp_fan_fn)(const void *in, void *out, size_t worker, void *arg);

/* Fan-out where each worker applies fn (seed 003's fanOut(input, n, fn)). */
GORT_API int gortp_fan_out_map(gort_context *ctx, gort_chan *src, size_t n, size_t out_elem_size,
                               gortp_fan_fn fn, void *arg, gort_chan **outs);

/* Fan-in: merge ins[0..n) (all of one elem_size; NULL entries are not
 * allowed) into *out. n == 0 gives a channel that is already closed.
 * Returns 0, GORT_EINVAL, GORT_ENOMEM, GORT_ETHREAD; on error nothing runs. */
GORT_API int gortp_fan_in(gort_context *ctx, gort_chan *const *ins, size_t n, gort_chan **out);

#ifdef __cplusplus
}
#endif
#endif
