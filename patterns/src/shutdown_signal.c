/* shutdown_signal.c - signal.NotifyContext on a signalfd (see
 * gortp/shutdown.h).
 *
 * A watcher task polls two descriptors: the signalfd of the blocked signals
 * and an eventfd that gortp_shutdown_signal_stop writes to. The first signal records
 * its number and cancels the context; later ones are read and dropped (as Go
 * keeps catching them until stop), so a second SIGTERM cannot kill the
 * process half-way through its shutdown.
 *
 * Invariants:
 *  - `received` goes from 0 to a signal number once, and never back.
 *  - The watcher task owns one reference to `exited` and touches nothing of
 *    the notifier after closing it, so stop may free everything as soon as
 *    its receive on `exited` returns.
 */
#include "gortp/shutdown.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "gort/chan.h"
#include "gort/err.h"
#include "gort/task.h"
#include "gortp/ctxchan.h"

struct gortp_shutdown_signal {
  gort_context *ctx;   /* the creator's reference, freed by stop */
  int sfd;             /* signalfd; immutable */
  int efd;             /* eventfd: stop request; immutable */
  atomic_int received; /* first signal number, 0 before */
  gort_chan *exited;   /* closed by the watcher as its last act */
};

static void watcher_task(void *arg) {
  gortp_shutdown_signal *sn = arg;
  struct pollfd fds[2] = {{.fd = sn->sfd, .events = POLLIN}, {.fd = sn->efd, .events = POLLIN}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents) break; /* stop */
    if (fds[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (read(sn->sfd, &si, sizeof si) != (ssize_t)sizeof si) continue;
      int none = 0;
      atomic_compare_exchange_strong(&sn->received, &none, (int)si.ssi_signo);
      gort_context_cancel(sn->ctx);
    }
  }
  gort_chan *exited = sn->exited;
  gort_chan_close(exited);
  gort_chan_release(exited);
}

int gortp_shutdown_signal_new(gort_context *parent, const int *sigs, size_t n,
                                gort_context **ctx_out, gortp_shutdown_signal **out) {
  parent = gortp_ctxchan_or_background(parent);
  if (!sigs || n == 0 || !ctx_out || !out) return GORT_EINVAL;
  sigset_t set;
  sigemptyset(&set);
  for (size_t i = 0; i < n; i++)
    if (sigaddset(&set, sigs[i]) != 0) return GORT_EINVAL;
  gortp_shutdown_signal *sn = calloc(1, sizeof *sn);
  if (!sn) return GORT_ENOMEM;
  sn->sfd = sn->efd = -1;
  int rc = gort_context_with_cancel(parent, &sn->ctx);
  if (rc != 0) {
    free(sn);
    return rc;
  }
  /* Block first, so a signal that arrives from now on waits in the fd. */
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  sn->sfd = signalfd(-1, &set, SFD_CLOEXEC);
  sn->efd = eventfd(0, EFD_CLOEXEC);
  rc = sn->sfd < 0 || sn->efd < 0 ? GORT_EIO : gort_chan_make(&sn->exited, 1, 0);
  if (rc == 0) {
    gort_chan_retain(sn->exited); /* the watcher's */
    rc = gort_go_named("signal.NotifyContext", watcher_task, sn);
    if (rc != 0) gort_chan_release(sn->exited);
  }
  if (rc != 0) {
    gort_chan_release(sn->exited);
    if (sn->sfd >= 0) close(sn->sfd);
    if (sn->efd >= 0) close(sn->efd);
    gort_context_free(sn->ctx);
    free(sn);
    return rc;
  }
  *ctx_out = sn->ctx;
  *out = sn;
  return 0;
}

int gortp_shutdown_signal_received(gortp_shutdown_signal *sn) { return sn ? atomic_load(&sn->received) : 0; }

void gortp_shutdown_signal_stop(gortp_shutdown_signal *sn) {
  if (!sn) return;
  uint64_t one = 1;
  while (write(sn->efd, &one, sizeof one) < 0 && errno == EINTR) {
  }
  gort_chan_recv(sn->exited, NULL, NULL); /* returns when the watcher closed it */
  gort_chan_release(sn->exited);
  close(sn->sfd);
  close(sn->efd);
  gort_context_free(sn->ctx);
  free(sn);
}
