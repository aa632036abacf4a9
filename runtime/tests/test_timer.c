/* test_timer.c - sleep, time.After, Timer (Go 1.23 Stop/Reset), AfterFunc,
 * Ticker, and the timer thread's heap.
 *
 * "Nothing arrives" is never concluded from a bare sleep: the test selects
 * on the channel under test and on a later timer. The timer thread fires in
 * `when` order, so once the later timer fires, an earlier-due value would
 * already have been sent.
 *
 * Timing bounds are one-sided where it matters (never earlier than asked) and
 * generous on the other side (the machine is shared and slow under TSan).
 */
#include "support/gort_test.h"

#include <dirent.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "gort/gort.h"
#include "gort/introspect.h"

#define MS GORT_MILLISECOND
#define LATE (3 * GORT_SECOND) /* generous upper bound for "on time" */
#define WAIT_MS 10000

/* ---- helpers ---- */

static int64_t recv_time(gort_chan *c) {
  int64_t v = 0;
  bool ok = false;
  assert_int_equal(gort_chan_recv(c, &v, &ok), 0);
  assert_true(ok);
  return v;
}

/* Select on c and on a fresh timer firing after d: returns true if c
 * delivered first (its value in *v), false if the barrier fired first. */
static bool arrives_before(gort_chan *c, gort_duration d, int64_t *v) {
  gort_chan *barrier = NULL;
  assert_int_equal(gort_after(d, &barrier), 0);
  int64_t got = 0, bv = 0;
  gort_select_case cases[2] = {gort_case_recv(c, &got), gort_case_recv(barrier, &bv)};
  int idx = gort_select(cases, 2);
  assert_true(idx == 0 || idx == 1);
  gort_chan_release(barrier);
  if (idx == 0 && v) *v = got;
  return idx == 0;
}

static bool chan_has_value(void *c) { return gort_chan_len(c) > 0; }

static long os_threads(void) {
  DIR *d = opendir("/proc/self/task");
  assert_non_null(d);
  long n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}


static uint64_t rand_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(uint64_t n) {
  rand_state ^= rand_state << 13;
  rand_state ^= rand_state >> 7;
  rand_state ^= rand_state << 17;
  return rand_state % n;
}

/* ---- gort_now, sleep ---- */

static void timer_now_monotonic(void **state) {
  (void)state;
  int64_t a = gort_now();
  for (int i = 0; i < 1000; i++) {
    int64_t b = gort_now();
    assert_true(b >= a);
    a = b;
  }
  assert_true(a > 0);
}

static void sleep_lower_bound(void **state) {
  (void)state;
  int64_t t0 = gort_now();
  assert_int_equal(gort_sleep(30 * MS), 0);
  int64_t el = gort_now() - t0;
  assert_true(el >= 30 * MS);
  assert_true(el < 30 * MS + LATE);
  assert_true(gort_test_timers_settle());
}

static void sleep_nonpositive_returns_at_once(void **state) {
  (void)state;
  int64_t t0 = gort_now();
  assert_int_equal(gort_sleep(0), 0);
  assert_int_equal(gort_sleep(-5 * GORT_SECOND), 0);
  assert_true(gort_now() - t0 < LATE);
  assert_true(gort_test_timers_settle());
}

typedef struct {
  gort_duration d;
  int64_t elapsed;
  gort_waitgroup *wg;
} sleeper;

static void sleeper_task(void *p) {
  sleeper *s = p;
  int64_t t0 = gort_now();
  gort_sleep(s->d);
  s->elapsed = gort_now() - t0;
  gort_waitgroup_done(s->wg);
}

static void sleep_many_tasks(void **state) {
  (void)state;
  enum { N = 16 };
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  sleeper s[N];
  for (int i = 0; i < N; i++) {
    s[i] = (sleeper){.d = (gort_duration)(5 + 3 * i) * MS, .wg = &wg};
    gort_waitgroup_add(&wg, 1);
    assert_int_equal(gort_go(sleeper_task, &s[i]), 0);
  }
  gort_waitgroup_wait(&wg);
  for (int i = 0; i < N; i++) {
    assert_true(s[i].elapsed >= s[i].d);
    assert_true(s[i].elapsed < s[i].d + LATE);
  }
}

static void long_sleeper(void *p) {
  gort_sleep(200 * MS);
  gort_waitgroup_done(p);
}

static void sleep_parks_with_sleep_reason(void **state) {
  (void)state;
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  gort_waitgroup_add(&wg, 1);
  assert_int_equal(gort_go(long_sleeper, &wg), 0);
  assert_true(gort_test_wait_parked(long_sleeper, GORT_WAIT_SLEEP, 1, WAIT_MS));
  assert_true(gort_test_timers_pending() >= 1);
  gort_waitgroup_wait(&wg);
}

/* ---- after ---- */

static void after_fires_once(void **state) {
  (void)state;
  int64_t t0 = gort_now();
  gort_chan *c = NULL;
  assert_int_equal(gort_after(20 * MS, &c), 0);
  assert_non_null(c);
  assert_int_equal(gort_chan_cap(c), 1);
  assert_int_equal(gort_chan_elem_size(c), sizeof(int64_t));
  int64_t v = recv_time(c);
  int64_t t1 = gort_now();
  assert_true(v >= t0 + 20 * MS);
  assert_true(v <= t1);
  assert_true(t1 - t0 < 20 * MS + LATE);
  assert_false(arrives_before(c, 40 * MS, NULL)); /* once only */
  gort_chan_release(c);
}

static void after_nonpositive_fires_at_once(void **state) {
  (void)state;
  gort_chan *c = NULL;
  int64_t t0 = gort_now();
  assert_int_equal(gort_after(0, &c), 0);
  int64_t v = recv_time(c);
  assert_true(v >= t0);
  gort_chan_release(c);
  assert_int_equal(gort_after(-GORT_SECOND, &c), 0);
  recv_time(c);
  gort_chan_release(c);
}

static void after_bad_input(void **state) {
  (void)state;
  assert_int_equal(gort_after(MS, NULL), GORT_EINVAL);
}

/* The caller drops its reference before the fire: the timer's own reference
 * keeps the channel alive until then, and the fire frees everything. */
static void after_caller_releases_early(void **state) {
  (void)state;
  uint64_t base = gort_test_quiet_allocs();
  for (int i = 0; i < 100; i++) {
    gort_chan *c = NULL;
    assert_int_equal(gort_after((gort_duration)(i % 10) * MS, &c), 0);
    gort_chan_release(c);
  }
  assert_true(gort_test_timers_settle());
  assert_true(gort_test_live_allocs() <= base);
}

/* ---- Timer ---- */

static void timer_new_fires(void **state) {
  (void)state;
  gort_timer *t = NULL;
  int64_t t0 = gort_now();
  assert_int_equal(gort_timer_new(&t, 15 * MS), 0);
  gort_chan *c = gort_timer_chan(t);
  assert_non_null(c);
  int64_t v = recv_time(c);
  assert_true(v >= t0 + 15 * MS);
  assert_false(gort_timer_stop(t)); /* fired and received */
  gort_timer_free(t);
  assert_int_equal(gort_timer_new(NULL, MS), GORT_EINVAL);
  assert_null(gort_timer_chan(NULL));
  gort_timer_free(NULL);
}

static void timer_stop_before_fire(void **state) {
  (void)state;
  gort_timer *t = NULL;
  assert_int_equal(gort_timer_new(&t, 30 * MS), 0);
  assert_true(gort_timer_stop(t));
  assert_false(arrives_before(gort_timer_chan(t), 90 * MS, NULL));
  assert_false(gort_timer_stop(t)); /* already stopped */
  assert_true(gort_test_timers_settle());
  gort_timer_free(t);
}

/* Go 1.23: a value sent but not received is discarded by Stop, which then
 * reports the timer as stopped (the channel is unbuffered in Go's model). */
static void timer_stop_discards_unreceived_value(void **state) {
  (void)state;
  gort_timer *t = NULL;
  assert_int_equal(gort_timer_new(&t, MS), 0);
  gort_chan *c = gort_timer_chan(t);
  assert_true(gort_test_eventually(chan_has_value, c, WAIT_MS));
  assert_true(gort_timer_stop(t));
  assert_int_equal(gort_chan_len(c), 0);
  assert_int_equal(gort_chan_try_recv(c, NULL, NULL), GORT_EAGAIN);
  assert_false(gort_timer_stop(t));
  gort_timer_free(t);
}

static void timer_reset_active(void **state) {
  (void)state;
  gort_timer *t = NULL;
  assert_int_equal(gort_timer_new(&t, 3600 * GORT_SECOND), 0);
  int64_t t0 = gort_now();
  assert_true(gort_timer_reset(t, 20 * MS));
  int64_t v = recv_time(gort_timer_chan(t));
  assert_true(v >= t0 + 20 * MS);
  assert_true(gort_now() - t0 < 20 * MS + LATE);
  gort_timer_free(t);
}

/* Reset after an unreceived fire: no stale value, the new one comes later. */
static void timer_reset_discards_stale_value(void **state) {
  (void)state;
  gort_timer *t = NULL;
  assert_int_equal(gort_timer_new(&t, MS), 0);
  gort_chan *c = gort_timer_chan(t);
  assert_true(gort_test_eventually(chan_has_value, c, WAIT_MS));
  int64_t t0 = gort_now();
  assert_true(gort_timer_reset(t, 25 * MS));
  int64_t v = recv_time(c);
  assert_true(v >= t0 + 25 * MS);
  gort_timer_free(t);
}

static void timer_reset_after_receive(void **state) {
  (void)state;
  gort_timer *t = NULL;
  assert_int_equal(gort_timer_new(&t, MS), 0);
  recv_time(gort_timer_chan(t));
  int64_t t0 = gort_now();
  assert_false(gort_timer_reset(t, 10 * MS));
  assert_true(recv_time(gort_timer_chan(t)) >= t0 + 10 * MS);
  /* A stopped timer can be reset too. */
  assert_false(gort_timer_stop(t));
  assert_false(gort_timer_reset(t, 5 * MS));
  recv_time(gort_timer_chan(t));
  gort_timer_free(t);
}

static void timer_free_pending(void **state) {
  (void)state;
  assert_true(gort_test_timers_settle());
  uint64_t base = gort_test_quiet_allocs();
  gort_timer *t = NULL;
  assert_int_equal(gort_timer_new(&t, 3600 * GORT_SECOND), 0);
  assert_int_equal(gort_test_timers_pending(), 1);
  gort_timer_free(t);
  assert_int_equal(gort_test_timers_pending(), 0); /* synchronously */
  assert_true(gort_test_live_allocs() <= base);
}

/* Stop racing the fire: once Stop returns, no value is in the channel or on
 * its way. Nobody receives here, so Stop always returns true: either the
 * timer was pending or its value was still in the channel (Go 1.23). */
static void timer_stop_race_no_stale_value(void **state) {
  (void)state;
  enum { N = 300 };
  for (int i = 0; i < N; i++) {
    gort_timer *t = NULL;
    assert_int_equal(gort_timer_new(&t, (gort_duration)rnd(300) * GORT_MICROSECOND), 0);
    if (rnd(2)) gort_sleep((gort_duration)rnd(300) * GORT_MICROSECOND);
    assert_true(gort_timer_stop(t));
    assert_int_equal(gort_chan_len(gort_timer_chan(t)), 0);
    assert_int_equal(gort_chan_try_recv(gort_timer_chan(t), NULL, NULL), GORT_EAGAIN);
    gort_timer_free(t);
  }
  assert_true(gort_test_timers_settle());
}

/* ---- AfterFunc ---- */

typedef struct {
  _Atomic int calls;
  _Atomic uint64_t task_id;
  gort_chan *ran; /* cap large enough never to block */
} func_probe;

static void probe_fn(void *p) {
  func_probe *f = p;
  atomic_fetch_add(&f->calls, 1);
  atomic_store(&f->task_id, gort_task_id());
  int64_t now = gort_now();
  gort_chan_send(f->ran, &now);
}

static void probe_init(func_probe *f) {
  atomic_init(&f->calls, 0);
  atomic_init(&f->task_id, 0);
  assert_int_equal(gort_chan_make(&f->ran, sizeof(int64_t), 16), 0);
}

static bool one_task_left(void *unused) {
  (void)unused;
  return gort_num_tasks() == 1;
}

static void timer_after_func_runs_in_new_task(void **state) {
  (void)state;
  func_probe f;
  probe_init(&f);
  gort_timer *t = NULL;
  int64_t t0 = gort_now();
  assert_int_equal(gort_timer_after_func(&t, 20 * MS, probe_fn, &f), 0);
  assert_null(gort_timer_chan(t));
  int64_t v = recv_time(f.ran);
  assert_true(v >= t0 + 20 * MS);
  uint64_t id = atomic_load(&f.task_id);
  assert_true(id != 0);
  assert_true(id != gort_task_id());
  assert_false(arrives_before(f.ran, 40 * MS, NULL)); /* exactly once */
  assert_int_equal(atomic_load(&f.calls), 1);
  /* The spawn did not make the timer thread a task: once fn's task has
   * exited, only the caller is left, while the timer thread still runs. */
  gort_timer *keep = NULL;
  assert_int_equal(gort_timer_new(&keep, 3600 * GORT_SECOND), 0);
  assert_true(gort_test_eventually(one_task_left, NULL, WAIT_MS));
  assert_int_equal(gort_runtime_threads(NULL, 0) >= 1, 1);
  gort_timer_free(keep);
  assert_false(gort_timer_stop(t));
  gort_timer_free(t);
  gort_chan_release(f.ran);
}

/* Stop before the fire returns true and fn never runs. Only the clock says
 * "before the fire": when Stop has returned less than d after arming, the
 * timer cannot have fired, so Stop must say true. A caller descheduled for
 * longer than d (a loaded machine, TSan) may legitimately get false: then
 * fn has started and runs exactly once, and we try again with a longer d. */
static void timer_after_func_stop_and_reset(void **state) {
  (void)state;
  func_probe f;
  probe_init(&f);
  gort_timer *t = NULL;
  bool stopped = false;
  gort_duration d = 30 * MS;
  for (int attempt = 0;; attempt++, d *= 2) {
    int64_t t0 = gort_now();
    assert_int_equal(gort_timer_after_func(&t, d, probe_fn, &f), 0);
    stopped = gort_timer_stop(t);
    if (gort_now() - t0 < d) assert_true(stopped);
    if (stopped || attempt == 8) break;
    recv_time(f.ran); /* late: fn started, and runs exactly once */
    assert_false(arrives_before(f.ran, 40 * MS, NULL));
    assert_int_equal(atomic_load(&f.calls), 1);
    atomic_store(&f.calls, 0);
    gort_timer_free(t);
  }
  assert_true(stopped);
  /* The barrier fires well after the stopped timer's deadline. */
  assert_false(arrives_before(f.ran, d + 50 * MS, NULL));
  assert_int_equal(atomic_load(&f.calls), 0);
  /* Reset re-arms it: it runs once more for each reset. */
  assert_false(gort_timer_reset(t, 5 * MS));
  recv_time(f.ran);
  assert_false(gort_timer_reset(t, 5 * MS));
  recv_time(f.ran);
  assert_int_equal(atomic_load(&f.calls), 2);
  gort_timer_free(t);
  gort_chan_release(f.ran);
  assert_int_equal(gort_timer_after_func(&t, MS, NULL, NULL), GORT_EINVAL);
  assert_int_equal(gort_timer_after_func(NULL, MS, probe_fn, &f), GORT_EINVAL);
}

static _Atomic int race_calls;
static void count_call(void *wg) {
  atomic_fetch_add(&race_calls, 1);
  gort_waitgroup_done(wg);
}

/* Stop racing the fire: true means fn will never run, false means it runs
 * exactly once. */
static void timer_after_func_stop_race(void **state) {
  (void)state;
  enum { N = 200 };
  atomic_store(&race_calls, 0);
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  int fired = 0;
  for (int i = 0; i < N; i++) {
    gort_timer *t = NULL;
    gort_waitgroup_add(&wg, 1);
    assert_int_equal(
        gort_timer_after_func(&t, (gort_duration)rnd(300) * GORT_MICROSECOND, count_call, &wg), 0);
    if (rnd(2)) gort_sleep((gort_duration)rnd(300) * GORT_MICROSECOND);
    if (gort_timer_stop(t))
      gort_waitgroup_done(&wg);
    else
      fired++;
    gort_timer_free(t);
  }
  gort_waitgroup_wait(&wg);
  assert_int_equal(atomic_load(&race_calls), fired);
}

/* ---- Ticker ---- */

static void ticker_delivers_ticks(void **state) {
  (void)state;
  enum { N = 6 };
  const gort_duration period = 15 * MS;
  gort_ticker *tk = NULL;
  int64_t t0 = gort_now();
  assert_int_equal(gort_ticker_new(&tk, period), 0);
  gort_chan *c = gort_ticker_chan(tk);
  assert_non_null(c);
  assert_int_equal(gort_chan_cap(c), 1);
  int64_t prev = t0;
  for (int i = 1; i <= N; i++) {
    int64_t v = recv_time(c);
    assert_true(v >= t0 + i * period); /* never early: ticks are t0 + k*period */
    assert_true(v > prev);
    prev = v;
  }
  assert_true(gort_now() - t0 < N * period + LATE);
  gort_ticker_stop(tk);
  gort_ticker_free(tk);
  assert_true(gort_test_timers_settle());
}

/* A slow receiver gets at most one buffered tick; the rest are dropped, and
 * the ticker does not burst to catch up. */
static void ticker_drops_ticks_for_slow_receiver(void **state) {
  (void)state;
  const gort_duration period = 5 * MS;
  gort_ticker *tk = NULL;
  int64_t t0 = gort_now(); /* before the ticker: its ticks can only be later */
  assert_int_equal(gort_ticker_new(&tk, period), 0);
  gort_chan *c = gort_ticker_chan(tk);
  gort_sleep(100 * MS); /* ~20 periods without receiving */
  assert_int_equal(gort_chan_len(c), 1);
  int64_t v1 = recv_time(c);
  assert_true(v1 >= t0);
  assert_int_equal(gort_chan_try_recv(c, NULL, NULL), GORT_EAGAIN);
  int64_t v2 = recv_time(c);
  assert_true(v2 > v1);
  gort_ticker_free(tk);
}

static void ticker_stop(void **state) {
  (void)state;
  const gort_duration period = 10 * MS;
  gort_ticker *tk = NULL;
  assert_int_equal(gort_ticker_new(&tk, period), 0);
  gort_chan *c = gort_ticker_chan(tk);
  recv_time(c);
  assert_true(gort_test_eventually(chan_has_value, c, WAIT_MS));
  gort_ticker_stop(tk); /* also discards the unreceived tick */
  assert_int_equal(gort_chan_len(c), 0);
  assert_false(arrives_before(c, 5 * period, NULL));
  assert_true(gort_test_timers_settle());
  /* Reset restarts a stopped ticker with a new period. */
  int64_t t0 = gort_now();
  assert_int_equal(gort_ticker_reset(tk, 2 * period), 0);
  assert_true(recv_time(c) >= t0 + 2 * period);
  assert_true(recv_time(c) >= t0 + 4 * period);
  gort_ticker_free(tk);
  gort_ticker_free(NULL);
  assert_null(gort_ticker_chan(NULL));
  assert_true(gort_test_timers_settle());
}

static void new_ticker_zero(void *unused) {
  (void)unused;
  gort_ticker *tk = NULL;
  gort_ticker_new(&tk, 0);
}

static void ticker_new_nonpositive_is_misuse(void **state) {
  (void)state;
  gort_runtime_quiesce(); /* fork with no helper thread holding a lock */
  assert_true(gort_test_child_aborts(new_ticker_zero, NULL, "non-positive interval for NewTicker"));

  int *calls = gort_test_misuse_return_mode();
  gort_ticker *tk = (gort_ticker *)&tk;
  gort_ticker *const sentinel = tk;
  assert_int_equal(gort_ticker_new(&tk, 0), GORT_ENEGDELAY);
  assert_int_equal(gort_ticker_new(&tk, -GORT_SECOND), GORT_ENEGDELAY);
  assert_ptr_equal(tk, sentinel);
  assert_int_equal(*calls, 2);
  assert_int_equal(gort_test_misuse_last(), GORT_ENEGDELAY);
  assert_int_equal(gort_ticker_new(&tk, MS), 0);
  assert_int_equal(gort_ticker_reset(tk, 0), GORT_ENEGDELAY);
  assert_int_equal(*calls, 3);
  gort_ticker_free(tk);
  gort_test_misuse_abort_mode();
  assert_int_equal(gort_ticker_new(NULL, MS), GORT_EINVAL);
  assert_true(gort_test_timers_settle());
}

/* ---- the heap ---- */

/* 10,000 pending timers cost no thread: at most the one timer thread. */
static void timer_many_pending_no_extra_threads(void **state) {
  (void)state;
  enum { N = 10000 };
  gort_runtime_quiesce();
  gort_counters c0;
  gort_get_counters(&c0);
  long threads0 = os_threads();
  gort_chan **chans = calloc(N, sizeof *chans);
  assert_non_null(chans);
  int64_t t0 = gort_now();
  for (int i = 0; i < N; i++)
    assert_int_equal(gort_after(300 * MS + (gort_duration)rnd(100) * MS, &chans[i]), 0);
  long threads1 = os_threads();
  gort_counters c1;
  gort_get_counters(&c1);
  assert_true(threads1 <= threads0 + 1);
  assert_int_equal(c1.threads_created, c0.threads_created);
  pid_t helpers[8];
  size_t nh = gort_runtime_threads(helpers, 8);
  assert_true(nh >= 1); /* the timer thread */
  for (int i = 0; i < N; i++) {
    assert_true(recv_time(chans[i]) >= t0 + 300 * MS);
    gort_chan_release(chans[i]);
  }
  free(chans);
  assert_true(gort_test_timers_settle());
  /* With the heap empty, quiesce stops the timer thread. */
  gort_runtime_quiesce();
  assert_true(os_threads() <= threads0);
}

/* Random durations fire in `when` order: fire times (read by the timer
 * thread at each fire) are monotone in deadline order. */
static void timer_heap_fires_in_order(void **state) {
  (void)state;
  enum { N = 300 };
  gort_timer *t[N];
  int64_t lo[N], hi[N], fired[N];
  for (int i = 0; i < N; i++) {
    gort_duration d = (gort_duration)rnd(80000) * GORT_MICROSECOND / 1000 + (gort_duration)rnd(80) * MS;
    lo[i] = gort_now() + d;
    assert_int_equal(gort_timer_new(&t[i], d), 0);
    hi[i] = gort_now() + d;
  }
  for (int i = 0; i < N; i++) {
    fired[i] = recv_time(gort_timer_chan(t[i]));
    assert_true(fired[i] >= lo[i]);
  }
  int checked = 0;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++)
      if (hi[i] < lo[j]) {
        assert_true(fired[i] <= fired[j]);
        checked++;
      }
  assert_true(checked > N); /* the check was not vacuous */
  for (int i = 0; i < N; i++) gort_timer_free(t[i]);
}

/* Stop and reset in random order against a busy heap. */
static void timer_heap_stop_reset_mix(void **state) {
  (void)state;
  enum { N = 500 };
  gort_timer *t[N];
  bool live[N];
  for (int i = 0; i < N; i++) {
    assert_int_equal(gort_timer_new(&t[i], (gort_duration)(1 + rnd(50)) * MS), 0);
    live[i] = true;
  }
  for (int k = 0; k < 2 * N; k++) {
    int i = (int)rnd(N);
    if (rnd(2)) {
      gort_timer_stop(t[i]);
      live[i] = false;
    } else {
      gort_timer_reset(t[i], (gort_duration)(1 + rnd(50)) * MS);
      live[i] = true;
    }
  }
  int n_live = 0;
  for (int i = 0; i < N; i++) n_live += live[i];
  for (int i = 0; i < N; i++)
    if (live[i]) recv_time(gort_timer_chan(t[i]));
  for (int i = 0; i < N; i++) {
    if (!live[i]) assert_int_equal(gort_chan_len(gort_timer_chan(t[i])), 0);
    gort_timer_free(t[i]);
  }
  assert_true(n_live > 0);
  assert_true(gort_test_timers_settle());
}

/* The timer thread stops on quiesce with an empty heap and restarts on
 * demand; with a timer pending it stays. */
static void timer_thread_quiesce_and_restart(void **state) {
  (void)state;
  gort_runtime_quiesce();
  long threads0 = os_threads();
  gort_timer *t = NULL;
  assert_int_equal(gort_timer_new(&t, 3600 * GORT_SECOND), 0);
  assert_int_equal(os_threads(), threads0 + 1);
  gort_runtime_quiesce(); /* pending: the timer thread stays */
  assert_int_equal(os_threads(), threads0 + 1);
  assert_true(gort_timer_reset(t, MS));
  recv_time(gort_timer_chan(t));
  gort_timer_free(t);
  gort_runtime_quiesce();
  assert_int_equal(os_threads(), threads0);
  assert_int_equal(gort_runtime_threads(NULL, 0), 0);
  assert_int_equal(gort_sleep(MS), 0); /* restarts */
  assert_int_equal(gort_runtime_threads(NULL, 0), 1);
}

/* gort_timer_snapshot names every pending timer's kind and the function that
 * created it; a stopped timer is gone from it. */
static void timer_snapshot_kinds_and_sites(void **state) {
  (void)state;
  assert_true(gort_test_timers_settle());
  assert_int_equal(gort_timer_snapshot(NULL, 0), 0);
  gort_chan *after;
  gort_timer *t;
  gort_ticker *tk;
  gort_context *ctx;
  /* time.After cannot be stopped: 2 s, received at the end. */
  assert_int_equal(gort_after(2 * GORT_SECOND, &after), 0);
  assert_int_equal(gort_timer_new(&t, 3600 * GORT_SECOND), 0);
  assert_int_equal(gort_ticker_new(&tk, 3600 * GORT_SECOND), 0);
  assert_int_equal(gort_context_with_timeout(gort_context_background(), 3600 * GORT_SECOND, &ctx), 0);
  gort_timer_info info[8];
  assert_int_equal(gort_timer_snapshot(info, 8), 4);
  int seen[GORT_TIMER__COUNT] = {0};
  for (int i = 0; i < 4; i++) {
    seen[info[i].kind]++;
    assert_true(info[i].id > 0);
    assert_true(info[i].when > info[i].created_at);
    /* The site is a return address inside this function. */
    char *site = info[i].site, *fn = (char *)(uintptr_t)timer_snapshot_kinds_and_sites;
    assert_true(site > fn && site < fn + 4096);
    assert_true(info[i].period == (info[i].kind == GORT_TIMER_TICKER ? 3600 * GORT_SECOND : 0));
  }
  assert_int_equal(seen[GORT_TIMER_AFTER] + seen[GORT_TIMER_TIMER] + seen[GORT_TIMER_TICKER] +
                       seen[GORT_TIMER_CONTEXT], 4);
  assert_int_equal(seen[GORT_TIMER_AFTER] * seen[GORT_TIMER_TIMER] * seen[GORT_TIMER_TICKER] *
                       seen[GORT_TIMER_CONTEXT], 1);
  assert_string_equal(gort_timer_kind_string(GORT_TIMER_AFTER), "time.After");
  assert_string_equal(gort_timer_kind_string(GORT_TIMER_CONTEXT), "context deadline");
  assert_string_equal(gort_timer_kind_string(GORT_TIMER__COUNT), "unknown");
  assert_int_equal(gort_timer_snapshot(info, 1), 4); /* short buffer: the count */
  gort_timer_free(t);
  gort_ticker_free(tk);
  gort_context_free(ctx);
  assert_int_equal(gort_timer_snapshot(info, 8), 1);
  assert_int_equal(info[0].kind, GORT_TIMER_AFTER);
  recv_time(after);
  gort_chan_release(after);
  assert_true(gort_test_timers_settle());
  assert_int_equal(gort_timer_snapshot(info, 8), 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(timer_now_monotonic),
    cmocka_unit_test(timer_snapshot_kinds_and_sites),
    cmocka_unit_test(sleep_lower_bound),
    cmocka_unit_test(sleep_nonpositive_returns_at_once),
    cmocka_unit_test(sleep_many_tasks),
    cmocka_unit_test(sleep_parks_with_sleep_reason),
    cmocka_unit_test(after_fires_once),
    cmocka_unit_test(after_nonpositive_fires_at_once),
    cmocka_unit_test(after_bad_input),
    cmocka_unit_test(after_caller_releases_early),
    cmocka_unit_test(timer_new_fires),
    cmocka_unit_test(timer_stop_before_fire),
    cmocka_unit_test(timer_stop_discards_unreceived_value),
    cmocka_unit_test(timer_reset_active),
    cmocka_unit_test(timer_reset_discards_stale_value),
    cmocka_unit_test(timer_reset_after_receive),
    cmocka_unit_test(timer_free_pending),
    cmocka_unit_test(timer_stop_race_no_stale_value),
    cmocka_unit_test(timer_after_func_runs_in_new_task),
    cmocka_unit_test(timer_after_func_stop_and_reset),
    cmocka_unit_test(timer_after_func_stop_race),
    cmocka_unit_test(ticker_delivers_ticks),
    cmocka_unit_test(ticker_drops_ticks_for_slow_receiver),
    cmocka_unit_test(ticker_stop),
    cmocka_unit_test(ticker_new_nonpositive_is_misuse),
    cmocka_unit_test(timer_many_pending_no_extra_threads),
    cmocka_unit_test(timer_heap_fires_in_order),
    cmocka_unit_test(timer_heap_stop_reset_mix),
    cmocka_unit_test(timer_thread_quiesce_and_restart),
};

GORT_TEST_MAIN(tests)
