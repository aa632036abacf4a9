/* main.c - the anti-pattern catalog's driver (see antipattern.h).
 *
 *   antipattern --list
 *   antipattern <name> [--fixed]
 *
 * Runs one entry in this process and prints "verdict: <verdict>". A bad
 * run that left tasks behind on purpose exits with _exit(0) right after the
 * verdict: the leaked tasks are part of the demonstration, not something to
 * unwind. A fixed run must leave nothing: the driver waits for every task
 * to exit and for every timer to be gone, and says "leak: ..." instead of
 * the run's verdict if something remains; then it stops gort's helper
 * threads and returns normally, so sanitizers check it at exit.
 *
 * Nothing here touches gort before the entry runs: an entry that installs
 * signal handling must do so while the process has one thread.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "antipattern.h"
#include "gort/gort.h"

static const char *kind_name(ap_kind k) {
  switch (k) {
    case AP_VERDICT: return "verdict";
    case AP_PANIC: return "panic";
    case AP_FATAL: return "fatal";
    case AP_RACE: return "race";
    case AP_SIGNAL: return "signal";
  }
  return "?";
}

/* GORT_MISUSE=return: the first misuse message becomes the verdict. */
static char misuse_msg[128];
static atomic_bool misused;

static void on_misuse(int code, const char *message, void *arg) {
  (void)code;
  (void)arg;
  bool expected = false;
  if (atomic_compare_exchange_strong(&misused, &expected, true))
    snprintf(misuse_msg, sizeof misuse_msg, "%s", message);
}

static const ap_entry *find(const char *name) {
  for (size_t i = 0; i < ap_catalog_len; i++)
    if (strcmp(ap_catalog[i]->name, name) == 0) return ap_catalog[i];
  return NULL;
}

static int usage(void) {
  fprintf(stderr, "usage: antipattern --list | antipattern <name> [--fixed]\n");
  return 2;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc == 2 && strcmp(argv[1], "--list") == 0) {
    for (size_t i = 0; i < ap_catalog_len; i++)
      printf("%s\t%s\t%s\n", ap_catalog[i]->name, kind_name(ap_catalog[i]->kind),
             ap_catalog[i]->verdict);
    return 0;
  }
  if (argc < 2 || argc > 3) return usage();
  bool fixed = argc == 3 && strcmp(argv[2], "--fixed") == 0;
  if (argc == 3 && !fixed) return usage();
  const ap_entry *e = find(argv[1]);
  if (!e) {
    fprintf(stderr, "antipattern: no entry named %s (see --list)\n", argv[1]);
    return 2;
  }
  const char *env = getenv("GORT_MISUSE");
  if (env && strcmp(env, "return") == 0) gort_set_misuse_hook(on_misuse, NULL);

  ap_out o = {0};
  if (fixed) {
    e->fixed(&o);
  } else {
    e->bad(&o);
  }
  if (!o.verdict[0] && atomic_load(&misused)) ap_set(&o, "misuse: %s", misuse_msg);

  if (fixed && !o.leaked) {
    /* The twin must leave no task and no timer behind. */
    ap_out left = {0};
    if (!ap_settle(1)) ap_leak_verdict(&left);
    if (left.leaked) o = left;
    else if (!ap_timers_settle())
      ap_set(&o, "leak: %lld timers pending", (long long)ap_timers_pending());
  }
  printf("verdict: %s\n", o.verdict[0] ? o.verdict : "(none)");
  fflush(stdout);
  if (o.leaked) _exit(0);
  gort_runtime_quiesce();
  return 0;
}
