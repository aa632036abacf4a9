/* ap_results.c - mistakes that give wrong or missing results without any
 * crash: captured loop variables, premature waits, swallowed errors, lost
 * outputs, data races.
 *
 * Where the seeds' bug depends on scheduling luck, the bad run removes the
 * luck with a gate (a channel closed at the worst moment), so its verdict is
 * the same on every run.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "antipattern.h"
#include "gort/errgroup.h"
#include "gort/gort.h"
#include "gortp/service.h"

/* ---- loop_var_capture: seed 000 "Loop Variable Capture (pre-Go 1.22)",
 * seed 003 "3.", seed 004 "Pitfall 1: Closure Variable Capture" ----
 * C's version: every task gets the address of the one loop variable. The
 * gate makes the tasks read it after the loop, as the seed's "likely" case. */

struct capture {
  gort_chan *gate;
  atomic_int next;
  int seen[10];
};

struct capture_arg {
  struct capture *c;
  const int *ip; /* bad: &i */
  int value;     /* fixed: i itself */
};

static void print_i(void *arg) {
  struct capture_arg *a = arg;
  gort_chan_recv(a->c->gate, NULL, NULL);
  int v = a->ip ? *a->ip : a->value; /* fmt.Println(i) */
  a->c->seen[atomic_fetch_add(&a->c->next, 1)] = v;
}

static int run_capture(bool by_address, struct capture *c) {
  memset(c, 0, sizeof *c);
  GORT_CHAN_MAKE(&c->gate, char, 0);
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  struct capture_arg args[10];
  int i;
  for (i = 0; i < 10; i++) {
    args[i] = (struct capture_arg){c, by_address ? &i : NULL, i};
    gort_waitgroup_go(&wg, print_i, &args[i]);
  }
  gort_chan_close(c->gate);
  gort_waitgroup_wait(&wg);
  gort_chan_release(c->gate);
  return i;
}

static void loop_var_capture_bad(ap_out *o) {
  struct capture c;
  int last = run_capture(true, &c);
  int same = 0;
  for (int k = 0; k < 10; k++) same += c.seen[k] == last;
  ap_set(o, "wrong: %d of 10 tasks saw i=%d", same, last);
}

static void loop_var_capture_fixed(ap_out *o) {
  struct capture c;
  run_capture(false, &c);
  int count[10] = {0};
  bool once_each = true;
  for (int k = 0; k < 10; k++)
    if (c.seen[k] >= 0 && c.seen[k] < 10) count[c.seen[k]]++;
  for (int k = 0; k < 10; k++) once_each &= count[k] == 1;
  ap_set(o, once_each ? "clean: the tasks saw 0..9, once each" : "wrong: values repeated");
}

const ap_entry ap_loop_var_capture = {
    "loop_var_capture",
    "000 Loop Variable Capture; 003 Common Mistakes 3; 004 Pitfall 1: Closure Variable Capture",
    "every task captures the loop variable itself (in C: its address), not its value",
    AP_VERDICT, "wrong: 10 of 10 tasks saw i=10", loop_var_capture_bad, loop_var_capture_fixed};

/* ---- wg_add_inside: seed 000 "Missing WaitGroup Coordination" (Add inside
 * the goroutine), seed 003 "Goroutine Basics", seed 004 "Pitfall 3" ---- */

struct late_add {
  gort_waitgroup *wg;
  gort_chan *gate; /* the tasks "get scheduled" only after this closes */
  atomic_int *finished;
};

static void add_inside(void *arg) {
  struct late_add *l = arg;
  gort_chan_recv(l->gate, NULL, NULL);
  gort_waitgroup_add(l->wg, 1); /* too late: Wait may have returned */
  atomic_fetch_add(l->finished, 1); /* doWork() */
  gort_waitgroup_done(l->wg);
}

static void add_before(void *arg) {
  struct late_add *l = arg;
  gort_chan_recv(l->gate, NULL, NULL);
  atomic_fetch_add(l->finished, 1);
  gort_waitgroup_done(l->wg);
}

static void wg_add_inside_bad(ap_out *o) {
  gort_waitgroup wg = GORT_WAITGROUP_INIT, all = GORT_WAITGROUP_INIT;
  atomic_int finished = 0;
  struct late_add l = {&wg, NULL, &finished};
  GORT_CHAN_MAKE(&l.gate, char, 0);
  for (int i = 0; i < 10; i++) gort_waitgroup_go(&all, add_inside, &l);
  gort_waitgroup_wait(&wg); /* returns at once: nobody has called Add yet */
  int seen = atomic_load(&finished);
  gort_chan_close(l.gate); /* (let them run now, and join them properly) */
  gort_waitgroup_wait(&all);
  gort_chan_release(l.gate);
  ap_set(o, "premature: Wait returned after %d of 10 tasks finished", seen);
}

static void wg_add_inside_fixed(ap_out *o) {
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  atomic_int finished = 0;
  struct late_add l = {&wg, NULL, &finished};
  GORT_CHAN_MAKE(&l.gate, char, 0);
  for (int i = 0; i < 10; i++) {
    gort_waitgroup_add(&wg, 1); /* before the go statement */
    gort_go(add_before, &l);
  }
  gort_chan_close(l.gate);
  gort_waitgroup_wait(&wg);
  int seen = atomic_load(&finished);
  gort_chan_release(l.gate);
  ap_set(o, "clean: Wait returned after %d of 10 tasks finished", seen);
}

const ap_entry ap_wg_add_inside = {
    "wg_add_inside", "000 Missing WaitGroup Coordination; 003 Goroutine Basics; 004 Pitfall 3",
    "wg.Add(1) inside the goroutine races with wg.Wait(), which can return first", AP_VERDICT,
    "premature: Wait returned after 0 of 10 tasks finished", wg_add_inside_bad,
    wg_add_inside_fixed};

/* ---- sleep_sync: seed 003 "Goroutine Basics" (time.Sleep for
 * synchronization is always wrong) ---- */

struct fetcher {
  gort_chan *io; /* the "network": answers only after this closes */
  atomic_int fetched;
  gort_waitgroup *wg; /* fixed only */
};

static void fetch_data(void *arg) {
  struct fetcher *f = arg;
  gort_chan_recv(f->io, NULL, NULL); /* slower than the sleep below */
  atomic_fetch_add(&f->fetched, 1); /* fmt.Printf("fetched data for id=%d") */
}

static void sleep_sync_bad(ap_out *o) {
  struct fetcher f = {.fetched = 0};
  GORT_CHAN_MAKE(&f.io, char, 0);
  gort_waitgroup join = GORT_WAITGROUP_INIT;
  for (int i = 0; i < 5; i++) gort_waitgroup_go(&join, fetch_data, &f);
  gort_sleep(50 * GORT_MILLISECOND); /* time.Sleep(...) and hope */
  int seen = atomic_load(&f.fetched);
  gort_chan_close(f.io);
  gort_waitgroup_wait(&join);
  gort_chan_release(f.io);
  ap_set(o, "lost: %d of 5 fetched when main stopped sleeping", seen);
}

static void sleep_sync_fixed(ap_out *o) {
  struct fetcher f = {.fetched = 0};
  GORT_CHAN_MAKE(&f.io, char, 0);
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  for (int i = 0; i < 5; i++) gort_waitgroup_go(&wg, fetch_data, &f);
  gort_chan_close(f.io); /* however slow the I/O is... */
  gort_waitgroup_wait(&wg); /* ...wg.Wait() waits for it */
  gort_chan_release(f.io);
  ap_set(o, "clean: %d of 5 fetched after wg.Wait()", atomic_load(&f.fetched));
}

const ap_entry ap_sleep_sync = {
    "sleep_sync", "003 Goroutine Basics (time.Sleep for synchronization is always wrong)",
    "sleeping instead of waiting: main moves on before the tasks finish", AP_VERDICT,
    "lost: 0 of 5 fetched when main stopped sleeping", sleep_sync_bad, sleep_sync_fixed};

/* ---- swallowed_errors: seed 004 "Challenge 3: Errors Silently
 * Swallowed" (and Pattern 4's `results[i], _ = fetchOne(ctx, url)`) ---- */

static const char *const urls[3] = {"https://a.example", "https://b.example",
                                    "https://c.example"};

static int fetch(int i) { return i == 0 ? 0 : GORT_EIO; } /* b and c fail */

struct fetch_arg {
  int i;
  atomic_int *failed;
};

static void fetch_and_log(void *arg) {
  struct fetch_arg *f = arg;
  int rc = fetch(f->i);
  if (rc != 0) { /* log.Printf("fetch %s failed: %v") and return */
    printf("fetch %s failed: %s\n", urls[f->i], gort_strerror(rc));
    atomic_fetch_add(f->failed, 1);
  }
}

/* func fetchAll(urls []string) - no error to return */
static void fetch_all_bad(atomic_int *failed) {
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  struct fetch_arg args[3];
  for (int i = 0; i < 3; i++) {
    args[i] = (struct fetch_arg){i, failed};
    gort_waitgroup_go(&wg, fetch_and_log, &args[i]);
  }
  gort_waitgroup_wait(&wg);
}

static void swallowed_errors_bad(ap_out *o) {
  atomic_int failed = 0;
  fetch_all_bad(&failed); /* the caller cannot tell */
  ap_set(o, "swallowed: %d of 3 fetches failed, the caller saw success", atomic_load(&failed));
}

static int fetch_task(gort_context *ctx, void *arg) {
  (void)ctx;
  return fetch((int)(intptr_t)arg);
}

static void swallowed_errors_fixed(ap_out *o) {
  gort_errgroup *g;
  gort_errgroup_with_context(gort_context_background(), &g, NULL);
  for (int i = 0; i < 3; i++) gort_errgroup_go(g, fetch_task, (void *)(intptr_t)i);
  int rc = gort_errgroup_wait(g);
  gort_errgroup_free(g);
  ap_set(o, "clean: the caller got the error (%s)", gort_strerror(rc));
}

const ap_entry ap_swallowed_errors = {
    "swallowed_errors", "004 Challenge 3: Errors Silently Swallowed; 004 Pattern 4 (fetchWithLimit)",
    "errors are only logged inside the tasks; the caller assumes success", AP_VERDICT,
    "swallowed: 2 of 3 fetches failed, the caller saw success", swallowed_errors_bad,
    swallowed_errors_fixed};

/* ---- results_missing: seed 004 troubleshooting "Concurrent results
 * missing", as the seed's own Pattern 7 Process shows it ----
 * When the timeout hits after the producer has queued every job, g.Wait()
 * returns nil: the workers gave up, outputs are missing, nobody is told. */

#define RM_JOBS 10

static int slow_process(gort_context *ctx, const gortp_service_job *job, char *out,
                        size_t len, void *arg) {
  (void)arg;
  gort_timer *t;
  gort_timer_new(&t, 200 * GORT_MILLISECOND);
  gort_select_case cases[2] = {gort_case_recv(gort_timer_chan(t), NULL),
                               gort_case_recv(gort_context_done(ctx), NULL)};
  int rc = gort_select(cases, 2) == 0 ? 0 : gort_context_err(ctx);
  gort_timer_free(t);
  if (rc == 0) snprintf(out, len, "processed-%s", job->id);
  return rc;
}

struct seed_run {
  gort_context *ctx; /* the group's */
  gort_chan *jobs, *results;
  const gortp_service_job *in;
  gort_waitgroup workers;
};

static int seed_producer(gort_context *ctx, void *arg) {
  struct seed_run *r = arg;
  int rc = 0;
  for (int i = 0; i < RM_JOBS && rc == 0; i++) {
    const gortp_service_job *job = &r->in[i];
    gort_select_case cases[2] = {gort_case_send(r->jobs, &job),
                                 gort_case_recv(gort_context_done(ctx), NULL)};
    if (gort_select(cases, 2) != 0) rc = gort_context_err(ctx);
  }
  gort_chan_close(r->jobs);
  return rc;
}

static void seed_worker(void *arg) {
  struct seed_run *r = arg;
  const gortp_service_job *job;
  while (gort_chan_recv(r->jobs, &job, NULL) == 0) {
    gortp_service_output out = {.job = *job};
    out.err = slow_process(r->ctx, job, out.result, sizeof out.result, NULL);
    gort_select_case cases[2] = {gort_case_send(r->results, &out),
                                 gort_case_recv(gort_context_done(r->ctx), NULL)};
    if (gort_select(cases, 2) != 0) return;
  }
}

static void seed_close_results(void *arg) {
  struct seed_run *r = arg;
  gort_waitgroup_wait(&r->workers);
  gort_chan_close(r->results);
}

/* The seed's Process, transcribed (2 workers, buffer 10, 300 ms). */
static int seed_process(const gortp_service_job *jobs, int *processed) {
  gort_context *ctx;
  gort_context_with_timeout(gort_context_background(), 300 * GORT_MILLISECOND, &ctx);
  struct seed_run r = {.in = jobs};
  gort_errgroup *g;
  gort_errgroup_with_context(ctx, &g, &r.ctx);
  gort_errgroup_set_limit(g, 2);
  GORT_CHAN_MAKE(&r.jobs, const gortp_service_job *, RM_JOBS);
  GORT_CHAN_MAKE(&r.results, gortp_service_output, RM_JOBS);
  gort_waitgroup_init(&r.workers);
  gort_errgroup_go(g, seed_producer, &r);
  for (int i = 0; i < 2; i++) gort_waitgroup_go(&r.workers, seed_worker, &r);
  gort_waitgroup closer = GORT_WAITGROUP_INIT;
  gort_waitgroup_go(&closer, seed_close_results, &r);
  *processed = 0;
  gortp_service_output out;
  while (gort_chan_recv(r.results, &out, NULL) == 0)
    if (out.err == 0) (*processed)++;
  int rc = gort_errgroup_wait(g); /* nil: the producer had finished */
  gort_waitgroup_wait(&closer);
  gort_errgroup_free(g);
  gort_chan_release(r.jobs);
  gort_chan_release(r.results);
  gort_context_free(ctx);
  return rc;
}

static void make_jobs(gortp_service_job *jobs, char ids[][8]) {
  for (int i = 0; i < RM_JOBS; i++) {
    snprintf(ids[i], 8, "job-%d", i);
    jobs[i] = (gortp_service_job){ids[i], NULL};
  }
}

static void results_missing_bad(ap_out *o) {
  gortp_service_job jobs[RM_JOBS];
  char ids[RM_JOBS][8];
  make_jobs(jobs, ids);
  int processed = 0;
  int rc = seed_process(jobs, &processed);
  ap_set(o, "missing: %d of %d jobs processed, Process returned %s", processed, RM_JOBS,
         rc == 0 ? "nil" : gort_strerror(rc));
}

static void results_missing_fixed(ap_out *o) {
  gortp_service_job jobs[RM_JOBS];
  char ids[RM_JOBS][8];
  make_jobs(jobs, ids);
  gortp_service s = gortp_service_new(2, RM_JOBS, 300 * GORT_MILLISECOND);
  s.process = slow_process;
  gortp_service_output out[RM_JOBS];
  size_t n = 0;
  int rc = gortp_service_run(&s, gort_context_background(), jobs, RM_JOBS, out, &n);
  int processed = 0;
  for (size_t i = 0; i < n; i++) processed += out[i].err == 0;
  ap_set(o, "clean: %d of %d jobs processed, Process returned %s", processed, RM_JOBS,
         rc == 0 ? "nil" : gort_strerror(rc));
}

const ap_entry ap_results_missing = {
    "results_missing",
    "004 Error Troubleshooting: Concurrent results missing; 004 Pattern 7 (Process)",
    "workers give up on timeout after the producer finished: outputs missing, error nil",
    AP_VERDICT, "missing: # of 10 jobs processed, Process returned nil", results_missing_bad,
    results_missing_fixed};

/* ---- shared_counter_race: seed 001 "Race condition - unsynchronized
 * access", seed 004 troubleshooting "race condition detected" ---- */

static int count; /* var count int */
static gort_atomic_i64 acount = GORT_ATOMIC_I64_INIT(0);

struct racer {
  gort_chan *gate; /* all start together */
};

static void increment(void *arg) {
  gort_chan_recv(((struct racer *)arg)->gate, NULL, NULL);
  count++; /* data race */
}

static void increment_atomic(void *arg) {
  gort_chan_recv(((struct racer *)arg)->gate, NULL, NULL);
  gort_atomic_add(&acount, 1); /* count.Add(1) */
}

static void run_racers(void (*fn)(void *)) {
  struct racer r;
  GORT_CHAN_MAKE(&r.gate, char, 0);
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  for (int i = 0; i < 10; i++) gort_waitgroup_go(&wg, fn, &r);
  gort_chan_close(r.gate);
  gort_waitgroup_wait(&wg);
  gort_chan_release(r.gate);
}

static void shared_counter_race_bad(ap_out *o) {
  run_racers(increment);
  ap_set(o, "race: count=%d after 10 unsynchronised increments (undetected without SAN=thread)",
         count);
}

static void shared_counter_race_fixed(ap_out *o) {
  run_racers(increment_atomic);
  ap_set(o, "clean: count=%lld", (long long)gort_atomic_load(&acount));
}

const ap_entry ap_shared_counter_race = {
    "shared_counter_race", "001 Anti-Patterns: Race condition; 004 Troubleshooting: race condition detected",
    "10 tasks do count++ on a shared int with no synchronisation", AP_RACE,
    "race: count=# after 10 unsynchronised increments (undetected without SAN=thread)",
    shared_counter_race_bad, shared_counter_race_fixed};

/* ---- channel_as_mutex: seed 001 "Channel misuse - using channels when
 * mutex is simpler" ----
 * Not wrong, only roundabout: the verdict says so. */

struct counter {
  gort_chan *sem; /* bad: cap-1 channel as a lock */
  gort_mutex mu;  /* fixed */
  long n;
};

static void add_with_chan(void *arg) {
  struct counter *c = arg;
  for (int i = 0; i < 250; i++) {
    GORT_CHAN_SEND(c->sem, char, 1); /* mu <- struct{}{} */
    c->n++;
    gort_chan_recv(c->sem, NULL, NULL); /* <-mu */
  }
}

static void add_with_mutex(void *arg) {
  struct counter *c = arg;
  for (int i = 0; i < 250; i++) {
    gort_mutex_lock(&c->mu);
    c->n++;
    gort_mutex_unlock(&c->mu);
  }
}

static long run_counter(void (*fn)(void *)) {
  struct counter c = {.mu = GORT_MUTEX_INIT};
  GORT_CHAN_MAKE(&c.sem, char, 1);
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  for (int i = 0; i < 4; i++) gort_waitgroup_go(&wg, fn, &c);
  gort_waitgroup_wait(&wg);
  gort_chan_release(c.sem);
  return c.n;
}

static void channel_as_mutex_bad(ap_out *o) {
  ap_set(o, "style: correct (count=%ld), but a channel used as a mutex",
         run_counter(add_with_chan));
}

static void channel_as_mutex_fixed(ap_out *o) {
  ap_set(o, "clean: count=%ld with a mutex", run_counter(add_with_mutex));
}

const ap_entry ap_channel_as_mutex = {
    "channel_as_mutex", "001 Anti-Patterns: Channel misuse (channel used as a mutex)",
    "a one-slot channel used as a lock where a mutex says what is meant", AP_VERDICT,
    "style: correct (count=1000), but a channel used as a mutex", channel_as_mutex_bad,
    channel_as_mutex_fixed};
