/* gortp/counter.h - channel vs mutex: one shared counter, three correct
 * ways (and the seed's channel-as-mutex, which works but says the wrong
 * thing).
 *
 * Seed: 001 "Decision Framework: Channel vs Mutex" ("am I transferring data
 * or protecting data? Transfer -> channel. Protect -> mutex."), and its
 * anti-patterns "Race condition - unsynchronized access" (count++ from ten
 * goroutines; fixed with atomic or mutex) and "Channel misuse - using
 * channels when mutex is simpler" (a channel of capacity 1 as a lock).
 *
 *  - gortp_counter_mutex: protect the data (the seed's recommendation for a
 *    simple counter);
 *  - gort_atomic_i64 (gort/sync.h): the seed's atomic.Int64 fix; no type
 *    needed here;
 *  - gortp_counter_owned: share memory by communicating -- one task owns
 *    the count, others send it messages. Right when the state is large or
 *    its updates are work; overkill for a counter;
 *  - gortp_counter_chanlock: the "BAD" channel-as-mutex, correct but
 *    obscure and slower than a mutex; kept to compare.
 * (The racy `count++` itself is not kept: TSan rightly rejects it; the
 * anti-pattern catalog shows it.)
 */
#ifndef GORTP_COUNTER_H
#define GORTP_COUNTER_H

#include "gort/export.h"

#include <stdint.h>

#include "gort/chan.h"
#include "gort/err.h"
#include "gort/sync.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- mutex: caller-owned, fixed size ---- */
typedef struct {
  gort_mutex mu;
  int64_t n; /* protected by mu */
} gortp_counter_mutex;
#define GORTP_COUNTER_MUTEX_INIT {GORT_MUTEX_INIT, 0}
GORT_API void gortp_counter_mutex_add(gortp_counter_mutex *c, int64_t delta);
GORT_API int64_t gortp_counter_mutex_get(gortp_counter_mutex *c);

/* ---- a task owns the count ---- */
typedef struct gortp_counter_owned gortp_counter_owned;
/* Starts the owning task. 0, GORT_EINVAL, GORT_ENOMEM, GORT_ETHREAD. */
GORT_API int gortp_counter_owned_new(gortp_counter_owned **out);
/* Send "add delta" (returns once the owner has it). 0, or GORT_ESHUTDOWN. */
GORT_API int gortp_counter_owned_add(gortp_counter_owned *c, int64_t delta);
/* Ask the owner for the value; every add made before by this task is in
 * it. *value set on 0; GORT_ENOMEM. */
GORT_API int gortp_counter_owned_get(gortp_counter_owned *c, int64_t *value);
/* Stop the owner (after it has applied every add sent) and free. No other
 * call may be in progress or follow. */
GORT_API void gortp_counter_owned_free(gortp_counter_owned *c);

/* ---- channel as mutex (anti-pattern, for comparison) ---- */
typedef struct {
  gort_chan *lock; /* capacity 1: full = locked */
  int64_t n;       /* protected by holding lock's slot */
} gortp_counter_chanlock;
GORT_API int gortp_counter_chanlock_init(gortp_counter_chanlock *c);
GORT_API void gortp_counter_chanlock_add(gortp_counter_chanlock *c, int64_t delta);
GORT_API int64_t gortp_counter_chanlock_get(gortp_counter_chanlock *c);
GORT_API void gortp_counter_chanlock_destroy(gortp_counter_chanlock *c);

#ifdef __cplusplus
}
#endif
#endif
