/* gort/singleflight.h - golang.org/x/sync/singleflight: duplicate call
 * suppression.
 *
 * gort_singleflight_do(g, key, fn, arg, &val, &shared) runs fn(arg, &val)
 * unless a call for the same key is already in flight; then it waits for
 * that call and returns its result instead. All callers of one flight get
 * fn's value and error; shared is true when the value went to more than one
 * caller. Once a flight has finished, the next call for its key runs fn
 * again (singleflight is not a cache). gort_singleflight_forget(key) makes
 * the next call run fn even while an earlier flight is still running.
 *
 * fn returns 0 or an error code (any nonzero int; negative GORT_E* codes or
 * your own); it sets *result (initially NULL) to its value, also on error if
 * it likes. The value travels as a void *.
 *
 * Ownership of the value (C has no GC): the group is created with an
 * optional dup function.
 *  - With dup: every caller owns what it receives. The caller that ran fn
 *    (for do_chan: the first channel) gets fn's value itself; each other
 *    caller of the flight gets dup(value), made before the flight's first
 *    caller can see the result. For a reference-counted value, dup adds a
 *    reference and each caller drops one; dup may also copy. dup is called
 *    from the task that ran fn, never for a NULL value, and must not fail.
 *  - Without dup (NULL): everybody gets the same pointer and the group never
 *    frees or copies it; its lifetime is the application's (static data, a
 *    cache entry that outlives the callers, ...).
 *
 * do_chan returns a new channel (capacity 1, elements of
 * gort_singleflight_result) that receives the result once; it is never
 * closed. The caller owns one channel reference and releases it; with dup,
 * the value in the result is the receiver's to free, so receive it before
 * releasing the channel (a result left unreceived in a released channel is
 * leaked). fn runs in a new task when do_chan starts a flight.
 *
 * Concurrency: do, do_chan and forget may be called from any number of tasks
 * at once. gort_singleflight_free only when no flight is running (every do
 * has returned and every do_chan result has been sent).
 *
 * Keys are NUL-terminated strings, copied; "" is a valid key.
 */
#ifndef GORT_SINGLEFLIGHT_H
#define GORT_SINGLEFLIGHT_H

#include "gort/export.h"

#include <stdbool.h>

#include "gort/chan.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gort_singleflight gort_singleflight;

/* fn: store the value in *result, return 0 or an error code. */
typedef int (*gort_singleflight_fn)(void *arg, void **result);
/* dup: a value for one more caller (a new reference or a copy). */
typedef void *(*gort_singleflight_dup)(void *val);

/* singleflight.Result, as carried by do_chan's channel. */
typedef struct {
  void *val;
  int err;
  bool shared;
} gort_singleflight_result;

/* 0, GORT_EINVAL (out NULL), GORT_ENOMEM. dup may be NULL (see above). */
GORT_API int gort_singleflight_new(gort_singleflight **out, gort_singleflight_dup dup);
/* Free; NULL is ignored. No flight may be running. */
GORT_API void gort_singleflight_free(gort_singleflight *g);

/* Run fn or join the flight for key. Returns fn's error (0 on success), with
 * *val set to the value and *shared (may be NULL) as above; or, before
 * anything ran or was joined (*val untouched): GORT_EINVAL (g, key, fn or val
 * NULL), GORT_ENOMEM. */
GORT_API int gort_singleflight_do(gort_singleflight *g, const char *key, gort_singleflight_fn fn,
                                  void *arg, void **val, bool *shared);
/* Like do, but returns at once with a channel (*out) that will receive the
 * gort_singleflight_result. 0; GORT_EINVAL (g, key, fn or out NULL);
 * GORT_ENOMEM; GORT_ETHREAD (the flight's task could not be started). On
 * error nothing was started or joined. */
GORT_API int gort_singleflight_do_chan(gort_singleflight *g, const char *key,
                                       gort_singleflight_fn fn, void *arg, gort_chan **out);
/* Forget key: later calls start a new flight. 0; GORT_EINVAL (g or key
 * NULL). Forgetting an unknown key is not an error. */
GORT_API int gort_singleflight_forget(gort_singleflight *g, const char *key);

#ifdef __cplusplus
}
#endif
#endif
