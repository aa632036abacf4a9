/* Seed 003 "Pipeline Pattern": generate -> toUpper -> addPrefix, with a
 * cancellable context. */
#include <stdio.h>
#include <stdlib.h>

#include "gort/gort.h"
#include "gortp/pipeline.h"

int main(void) {
  gort_context *ctx;
  if (gort_context_with_cancel(gort_context_background(), &ctx) != 0) return 1;
  const char *items[] = {"goroutines", "channels", "pipelines", "go"};
  gort_chan *words, *upper, *prefixed;
  if (gortp_pipeline_str_generate(ctx, items, 4, &words) || gortp_pipeline_str_to_upper(ctx, words, &upper) ||
      gortp_pipeline_str_add_prefix(ctx, ">> ", upper, &prefixed)) {
    fprintf(stderr, "pipeline: cannot start\n");
    return 1;
  }
  gort_chan_release(words);
  gort_chan_release(upper);
  for (char *s; GORT_CHAN_RANGE(prefixed, &s);) {
    printf("%s\n", s);
    free(s); /* the receiver owns each string */
  }
  gort_chan_release(prefixed);
  gort_context_free(ctx); /* defer cancel() */
  return 0;
}
