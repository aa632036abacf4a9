/* Seed 000 "Pipeline Pattern": generate -> square -> filter. Prints 16, 25. */
#include <stdio.h>

#include "gort/gort.h"
#include "gortp/pipeline.h"

int main(void) {
  const int nums[] = {1, 2, 3, 4, 5};
  gort_chan *g, *sq, *ch;
  if (gortp_pipeline_gen_ints(NULL, nums, 5, &g) || gortp_pipeline_square(NULL, g, &sq) ||
      gortp_pipeline_filter_above(NULL, sq, 10, &ch)) {
    fprintf(stderr, "pipeline: cannot start\n");
    return 1;
  }
  gort_chan_release(g); /* each stage holds its own reference */
  gort_chan_release(sq);
  for (int v; GORT_CHAN_RANGE(ch, &v);) printf("%d\n", v);
  gort_chan_release(ch);
  return 0;
}
