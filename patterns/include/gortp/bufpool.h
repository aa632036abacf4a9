/* gortp/bufpool.h - pooled byte buffers, and a zero-copy pipeline stage
 * that hands them downstream by pointer.
 *
 * Seeds: 004 "Optimization 3: Zero-Copy Channel Passing" (bufferPool of
 * *Buffer with 4096-byte capacity, GetBuffer/PutBuffer, ProcessPipeline
 * copying each input into a pooled buffer and sending the pointer on a
 * channel of 64); 001 "Pattern 8: sync.Pool" (process(data): Get, Write,
 * WriteString("-processed"), String, Reset, Put).
 *
 * Built on gort/pool.h (sync.Pool: per-thread caches, objects may be
 * dropped). The channel carries one pointer per message, not the bytes.
 *
 * Rules from the seed, enforced here: put resets the buffer (len = 0)
 * before it goes back; get never promises a previously used buffer.
 *
 * Ownership: a buffer from get (or received from the pipeline's output)
 * belongs to the caller until it puts it back. The pipeline's output may
 * hold buffers when the consumer stops early: drain it with
 * gortp_bufpool_drain_chan, which puts them back (the seed leaves them to
 * the GC). Input slices are borrowed: keep their bytes unchanged until the
 * stage has copied them -- for example until the output is closed, or, with
 * an unbuffered input, until your next send on it has completed (the stage
 * copies a slice before it receives the next).
 */
#ifndef GORTP_BUFPOOL_H
#define GORTP_BUFPOOL_H

#include "gort/export.h"

#include <stddef.h>
#include <stdint.h>

#include "gort/chan.h"
#include "gort/context.h"
#include "gort/err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  unsigned char *data;
  size_t len; /* bytes in use */
  size_t cap; /* bytes allocated */
} gortp_bufpool_buffer;

/* An input message: a borrowed slice. */
typedef struct {
  const void *data;
  size_t len;
} gortp_bufpool_slice;

typedef struct gortp_bufpool gortp_bufpool;

/* Buffers start with initial_cap bytes (the seed's 4096). */
GORT_API int gortp_bufpool_new(gortp_bufpool **out, size_t initial_cap);
/* Free the pool and every buffer it holds; buffers still out remain the
 * holders' (put them back first, or they leak). */
GORT_API void gortp_bufpool_free(gortp_bufpool *p);
/* An empty buffer (len 0), or NULL when out of memory. */
GORT_API gortp_bufpool_buffer *gortp_bufpool_get(gortp_bufpool *p);
/* Reset and give back. NULL is ignored. */
GORT_API void gortp_bufpool_put(gortp_bufpool *p, gortp_bufpool_buffer *b);
/* Append n bytes, growing the buffer if needed. 0 or GORT_ENOMEM. */
GORT_API int gortp_bufpool_append(gortp_bufpool_buffer *b, const void *data, size_t n);

/* Destroy every idle buffer the pool holds (in every thread's cache). */
GORT_API void gortp_bufpool_drain(gortp_bufpool *p);
/* Counters: buffers made by the constructor, and destroyed by the pool.
 * After every buffer has been put back and the pool drained, they are
 * equal. */
GORT_API uint64_t gortp_bufpool_allocated(gortp_bufpool *p);
GORT_API uint64_t gortp_bufpool_destroyed(gortp_bufpool *p);

/* Seed 001's process(data): data + "-processed" as a new NUL-terminated
 * string (malloc'd, the caller frees it), built in a pooled buffer. NULL
 * when out of memory. */
GORT_API char *gortp_bufpool_process(gortp_bufpool *p, const void *data, size_t n);

/* Seed 004's ProcessPipeline: input carries gortp_bufpool_slice, *out (capacity
 * 64) carries gortp_bufpool_buffer *. Closes *out when input is closed or ctx is
 * done. *out is a new reference for the caller; the stage retains input, ctx
 * and the pool must outlive it (drain *out to its close before freeing the
 * pool). 0, GORT_EINVAL, GORT_ENOMEM, GORT_ETHREAD. */
GORT_API int gortp_bufpool_pipeline(gort_context *ctx, gortp_bufpool *p, gort_chan *input,
                                    gort_chan **out);
/* Receive every buffer left on c until it is closed, putting each back. */
GORT_API void gortp_bufpool_drain_chan(gortp_bufpool *p, gort_chan *c);

#ifdef __cplusplus
}
#endif
#endif
