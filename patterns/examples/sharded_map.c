/* Seed 002 "Sharding": a map of 5 shards, each with its own RWMutex. Keys
 * come back in no particular order, as from Go's map. */
#include <stdio.h>

#include "gort/gort.h"
#include "gortp/shardmap.h"

int main(void) {
  gortp_shardmap *m;
  if (gortp_shardmap_new(&m, 5, NULL, NULL)) return 1;
  gortp_shardmap_set(m, "alpha", (void *)1);
  gortp_shardmap_set(m, "beta", (void *)2);
  gortp_shardmap_set(m, "gamma", (void *)3);
  void *v = NULL;
  gortp_shardmap_get(m, "alpha", &v);
  printf("%d\n", (int)(intptr_t)v); /* fmt.Println(m.Get("alpha")) */
  char **keys;
  size_t n;
  if (gortp_shardmap_keys(m, &keys, &n)) return 1;
  for (size_t i = 0; i < n; i++) printf("%s\n", keys[i]);
  gortp_shardmap_keys_free(keys, n);
  gortp_shardmap_free(m);
  return 0;
}
