/* Seed 001 "Decision Framework: Channel vs Mutex" and its anti-patterns:
 * ten tasks add 1000 each to one counter, four correct ways. */
#include <stdio.h>

#include "gort/gort.h"
#include "gortp/counter.h"

static gortp_counter_mutex by_mutex = GORTP_COUNTER_MUTEX_INIT;
static gort_atomic_i64 by_atomic = GORT_ATOMIC_I64_INIT(0);
static gortp_counter_owned *by_owner;
static gortp_counter_chanlock by_chanlock;

static void work(void *arg) {
  (void)arg;
  for (int i = 0; i < 1000; i++) {
    gortp_counter_mutex_add(&by_mutex, 1);      /* protect data: mutex */
    gort_atomic_add(&by_atomic, 1);             /* or atomic */
    gortp_counter_owned_add(by_owner, 1);       /* transfer data: channel */
    gortp_counter_chanlock_add(&by_chanlock, 1); /* BAD: channel used as a mutex */
  }
}

int main(void) {
  if (gortp_counter_owned_new(&by_owner) || gortp_counter_chanlock_init(&by_chanlock)) return 1;
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  for (int i = 0; i < 10; i++) gort_waitgroup_go(&wg, work, NULL);
  gort_waitgroup_wait(&wg);
  int64_t owned = 0;
  gortp_counter_owned_get(by_owner, &owned);
  printf("mutex: %lld\n", (long long)gortp_counter_mutex_get(&by_mutex));
  printf("atomic: %lld\n", (long long)gort_atomic_load(&by_atomic));
  printf("owned by a task: %lld\n", (long long)owned);
  printf("channel as mutex: %lld\n", (long long)gortp_counter_chanlock_get(&by_chanlock));
  gortp_counter_owned_free(by_owner);
  gortp_counter_chanlock_destroy(&by_chanlock);
  return 0;
}
