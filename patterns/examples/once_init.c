/* Seed 001 "Pattern 6: Once Initialization": ten tasks ask for the client's
 * connection at once; it is dialled once. */
#include <stdatomic.h>
#include <stdio.h>

#include "gort/gort.h"
#include "gortp/lazy.h"

typedef struct {
  const char *addr;
} conn;

static _Atomic int dials;
static conn the_conn = {"db.internal:5432"};

static int dial(void *arg, void **value) {
  (void)arg;
  atomic_fetch_add(&dials, 1);
  gort_sleep(20 * GORT_MILLISECOND); /* grpc.Dial */
  *value = &the_conn;
  return 0;
}

static gortp_lazy client_conn = GORTP_LAZY_INIT(dial, NULL);
static _Atomic int same;

static void handler(void *arg) {
  (void)arg;
  void *c;
  if (gortp_lazy_get(&client_conn, &c) == 0 && c == &the_conn) atomic_fetch_add(&same, 1);
}

int main(void) {
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  for (int i = 0; i < 10; i++) gort_waitgroup_go(&wg, handler, NULL);
  gort_waitgroup_wait(&wg);
  printf("dialled %d time(s); %d callers got the same connection (%s)\n", atomic_load(&dials),
         atomic_load(&same), the_conn.addr);
  return 0;
}
