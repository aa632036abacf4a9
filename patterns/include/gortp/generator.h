/* gortp/generator.h - the generator: a task producing values on demand
 * into a channel, until the consumer cancels.
 *
 * Seed: 000 "Generator Pattern" (fibonacci(ctx): the consumer prints values
 * and cancels once one exceeds 1000, so it prints 0 1 1 2 ... 987 1597).
 *
 * The producing task blocks in a select on "send the next value" and
 * "ctx done", so it computes a value only when the consumer is ready for it
 * (the channel is unbuffered), and it exits, closing the channel, as soon as
 * ctx is cancelled. A consumer that just stops reading without cancelling
 * leaves the task parked in that select forever: cancel (gort_context_free
 * does) when done.
 *
 * Ownership: *out is a new channel reference for the caller; the task
 * retains ctx and the channel. ctx is required (a generator that cannot be
 * stopped is the seeds' goroutine leak).
 */
#ifndef GORTP_GENERATOR_H
#define GORTP_GENERATOR_H

#include "gort/export.h"

#include <stddef.h>
#include <stdint.h>

#include "gort/chan.h"
#include "gort/context.h"
#include "gort/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Produce the next value into out (elem_size bytes); return 0, or nonzero
 * when the sequence is over (the channel is then closed). */
typedef int (*gortp_generator_fn)(void *state, void *out);

/* Generic generator. state (copied: state_size bytes, may be 0) belongs to
 * the task. 0, GORT_EINVAL (next/out NULL, elem_size 0), GORT_ENOMEM,
 * GORT_ETHREAD. */
GORT_API int gortp_generator_new(gort_context *ctx, size_t elem_size, gortp_generator_fn next,
                            const void *state, size_t state_size, gort_chan **out);

/* Fibonacci numbers as int64_t: 0, 1, 1, 2, 3, ... The sequence ends (the
 * channel closes) before a value would overflow int64_t (after 93 values),
 * instead of wrapping around as Go's int silently does. */
GORT_API int gortp_generator_fibonacci(gort_context *ctx, gort_chan **out);

#ifdef __cplusplus
}
#endif
#endif
