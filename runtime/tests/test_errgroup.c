/* test_errgroup.c - gort_errgroup: golang.org/x/sync/errgroup.
 *
 * Ports errgroup_test.go (TestZeroGroup, TestWithContext, TestTryGo,
 * TestGoLimit, ExampleGroup_parallel) and adds cancellation, limit misuse,
 * spawn failure and allocation failure. Tasks never call cmocka asserts.
 */
#include "support/gort_test.h"

#include <limits.h>

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "gort/gort.h"
#include "gort/introspect.h"

enum { ERR1 = -1001, ERR2 = -1002, EDOOM = -1003 };

static gort_context *bg(void) { return gort_context_background(); }

static int return_code(gort_context *ctx, void *arg) {
  (void)ctx;
  return (int)(intptr_t)arg;
}

static bool ctx_is_done(gort_context *ctx) {
  gort_chan *done = gort_context_done(ctx);
  return done != NULL && gort_chan_try_recv(done, NULL, NULL) == GORT_ECLOSED;
}

/* ---- TestZeroGroup ---- */

static void errgroup_zero_group(void **state) {
  (void)state;
  static const int cases[][4] = {
      {0},                /* no errors: length 0 */
      {1, 0},             /* {nil} */
      {1, ERR1},          /* {err1} */
      {2, ERR1, 0},       /* {err1, nil} */
      {3, ERR1, 0, ERR2}, /* {err1, nil, err2} */
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    gort_errgroup *g;
    assert_int_equal(gort_errgroup_new(&g), 0);
    assert_ptr_equal(gort_errgroup_context(g), bg());
    int first = 0;
    for (int i = 0; i < cases[c][0]; i++) {
      int err = cases[c][1 + i];
      assert_int_equal(gort_errgroup_go(g, return_code, (void *)(intptr_t)err), 0);
      if (first == 0) first = err;
      assert_int_equal(gort_errgroup_wait(g), first);
    }
    gort_errgroup_free(g);
  }
}

/* ---- TestWithContext ---- */

static void errgroup_with_context(void **state) {
  (void)state;
  static const int cases[][3] = {
      {0, 0, 0},          /* {} -> nil */
      {1, 0, 0},          /* {nil} -> nil */
      {1, EDOOM, 0},      /* {doom} -> doom */
      {2, EDOOM, 0},      /* {doom, nil} -> doom */
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    gort_errgroup *g;
    gort_context *ctx;
    assert_int_equal(gort_errgroup_with_context(bg(), &g, &ctx), 0);
    assert_ptr_equal(gort_errgroup_context(g), ctx);
    int want = 0;
    for (int i = 0; i < cases[c][0]; i++) {
      int err = cases[c][1 + i];
      if (want == 0) want = err;
      assert_int_equal(gort_errgroup_go(g, return_code, (void *)(intptr_t)err), 0);
    }
    assert_int_equal(gort_errgroup_wait(g), want);
    /* Wait always cancels the derived context. */
    assert_true(ctx_is_done(ctx));
    assert_int_equal(gort_context_err(ctx), GORT_ECANCELED);
    assert_int_equal(gort_context_cause(ctx), want ? want : GORT_ECANCELED);
    gort_errgroup_free(g);
  }
}

/* ---- the first error cancels the others' context, with it as the cause ---- */

static int wait_for_cancel(gort_context *ctx, void *arg) {
  (void)arg;
  gort_chan_recv(gort_context_done(ctx), NULL, NULL);
  return gort_context_err(ctx);
}

static void errgroup_first_error_cancels_context(void **state) {
  (void)state;
  gort_errgroup *g;
  gort_context *ctx;
  assert_int_equal(gort_errgroup_with_context(bg(), &g, &ctx), 0);
  for (int i = 0; i < 3; i++) assert_int_equal(gort_errgroup_go(g, wait_for_cancel, NULL), 0);
  assert_true(gort_test_wait_parked(NULL, GORT_WAIT_CHAN_RECV, 3, 5000));
  assert_false(ctx_is_done(ctx));
  assert_int_equal(gort_errgroup_go(g, return_code, (void *)(intptr_t)EDOOM), 0);
  /* The waiters return ECANCELED, but the first error is EDOOM. */
  assert_int_equal(gort_errgroup_wait(g), EDOOM);
  assert_int_equal(gort_context_cause(ctx), EDOOM);
  gort_errgroup_free(g);
}

static void errgroup_parent_cancel_reaches_tasks(void **state) {
  (void)state;
  gort_context *parent;
  assert_int_equal(gort_context_with_cancel(bg(), &parent), 0);
  gort_errgroup *g;
  assert_int_equal(gort_errgroup_with_context(parent, &g, NULL), 0);
  assert_int_equal(gort_errgroup_go(g, wait_for_cancel, NULL), 0);
  gort_context_cancel(parent);
  assert_int_equal(gort_errgroup_wait(g), GORT_ECANCELED);
  gort_errgroup_free(g);
  gort_context_free(parent);
}

/* A plain group does not cancel anything: the others run to completion. */
static void errgroup_plain_group_does_not_cancel(void **state) {
  (void)state;
  gort_errgroup *g;
  assert_int_equal(gort_errgroup_new(&g), 0);
  assert_int_equal(gort_errgroup_go(g, return_code, (void *)(intptr_t)ERR1), 0);
  assert_int_equal(gort_errgroup_go(g, return_code, (void *)0), 0);
  assert_int_equal(gort_errgroup_wait(g), ERR1);
  assert_false(ctx_is_done(gort_errgroup_context(g)));
  gort_errgroup_free(g);
}

/* ---- TestTryGo ---- */

typedef struct {
  gort_chan *ch;
} ch_arg;

static int send_token(gort_context *ctx, void *p) {
  (void)ctx;
  ch_arg *a = p;
  char t = 1;
  gort_chan_send(a->ch, &t);
  return 0;
}

typedef struct {
  gort_chan *ch;
  int n;
  gort_waitgroup *wg; /* done when the n receives are over */
} drain_arg;

static void drain_n(void *p) {
  drain_arg *a = p;
  for (int i = 0; i < a->n; i++) gort_chan_recv(a->ch, NULL, NULL);
  gort_waitgroup_done(a->wg);
}

static void errgroup_try_go(void **state) {
  (void)state;
  enum { N = 42 };
  gort_errgroup *g;
  gort_waitgroup drained = GORT_WAITGROUP_INIT;
  assert_int_equal(gort_errgroup_new(&g), 0);
  assert_int_equal(gort_errgroup_set_limit(g, N), 0);
  ch_arg a;
  assert_int_equal(GORT_CHAN_MAKE(&a.ch, char, 0), 0);
  for (int i = 0; i < N; i++) assert_int_equal(gort_errgroup_try_go(g, send_token, &a), 0);
  assert_int_equal(gort_errgroup_try_go(g, send_token, &a), GORT_EAGAIN);
  drain_arg d = {a.ch, N, &drained};
  assert_int_equal(gort_waitgroup_add(&drained, 1), 0);
  assert_int_equal(gort_go(drain_n, &d), 0);
  assert_int_equal(gort_errgroup_wait(g), 0);

  assert_int_equal(gort_errgroup_try_go(g, send_token, &a), 0);
  drain_arg d1 = {a.ch, 1, &drained};
  assert_int_equal(gort_waitgroup_add(&drained, 1), 0);
  assert_int_equal(gort_go(drain_n, &d1), 0);
  assert_int_equal(gort_errgroup_wait(g), 0);

  /* Switch limit. */
  assert_int_equal(gort_errgroup_set_limit(g, 1), 0);
  assert_int_equal(gort_errgroup_try_go(g, send_token, &a), 0);
  assert_int_equal(gort_errgroup_try_go(g, send_token, &a), GORT_EAGAIN);
  assert_int_equal(gort_waitgroup_add(&drained, 1), 0);
  assert_int_equal(gort_go(drain_n, &d1), 0);
  assert_int_equal(gort_errgroup_wait(g), 0);

  /* Block all calls. */
  assert_int_equal(gort_errgroup_set_limit(g, 0), 0);
  for (int i = 0; i < 1 << 10; i++) assert_int_equal(gort_errgroup_try_go(g, send_token, &a), GORT_EAGAIN);
  assert_int_equal(gort_errgroup_wait(g), 0);
  assert_int_equal(gort_waitgroup_wait(&drained), 0);
  gort_waitgroup_destroy(&drained);
  gort_errgroup_free(g);
  gort_chan_release(a.ch);
}

/* ---- TestGoLimit ---- */

typedef struct {
  atomic_int active;
  int limit;
} limit_arg;

static int check_active(gort_context *ctx, void *p) {
  (void)ctx;
  limit_arg *a = p;
  int n = atomic_fetch_add(&a->active, 1) + 1;
  if (n > a->limit) return -n;
  gort_yield(); /* give the others a chance to increment active */
  atomic_fetch_sub(&a->active, 1);
  return 0;
}

static void errgroup_go_limit(void **state) {
  (void)state;
  limit_arg a = {0, 10};
  gort_errgroup *g;
  assert_int_equal(gort_errgroup_new(&g), 0);
  assert_int_equal(gort_errgroup_set_limit(g, a.limit), 0);
  long n = gort_test_scaled(1 << 10, 64);
  for (long i = 0; i <= n; i++) assert_int_equal(gort_errgroup_go(g, check_active, &a), 0);
  assert_int_equal(gort_errgroup_wait(g), 0);
  assert_int_equal(atomic_load(&a.active), 0);
  gort_errgroup_free(g);
}

/* ---- go blocks (in chan send) while the limit is reached ---- */

static int wait_gate(gort_context *ctx, void *p) {
  (void)ctx;
  gort_chan_recv(p, NULL, NULL);
  return 0;
}

typedef struct {
  gort_errgroup *g;
  gort_chan *gate;
  gort_chan *rc; /* receives go's return code */
} spawner_arg;

static void spawner(void *p) {
  spawner_arg *a = p;
  int rc = gort_errgroup_go(a->g, wait_gate, a->gate);
  gort_chan_send(a->rc, &rc);
}

static void errgroup_go_blocks_at_limit(void **state) {
  (void)state;
  gort_errgroup *g;
  gort_chan *gate;
  spawner_arg s;
  assert_int_equal(gort_errgroup_new(&g), 0);
  assert_int_equal(gort_errgroup_set_limit(g, 1), 0);
  assert_int_equal(GORT_CHAN_MAKE(&gate, char, 0), 0);
  assert_int_equal(GORT_CHAN_MAKE(&s.rc, int, 1), 0);
  s.g = g;
  s.gate = gate;
  assert_int_equal(gort_errgroup_go(g, wait_gate, gate), 0);
  assert_int_equal(gort_go(spawner, &s), 0);
  assert_true(gort_test_wait_parked(spawner, GORT_WAIT_CHAN_SEND, 1, 5000));
  assert_int_equal(gort_chan_len(s.rc), 0); /* still blocked */
  assert_int_equal(gort_chan_close(gate), 0); /* the first ends; the second starts */
  int rc = -1;
  assert_int_equal(gort_chan_recv(s.rc, &rc, NULL), 0);
  assert_int_equal(rc, 0);
  assert_int_equal(gort_errgroup_wait(g), 0);
  gort_errgroup_free(g);
  gort_chan_release(gate);
  gort_chan_release(s.rc);
}

/* ---- a limit costs nothing per slot ---- */

/* Go's limit is a chan struct{}: SetLimit(math.MaxInt32) allocates no
 * per-slot memory, and neither may ours. */
static void errgroup_limit_costs_nothing_per_slot(void **state) {
  (void)state;
  gort_errgroup *g;
  assert_int_equal(gort_errgroup_new(&g), 0);
  gort_counters before, after;
  gort_get_counters(&before);
  assert_int_equal(gort_errgroup_set_limit(g, INT_MAX), 0);
  gort_get_counters(&after);
  assert_true(after.alloc_bytes - before.alloc_bytes < 4096);
  gort_chan *gate;
  assert_int_equal(GORT_CHAN_MAKE(&gate, char, 0), 0);
  for (int i = 0; i < 3; i++) assert_int_equal(gort_errgroup_try_go(g, wait_gate, gate), 0);
  assert_int_equal(gort_chan_close(gate), 0);
  assert_int_equal(gort_errgroup_wait(g), 0);
  gort_errgroup_free(g);
  gort_chan_release(gate);
}

/* ---- set_limit while tasks are active: misuse ---- */

/* Runs in a forked child, on a copy of a group whose task (in the parent)
 * is active: the child starts no thread (ThreadSanitizer forbids that after
 * a fork) and aborts. */
static void modify_limit_while_active(void *g) { gort_errgroup_set_limit(g, 2); }

static void errgroup_set_limit_while_active_is_misuse(void **state) {
  (void)state;
  gort_errgroup *g;
  gort_chan *gate;
  assert_int_equal(gort_errgroup_new(&g), 0);
  assert_int_equal(GORT_CHAN_MAKE(&gate, char, 0), 0);
  assert_int_equal(gort_errgroup_set_limit(g, 1), 0);
  assert_int_equal(gort_errgroup_go(g, wait_gate, gate), 0);
  assert_true(gort_test_child_aborts(modify_limit_while_active, g,
                                     "panic: errgroup: modify limit while 1 goroutines in the "
                                     "group are still active"));

  int *calls = gort_test_misuse_return_mode();
  assert_int_equal(gort_errgroup_set_limit(g, 2), GORT_EGROUPLIMIT);
  assert_int_equal(*calls, 1);
  assert_int_equal(gort_test_misuse_last(), GORT_EGROUPLIMIT);
  /* The hook gets Go's text with its number; the code keeps the table's. */
  assert_string_equal(gort_test_misuse_last_message(),
                      "errgroup: modify limit while 1 goroutines in the group are still active");
  assert_string_equal(gort_strerror(GORT_EGROUPLIMIT),
                      "errgroup: modify limit while goroutines in the group are still active");
  assert_true(gort_is_misuse(GORT_EGROUPLIMIT));
  /* The limit is unchanged: still full. */
  assert_int_equal(gort_errgroup_try_go(g, wait_gate, gate), GORT_EAGAIN);
  /* Removing the limit is always allowed (Go does not check it). */
  assert_int_equal(gort_errgroup_set_limit(g, -1), 0);
  assert_int_equal(gort_errgroup_try_go(g, wait_gate, gate), 0);
  assert_int_equal(gort_chan_close(gate), 0);
  assert_int_equal(gort_errgroup_wait(g), 0);
  /* Nothing active: a new limit is fine. */
  assert_int_equal(gort_errgroup_set_limit(g, 3), 0);
  assert_int_equal(*calls, 1);
  gort_test_misuse_abort_mode();
  gort_errgroup_free(g);
  gort_chan_release(gate);
}

/* ---- tasks may start more tasks in the same group ---- */

typedef struct {
  gort_errgroup *g;
  atomic_int runs;
  int depth;
} nest_arg;

static int nested(gort_context *ctx, void *p) {
  (void)ctx;
  nest_arg *a = p;
  int d = atomic_fetch_add(&a->runs, 1);
  if (d < a->depth) return gort_errgroup_go(a->g, nested, a);
  return 0;
}

static void errgroup_go_from_a_task(void **state) {
  (void)state;
  nest_arg a = {NULL, 0, 5};
  assert_int_equal(gort_errgroup_new(&a.g), 0);
  assert_int_equal(gort_errgroup_go(a.g, nested, &a), 0);
  /* Each task adds the next before it finishes, so wait sees all of them. */
  assert_int_equal(gort_errgroup_wait(a.g), 0);
  assert_int_equal(atomic_load(&a.runs), 6);
  gort_errgroup_free(a.g);
}

/* ---- free waits for the tasks ---- */

static int slow_flag(gort_context *ctx, void *p) {
  (void)ctx;
  gort_sleep(20 * GORT_MILLISECOND);
  atomic_store((atomic_int *)p, 1);
  return ERR1;
}

static void errgroup_free_waits_for_tasks(void **state) {
  (void)state;
  atomic_int flag = 0;
  gort_errgroup *g;
  assert_int_equal(gort_errgroup_with_context(bg(), &g, NULL), 0);
  assert_int_equal(gort_errgroup_go(g, slow_flag, &flag), 0);
  gort_errgroup_free(g);
  assert_int_equal(atomic_load(&flag), 1);
}

/* ---- ExampleGroup_parallel: "Google Search 2.0" ---- */

typedef struct {
  const char *kind;
  const char *query;
  char result[64];
} search_arg;

static int fake_search(gort_context *ctx, void *p) {
  search_arg *a = p;
  if (gort_context_err(ctx) != 0) return gort_context_err(ctx);
  snprintf(a->result, sizeof a->result, "%s result for \"%s\"", a->kind, a->query);
  return 0;
}

static void errgroup_example_parallel(void **state) {
  (void)state;
  search_arg s[3] = {{"web", "golang", ""}, {"image", "golang", ""}, {"video", "golang", ""}};
  gort_errgroup *g;
  assert_int_equal(gort_errgroup_with_context(bg(), &g, NULL), 0);
  for (int i = 0; i < 3; i++) assert_int_equal(gort_errgroup_go(g, fake_search, &s[i]), 0);
  assert_int_equal(gort_errgroup_wait(g), 0);
  assert_string_equal(s[0].result, "web result for \"golang\"");
  assert_string_equal(s[1].result, "image result for \"golang\"");
  assert_string_equal(s[2].result, "video result for \"golang\"");
  gort_errgroup_free(g);
}

/* ---- bad input, spawn failure, allocation failure ---- */

static void errgroup_invalid_arguments(void **state) {
  (void)state;
  gort_errgroup *g = NULL;
  gort_context *ctx = NULL;
  assert_int_equal(gort_errgroup_new(NULL), GORT_EINVAL);
  assert_int_equal(gort_errgroup_with_context(NULL, &g, &ctx), GORT_EINVAL);
  assert_int_equal(gort_errgroup_with_context(bg(), NULL, &ctx), GORT_EINVAL);
  assert_null(g);
  assert_null(ctx);
  assert_int_equal(gort_errgroup_new(&g), 0);
  assert_int_equal(gort_errgroup_go(NULL, return_code, NULL), GORT_EINVAL);
  assert_int_equal(gort_errgroup_go(g, NULL, NULL), GORT_EINVAL);
  assert_int_equal(gort_errgroup_try_go(NULL, return_code, NULL), GORT_EINVAL);
  assert_int_equal(gort_errgroup_try_go(g, NULL, NULL), GORT_EINVAL);
  assert_int_equal(gort_errgroup_set_limit(NULL, 1), GORT_EINVAL);
  assert_int_equal(gort_errgroup_wait(NULL), GORT_EINVAL);
  assert_null(gort_errgroup_context(NULL));
  gort_errgroup_free(NULL);
  assert_int_equal(gort_errgroup_wait(g), 0);
  gort_errgroup_free(g);
}

static void errgroup_spawn_failure_changes_nothing(void **state) {
  (void)state;
  gort_errgroup *g;
  assert_int_equal(gort_errgroup_new(&g), 0);
  assert_int_equal(gort_errgroup_set_limit(g, 1), 0);
  gort_debug_fail_thread_create(1);
  int rc = gort_errgroup_go(g, return_code, (void *)(intptr_t)ERR1);
  gort_debug_fail_thread_create(0);
  assert_int_equal(rc, GORT_ETHREAD);
  /* The token was given back and nothing is counted: wait returns at once. */
  assert_int_equal(gort_errgroup_wait(g), 0);
  assert_int_equal(gort_errgroup_try_go(g, return_code, (void *)0), 0);
  assert_int_equal(gort_errgroup_wait(g), 0);
  gort_errgroup_free(g);
}

static void errgroup_enomem(void **state) {
  (void)state;
  for (int k = 0; k < 2; k++) { /* fail the group, then the context */
    gort_errgroup *g = NULL;
    gort_context *ctx = NULL;
    gort_test_fail_allocs_after(k);
    int rc = gort_errgroup_with_context(bg(), &g, &ctx);
    gort_test_allocator_restore();
    assert_int_equal(rc, GORT_ENOMEM);
    assert_null(g);
    assert_null(ctx);
  }
  gort_errgroup *g = NULL;
  gort_test_fail_allocs_after(0);
  int rc = gort_errgroup_new(&g);
  gort_test_allocator_restore();
  assert_int_equal(rc, GORT_ENOMEM);
  assert_null(g);

  assert_int_equal(gort_errgroup_with_context(bg(), &g, NULL), 0);
  gort_test_fail_allocs_after(0);
  rc = gort_errgroup_go(g, return_code, (void *)(intptr_t)ERR1);
  int rc2 = gort_errgroup_set_limit(g, 2);
  gort_test_allocator_restore();
  assert_int_equal(rc, GORT_ENOMEM);
  assert_int_equal(rc2, GORT_ENOMEM);
  assert_int_equal(gort_errgroup_wait(g), 0); /* nothing ran, no error recorded */
  gort_errgroup_free(g);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(errgroup_zero_group),
    cmocka_unit_test(errgroup_with_context),
    cmocka_unit_test(errgroup_first_error_cancels_context),
    cmocka_unit_test(errgroup_parent_cancel_reaches_tasks),
    cmocka_unit_test(errgroup_plain_group_does_not_cancel),
    cmocka_unit_test(errgroup_try_go),
    cmocka_unit_test(errgroup_go_limit),
    cmocka_unit_test(errgroup_go_blocks_at_limit),
    cmocka_unit_test(errgroup_set_limit_while_active_is_misuse),
    cmocka_unit_test(errgroup_go_from_a_task),
    cmocka_unit_test(errgroup_free_waits_for_tasks),
    cmocka_unit_test(errgroup_example_parallel),
    cmocka_unit_test(errgroup_invalid_arguments),
    cmocka_unit_test(errgroup_limit_costs_nothing_per_slot),
    cmocka_unit_test(errgroup_spawn_failure_changes_nothing),
    cmocka_unit_test(errgroup_enomem),
};

GORT_TEST_MAIN(tests)
