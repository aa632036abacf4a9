/* gortp/lazy.h - once initialisation: a value made on first use, exactly
 * once, however many tasks ask at the same time.
 *
 * Seeds: 001 "Pattern 6: Once Initialization" (Client.getConn: initOnce.Do
 * dials once and keeps conn and initErr); 003 "Closing a Closed Channel"
 * (closeOnce := func() { once.Do(func() { close(done) }) }).
 *
 * As with sync.Once, the outcome of the first call is final: if init fails,
 * every later get returns the same error (the seed's initErr) and init is
 * not retried. Callers that want a retry need a new gortp_lazy.
 *
 * Both objects are caller-owned and of fixed size (static storage with the
 * *_INIT macros, or a struct member). Ownership of the value: it is the
 * lazy's; get hands out borrowed pointers.
 */
#ifndef GORTP_LAZY_H
#define GORTP_LAZY_H

#include "gort/export.h"

#include "gort/chan.h"
#include "gort/err.h"
#include "gort/sync.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Make the value: set *value, return 0 or an error code. */
typedef int (*gortp_lazy_fn)(void *arg, void **value);

typedef struct {
  gort_once once;
  gortp_lazy_fn init;
  void *arg;
  void *value; /* written once, inside once; read after gort_once_do */
  int err;
} gortp_lazy;
#define GORTP_LAZY_INIT(init, arg) {GORT_ONCE_INIT, (init), (arg), NULL, 0}

/* Run init on the first call (others wait for it), then return its error
 * and (if value is not NULL) its value. */
GORT_API int gortp_lazy_get(gortp_lazy *l, void **value);

/* Close a channel at most once, whoever asks first (the channel is not
 * owned: the caller keeps its reference). */
typedef struct {
  gort_once once;
  gort_chan *chan;
} gortp_lazy_close_once;
#define GORTP_LAZY_CLOSE_ONCE_INIT(chan) {GORT_ONCE_INIT, (chan)}

GORT_API void gortp_lazy_close_once_do(gortp_lazy_close_once *co);

#ifdef __cplusplus
}
#endif
#endif
