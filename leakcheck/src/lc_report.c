/* lc_report.c - findings, printed in goleak's shape and as JSON.
 *
 * A report owns its findings and each finding owns its frames. The text of
 * one finding is also embedded in its JSON ("message"), so a reader of the
 * JSON (the leakcheck command) prints exactly what the library would.
 *
 * Field use per kind (see gort_leakcheck_finding):
 *   task:   task_id, tid, name, state = wait reason or "running", waiting_ms,
 *           site = spawn site, top_function = entry, frames = spawn stack
 *   thread: tid, name = comm, state = "S (sleeping)", site = start routine,
 *           top_function = first frame outside libc, frames = its stack
 *   fd:     fd, name = type, state = access, detail = link target
 *   heap:   name = source ("lsan", "valgrind"), state = leak kind, bytes,
 *           objects, site = allocating function, frames = allocation stack
 *   timer:  task_id = timer id, name = state = Go's name of the kind
 *           ("time.After", "context deadline"), detail = when it fires,
 *           site = the function that created it (see lc_timer.c)
 */
#include <stdlib.h>
#include <string.h>

#include "lc_internal.h"

void gort__lc_copy(char *dst, size_t size, const char *src) {
  if (!size) return;
  if (!src) src = "";
  size_t n = strlen(src);
  if (n >= size) n = size - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

const char *gort_leak_kind_string(gort_leak_kind k) {
  switch (k) {
    case GORT_LEAK_TASK: return "task";
    case GORT_LEAK_THREAD: return "thread";
    case GORT_LEAK_FD: return "fd";
    case GORT_LEAK_HEAP: return "heap";
    case GORT_LEAK_TIMER: return "timer";
  }
  return "unknown";
}

gort_leakcheck_report *gort__lc_report_new(void) { return calloc(1, sizeof(gort_leakcheck_report)); }

gort_leakcheck_finding *gort__lc_report_add(gort_leakcheck_report *r, gort_leak_kind k) {
  if (r->n == r->cap) {
    size_t cap = r->cap ? 2 * r->cap : 8;
    gort_leakcheck_finding *v = realloc(r->items, cap * sizeof *v);
    if (!v) return NULL;
    r->items = v;
    r->cap = cap;
  }
  gort_leakcheck_finding *f = &r->items[r->n++];
  memset(f, 0, sizeof *f);
  f->kind = k;
  f->fd = -1;
  f->waiting_ms = -1;
  return f;
}

int gort__lc_finding_set_frames(gort_leakcheck_finding *f, const gort_leakcheck_frame *fr,
                                size_t n) {
  free(f->frames);
  f->frames = NULL;
  f->n_frames = 0;
  if (!n) return 0;
  f->frames = malloc(n * sizeof *fr);
  if (!f->frames) return -1;
  memcpy(f->frames, fr, n * sizeof *fr);
  f->n_frames = n;
  return 0;
}

size_t gort_leakcheck_report_count(const gort_leakcheck_report *r) { return r ? r->n : 0; }

const gort_leakcheck_finding *gort_leakcheck_report_finding(const gort_leakcheck_report *r,
                                                            size_t i) {
  return r && i < r->n ? &r->items[i] : NULL;
}

size_t gort_leakcheck_report_count_kind(const gort_leakcheck_report *r, gort_leak_kind k) {
  size_t c = 0;
  for (size_t i = 0; r && i < r->n; i++) c += r->items[i].kind == k;
  return c;
}

void gort_leakcheck_report_free(gort_leakcheck_report *r) {
  if (!r) return;
  for (size_t i = 0; i < r->n; i++) free(r->items[i].frames);
  free(r->items);
  free(r);
}

/* ---- text ---- */

static void text_frames(const gort_leakcheck_finding *f, FILE *out, const char *indent) {
  for (size_t i = 0; i < f->n_frames; i++) {
    const gort_leakcheck_frame *fr = &f->frames[i];
    if (fr->function[0])
      fprintf(out, "%s%s(...)\n", indent, fr->function);
    else
      fprintf(out, "%s%p\n", indent, fr->pc);
    if (fr->file[0])
      fprintf(out, "%s\t%s:%d\n", indent, fr->file, fr->line);
    else if (fr->object[0])
      fprintf(out, "%s\t(%s)\n", indent, fr->object);
  }
}

static void text_task(const gort_leakcheck_finding *f, FILE *out) {
  char st[96];
  if (f->waiting_ms >= 0)
    snprintf(st, sizeof st, "%s, %lld ms", f->state, (long long)f->waiting_ms);
  else
    snprintf(st, sizeof st, "%s", f->state);
  const char *top = f->top_function[0] ? f->top_function : "?";
  fprintf(out, "Task %llu", (unsigned long long)f->task_id);
  if (f->name[0]) fprintf(out, " \"%s\"", f->name);
  fprintf(out, " in state [%s], with %s on top of the stack:\n", st, top);
  fprintf(out, "task %llu [%s]:\n", (unsigned long long)f->task_id, st);
  fprintf(out, "%s(...)\n", top);
  if (f->entry_file[0]) fprintf(out, "\t%s:%d\n", f->entry_file, f->entry_line);
  if (f->detail[0]) fprintf(out, "\t%s\n", f->detail);
  fprintf(out, "created by %s", f->site_function[0] ? f->site_function : "?");
  if (f->parent_id) fprintf(out, " in task %llu", (unsigned long long)f->parent_id);
  fputc('\n', out);
  if (f->site_file[0]) fprintf(out, "\t%s:%d\n", f->site_file, f->site_line);
  if (f->n_frames) {
    fprintf(out, "spawn stack:\n");
    text_frames(f, out, "");
  }
}

static void text_thread(const gort_leakcheck_finding *f, FILE *out) {
  const char *top = f->top_function[0] ? f->top_function : "?";
  fprintf(out, "Thread %d", (int)f->tid);
  if (f->name[0]) fprintf(out, " \"%s\"", f->name);
  /* detail is set only for a thread gort started that never finished
   * exiting; every other thread here is one gort did not start. */
  fprintf(out, " in state [%s], %s, with %s on top of the stack:\n", f->state,
          f->detail[0] ? f->detail : "not started by gort", top);
  fprintf(out, "thread %d [%s]:\n", (int)f->tid, f->state);
  if (f->n_frames)
    text_frames(f, out, "");
  else
    fprintf(out, "\t(stack unavailable: the thread did not answer)\n");
  if (f->site_function[0]) {
    fprintf(out, "started at %s\n", f->site_function);
    if (f->site_file[0]) fprintf(out, "\t%s:%d\n", f->site_file, f->site_line);
  }
}

static void text_fd(const gort_leakcheck_finding *f, FILE *out) {
  fprintf(out, "fd %d -> %s (%s, %s)", f->fd, f->detail, f->name, f->state);
  if (f->test[0]) fprintf(out, ", opened during test %s", f->test);
  fputc('\n', out);
}

static void text_heap(const gort_leakcheck_finding *f, FILE *out) {
  fprintf(out, "%s: %zu byte(s) in %zu object(s)", f->state, f->bytes, f->objects);
  if (f->name[0]) fprintf(out, " (%s)", f->name);
  if (f->site_function[0]) {
    fprintf(out, ", allocated by %s", f->site_function);
    if (f->site_file[0]) fprintf(out, " at %s:%d", f->site_file, f->site_line);
  }
  fputc('\n', out);
  if (f->n_frames) text_frames(f, out, "");
  if (f->detail[0]) fprintf(out, "\t%s\n", f->detail);
}

static void text_timer(const gort_leakcheck_finding *f, FILE *out) {
  fprintf(out, "Timer %llu [%s, %s], created by %s\n", (unsigned long long)f->task_id, f->state,
          f->detail, f->site_function[0] ? f->site_function : "?");
  if (f->site_file[0]) fprintf(out, "\t%s:%d\n", f->site_file, f->site_line);
}

void gort__lc_finding_text(const gort_leakcheck_finding *f, FILE *out) {
  switch (f->kind) {
    case GORT_LEAK_TASK: text_task(f, out); break;
    case GORT_LEAK_THREAD: text_thread(f, out); break;
    case GORT_LEAK_FD: text_fd(f, out); break;
    case GORT_LEAK_HEAP: text_heap(f, out); break;
    case GORT_LEAK_TIMER: text_timer(f, out); break;
  }
}

static const char *const headers[GORT_LEAK_KINDS] = {
    [GORT_LEAK_TASK] = "found unexpected tasks:",
    [GORT_LEAK_THREAD] = "found unexpected threads:",
    [GORT_LEAK_FD] = "found unexpected file descriptors:",
    [GORT_LEAK_HEAP] = "found heap leaks:",
    [GORT_LEAK_TIMER] = "found pending timers:",
};

void gort_leakcheck_report_print(const gort_leakcheck_report *r, FILE *out) {
  if (!r) return;
  for (int k = 0; k < GORT_LEAK_KINDS; k++) {
    if (!gort_leakcheck_report_count_kind(r, (gort_leak_kind)k)) continue;
    fprintf(out, "leakcheck: %s\n", headers[k]);
    for (size_t i = 0; i < r->n; i++) {
      if (r->items[i].kind != (gort_leak_kind)k) continue;
      gort__lc_finding_text(&r->items[i], out);
      fputc('\n', out);
    }
  }
  fflush(out);
}

/* ---- JSON ---- */

void gort__lc_json_string(FILE *out, const char *s) {
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
    switch (*p) {
      case '"': fputs("\\\"", out); break;
      case '\\': fputs("\\\\", out); break;
      case '\n': fputs("\\n", out); break;
      case '\t': fputs("\\t", out); break;
      case '\r': fputs("\\r", out); break;
      default:
        if (*p < 0x20)
          fprintf(out, "\\u%04x", *p);
        else
          fputc(*p, out);
    }
  }
  fputc('"', out);
}

static void json_site(FILE *out, const char *key, const char *fn, const char *file, int line) {
  fprintf(out, ",\"%s\":{\"function\":", key);
  gort__lc_json_string(out, fn);
  fprintf(out, ",\"file\":");
  gort__lc_json_string(out, file);
  fprintf(out, ",\"line\":%d}", line);
}

void gort__lc_finding_json(const gort_leakcheck_finding *f, FILE *out) {
  fprintf(out, "{\"kind\":\"%s\",\"test\":", gort_leak_kind_string(f->kind));
  gort__lc_json_string(out, f->test);
  fprintf(out, ",\"identity\":{");
  switch (f->kind) {
    case GORT_LEAK_TASK:
      fprintf(out, "\"task_id\":%llu,\"tid\":%d,\"name\":", (unsigned long long)f->task_id,
              (int)f->tid);
      gort__lc_json_string(out, f->name);
      break;
    case GORT_LEAK_THREAD:
      fprintf(out, "\"tid\":%d,\"name\":", (int)f->tid);
      gort__lc_json_string(out, f->name);
      break;
    case GORT_LEAK_FD:
      fprintf(out, "\"fd\":%d,\"type\":", f->fd);
      gort__lc_json_string(out, f->name);
      fprintf(out, ",\"target\":");
      gort__lc_json_string(out, f->detail);
      break;
    case GORT_LEAK_HEAP:
      fprintf(out, "\"source\":");
      gort__lc_json_string(out, f->name);
      fprintf(out, ",\"bytes\":%zu,\"objects\":%zu", f->bytes, f->objects);
      break;
    case GORT_LEAK_TIMER:
      fprintf(out, "\"timer_id\":%llu,\"type\":", (unsigned long long)f->task_id);
      gort__lc_json_string(out, f->name);
      break;
  }
  fprintf(out, "},\"state\":{\"state\":");
  gort__lc_json_string(out, f->state);
  if (f->kind == GORT_LEAK_TASK) fprintf(out, ",\"waiting_ms\":%lld", (long long)f->waiting_ms);
  fputc('}', out);
  json_site(out, "site", f->site_function, f->site_file, f->site_line);
  fprintf(out, ",\"top_function\":");
  gort__lc_json_string(out, f->top_function);
  if (f->kind == GORT_LEAK_TASK) {
    json_site(out, "entry", f->top_function, f->entry_file, f->entry_line);
    fprintf(out, ",\"parent_id\":%llu", (unsigned long long)f->parent_id);
  }
  fprintf(out, ",\"detail\":");
  gort__lc_json_string(out, f->detail);
  fprintf(out, ",\"stack\":[");
  for (size_t i = 0; i < f->n_frames; i++) {
    const gort_leakcheck_frame *fr = &f->frames[i];
    fprintf(out, "%s{\"pc\":\"%p\",\"function\":", i ? "," : "", fr->pc);
    gort__lc_json_string(out, fr->function);
    fprintf(out, ",\"file\":");
    gort__lc_json_string(out, fr->file);
    fprintf(out, ",\"line\":%d,\"object\":", fr->line);
    gort__lc_json_string(out, fr->object);
    fputc('}', out);
  }
  fprintf(out, "],\"message\":");
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  if (m) {
    gort__lc_finding_text(f, m);
    fclose(m);
  }
  gort__lc_json_string(out, text ? text : "");
  free(text);
  fputc('}', out);
}

int gort_leakcheck_report_write_json(const gort_leakcheck_report *r, FILE *out) {
  fprintf(out, "{\"schema\":\"gort.leakcheck/1\",\"findings\":[");
  for (size_t i = 0; r && i < r->n; i++) {
    if (i) fputc(',', out);
    fputs("\n  ", out);
    gort__lc_finding_json(&r->items[i], out);
  }
  fprintf(out, "\n],\"summary\":{\"findings\":%zu,\"by_kind\":{", gort_leakcheck_report_count(r));
  for (int k = 0; k < GORT_LEAK_KINDS; k++)
    fprintf(out, "%s\"%s\":%zu", k ? "," : "", gort_leak_kind_string((gort_leak_kind)k),
            gort_leakcheck_report_count_kind(r, (gort_leak_kind)k));
  fprintf(out, "}}}\n");
  return fflush(out) == 0 && !ferror(out) ? 0 : GORT_EIO;
}
