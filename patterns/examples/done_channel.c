/* Seed 002 "The Done Channel Pattern": a request that takes too long
 * ("5 s", here 300 ms) against a timeout ("1 s", here 100 ms), in the
 * seed's three versions. Each prints "request timeout"; the difference is
 * what is left running afterwards. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gort/gort.h"
#include "gortp/donechan.h"

#include <stdatomic.h>

static _Atomic int returned;      /* requests that have returned */
static _Atomic int request_error; /* what the context-aware request saw */

static void *request(void *arg) { /* does not support context */
  (void)arg;
  gort_sleep(300 * GORT_MILLISECOND); /* simulate expensive operation */
  atomic_fetch_add(&returned, 1);
  return strdup("Hello, World!");
}

/* Tasks still alive once things have settled: wait (up to 5 s) for the
 * count to drop to `base`, and report what is left. */
static int left_behind(int base) {
  for (int i = 0; i < 5000 && gort_num_tasks() > base; i++) gort_sleep(GORT_MILLISECOND);
  return gort_num_tasks() - base;
}

static void wait_returned(int n) {
  while (atomic_load(&returned) < n) gort_sleep(GORT_MILLISECOND);
}

static int request_ctx(gort_context *ctx, void *arg, void **value) { /* supports context */
  (void)arg;
  gort_chan *timer;
  if (gort_after(300 * GORT_MILLISECOND, &timer)) return GORT_ENOMEM;
  gort_select_case c[2] = {gort_case_recv(timer, NULL), gort_case_recv(gort_context_done(ctx), NULL)};
  int which = gort_select(c, 2);
  gort_chan_release(timer);
  if (which == 1) {
    atomic_store(&request_error, gort_context_err(ctx)); /* the seed prints it here */
    return gort_context_err(ctx);
  }
  *value = strdup("Hello, World!");
  return 0;
}

static void outcome(int err, void *value) {
  if (err == GORT_ETIMEDOUT) {
    printf("request timeout\n");
  } else if (err == 0) {
    printf("result:  %s\n", (char *)value);
    free(value);
  }
}

int main(void) {
  void *v = NULL;
  gort_chan *done;
  int base = gort_num_tasks();

  printf("-- common mistake: request() evaluated in the select, done never closed\n");
  outcome(gortp_donechan_request_leaky(request, NULL, 100 * GORT_MILLISECOND, &v, free, &done), v);
  wait_returned(1); /* the request is over; its task never will be */
  printf("tasks left behind: %d\n", gort_num_tasks() - base);
  gort_chan_close(done); /* what the seed never does */
  gort_chan_release(done);

  printf("-- fixed: done is closed when the caller gives up\n");
  outcome(gortp_donechan_request_timeout(request, NULL, 100 * GORT_MILLISECOND, &v, free), v);
  wait_returned(2);
  printf("tasks left behind: %d\n", left_behind(base));

  printf("-- with context.Context: cancel now, don't defer\n");
  outcome(gortp_donechan_request_ctx(NULL, request_ctx, NULL, 100 * GORT_MILLISECOND, &v, free), v);
  while (atomic_load(&request_error) == 0) gort_sleep(GORT_MILLISECOND);
  printf("request error:  %s\n", gort_strerror(atomic_load(&request_error)));
  printf("tasks left behind: %d\n", left_behind(base));
  return 0;
}
