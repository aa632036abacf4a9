/* ap_leaks.c - mistakes that leave a task (or a timer) behind forever.
 *
 * Each bad run returns with its leak in place - every leaked task parked
 * (ap_parked), or the timers pending - for leakcheck's exit-time check to
 * find; each fixed run must leave leakcheck nothing: no task, no timer.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "antipattern.h"
#include "gort/gort.h"
#include "gortp/ctxchan.h"

static int expensive_computation(void) { return 42; }

/* Send *elem on c unless ctx is done first: 0 or the ctx's error. */
static int send_ctx(gort_context *ctx, gort_chan *c, const void *elem) {
  gort_select_case cases[2] = {gort_case_send(c, elem),
                               gort_case_recv(gort_context_done(ctx), NULL)};
  return gort_select(cases, 2) == 0 ? 0 : gort_context_err(ctx);
}

/* A task's last act: close c and drop the task's own reference to it. */
static void close_and_release(gort_chan *c) {
  gort_chan_close(c);
  gort_chan_release(c);
}

/* ---- leaky_send: seed 000 "Goroutine Leaks" leaky(), seed 003 "1." ----
 * The sender blocks forever on an unbuffered channel nobody reads once the
 * caller has returned early. */

static void leaky_sender(void *arg) {
  gort_chan *ch = arg;
  GORT_CHAN_SEND(ch, int, expensive_computation()); /* blocks forever */
  gort_chan_release(ch);
}

/* noinline here and below: leakcheck must name this function as the
 * creator whatever the compiler inlines. */
__attribute__((noinline)) static gort_chan *leaky(void) {
  gort_chan *ch;
  GORT_CHAN_MAKE(&ch, int, 0);
  gort_go(leaky_sender, gort_chan_retain(ch));
  return ch;
}

static void leaky_send_bad(ap_out *o) {
  gort_chan *ch = leaky();
  (void)o;
  gort_chan_release(ch); /* the caller timed out and went away */
  ap_parked(1);          /* the sender is blocked in chan send for good */
}

/* safe(ctx): the send gives up when ctx is done, and the channel is closed. */
struct safe_arg {
  gort_context *ctx; /* the task's reference */
  gort_chan *ch;     /* the task's reference */
};

static void safe_sender(void *arg) {
  struct safe_arg *s = arg;
  int result = expensive_computation();
  send_ctx(s->ctx, s->ch, &result);
  gort_context_release(s->ctx);
  close_and_release(s->ch); /* defer close(ch) */
  free(s);
}

static gort_chan *safe(gort_context *ctx) {
  gort_chan *ch;
  GORT_CHAN_MAKE(&ch, int, 0);
  struct safe_arg *s = malloc(sizeof *s);
  *s = (struct safe_arg){gort_context_retain(ctx), gort_chan_retain(ch)};
  gort_go(safe_sender, s);
  return ch;
}

static void leaky_send_fixed(ap_out *o) {
  gort_context *ctx;
  gort_context_with_cancel(gort_context_background(), &ctx);
  gort_chan *ch = safe(ctx);
  gort_context_free(ctx); /* the caller gives up: cancel */
  gort_chan_release(ch);
  (void)o;
}

const ap_entry ap_leaky_send = {
    "leaky_send", "000 Common Pitfalls: Goroutine Leaks; 003 Common Mistakes 1",
    "a task sends on an unbuffered channel that nobody reads after the caller returns early",
    AP_LEAKCHECK_TASK, "chan send", "leaky", leaky_send_bad, leaky_send_fixed};

/* ---- forever_loop: seed 001 "Goroutine leak - no way to stop" ----
 * for { process(); time.Sleep(time.Second) } has no exit path. */

static atomic_int processed;
static void process(void) { atomic_fetch_add(&processed, 1); }

static void forever(void *arg) {
  (void)arg;
  for (;;) {
    process();
    gort_sleep(GORT_SECOND);
  }
}

static void forever_loop_bad(ap_out *o) {
  (void)o;
  gort_go(forever, NULL);
  ap_parked(1);
}

struct ticking {
  gort_context *ctx;  /* the task's reference */
  gort_chan *ticked;  /* cap 1: "processed at least once" */
  gort_chan *stopped; /* the task's reference; closed on exit */
};

static void ticking_worker(void *arg) {
  struct ticking *t = arg;
  gort_ticker *ticker;
  gort_ticker_new(&ticker, 10 * GORT_MILLISECOND);
  for (;;) {
    gort_select_case cases[2] = {gort_case_recv(gort_ticker_chan(ticker), NULL),
                                 gort_case_recv(gort_context_done(t->ctx), NULL)};
    if (gort_select(cases, 2) != 0) break; /* case <-ctx.Done(): return */
    process();
    GORT_CHAN_TRY_SEND(t->ticked, char, 1);
  }
  gort_ticker_free(ticker); /* defer ticker.Stop() */
  gort_context_release(t->ctx);
  close_and_release(t->stopped);
}

static void forever_loop_fixed(ap_out *o) {
  struct ticking t;
  gort_context *ctx;
  gort_context_with_cancel(gort_context_background(), &ctx);
  GORT_CHAN_MAKE(&t.ticked, char, 1);
  GORT_CHAN_MAKE(&t.stopped, char, 0);
  t.ctx = gort_context_retain(ctx);
  gort_chan_retain(t.stopped);
  gort_go(ticking_worker, &t);
  gort_chan_recv(t.ticked, NULL, NULL);
  gort_context_free(ctx);
  gort_chan_recv(t.stopped, NULL, NULL);
  gort_chan_release(t.stopped);
  gort_chan_release(t.ticked);
  (void)o;
}

const ap_entry ap_forever_loop = {
    "forever_loop", "001 Anti-Patterns: Goroutine leak - no way to stop",
    "a background loop (work, sleep, repeat) with no way to stop it", AP_LEAKCHECK_TASK,
    "sleep", "forever_loop_bad", forever_loop_bad, forever_loop_fixed};

/* ---- recv_no_exit: seed 004 "Challenge 2: Goroutine Leaks" ----
 * for { val := <-ch } : no exit when ch is never closed (and a busy loop of
 * zero values if it ever is, since the ok flag is ignored). */

static void print_loop(void *arg) {
  gort_chan *ch = arg;
  for (;;) {
    int val;
    gort_chan_recv(ch, &val, NULL);
    (void)val; /* fmt.Println(val) */
  }
}

static void recv_no_exit_bad(ap_out *o) {
  gort_chan *ch;
  GORT_CHAN_MAKE(&ch, int, 0);
  gort_go(print_loop, gort_chan_retain(ch));
  for (int i = 0; i < 3; i++) GORT_CHAN_SEND(ch, int, i);
  gort_chan_release(ch); /* the producer is done, but never closes */
  (void)o;
  ap_parked(1);
}

struct ranging {
  gort_chan *ch;   /* the task's reference */
  gort_chan *done; /* the task's reference; closed on exit */
};

static void range_loop(void *arg) {
  struct ranging *r = arg;
  for (int val; GORT_CHAN_RANGE(r->ch, &val);) (void)val;
  gort_chan_release(r->ch);
  close_and_release(r->done);
}

static void recv_no_exit_fixed(ap_out *o) {
  struct ranging r;
  GORT_CHAN_MAKE(&r.ch, int, 0);
  GORT_CHAN_MAKE(&r.done, char, 0);
  gort_chan_retain(r.ch);
  gort_chan_retain(r.done);
  gort_go(range_loop, &r);
  for (int i = 0; i < 3; i++) GORT_CHAN_SEND(r.ch, int, i);
  gort_chan_close(r.ch);
  gort_chan_recv(r.done, NULL, NULL);
  gort_chan_release(r.ch);
  gort_chan_release(r.done);
  (void)o;
}

const ap_entry ap_recv_no_exit = {
    "recv_no_exit", "004 Challenge 2: Goroutine Leaks",
    "a receive loop with no exit path on a channel that is never closed", AP_LEAKCHECK_TASK,
    "chan receive", "recv_no_exit_bad", recv_no_exit_bad, recv_no_exit_fixed};

/* ---- forgotten_close: seed 004 "Pitfall 2: Unclosed Channel" ----
 * The producer never closes, so the consumer's range never ends. */

struct producer_arg {
  gort_chan *ch; /* the task's reference */
  bool close_it;
};

static void producer(void *arg) {
  struct producer_arg *p = arg;
  for (int i = 0; i < 100; i++) GORT_CHAN_SEND(p->ch, int, i);
  if (p->close_it) gort_chan_close(p->ch); /* the fix: defer close(ch) */
  gort_chan_release(p->ch);
  free(p);
}

static gort_chan *start_producer(bool close_it) {
  gort_chan *ch;
  GORT_CHAN_MAKE(&ch, int, 0);
  struct producer_arg *p = malloc(sizeof *p);
  *p = (struct producer_arg){gort_chan_retain(ch), close_it};
  gort_go(producer, p);
  return ch;
}

struct consumer_arg {
  gort_chan *in;  /* the task's reference */
  gort_chan *sum; /* cap 1; the task's reference */
};

static void consumer(void *arg) {
  struct consumer_arg *c = arg;
  int sum = 0;
  for (int v; GORT_CHAN_RANGE(c->in, &v);) sum += v;
  GORT_CHAN_SEND(c->sum, int, sum);
  gort_chan_release(c->in);
  gort_chan_release(c->sum);
  free(c);
}

__attribute__((noinline)) static gort_chan *start_consumer(gort_chan *in) {
  gort_chan *sum;
  GORT_CHAN_MAKE(&sum, int, 1);
  struct consumer_arg *c = malloc(sizeof *c);
  *c = (struct consumer_arg){gort_chan_retain(in), gort_chan_retain(sum)};
  gort_go(consumer, c);
  return sum;
}

static void forgotten_close_bad(ap_out *o) {
  gort_chan *ch = start_producer(false);
  gort_chan *sum = start_consumer(ch);
  gort_chan_release(ch);
  gort_chan_release(sum);
  (void)o;
  ap_settle(2); /* the producer has sent its 100 values and returned */
  ap_parked(1); /* the consumer's range waits for a close that never comes */
}

static void forgotten_close_fixed(ap_out *o) {
  gort_chan *ch = start_producer(true);
  gort_chan *sum = start_consumer(ch);
  gort_chan_release(ch);
  int total = -1;
  gort_chan_recv(sum, &total, NULL);
  gort_chan_release(sum);
  (void)o;
  (void)total;
}

const ap_entry ap_forgotten_close = {
    "forgotten_close", "004 Pitfall 2: Unclosed Channel Causes Goroutine Leak",
    "the producer never closes its channel, so the consumer's range never ends",
    AP_LEAKCHECK_TASK, "chan receive", "start_consumer", forgotten_close_bad,
    forgotten_close_fixed};

/* ---- select_eval_blocks: seed 002 "The Done Channel Pattern: common
 * mistake" ----
 * `case result <- request():` evaluates request() (5 s) before the select
 * can see `done`, so closing done after the timeout cancels nothing. */

static const char *request(void) {
  gort_sleep(30 * GORT_SECOND); /* simulate an expensive operation */
  return "Hello, World!";
}

struct sub {
  gort_chan *result; /* the task's reference */
  gort_chan *done;   /* the task's reference */
};

static void sub_request(void *arg) {
  struct sub *s = arg;
  const char *r = request(); /* evaluated before the select */
  gort_select_case cases[2] = {gort_case_send(s->result, &r), gort_case_recv(s->done, NULL)};
  if (gort_select(cases, 2) == 0)
    printf("request completed\n");
  else
    printf("request canceled\n");
  gort_chan_release(s->result);
  gort_chan_release(s->done);
  free(s);
}

/* select { case r := <-result: ...; case <-time.After(d): "request timeout" } */
static bool wait_result(gort_chan *result, gort_duration d) {
  gort_chan *after;
  gort_after(d, &after);
  const char *r = NULL;
  gort_select_case cases[2] = {gort_case_recv(result, &r), gort_case_recv(after, NULL)};
  bool got = gort_select(cases, 2) == 0;
  gort_chan_release(after);
  if (got)
    printf("result:  %s\n", r);
  else
    printf("request timeout\n");
  return got;
}

static void select_eval_blocks_bad(ap_out *o) {
  gort_chan *result, *done;
  GORT_CHAN_MAKE(&result, const char *, 0);
  GORT_CHAN_MAKE(&done, char, 0);
  struct sub *s = malloc(sizeof *s);
  *s = (struct sub){gort_chan_retain(result), gort_chan_retain(done)};
  gort_go(sub_request, s);
  wait_result(result, 100 * GORT_MILLISECOND);
  gort_chan_close(done); /* cleanup: too late, request() is still running */
  gort_chan_release(result);
  gort_chan_release(done);
  (void)o;
  ap_parked(1); /* still in request(): nobody will ever take its result */
}

/* The context-aware request: gives up when ctx is done, and stops its timer
 * (a time.After here would stay pending for the full 2 s). */
static int request_ctx(gort_context *ctx, const char **out) {
  int rc = gortp_ctxchan_sleep(ctx, 2 * GORT_SECOND);
  if (rc == 0) *out = "Hello, World!";
  return rc;
}

struct sub_ctx {
  gort_context *ctx; /* the task's reference */
  gort_chan *result; /* cap 1, so the send never blocks; the task's reference */
  gort_chan *exited; /* the task's reference; closed on exit */
};

static void sub_request_ctx(void *arg) {
  struct sub_ctx *s = arg;
  const char *r = NULL;
  if (request_ctx(s->ctx, &r) != 0)
    printf("request error:  %s\n", gort_strerror(gort_context_err(s->ctx)));
  else
    gort_chan_send(s->result, &r); /* buffered: never blocks */
  gort_context_release(s->ctx);
  gort_chan_release(s->result);
  close_and_release(s->exited);
  free(s);
}

static void select_eval_blocks_fixed(ap_out *o) {
  gort_context *ctx;
  gort_context_with_cancel(gort_context_background(), &ctx);
  gort_chan *result, *exited;
  GORT_CHAN_MAKE(&result, const char *, 1);
  GORT_CHAN_MAKE(&exited, char, 0);
  struct sub_ctx *s = malloc(sizeof *s);
  *s = (struct sub_ctx){gort_context_retain(ctx), gort_chan_retain(result),
                        gort_chan_retain(exited)};
  gort_go(sub_request_ctx, s);
  wait_result(result, 100 * GORT_MILLISECOND);
  gort_context_free(ctx);               /* cancel now; don't defer */
  gort_chan_recv(exited, NULL, NULL);   /* instead of sleeping 100 ms and hoping */
  gort_chan_release(exited);
  gort_chan_release(result);
  (void)o;
}

const ap_entry ap_select_eval_blocks = {
    "select_eval_blocks", "002 The Done Channel Pattern: common mistake",
    "`case result <- request():` runs request() before the select, so done cannot stop it",
    AP_LEAKCHECK_TASK, "sleep", "select_eval_blocks_bad", select_eval_blocks_bad,
    select_eval_blocks_fixed};

/* ---- time_after_loop: seed 003 "The Select Statement" note, seed 004
 * "Pitfall 4: time.After Leak in Select" ----
 * Each time.After in a loop starts a timer that lives until it fires. */

#define TA_ITEMS 100

static void time_after_loop_bad(ap_out *o) {
  (void)o;
  gort_chan *ch;
  GORT_CHAN_MAKE(&ch, int, TA_ITEMS);
  for (int i = 0; i < TA_ITEMS; i++) GORT_CHAN_SEND(ch, int, i);
  for (int i = 0; i < TA_ITEMS; i++) {
    gort_chan *after;
    gort_after(60 * GORT_SECOND, &after);
    int v;
    gort_select_case cases[2] = {gort_case_recv(ch, &v), gort_case_recv(after, NULL)};
    gort_select(cases, 2);
    gort_chan_release(after); /* the timer keeps its own reference until it fires */
  }
  gort_chan_release(ch); /* returns with TA_ITEMS timers pending for a minute */
}

static void time_after_loop_fixed(ap_out *o) {
  gort_chan *ch;
  GORT_CHAN_MAKE(&ch, int, TA_ITEMS);
  for (int i = 0; i < TA_ITEMS; i++) GORT_CHAN_SEND(ch, int, i);
  gort_context *ctx; /* one deadline for the whole loop, released at the end */
  gort_context_with_timeout(gort_context_background(), 60 * GORT_SECOND, &ctx);
  int got = 0;
  for (int i = 0; i < TA_ITEMS; i++) {
    int v;
    gort_select_case cases[2] = {gort_case_recv(ch, &v),
                                 gort_case_recv(gort_context_done(ctx), NULL)};
    if (gort_select(cases, 2) == 0) got++;
  }
  gort_context_free(ctx);
  gort_chan_release(ch);
  (void)o;
  (void)got;
}

const ap_entry ap_time_after_loop = {
    "time_after_loop", "003 The Select Statement (note); 004 Pitfall 4: time.After Leak",
    "time.After in a loop's select: every iteration leaves a timer pending until it fires",
    AP_LEAKCHECK_TIMER, "time.After", "time_after_loop_bad", time_after_loop_bad,
    time_after_loop_fixed};

/* ---- missing_cancel: seed 003 "Context Cancellation" (always defer
 * cancel()), seed 002 ("cancel now; don't defer") ----
 * A WithTimeout context that is never cancelled keeps its timer (and, in C,
 * its memory) until the deadline. */

static int quick_request(gort_context *ctx) { return gort_context_err(ctx); }

static void missing_cancel_bad(ap_out *o) {
  (void)o;
  for (int i = 0; i < 100; i++) {
    gort_context *ctx;
    gort_context_with_timeout(gort_context_background(), 60 * GORT_SECOND, &ctx);
    quick_request(ctx);
    /* no cancel: the context lives on for a minute */
  }
}

static void missing_cancel_fixed(ap_out *o) {
  for (int i = 0; i < 100; i++) {
    gort_context *ctx;
    gort_context_with_timeout(gort_context_background(), 60 * GORT_SECOND, &ctx);
    quick_request(ctx);
    gort_context_free(ctx); /* defer cancel() */
  }
  (void)o;
}

const ap_entry ap_missing_cancel = {
    "missing_cancel", "003 Context Cancellation (always defer cancel()); 002 Done channel",
    "a WithTimeout context is never cancelled: its timer and memory live until the deadline",
    AP_LEAKCHECK_TIMER, "context deadline", "missing_cancel_bad", missing_cancel_bad,
    missing_cancel_fixed};

/* ---- ignores_cancel: seed 004 troubleshooting "Graceful shutdown failure:
 * goroutines not responding to context cancellation" ----
 * The worker's unit of work (a 30 s operation) never looks at ctx; the
 * shutdown cancels, waits 100 ms for it, gives up and returns: the worker is
 * left behind, asleep in its work. The fix does the same work
 * context-aware, so cancel stops it at once. (A long unit keeps the leaked
 * worker parked while leakcheck looks: with short units a loaded machine
 * may show it between two of them, running.) */

#define UNIT_OF_WORK (30 * GORT_SECOND)

struct busy {
  gort_context *ctx; /* the task's reference */
  gort_chan *exited; /* the task's reference; closed on exit */
  bool checks_ctx;
};

/* One unit of work: 0, or the ctx's error when it checks ctx and ctx is done. */
static int work_unit(struct busy *b) {
  if (!b->checks_ctx) return gort_sleep(UNIT_OF_WORK); /* deaf to ctx */
  return gortp_ctxchan_sleep(b->ctx, UNIT_OF_WORK);
}

static void busy_worker(void *arg) {
  struct busy *b = arg;
  while (work_unit(b) == 0) {
  }
  gort_context_release(b->ctx);
  close_and_release(b->exited);
  free(b);
}

/* Start the worker, cancel, then wait for it up to 100 ms (the shutdown
 * deadline). */
__attribute__((noinline)) static void shutdown_worker(bool checks_ctx) {
  gort_context *ctx;
  gort_context_with_cancel(gort_context_background(), &ctx);
  gort_chan *exited;
  GORT_CHAN_MAKE(&exited, char, 0);
  struct busy *b = malloc(sizeof *b);
  *b = (struct busy){gort_context_retain(ctx), gort_chan_retain(exited), checks_ctx};
  gort_go(busy_worker, b);
  gort_context_free(ctx); /* shutdown: cancel */
  gort_context *deadline;
  gort_context_with_timeout(gort_context_background(), 100 * GORT_MILLISECOND, &deadline);
  gort_select_case cases[2] = {gort_case_recv(exited, NULL),
                               gort_case_recv(gort_context_done(deadline), NULL)};
  gort_select(cases, 2);
  gort_context_free(deadline);
  gort_chan_release(exited);
}

static void ignores_cancel_bad(ap_out *o) {
  (void)o;
  shutdown_worker(false);
  ap_parked(1); /* the worker, between two units of work it will never stop */
}

static void ignores_cancel_fixed(ap_out *o) {
  (void)o;
  shutdown_worker(true);
}

const ap_entry ap_ignores_cancel = {
    "ignores_cancel", "004 Error Troubleshooting: Graceful shutdown failure",
    "a long-running loop never checks ctx.Done(), so a shutdown cannot stop it",
    AP_LEAKCHECK_TASK, "sleep", "shutdown_worker", ignores_cancel_bad, ignores_cancel_fixed};
