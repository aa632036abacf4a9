/* gort/select.h - Go's select statement.
 *
 * gort_select picks, uniformly at random, one ready case among any number of
 * send and receive cases (Go's selectgo: channels locked in address order,
 * random poll order). If none is ready it blocks until one is, then dequeues
 * its waiters from every other channel, so nothing is left behind. A case on
 * a NULL (nil) channel never fires; a select with no live case blocks
 * forever, like `select {}`. gort_select_try is the same with a default
 * branch: it returns GORT_EAGAIN when nothing is ready.
 *
 * Cases are caller-owned; the blocking path allocates only for more than
 * GORT_SELECT_STACK_CASES cases.
 *
 * Like Go's selectgo, a select holds the locks of all its distinct channels
 * at once. ThreadSanitizer tracks at most 64 locks held by one thread, so
 * under TSan keep a select to 64 distinct channels or fewer.
 */
#ifndef GORT_SELECT_H
#define GORT_SELECT_H

#include "gort/export.h"

#include <stdbool.h>
#include <stddef.h>

#include "gort/chan.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  GORT_SELECT_RECV = 1, /* receive into elem (may be NULL); ok is set */
  GORT_SELECT_SEND = 2, /* send *elem */
} gort_select_dir;

typedef struct {
  gort_chan *chan;     /* NULL: this case never fires */
  gort_select_dir dir;
  void *elem;          /* value to send, or where to store the received one */
  bool ok;             /* out, receives: false when the channel was closed */
} gort_select_case;

#define GORT_SELECT_STACK_CASES 64

#define gort_case_recv(c, elemp) ((gort_select_case){(c), GORT_SELECT_RECV, (elemp), false})
#define gort_case_send(c, elemp) \
  ((gort_select_case){(c), GORT_SELECT_SEND, (void *)(elemp), false})

/* Returns the index of the case that ran, or:
 *   GORT_EINVAL  cases NULL with n > 0, bad dir, or a send case with elem NULL
 *                on a channel whose elem_size is not 0
 *   GORT_ENOMEM  n > GORT_SELECT_STACK_CASES and the scratch allocation failed
 *   GORT_ESENDCLOSED (misuse) the chosen send case's channel was closed.
 * A receive case that fires on a closed channel returns its index with
 * ok = false and a zeroed elem. */
GORT_API int gort_select(gort_select_case *cases, size_t n);
/* As gort_select, but returns GORT_EAGAIN at once when no case is ready. */
GORT_API int gort_select_try(gort_select_case *cases, size_t n);

#ifdef __cplusplus
}
#endif
#endif
