/* ap_shutdown.c - seed 004 "Challenge 4: No Graceful Shutdown": on SIGTERM
 * the process dies with work half done ("in-flight writes may corrupt data,
 * in-progress transactions may be half-completed").
 *
 * The transaction has two steps; SIGTERM arrives between them. Without
 * signal handling the default action kills the process after step 1. With
 * signal.NotifyContext (gortp/shutdown.h) the signal becomes a cancelled
 * context, and the process lets the transaction finish before it exits.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "antipattern.h"
#include "gort/gort.h"
#include "gortp/shutdown.h"

struct tx {
  gort_chan *step1; /* closed after step 1 */
};

static void transaction(void *arg) {
  struct tx *t = arg;
  printf("step 1 of 2 done\n");
  gort_chan_close(t->step1);
  gort_sleep(100 * GORT_MILLISECOND); /* the in-flight write */
  printf("step 2 of 2 done\n");
}

static void no_graceful_shutdown_bad(ap_out *o) {
  struct tx t;
  GORT_CHAN_MAKE(&t.step1, char, 0);
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  gort_waitgroup_go(&wg, transaction, &t);
  gort_chan_recv(t.step1, NULL, NULL);
  kill(getpid(), SIGTERM); /* the orchestrator stops the service */
  gort_waitgroup_wait(&wg); /* not reached: the default action kills us */
  gort_chan_release(t.step1);
  ap_show(o, "survived SIGTERM");
}

static void no_graceful_shutdown_fixed(ap_out *o) {
  /* First, while this is the only thread: signals become a context. */
  static const int sigs[] = {SIGTERM, SIGINT};
  gort_context *ctx;
  gortp_shutdown_signal *sn;
  if (gortp_shutdown_signal_new(gort_context_background(), sigs, 2, &ctx, &sn) != 0) {
    ap_show(o, "setup failed");
    return;
  }
  struct tx t;
  GORT_CHAN_MAKE(&t.step1, char, 0);
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  gort_waitgroup_go(&wg, transaction, &t);
  gort_chan_recv(t.step1, NULL, NULL);
  kill(getpid(), SIGTERM);
  gort_chan_recv(gort_context_done(ctx), NULL, NULL); /* <-ctx.Done() */
  int sig = gortp_shutdown_signal_received(sn);
  gort_waitgroup_wait(&wg); /* let the in-flight transaction finish */
  gort_chan_release(t.step1);
  gortp_shutdown_signal_stop(sn);
  ap_show(o, "clean: signal %d arrived after step 1 of 2; step 2 completed before exit", sig);
}

const ap_entry ap_no_graceful_shutdown = {
    "no_graceful_shutdown", "004 Challenge 4: No Graceful Shutdown",
    "no signal handling: SIGTERM kills the process between two steps of a transaction",
    AP_DEMO, "killed by SIGTERM after step 1 of 2", NULL, no_graceful_shutdown_bad,
    no_graceful_shutdown_fixed};
