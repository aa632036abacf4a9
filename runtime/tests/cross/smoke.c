/* smoke.c - the M:N backend on another architecture (make cross-aarch64
 * runs it under qemu-user): channels, select, many tasks, sleep, and the
 * callee-saved registers across switches. No cmocka (none for the target):
 * each check exits non-zero with its name. Run with GORT_BACKEND=mn.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gort/gort.h"
#include "gort/introspect.h"

#define CHECK(cond)                                                                   \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      fprintf(stderr, "smoke: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      exit(1);                                                                        \
    }                                                                                 \
  } while (0)

typedef struct {
  gort_chan *ping, *pong;
  gort_waitgroup wg;
} pp;

static void ponger(void *arg) {
  pp *p = arg;
  for (long v; gort_chan_recv(p->ping, &v, NULL) == 0;) {
    if (gort_chan_send(p->pong, &(long){v + 1}) != 0) break;
  }
  gort_waitgroup_done(&p->wg);
}

static void ping_pong(void) {
  pp p;
  CHECK(gort_chan_make(&p.ping, sizeof(long), 0) == 0);
  CHECK(gort_chan_make(&p.pong, sizeof(long), 0) == 0);
  gort_waitgroup_init(&p.wg);
  gort_waitgroup_add(&p.wg, 1);
  CHECK(gort_go(ponger, &p) == 0);
  for (long i = 0; i < 10000; i++) {
    long r = -1;
    CHECK(gort_chan_send(p.ping, &i) == 0);
    CHECK(gort_chan_recv(p.pong, &r, NULL) == 0);
    CHECK(r == i + 1);
  }
  gort_chan_close(p.ping);
  gort_waitgroup_wait(&p.wg);
  gort_chan_release(p.ping);
  gort_chan_release(p.pong);
}

/* Floating-point and integer values live across yields and parks in
 * callee-saved registers (x19-x28, d8-d15 on aarch64). */
typedef struct {
  gort_chan *tick;
  gort_chan *out;
  int seed;
} fp_arg;

static void fp_task(void *arg) {
  fp_arg *a = arg;
  double x = a->seed, y = a->seed * 0.5, z = 1.0;
  long s = a->seed;
  for (int i = 0; i < 200; i++) {
    gort_yield();
    gort_chan_recv(a->tick, NULL, NULL);
    x = x * 1.0000001 + 1.0;
    y += x * 0.25;
    z = z * 0.999 + y * 1e-9;
    s = s * 31 + i;
  }
  double r[2] = {a->seed, x + y + z + (double)(s & 0xffff)};
  gort_chan_send(a->out, r);
}

static double fp_expected(int seed) {
  double x = seed, y = seed * 0.5, z = 1.0;
  long s = seed;
  for (int i = 0; i < 200; i++) {
    x = x * 1.0000001 + 1.0;
    y += x * 0.25;
    z = z * 0.999 + y * 1e-9;
    s = s * 31 + i;
  }
  return x + y + z + (double)(s & 0xffff);
}

static void registers_survive_switches(void) {
  enum { N = 8 };
  gort_chan *tick, *out;
  CHECK(gort_chan_make(&tick, 1, 0) == 0);
  CHECK(gort_chan_make(&out, 2 * sizeof(double), N) == 0);
  fp_arg args[N];
  for (int i = 0; i < N; i++) {
    args[i] = (fp_arg){tick, out, i + 1};
    CHECK(gort_go(fp_task, &args[i]) == 0);
  }
  for (int i = 0; i < N * 200; i++) CHECK(gort_chan_send(tick, &(char){0}) == 0);
  for (int i = 0; i < N; i++) {
    double r[2]; /* seed, result: tasks finish in any order */
    CHECK(gort_chan_recv(out, r, NULL) == 0);
    CHECK(r[1] == fp_expected((int)r[0]));
  }
  gort_chan_release(tick);
  gort_chan_release(out);
}

static void sender(void *arg) {
  gort_chan *c = arg;
  for (int i = 0; i < 100; i++) gort_chan_send(c, &i);
}

static void select_two(void) {
  gort_chan *a, *b;
  CHECK(gort_chan_make(&a, sizeof(int), 0) == 0);
  CHECK(gort_chan_make(&b, sizeof(int), 0) == 0);
  CHECK(gort_go(sender, a) == 0);
  CHECK(gort_go(sender, b) == 0);
  long sum_a = 0, sum_b = 0;
  for (int n = 0; n < 200; n++) {
    int va = -1, vb = -1;
    gort_select_case cs[2] = {gort_case_recv(a, &va), gort_case_recv(b, &vb)};
    int i = gort_select(cs, 2);
    CHECK(i == 0 || i == 1);
    if (i == 0)
      sum_a += va;
    else
      sum_b += vb;
  }
  CHECK(sum_a == 4950 && sum_b == 4950);
  int v;
  gort_select_case none[1] = {gort_case_recv(a, &v)};
  CHECK(gort_select_try(none, 1) == GORT_EAGAIN);
  gort_chan_release(a);
  gort_chan_release(b);
}

typedef struct {
  gort_chan *gate;
  gort_waitgroup wg;
} gate_arg;

static void sleeper(void *arg) {
  gate_arg *g = arg;
  gort_chan_recv(g->gate, NULL, NULL);
  gort_sleep(GORT_MILLISECOND);
  gort_waitgroup_done(&g->wg);
}

static void many_tasks(void) {
  enum { N = 20000 };
  gate_arg g;
  CHECK(gort_chan_make(&g.gate, 1, 0) == 0);
  gort_waitgroup_init(&g.wg);
  gort_waitgroup_add(&g.wg, N);
  for (int i = 0; i < N; i++) CHECK(gort_go(sleeper, &g) == 0);
  gort_chan_close(g.gate);
  gort_waitgroup_wait(&g.wg);
  CHECK(gort_num_tasks() >= 1);
  gort_chan_release(g.gate);
}

int main(void) {
  CHECK(strcmp(gort_backend_name(), "mn") == 0);
  ping_pong();
  registers_survive_switches();
  select_two();
  many_tasks();
  printf("smoke: ok (%s backend)\n", gort_backend_name());
  return 0;
}
