/* Seed 000 "Future / Promise Pattern": fetch the user and their orders
 * concurrently, collect both later. Unlike the seed's main, both errors are
 * checked; GetWithTimeout is shown too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gort/gort.h"
#include "gortp/future.h"

static int fetch_user_from_db(void *arg, void **value) {
  gort_sleep(20 * GORT_MILLISECOND);
  *value = strdup((const char *)arg);
  return *value ? 0 : GORT_ENOMEM;
}

static int fetch_orders_from_db(void *arg, void **value) {
  (void)arg;
  gort_sleep(20 * GORT_MILLISECOND);
  *value = strdup("order-1, order-2");
  return *value ? 0 : GORT_ENOMEM;
}

static int slow_report(void *arg, void **value) {
  (void)value;
  gort_sleep(300 * GORT_MILLISECOND);
  (void)arg;
  return 0;
}

int main(void) {
  gortp_future *user_future, *orders_future, *slow;
  if (gortp_future_new(&user_future, fetch_user_from_db, "user-123", free) ||
      gortp_future_new(&orders_future, fetch_orders_from_db, NULL, free))
    return 1;
  void *user, *orders;
  int user_err = gortp_future_get(user_future, &user);
  int orders_err = gortp_future_get(orders_future, &orders);
  if (user_err || orders_err) {
    printf("fetch failed: user: %s, orders: %s\n", gort_strerror(user_err), gort_strerror(orders_err));
    return 1;
  }
  printf("user: %s\n", (char *)user); /* both fetched concurrently */
  printf("orders: %s\n", (char *)orders);
  if (gortp_future_new(&slow, slow_report, NULL, NULL)) return 1;
  int err = gortp_future_get_timeout(slow, 50 * GORT_MILLISECOND, NULL);
  printf("slow report: %s\n", err ? gort_strerror(err) : "ok");
  gortp_future_get(slow, NULL); /* let it finish before main returns */
  gortp_future_release(slow);
  gortp_future_release(user_future);
  gortp_future_release(orders_future);
  return 0;
}
