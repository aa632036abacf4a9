/* service_process - seed 004's "Pattern 7" combined service, run: the seed
 * shows Service.Process without a main(), so this one processes five jobs
 * with NewService(3 workers, buffer 10, 5 s timeout) and prints each output
 * ("<job id>: processed-<job id>", in completion order, which varies) and
 * then the count.
 */
#include <stdio.h>

#include "gort/gort.h"
#include "gortp/service.h"

int main(void) {
  static const char *const ids[] = {"order-1", "order-2", "order-3", "order-4", "order-5"};
  gortp_service_job jobs[5];
  for (int i = 0; i < 5; i++) jobs[i] = (gortp_service_job){ids[i], NULL};
  gortp_service svc;
  if (gortp_service_init(&svc, 3, 10, 5 * GORT_SECOND) != 0) return 1;
  gortp_service_output out[5];
  size_t n = 0;
  int rc = gortp_service_run(&svc, gort_context_background(), jobs, 5, out, &n);
  for (size_t i = 0; i < n; i++) {
    if (out[i].err != 0)
      printf("%s: error: %s\n", out[i].job.id, gort_strerror(out[i].err));
    else
      printf("%s: %s\n", out[i].job.id, out[i].result);
  }
  if (rc != 0) {
    printf("service process: %s\n", gort_strerror(rc));
    return 1;
  }
  printf("processed %zu jobs\n", n);
  return 0;
}
