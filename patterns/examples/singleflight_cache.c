/* Seed 001 "Pattern 7: Singleflight": "If 100 goroutines request the same
 * user simultaneously, only one DB query runs. All 100 get the same
 * result." Then the cache serves later callers without a query. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "gort/gort.h"
#include "gortp/sfcache.h"

typedef struct {
  char name[32];
} user;

static int query_user(void *arg, const char *id, void **value) {
  (void)arg;
  gort_sleep(50 * GORT_MILLISECOND); /* the DB query */
  user *u = malloc(sizeof *u);
  if (!u) return GORT_ENOMEM;
  snprintf(u->name, sizeof u->name, "user %s", id);
  *value = u;
  return 0;
}

static gortp_sfcache *cache;
static void *results[100];

static void get_user(void *arg) {
  size_t i = (size_t)(uintptr_t)arg;
  gortp_sfcache_get(cache, "42", &results[i], NULL);
}

int main(void) {
  if (gortp_sfcache_new(&cache, query_user, NULL, free)) return 1;
  gort_waitgroup wg = GORT_WAITGROUP_INIT;
  for (uintptr_t i = 0; i < 100; i++) gort_waitgroup_go(&wg, get_user, (void *)i);
  gort_waitgroup_wait(&wg);
  int same = 0;
  for (int i = 0; i < 100; i++) same += results[i] && results[i] == results[0];
  printf("100 callers, %llu query, %d got the same result (%s)\n",
         (unsigned long long)gortp_sfcache_loads(cache), same, ((user *)results[0])->name);
  void *again;
  gortp_sfcache_get(cache, "42", &again, NULL);
  printf("later caller: served from the cache, queries still %llu\n",
         (unsigned long long)gortp_sfcache_loads(cache));
  gortp_sfcache_free(cache);
  return 0;
}
