/* Seed 000 "errgroup": getUserProfile fetches the user's name, posts and
 * friends concurrently; the first error would cancel the others. Seed 001's
 * FetchAll has the same shape over a list of URLs. */
#include <stdio.h>
#include <string.h>

#include "gort/gort.h"
#include "gortp/fetchall.h"

typedef struct {
  char name[32];
  char posts[2][16];
  char friends[2][16];
} user_profile;

/* Each fetch writes its own part of the profile (no two write the same
 * bytes), so, like the seed, no lock is needed. */
static int fetch_part(gort_context *ctx, size_t index, void *result, void *arg) {
  (void)result;
  user_profile *p = arg;
  int err = gort_context_err(ctx);
  if (err) return err;
  switch (index) {
  case 0: strcpy(p->name, "Alice"); break; /* fetchUser */
  case 1: strcpy(p->posts[0], "post1"), strcpy(p->posts[1], "post2"); break;
  case 2: strcpy(p->friends[0], "Bob"), strcpy(p->friends[1], "Charlie"); break;
  }
  return 0;
}

int main(void) {
  user_profile profile = {0};
  size_t failed;
  int err = gortp_fetchall_run(NULL, 3, 0, fetch_part, &profile, NULL, 0, &failed);
  if (err) {
    printf("get user profile: part %zu: %s\n", failed, gort_strerror(err));
    return 1;
  }
  printf("Name: %s\n", profile.name);
  printf("Posts: [%s %s]\n", profile.posts[0], profile.posts[1]);
  printf("Friends: [%s %s]\n", profile.friends[0], profile.friends[1]);
  return 0;
}
