/* ap_results.c - mistakes that give wrong or missing results without any
 * crash: captured loop variables, premature waits, swallowed errors, lost
 * outputs, data races.
 *
 * The race-shaped mistakes (loop_var_capture, wg_add_inside, sleep_sync,
 * shared_counter_race) are real data races, as Go's -race flags the seeds'
 * Go programs: ThreadSanitizer judges them. So the bad programs have no
 * gate or atomic between the racing accesses - either would be a
 * happens-before edge that hides the race - and their fixed twins are
 * race-free. The rest no detector can judge: demonstrations.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "antipattern.h"
#include "gort/errgroup.h"
#include "gort/gort.h"
#include "gortp/service.h"
#include "gortp/ctxchan.h"

/* ---- loop_var_capture: seed 000 "Loop Variable Capture (pre-Go 1.22)",
 * seed 003 "3.", seed 004 "Pitfall 1: Closure Variable Capture" ----
 * C's version: every task gets the address of the one loop variable, which
 * the loop keeps writing while the tasks read it: a data race (and, most
 * of the time, the value after the loop). The fix passes the value. */

struct capture_arg {
  const int *ip; /* bad: &i */
  int value;     /* fixed: i itself */
  int seen;      /* fmt.Println(i); written by this task only */
};

static void print_i(void *arg) {
  struct capture_arg *a = arg;
  a->seen = a->ip ? *a->ip : a->value;
}

static void run_capture(bool by_address) {
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  struct capture_arg args[10];
  int i; /* declared outside the loop: it outlives the loop, as Go's pre-1.22 i does */
  for (i = 0; i < 10; i++) {
    args[i] = (struct capture_arg){by_address ? &i : NULL, i, -1};
    gort_waitgroup_go(&wg, print_i, &args[i]); /* go func() { fmt.Println(i) }() */
  }
  gort_waitgroup_wait(&wg);
}

static void loop_var_capture_bad(ap_out *o) {
  (void)o;
  run_capture(true);
}

static void loop_var_capture_fixed(ap_out *o) {
  (void)o;
  run_capture(false);
}

const ap_entry ap_loop_var_capture = {
    "loop_var_capture",
    "000 Loop Variable Capture; 003 Common Mistakes 3; 004 Pitfall 1: Closure Variable Capture",
    "every task captures the loop variable itself (in C: its address), not its value",
    AP_TSAN, "data race", NULL, loop_var_capture_bad, loop_var_capture_fixed};

/* ---- wg_add_inside: seed 000 "Missing WaitGroup Coordination" (Add inside
 * the goroutine), seed 003 "Goroutine Basics", seed 004 "Pitfall 3" ----
 * "Goroutines may not have reached wg.Add(1) yet, and the main goroutine's
 * wg.Wait() passes immediately": main then reads the results the tasks are
 * still writing, a data race. A new goroutine usually runs only after its
 * creator moves on; a gort task on its own thread may start at once, so
 * each task first waits 20 ms outside gort (nanosleep: no happens-before
 * edge with main), standing for that scheduling delay. Without it a fast
 * machine sometimes finishes every task before Wait, and the bug hides. */

struct late_add {
  gort_waitgroup *wg;
  int results[10];
};

struct add_arg {
  struct late_add *l;
  int i;
};

static int do_work(int i) { return i * i; }

static void add_inside(void *arg) {
  struct add_arg *a = arg;
  struct timespec not_yet_scheduled = {0, 20 * 1000 * 1000};
  nanosleep(&not_yet_scheduled, NULL);
  gort_waitgroup_add(a->l->wg, 1); /* too late: Wait has returned */
  a->l->results[a->i] = do_work(a->i);
  gort_waitgroup_done(a->l->wg);
}

static void add_before(void *arg) {
  struct add_arg *a = arg;
  a->l->results[a->i] = do_work(a->i);
  gort_waitgroup_done(a->l->wg);
}

static int sum_results(const struct late_add *l) {
  int sum = 0;
  for (int i = 0; i < 10; i++) sum += l->results[i];
  return sum;
}

/* The shared results live on the heap, as a Go closure's captured slice
 * does: a compiler may leave reads of a local it believes only this thread
 * touches out of ThreadSanitizer's instrumentation (clang vectorises them). */
static struct late_add *new_results(gort_waitgroup *wg) {
  struct late_add *l = calloc(1, sizeof *l);
  if (!l) abort();
  l->wg = wg;
  return l;
}

static void wg_add_inside_bad(ap_out *o) {
  (void)o;
  gort_waitgroup wg = GORT_WAITGROUP_INIT, all = GORT_WAITGROUP_INIT;
  struct late_add *l = new_results(&wg);
  struct add_arg args[10];
  for (int i = 0; i < 10; i++) {
    args[i] = (struct add_arg){l, i};
    gort_waitgroup_go(&all, add_inside, &args[i]); /* go func() { wg.Add(1); ... }() */
  }
  gort_waitgroup_wait(&wg); /* nobody has called Add yet: returns at once */
  printf("sum of results: %d\n", sum_results(l)); /* reads what the tasks write */
  gort_waitgroup_wait(&all); /* (join them, so that nothing is left behind) */
  free(l);
}

static void wg_add_inside_fixed(ap_out *o) {
  (void)o;
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  struct late_add *l = new_results(&wg);
  struct add_arg args[10];
  for (int i = 0; i < 10; i++) {
    args[i] = (struct add_arg){l, i};
    gort_waitgroup_add(&wg, 1); /* before the go statement */
    gort_go(add_before, &args[i]);
  }
  gort_waitgroup_wait(&wg);
  printf("sum of results: %d\n", sum_results(l));
  free(l);
}

const ap_entry ap_wg_add_inside = {
    "wg_add_inside", "000 Missing WaitGroup Coordination; 003 Goroutine Basics; 004 Pitfall 3",
    "wg.Add(1) inside the goroutine: Wait returns first and the results are read while written",
    AP_TSAN, "data race", NULL, wg_add_inside_bad, wg_add_inside_fixed};

/* ---- sleep_sync: seed 003 "Goroutine Basics" (time.Sleep for
 * synchronization is always wrong) ----
 * main sleeps instead of waiting and reads the fetched data while the
 * fetches, slower than the sleep, still write it: a data race. The fetch is
 * a blocking call outside gort (nanosleep stands for the network). */

struct fetcher {
  int fetched[5];
};

struct fetch_slot {
  struct fetcher *f;
  int id;
};

static void fetch_data(void *arg) {
  struct fetch_slot *s = arg;
  struct timespec net = {0, 200 * 1000 * 1000}; /* the network: slower than the sleep */
  nanosleep(&net, NULL);
  s->f->fetched[s->id] = 1; /* fmt.Printf("fetched data for id=%d") */
}

static int count_fetched(const struct fetcher *f) {
  int n = 0;
  for (int i = 0; i < 5; i++) n += f->fetched[i];
  return n;
}

static void sleep_sync_bad(ap_out *o) {
  (void)o;
  struct fetcher *f = calloc(1, sizeof *f); /* on the heap: see new_results */
  if (!f) abort();
  struct fetch_slot slots[5];
  gort_waitgroup join = GORT_WAITGROUP_INIT;
  for (int i = 0; i < 5; i++) {
    slots[i] = (struct fetch_slot){f, i};
    gort_waitgroup_go(&join, fetch_data, &slots[i]);
  }
  gort_sleep(20 * GORT_MILLISECOND); /* time.Sleep(...) and hope */
  printf("%d of 5 fetched when main stopped sleeping\n", count_fetched(f));
  gort_waitgroup_wait(&join); /* (join them, so that nothing is left behind) */
  free(f);
}

static void sleep_sync_fixed(ap_out *o) {
  (void)o;
  struct fetcher *f = calloc(1, sizeof *f);
  if (!f) abort();
  struct fetch_slot slots[5];
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  for (int i = 0; i < 5; i++) {
    slots[i] = (struct fetch_slot){f, i};
    gort_waitgroup_go(&wg, fetch_data, &slots[i]);
  }
  gort_waitgroup_wait(&wg); /* however slow the network is, wg.Wait() waits for it */
  printf("%d of 5 fetched after wg.Wait()\n", count_fetched(f));
  free(f);
}

const ap_entry ap_sleep_sync = {
    "sleep_sync", "003 Goroutine Basics (time.Sleep for synchronization is always wrong)",
    "sleeping instead of waiting: main reads the results while the tasks still write them",
    AP_TSAN, "data race", NULL, sleep_sync_bad, sleep_sync_fixed};

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
  ap_show(o, "swallowed: %d of 3 fetches failed, the caller saw success", atomic_load(&failed));
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
  ap_show(o, "clean: the caller got the error (%s)", gort_strerror(rc));
}

const ap_entry ap_swallowed_errors = {
    "swallowed_errors", "004 Challenge 3: Errors Silently Swallowed; 004 Pattern 4 (fetchWithLimit)",
    "errors are only logged inside the tasks; the caller assumes success", AP_DEMO,
    "swallowed: 2 of 3 fetches failed, the caller saw success", NULL, swallowed_errors_bad,
    swallowed_errors_fixed};

/* ---- results_missing: seed 004 troubleshooting "Concurrent results
 * missing", as the seed's own Pattern 7 Process shows it ----
 * When the timeout hits after the producer has queued every job, g.Wait()
 * returns nil: the workers gave up, outputs are missing, nobody is told. */

#define RM_JOBS 10

static int slow_process(gort_context *ctx, const gortp_service_job *job, char *out,
                        size_t len, void *arg) {
  (void)arg;
  int rc = gortp_ctxchan_sleep(ctx, 200 * GORT_MILLISECOND);
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
  ap_show(o, "missing: %d of %d jobs processed, Process returned %s", processed, RM_JOBS,
         rc == 0 ? "nil" : gort_strerror(rc));
}

static void results_missing_fixed(ap_out *o) {
  gortp_service_job jobs[RM_JOBS];
  char ids[RM_JOBS][8];
  make_jobs(jobs, ids);
  gortp_service s;
  gortp_service_init(&s, 2, RM_JOBS, 300 * GORT_MILLISECOND); /* valid: cannot fail */
  s.process = slow_process;
  gortp_service_output out[RM_JOBS];
  size_t n = 0;
  int rc = gortp_service_run(&s, gort_context_background(), jobs, RM_JOBS, out, &n);
  int processed = 0;
  for (size_t i = 0; i < n; i++) processed += out[i].err == 0;
  ap_show(o, "clean: %d of %d jobs processed, Process returned %s", processed, RM_JOBS,
         rc == 0 ? "nil" : gort_strerror(rc));
}

const ap_entry ap_results_missing = {
    "results_missing",
    "004 Error Troubleshooting: Concurrent results missing; 004 Pattern 7 (Process)",
    "workers give up on timeout after the producer finished: outputs missing, error nil",
    AP_DEMO, "missing: # of 10 jobs processed, Process returned nil", NULL, results_missing_bad,
    results_missing_fixed};

/* ---- shared_counter_race: seed 001 "Race condition - unsynchronized
 * access", seed 004 troubleshooting "race condition detected" ---- */

static int count; /* var count int */
static gort_atomic_i64 acount = GORT_ATOMIC_I64_INIT(0);

/* The gate lets the tasks start together. Closing it orders main's past
 * before every task, not one task's increment before another's: the race
 * stays for ThreadSanitizer to see. */
struct racer {
  gort_chan *gate;
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
  (void)o;
  run_racers(increment);
  printf("count=%d after 10 unsynchronised increments\n", count);
}

static void shared_counter_race_fixed(ap_out *o) {
  (void)o;
  run_racers(increment_atomic);
  printf("count=%lld\n", (long long)gort_atomic_load(&acount));
}

const ap_entry ap_shared_counter_race = {
    "shared_counter_race", "001 Anti-Patterns: Race condition; 004 Troubleshooting: race condition detected",
    "10 tasks do count++ on a shared int with no synchronisation", AP_TSAN, "data race", NULL,
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
  ap_show(o, "style: correct (count=%ld), but a channel used as a mutex",
         run_counter(add_with_chan));
}

static void channel_as_mutex_fixed(ap_out *o) {
  ap_show(o, "clean: count=%ld with a mutex", run_counter(add_with_mutex));
}

const ap_entry ap_channel_as_mutex = {
    "channel_as_mutex", "001 Anti-Patterns: Channel misuse (channel used as a mutex)",
    "a one-slot channel used as a lock where a mutex says what is meant", AP_DEMO,
    "style: correct (count=1000), but a channel used as a mutex", NULL, channel_as_mutex_bad,
    channel_as_mutex_fixed};
