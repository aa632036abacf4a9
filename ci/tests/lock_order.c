/* ci/tests/lock_order.c - a plain pthread program (no gort) that takes two
 * mutexes in opposite orders in two threads: a lock-order inversion, the
 * seed of a deadlock. The threads run one after the other (the second starts
 * after the first is joined), so the program itself never hangs: only a
 * lock-order checker (Helgrind, TSan's deadlock detector) sees the bug. With
 * -DLOCK_ORDER_FIXED both threads take the locks in the same order. */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;
static int shared;

static void *a_then_b(void *arg) {
  (void)arg;
  pthread_mutex_lock(&a);
  pthread_mutex_lock(&b);
  shared++;
  pthread_mutex_unlock(&b);
  pthread_mutex_unlock(&a);
  return NULL;
}

static void *b_then_a(void *arg) {
  (void)arg;
#ifdef LOCK_ORDER_FIXED
  pthread_mutex_lock(&a); /* the fix: one global order, a before b */
  pthread_mutex_lock(&b);
#else
  pthread_mutex_lock(&b); /* the bug: b before a, the reverse of a_then_b */
  pthread_mutex_lock(&a);
#endif
  shared++;
  pthread_mutex_unlock(&a);
  pthread_mutex_unlock(&b);
  return NULL;
}

int main(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, a_then_b, NULL) != 0 || pthread_join(t, NULL) != 0) return 3;
  if (pthread_create(&t, NULL, b_then_a, NULL) != 0 || pthread_join(t, NULL) != 0) return 3;
  printf("shared %d\n", shared);
  return 0;
}
