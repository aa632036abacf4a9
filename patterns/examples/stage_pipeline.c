/* Seed 004 "Pattern 3: Pipeline": validate -> enrich -> transform over a
 * raw channel. The seed's main prints nothing and drops failed items
 * silently; here every item comes out, in order, with its value or its
 * error and the stage that failed. */
#include <stdio.h>
#include <stdlib.h>

#include "gort/gort.h"
#include "gortp/stage.h"

static const char *const stage_names[] = {"validate", "enrich", "transform"};

static int validate(gort_context *ctx, void *in, void **out, void *arg) {
  (void)ctx;
  (void)arg;
  if (*(int *)in < 0) {
    free(in);
    return GORT_EINVAL;
  }
  *out = in;
  return 0;
}

static int enrich(gort_context *ctx, void *in, void **out, void *arg) {
  (void)ctx;
  (void)arg;
  *(int *)in *= 10; /* fetchExtraInfo */
  *out = in;
  return 0;
}

static int transform(gort_context *ctx, void *in, void **out, void *arg) {
  (void)ctx;
  (void)arg;
  char *s = malloc(32);
  if (!s) return GORT_ENOMEM;
  snprintf(s, 32, "final-%d", *(int *)in);
  free(in);
  *out = s;
  return 0;
}

static void produce(void *arg) {
  gort_chan *raw = arg;
  const int data[] = {1, 2, -3, 4, -5, 6};
  for (int i = 0; i < 6; i++) {
    int *v = malloc(sizeof *v);
    if (!v) break;
    *v = data[i];
    gort_chan_send(raw, &v);
  }
  gort_chan_close(raw);
  gort_chan_release(raw);
}

int main(void) {
  gort_context *ctx;
  if (gort_context_with_cancel(gort_context_background(), &ctx)) return 1;
  gort_chan *raw;
  if (gort_chan_make(&raw, sizeof(void *), 100)) return 1;
  const gortp_stage stages[] = {{validate, NULL, free, 50}, {enrich, NULL, free, 50},
                                {transform, NULL, free, 50}};
  gortp_stage_pipeline *p;
  if (gortp_stage_new(&p, ctx, raw, free, stages, 3)) return 1;
  if (gort_go(produce, gort_chan_retain(raw))) return 1;
  for (gortp_stage_item it; GORT_CHAN_RANGE(gortp_stage_output(p), &it);) {
    if (it.err) {
      printf("item %llu: %s failed: %s\n", (unsigned long long)it.seq, stage_names[it.stage],
             gort_strerror(it.err));
    } else {
      printf("item %llu: saved %s\n", (unsigned long long)it.seq, (char *)it.value); /* saveToDB */
      free(it.value);
    }
  }
  gortp_stage_free(p);
  gort_chan_release(raw);
  gort_context_free(ctx);
  return 0;
}
