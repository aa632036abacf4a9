/* raw_pthread.c - a raw pthread left running: no gort involved, so only the
 * thread layer can see it.
 *
 * Leak: spinner() polls a stop flag that nobody sets, and nobody joins it.
 * Fixed: main sets the flag and joins the thread.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

static atomic_bool stop;

static void *spinner(void *arg) {
  (void)arg;
  while (!atomic_load(&stop)) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  return NULL;
}

int main(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, spinner, NULL) != 0) return 1;
#ifdef LEAKCHECK_FIXED
  atomic_store(&stop, true);
  pthread_join(t, NULL);
#endif
  return 0;
}
