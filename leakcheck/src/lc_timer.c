/* lc_timer.c - the timer layer: gort timers and tickers still pending.
 *
 * A time.After in a loop, a WithTimeout context never cancelled, a ticker
 * never stopped: each keeps a heap entry (and its channel or context) alive
 * until it fires, or forever. The runtime lists its pending timers with
 * their kind and the return address into the code that created them
 * (gort_timer_snapshot); this layer reports each one as a finding whose site
 * is that code, so the report points at the line to fix.
 *
 * Not reported: a sleeping task's own timer (GORT_TIMER_SLEEP: the task layer
 * reports the task, "sleep" is its wait reason) and timers the runtime
 * starts for itself (GORT_TIMER_INTERNAL). Under LD_PRELOAD into a binary
 * without gort the layer has nothing to look at and finds nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "lc_internal.h"

static bool reportable(const gort_timer_info *t) {
  return t->kind != GORT_TIMER_SLEEP && t->kind != GORT_TIMER_INTERNAL;
}

/* All pending timers (malloc'd). 0 or -1. */
static int snapshot(gort_timer_info **out, size_t *n) {
  *out = NULL;
  *n = 0;
  if (!GORT_LC_HAVE(gort_timer_snapshot)) return 0;
  for (;;) {
    size_t cap = gort_timer_snapshot(NULL, 0) + 8;
    gort_timer_info *v = malloc(cap * sizeof *v);
    if (!v) return -1;
    size_t len = gort_timer_snapshot(v, cap);
    if (len <= cap) {
      *out = v;
      *n = len;
      return 0;
    }
    free(v); /* grew meanwhile */
  }
}

static int cmp_id(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

int gort__lc_timer_scan(const uint64_t *base_ids, size_t n_base, gort_timer_info **out,
                        size_t *n) {
  gort_timer_info *v;
  size_t len;
  if (snapshot(&v, &len) != 0) return -1;
  size_t k = 0;
  for (size_t i = 0; i < len; i++) {
    if (!reportable(&v[i])) continue;
    if (base_ids && bsearch(&v[i].id, base_ids, n_base, sizeof *base_ids, cmp_id)) continue;
    v[k++] = v[i];
  }
  if (k == 0) {
    free(v);
    v = NULL;
  }
  *out = v;
  *n = k;
  return 0;
}

int gort__lc_timer_ids(uint64_t **out, size_t *n) {
  gort_timer_info *v;
  size_t len;
  *out = NULL;
  *n = 0;
  if (snapshot(&v, &len) != 0) return -1;
  uint64_t *ids = malloc((len ? len : 1) * sizeof *ids);
  if (!ids) {
    free(v);
    return -1;
  }
  for (size_t i = 0; i < len; i++) ids[i] = v[i].id;
  free(v);
  qsort(ids, len, sizeof *ids, cmp_id);
  *out = ids;
  *n = len;
  return 0;
}

gort_leakcheck_finding *gort__lc_timer_add(gort_leakcheck_report *r, const gort_timer_info *t,
                                           int64_t now, const char *test) {
  gort_leakcheck_finding *f = gort__lc_report_add(r, GORT_LEAK_TIMER);
  if (!f) return NULL;
  gort__lc_copy(f->test, sizeof f->test, test);
  f->task_id = t->id;
  const char *kind = GORT_LC_HAVE(gort_timer_kind_string) ? gort_timer_kind_string(t->kind) : "timer";
  gort__lc_copy(f->name, sizeof f->name, kind);
  gort__lc_copy(f->state, sizeof f->state, kind);
  long long age = t->created_at ? (long long)((now - t->created_at) / 1000000) : 0;
  long long due = (long long)((t->when - now) / 1000000);
  if (t->period > 0)
    snprintf(f->detail, sizeof f->detail, "created %lld ms ago, ticks every %lld ms", age,
             (long long)(t->period / 1000000));
  else
    snprintf(f->detail, sizeof f->detail, "created %lld ms ago, fires in %lld ms", age, due);
  if (t->site) {
    /* A return address: symbolize the call instruction before it. A loop
     * leaks many timers from one site: symbolize it once (checks are
     * serialised, so the cache needs no lock). */
    static void *cached_site;
    static gort_leakcheck_frame fr[8];
    static size_t n;
    if (t->site != cached_site) {
      void *pc = t->site;
      n = gort__lc_symbolize(&pc, 1, false, fr, 8);
      cached_site = t->site;
    }
    if (n > 0) {
      gort__lc_copy(f->site_function, sizeof f->site_function, fr[0].function);
      gort__lc_copy(f->site_file, sizeof f->site_file, fr[0].file);
      f->site_line = fr[0].line;
      gort__lc_copy(f->top_function, sizeof f->top_function, fr[0].function);
      gort__lc_finding_set_frames(f, fr, n);
    }
  }
  return f;
}
