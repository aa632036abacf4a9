/* lc_heap.c - heap leaks, from whichever checker the process runs under.
 *
 *  - LeakSanitizer (SAN=address or SAN=leak builds): the recoverable check,
 *    declared weak so that other builds link and simply skip it. Its report
 *    goes to fd 2; we borrow fd 2 for the call, parse the report into
 *    findings and echo it.
 *  - Valgrind memcheck: the client request VALGRIND_DO_LEAK_CHECK (a no-op
 *    natively). The verdict is Valgrind's own: the errors its leak check
 *    adds to VALGRIND_COUNT_ERRORS, i.e. the loss records of the kinds its
 *    --errors-for-leak-kinds names, minus what its suppressions cover. We do
 *    not re-derive it from VALGRIND_COUNT_LEAKS: that counts every
 *    "possibly lost" block, and mid-run glibc holds each thread's DTV
 *    (allocate_dtv, 304 bytes here) only through an interior pointer
 *    (tcb->dtv = &dtv[1]), which Valgrind calls possibly lost until
 *    __libc_freeres frees them at exit. COUNT_LEAKS only supplies the
 *    figures. The loss records with stacks are in Valgrind's log, which the
 *    leakcheck command parses (it sets GORT_LEAKCHECK_VALGRIND_LOG=1, and
 *    then the in-process check stands aside: Valgrind's exit-time check,
 *    after __libc_freeres, is the verdict).
 * Both checks are whole-process: they belong at the end of a binary, not
 * between tests (LSan reports every unreachable block each time it runs).
 */
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <valgrind/memcheck.h>

#include "lc_internal.h"

extern int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

bool gort__lc_on_valgrind(void) { return RUNNING_ON_VALGRIND != 0; }

/* ---- choosing the allocation site ---- */

static bool is_allocator_frame(const gort_leakcheck_frame *fr) {
  static const char *const fns[] = {
      "malloc", "calloc", "realloc", "reallocarray", "free", "posix_memalign",
      "aligned_alloc", "memalign", "valloc", "pvalloc", "strdup", "strndup",
      "__interceptor_*", "___interceptor_*", "__asan_*", "__lsan_*", "__sanitizer_*",
      "operator new*", "_Znwm", "_Znam", "_Znwm*", "_Znam*", "gort__malloc", "gort__calloc",
      "__libc_malloc", "__libc_calloc", "__libc_realloc"};
  static const char *const objs[] = {"libasan*", "liblsan*", "libtsan*", "vgpreload*",
                                     "ld-linux*", "libc.so*"};
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
    if (fr->function[0] && fnmatch(fns[i], fr->function, 0) == 0) return true;
  for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
    if (fr->object[0] && fnmatch(objs[i], fr->object, 0) == 0) return true;
  if (strstr(fr->file, "vg_replace_malloc") || strstr(fr->file, "asan_malloc") ||
      strstr(fr->file, "lsan_interceptors") || strstr(fr->file, "sanitizer_common"))
    return true;
  return false;
}

void gort__lc_heap_site(gort_leakcheck_finding *f) {
  for (size_t i = 0; i < f->n_frames; i++) {
    const gort_leakcheck_frame *fr = &f->frames[i];
    if (is_allocator_frame(fr) || !fr->function[0]) continue;
    gort__lc_copy(f->site_function, sizeof f->site_function, fr->function);
    gort__lc_copy(f->site_file, sizeof f->site_file, fr->file);
    f->site_line = fr->line;
    gort__lc_copy(f->top_function, sizeof f->top_function, fr->function);
    return;
  }
}

/* ---- small text helpers ---- */

/* Copy the current line of *p into buf and advance *p past it. */
static bool next_line(const char **p, char *buf, size_t size) {
  if (!**p) return false;
  const char *nl = strchr(*p, '\n');
  size_t len = nl ? (size_t)(nl - *p) : strlen(*p);
  gort__lc_copy(buf, size, "");
  if (len >= size) len = size - 1;
  memcpy(buf, *p, len);
  buf[len] = '\0';
  *p = nl ? nl + 1 : *p + strlen(*p);
  return true;
}

static const char *skip_spaces(const char *s) {
  while (*s == ' ' || *s == '\t') s++;
  return s;
}

static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

/* "file.c:12" or "file.c:12:7" -> file, line. False when not that shape. */
static bool split_file_line(const char *loc, char *file, size_t size, int *line) {
  char tmp[512];
  gort__lc_copy(tmp, sizeof tmp, loc);
  char *c = strrchr(tmp, ':');
  if (!c) return false;
  char *c2 = NULL;
  *c = '\0';
  if ((c2 = strrchr(tmp, ':')) != NULL && atoi(c2 + 1) > 0 && atoi(c + 1) > 0) {
    *c2 = '\0'; /* file:line:column */
    *line = atoi(c2 + 1);
  } else {
    *line = atoi(c + 1);
  }
  if (*line <= 0) return false;
  gort__lc_copy(file, size, tmp);
  return true;
}

/* ---- LeakSanitizer ---- */

/* "    #1 0x55c4b3a0d1a9 in leak_malloc /work/x.c:12:5"
 * "    #3 0x7f... in main (/path/exe+0x11a9)"
 * "    #4 0x7f... (/lib/x86_64-linux-gnu/libc.so.6+0x271ca)" */
static bool parse_lsan_frame(const char *line, gort_leakcheck_frame *fr) {
  const char *p = skip_spaces(line);
  if (*p != '#') return false;
  memset(fr, 0, sizeof *fr);
  p = strchr(p, ' ');
  if (!p) return false;
  p = skip_spaces(p);
  fr->pc = (void *)(uintptr_t)strtoull(p, NULL, 16);
  p = strchr(p, ' ');
  if (!p) return true;
  p = skip_spaces(p);
  if (strncmp(p, "in ", 3) == 0) {
    p += 3;
    const char *sp = strchr(p, ' ');
    size_t len = sp ? (size_t)(sp - p) : strlen(p);
    if (len >= sizeof fr->function) len = sizeof fr->function - 1;
    memcpy(fr->function, p, len);
    fr->function[len] = '\0';
    p = sp ? skip_spaces(sp) : p + strlen(p);
  }
  if (*p == '(') {
    char mod[256];
    gort__lc_copy(mod, sizeof mod, p + 1);
    char *close = strchr(mod, ')'); /* "(/path/obj+0x2ff32) (BuildId: ...)" */
    if (close) *close = '\0';
    char *plus = strrchr(mod, '+');
    if (plus) *plus = '\0';
    gort__lc_copy(fr->object, sizeof fr->object, base_name(mod));
  } else if (*p) {
    split_file_line(p, fr->file, sizeof fr->file, &fr->line);
  }
  return true;
}

size_t gort__lc_parse_lsan(const char *text, gort_leakcheck_report *r) {
  size_t found = 0;
  const char *p = text;
  char line[1024];
  while (next_line(&p, line, sizeof line)) {
    const char *kind = NULL;
    if (strncmp(line, "Direct leak of ", 15) == 0)
      kind = "Direct leak";
    else if (strncmp(line, "Indirect leak of ", 17) == 0)
      kind = "Indirect leak";
    if (!kind) continue;
    size_t bytes = 0, objects = 0;
    const char *num = strstr(line, " of ") + 4;
    bytes = (size_t)strtoull(num, NULL, 10);
    const char *in = strstr(line, " in ");
    if (in) objects = (size_t)strtoull(in + 4, NULL, 10);
    gort_leakcheck_frame frames[64];
    size_t n = 0;
    const char *save = p;
    while (next_line(&p, line, sizeof line)) {
      if (n < 64 && parse_lsan_frame(line, &frames[n])) {
        n++;
        save = p;
        continue;
      }
      if (skip_spaces(line)[0] == '#') { /* frames beyond 64 */
        save = p;
        continue;
      }
      break;
    }
    p = save;
    gort_leakcheck_finding *f = gort__lc_report_add(r, GORT_LEAK_HEAP);
    if (!f) break;
    gort__lc_copy(f->name, sizeof f->name, "lsan");
    gort__lc_copy(f->state, sizeof f->state, kind);
    f->bytes = bytes;
    f->objects = objects;
    gort__lc_finding_set_frames(f, frames, n);
    gort__lc_heap_site(f);
    found++;
  }
  return found;
}

static void lsan_check(gort_leakcheck_report *r) {
  fflush(stderr);
  int tmp = memfd_create("gort-leakcheck-lsan", MFD_CLOEXEC);
  int saved = tmp >= 0 ? fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0) : -1;
  if (saved >= 0) dup2(tmp, STDERR_FILENO);
  int leaked = __lsan_do_recoverable_leak_check();
  char *text = NULL;
  if (saved >= 0) {
    dup2(saved, STDERR_FILENO);
    close(saved);
    off_t size = lseek(tmp, 0, SEEK_END);
    if (size > 0 && (text = malloc((size_t)size + 1)) != NULL) {
      ssize_t got = pread(tmp, text, (size_t)size, 0);
      text[got > 0 ? got : 0] = '\0';
      fputs(text, stderr); /* what LSan said, where it would have said it */
      fflush(stderr);
    }
  }
  if (tmp >= 0) close(tmp);
  size_t n = text ? gort__lc_parse_lsan(text, r) : 0;
  free(text);
  if (leaked && n == 0) {
    gort_leakcheck_finding *f = gort__lc_report_add(r, GORT_LEAK_HEAP);
    if (f) {
      gort__lc_copy(f->name, sizeof f->name, "lsan");
      gort__lc_copy(f->state, sizeof f->state, "leak");
      gort__lc_copy(f->detail, sizeof f->detail, "LeakSanitizer reported leaks; see its output");
    }
  }
}

/* ---- Valgrind ---- */

/* "==1== 100 bytes in 1 blocks are definitely lost in loss record 1 of 2"
 * "==1== 136 (96 direct, 40 indirect) bytes in 1 blocks are definitely ..." */
static const char *vg_loss_kind(const char *body, size_t *bytes, size_t *blocks) {
  static const char *const kinds[] = {"definitely lost", "indirectly lost", "possibly lost"};
  if (!strstr(body, " in loss record ")) return NULL;
  for (size_t i = 0; i < 3; i++) {
    if (!strstr(body, kinds[i])) continue;
    char digits[64];
    size_t k = 0;
    for (const char *q = body; *q && *q != ' ' && k < sizeof digits - 1; q++)
      if (*q != ',') digits[k++] = *q;
    digits[k] = '\0';
    *bytes = (size_t)strtoull(digits, NULL, 10);
    const char *in = strstr(body, "bytes in ");
    *blocks = in ? (size_t)strtoull(in + 9, NULL, 10) : 0;
    return kinds[i];
  }
  return NULL;
}

/* "at 0x4848899: malloc (vg_replace_malloc.c:381)"
 * "by 0x10919A: main (in /path/exe)"   "by 0x1: ???" */
static bool parse_vg_frame(const char *body, gort_leakcheck_frame *fr) {
  const char *p = skip_spaces(body);
  if (strncmp(p, "at ", 3) != 0 && strncmp(p, "by ", 3) != 0) return false;
  memset(fr, 0, sizeof *fr);
  p += 3;
  fr->pc = (void *)(uintptr_t)strtoull(p, NULL, 16);
  const char *colon = strstr(p, ": ");
  if (!colon) return true;
  p = colon + 2;
  const char *paren = strstr(p, " (");
  size_t len = paren ? (size_t)(paren - p) : strlen(p);
  if (len >= sizeof fr->function) len = sizeof fr->function - 1;
  memcpy(fr->function, p, len);
  fr->function[len] = '\0';
  if (strcmp(fr->function, "???") == 0) fr->function[0] = '\0';
  if (paren) {
    char loc[512];
    gort__lc_copy(loc, sizeof loc, paren + 2);
    char *close = strrchr(loc, ')');
    if (close) *close = '\0';
    if (strncmp(loc, "in ", 3) == 0)
      gort__lc_copy(fr->object, sizeof fr->object, base_name(loc + 3));
    else
      split_file_line(loc, fr->file, sizeof fr->file, &fr->line);
  }
  return true;
}

/* Strip Valgrind's "==PID== " prefix; NULL when the line has none. */
static const char *vg_body(const char *line) {
  if (strncmp(line, "==", 2) != 0) return NULL;
  const char *e = strstr(line + 2, "==");
  if (!e) return NULL;
  e += 2;
  return *e == ' ' ? e + 1 : e;
}

size_t gort__lc_parse_valgrind(const char *text, gort_leakcheck_report *r) {
  /* Only the last leak check (the one at exit) counts. */
  const char *start = text, *hs;
  while ((hs = strstr(start, "HEAP SUMMARY:")) != NULL) start = hs + 1;
  if (start == text) return 0;
  size_t found = 0;
  const char *p = start;
  char line[1024];
  while (next_line(&p, line, sizeof line)) {
    const char *body = vg_body(line);
    size_t bytes = 0, blocks = 0;
    const char *kind = body ? vg_loss_kind(body, &bytes, &blocks) : NULL;
    if (!kind) continue;
    gort_leakcheck_frame frames[64];
    size_t n = 0;
    while (next_line(&p, line, sizeof line)) {
      body = vg_body(line);
      if (!body || !*skip_spaces(body)) break;
      if (n < 64 && parse_vg_frame(body, &frames[n])) n++;
    }
    gort_leakcheck_finding *f = gort__lc_report_add(r, GORT_LEAK_HEAP);
    if (!f) break;
    gort__lc_copy(f->name, sizeof f->name, "valgrind");
    gort__lc_copy(f->state, sizeof f->state, kind);
    f->bytes = bytes;
    f->objects = blocks;
    gort__lc_finding_set_frames(f, frames, n);
    gort__lc_heap_site(f);
    found++;
  }
  return found;
}

/* One finding for what Valgrind's leak check counted as errors; its figures
 * are the definitely lost blocks, or the possibly lost ones when only those
 * are errors (--errors-for-leak-kinds=possible). */
static void valgrind_add(gort_leakcheck_report *r, unsigned errors, unsigned long leaked,
                         unsigned long leaked_blocks, unsigned long dubious,
                         unsigned long dubious_blocks) {
  gort_leakcheck_finding *f = gort__lc_report_add(r, GORT_LEAK_HEAP);
  if (!f) return;
  gort__lc_copy(f->name, sizeof f->name, "valgrind");
  gort__lc_copy(f->state, sizeof f->state, leaked ? "definitely lost" : "possibly lost");
  f->bytes = leaked ? leaked : dubious;
  f->objects = leaked ? leaked_blocks : dubious_blocks;
  snprintf(f->detail, sizeof f->detail,
           "%u leak error(s) by Valgrind's rules (--errors-for-leak-kinds); allocation "
           "stacks: Valgrind's log (run with --leak-check=full)",
           errors);
}

static void valgrind_check(gort_leakcheck_report *r) {
  unsigned long leaked = 0, dubious = 0, reachable = 0, suppressed = 0;
  unsigned long leaked_b = 0, dubious_b = 0, reachable_b = 0, suppressed_b = 0;
  unsigned before = VALGRIND_COUNT_ERRORS;
  VALGRIND_DO_LEAK_CHECK;
  unsigned errors = VALGRIND_COUNT_ERRORS - before;
  if (errors == 0) return;
  VALGRIND_COUNT_LEAKS(leaked, dubious, reachable, suppressed);
  VALGRIND_COUNT_LEAK_BLOCKS(leaked_b, dubious_b, reachable_b, suppressed_b);
  (void)reachable;
  (void)suppressed;
  (void)reachable_b;
  (void)suppressed_b;
  valgrind_add(r, errors, leaked, leaked_b, dubious, dubious_b);
}

int gort__lc_heap_check(gort_leakcheck_report *r) {
  if (gort__lc_on_valgrind()) {
    const char *by_log = getenv("GORT_LEAKCHECK_VALGRIND_LOG");
    if (!(by_log && strcmp(by_log, "1") == 0)) valgrind_check(r);
    return 1;
  }
  if (__lsan_do_recoverable_leak_check) {
    lsan_check(r);
    return 1;
  }
  return 0;
}
