/* main.c - the anti-pattern catalog's driver (see antipattern.h).
 *
 *   antipattern --list
 *   antipattern <name> [--fixed]
 *
 * Runs one entry in this process. The run is judged from outside, by the
 * entry's detector: nothing here decides whether the mistake happened. A
 * bad run of a leak entry returns from main with its leak in place, so that
 * leakcheck's exit-time check (the leakcheck command preloads it) finds the
 * blocked tasks or pending timers; every run then stops gort's helper
 * threads and returns normally, so sanitizers check it at exit too. A
 * demonstration prints "demonstration: <what happened>".
 *
 * --list prints one line per entry, tab-separated:
 *   name, detector, expected, site ("-": any), seeds, mistake
 *
 * Nothing here touches gort before the entry runs: an entry that installs
 * signal handling must do so while the process has one thread.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "antipattern.h"
#include "gort/gort.h"

static const char *detector_name(ap_detector d) {
  switch (d) {
    case AP_LEAKCHECK_TASK: return "leakcheck-task";
    case AP_LEAKCHECK_TIMER: return "leakcheck-timer";
    case AP_TSAN: return "tsan";
    case AP_DEADLOCK: return "deadlock";
    case AP_MISUSE: return "misuse";
    case AP_DEMO: return "demonstration";
  }
  return "?";
}

/* GORT_MISUSE=return: the runtime reports the misuse to this hook instead of
 * aborting; the first message is printed as the runtime's report. */
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

static void list(void) {
  for (size_t i = 0; i < ap_catalog_len; i++) {
    const ap_entry *e = ap_catalog[i];
    printf("%s\t%s\t%s\t%s\t%s\t%s\n", e->name, detector_name(e->detector), e->expected,
           e->site ? e->site : "-", e->seeds, e->mistake);
  }
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc == 2 && strcmp(argv[1], "--list") == 0) {
    list();
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

  ap_out o = {{0}};
  if (fixed) {
    e->fixed(&o);
  } else {
    e->bad(&o);
  }
  if (atomic_load(&misused)) printf("misuse: %s\n", misuse_msg);
  if (e->detector == AP_DEMO) printf("demonstration: %s\n", o.shown[0] ? o.shown : "(none)");
  fflush(stdout);
  gort_runtime_quiesce();
  return 0;
}
