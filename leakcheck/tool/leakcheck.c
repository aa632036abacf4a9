/* leakcheck - run test binaries and report what they leak.
 *
 *   leakcheck [options] [--] BINARY [ARGS...]
 *   leakcheck [options] --each BINARY...
 *   leakcheck --merge OUT.json IN.json...
 *   leakcheck [options] --calibrate CASES --bindir DIR [--runs N]
 *
 * Each binary runs with GORT_LEAKCHECK_OUT naming a fresh file; the leakcheck
 * library inside it (linked in, or preloaded when the binary does not link
 * it) appends one JSON line per finding and per check. Under --valgrind the
 * heap layer comes from Valgrind's own leak check at exit, parsed from its
 * log. The command prints goleak-shaped findings and writes one JSON report
 * (schema gort.leakcheck/1).
 *
 * A layer that could not be checked is named with the reason and the fix
 * (printed, and in the run's "unchecked" array), e.g. the heap of a program
 * that runs neither under Valgrind nor with LeakSanitizer.
 *
 * Exit status: 0 clean, 1 leaks found, 2 could not check: a run failed
 * without leaks (test failures, crash, timeout), no check ran in it, or the
 * command line was wrong (one line on stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lc_internal.h"

#define EXIT_LEAKS 1
#define EXIT_FAILED 2
#define EXIT_USAGE 2

typedef struct {
  const char *json_out;
  const char *preload;
  const char *mode;
  bool valgrind;
  int timeout_s;
  int jobs;
  bool verbose;
  bool quiet;
  int runs;
  const char *bindir;
} lc_config;

static lc_config cfg = {.timeout_s = -1, .jobs = 1, .runs = 50};

/* ---- one run of one binary ---- */

typedef struct {
  /* input */
  char **argv; /* binary and its args; not owned */
  const char *label;
  /* while running */
  pid_t pid;
  char records[PATH_MAX];
  char vglog[PATH_MAX];
  char output[PATH_MAX];
  int64_t started_ms;
  int64_t deadline_ms;
  bool timed_out;
  bool preloaded;
  bool links_leakcheck; /* the binary has the library linked in */
  /* result */
  int status; /* waitpid status */
  json_t *run;      /* run record for the report */
  json_t *findings; /* array */
} lc_job;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char self_dir[PATH_MAX];

static void find_self_dir(void) {
  char exe[PATH_MAX];
  ssize_t r = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (r <= 0) return;
  exe[r] = '\0';
  char *slash = strrchr(exe, '/');
  if (slash) *slash = '\0';
  gort__lc_copy(self_dir, sizeof self_dir, exe);
}

static int make_temp(char *path, size_t size, const char *what) {
  const char *tmp = getenv("TMPDIR");
  snprintf(path, size, "%s/gort-leakcheck-%s-XXXXXX", tmp && tmp[0] ? tmp : "/tmp", what);
  int fd = mkstemp(path);
  if (fd < 0) return -1;
  close(fd);
  return 0;
}

static void setenv_append(const char *name, const char *value, const char *sep) {
  const char *old = getenv(name);
  if (!old || !old[0]) {
    setenv(name, value, 1);
    return;
  }
  size_t n = strlen(old) + strlen(sep) + strlen(value) + 1;
  char *v = malloc(n);
  if (!v) return;
  snprintf(v, n, "%s%s%s", old, sep, value);
  setenv(name, v, 1);
  free(v);
}

static bool binary_links_leakcheck(const char *path) {
  return gort__lc_elf_has_symbol(path, "gort_leakcheck_find");
}

/* Child side: environment, output, exec. Never returns. */
static void exec_job(lc_job *j) {
  setpgid(0, 0);
  setenv("GORT_LEAKCHECK_OUT", j->records, 1);
  /* Records count only from this process (exec keeps the pid, Valgrind's
   * too), not from processes it starts. */
  char pid[32];
  snprintf(pid, sizeof pid, "%d", (int)getpid());
  setenv("GORT_LEAKCHECK_PID", pid, 1);
  /* The library's own check is the heap check: it runs before exit and
   * records what it finds. LSan's check at exit would repeat it, or (clang's
   * static runtime registers it late) run first and exit before ours. */
  setenv_append("ASAN_OPTIONS", "leak_check_at_exit=0", ":");
  setenv_append("LSAN_OPTIONS", "leak_check_at_exit=0", ":");
  if (j->preloaded) {
    setenv_append("LD_PRELOAD", cfg.preload, ":");
    /* A preload goes before a shared ASan runtime; tell ASan that is fine. */
    setenv_append("ASAN_OPTIONS", "verify_asan_link_order=0", ":");
  }
  int out = open(j->output, O_WRONLY | O_TRUNC);
  if (out >= 0) {
    dup2(out, STDOUT_FILENO);
    dup2(out, STDERR_FILENO);
    close(out);
  }
  if (cfg.valgrind) {
    setenv("GORT_LEAKCHECK_VALGRIND_LOG", "1", 1);
    size_t n = 0;
    while (j->argv[n]) n++;
    char **argv = calloc(n + 16, sizeof *argv);
    if (!argv) _exit(127);
    char logopt[PATH_MAX + 16];
    snprintf(logopt, sizeof logopt, "--log-file=%s", j->vglog);
    /* Source paths relative to here (absolute elsewhere), as the other modes
     * print them: a bare file name is ambiguous (park.c, main.c, ...). */
    char cwd[PATH_MAX], pathopt[PATH_MAX + 32];
    snprintf(pathopt, sizeof pathopt, "--fullpath-after=%s/", getcwd(cwd, sizeof cwd) ? cwd : "");
    size_t k = 0;
    argv[k++] = "valgrind";
    argv[k++] = "--tool=memcheck";
    argv[k++] = "--leak-check=full";
    argv[k++] = "--show-leak-kinds=definite,indirect,possible";
    argv[k++] = "--errors-for-leak-kinds=definite,indirect,possible";
    argv[k++] = "--fair-sched=yes";
    argv[k++] = "--num-callers=30";
    argv[k++] = "--child-silent-after-fork=yes";
    argv[k++] = logopt;
    argv[k++] = pathopt;
    for (size_t i = 0; i < n; i++) argv[k++] = j->argv[i];
    argv[k] = NULL;
    execvp(argv[0], argv);
  } else {
    execv(j->argv[0], j->argv);
  }
  fprintf(stderr, "leakcheck: cannot run %s: %s\n", j->argv[0], strerror(errno));
  _exit(127);
}

static int start_job(lc_job *j) {
  j->findings = json_array();
  if (make_temp(j->records, sizeof j->records, "records") != 0 ||
      make_temp(j->output, sizeof j->output, "output") != 0 ||
      (cfg.valgrind && make_temp(j->vglog, sizeof j->vglog, "valgrind") != 0)) {
    fprintf(stderr, "leakcheck: cannot create temporary files: %s\n", strerror(errno));
    return -1;
  }
  j->links_leakcheck = binary_links_leakcheck(j->argv[0]);
  j->preloaded = cfg.preload && !j->links_leakcheck;
  fflush(NULL);
  j->started_ms = now_ms();
  int timeout = cfg.timeout_s >= 0 ? cfg.timeout_s : cfg.valgrind ? 900 : 300;
  j->deadline_ms = j->started_ms + (int64_t)timeout * 1000;
  j->pid = fork();
  if (j->pid < 0) return -1;
  if (j->pid == 0) exec_job(j);
  setpgid(j->pid, j->pid);
  return 0;
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  size_t cap = 8192, len = 0;
  char *buf = malloc(cap);
  while (buf) {
    if (len + 4096 > cap) {
      char *nb = realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    size_t r = fread(buf + len, 1, cap - len - 1, f);
    if (r == 0) break;
    len += r;
  }
  fclose(f);
  if (buf) buf[len] = '\0';
  return buf;
}

/* Read the JSON lines the binary wrote; fill j->findings and run facts. */
static void read_records(lc_job *j, json_t *run) {
  char *text = slurp(j->records);
  if (!text) return;
  bool checked = false;
  int tests = 0;
  json_t *layers = NULL;
  const char *heap = NULL;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    json_error_t err;
    json_t *rec = json_loads(line, 0, &err);
    if (!rec) continue;
    const char *kind = json_string_value(json_object_get(rec, "record"));
    if (json_integer_value(json_object_get(rec, "pid")) != (json_int_t)j->pid) kind = NULL;
    if (kind && strcmp(kind, "finding") == 0) {
      json_t *f = json_object_get(rec, "finding");
      if (f) {
        json_object_set(f, "scope", json_object_get(rec, "scope"));
        json_array_append(j->findings, f);
      }
    } else if (kind && strcmp(kind, "run") == 0) {
      if (json_is_true(json_object_get(rec, "checked"))) checked = true;
      int t = (int)json_integer_value(json_object_get(rec, "tests_checked"));
      if (t > tests) tests = t;
      if (json_is_true(json_object_get(rec, "checked"))) {
        json_decref(layers);
        layers = json_incref(json_object_get(rec, "layers"));
        heap = json_string_value(json_object_get(rec, "heap_checker"));
        json_object_set_new(run, "heap_checker", json_string(heap ? heap : "none"));
        json_object_set(run, "task_layer", json_object_get(rec, "task_layer"));
      }
      json_object_set(run, "check_scope", json_object_get(rec, "scope"));
    }
    json_decref(rec);
  }
  free(text);
  json_object_set_new(run, "checked", json_boolean(checked));
  json_object_set_new(run, "tests_checked", json_integer(tests));
  json_object_set_new(run, "layers", layers ? layers : json_array());
}

static json_t *finding_to_json(const gort_leakcheck_finding *f) {
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  if (!m) return NULL;
  gort__lc_finding_json(f, m);
  fclose(m);
  json_error_t err;
  json_t *v = json_loads(buf, 0, &err);
  free(buf);
  return v;
}

/* Valgrind's log: heap findings from its exit-time leak check, and its
 * error count. */
static void read_valgrind(lc_job *j, json_t *run) {
  char *text = slurp(j->vglog);
  if (!text) return;
  /* As goleak (and the in-process check): leaks are not judged on a failed
   * run, whose aborted tests left their objects behind. */
  bool failed = !WIFEXITED(j->status) || WEXITSTATUS(j->status) != 0 || j->timed_out;
  gort_leakcheck_report *r = failed ? NULL : gort__lc_report_new();
  if (r) {
    gort__lc_parse_valgrind(text, r);
    for (size_t i = 0; i < r->n; i++) {
      json_t *f = finding_to_json(&r->items[i]);
      if (!f) continue;
      json_object_set_new(f, "scope", json_string("exit"));
      json_array_append_new(j->findings, f);
    }
    gort_leakcheck_report_free(r);
  }
  const char *es = NULL, *p = text;
  while ((p = strstr(p, "ERROR SUMMARY: ")) != NULL) es = p++;
  long errors = es ? strtol(es + 15, NULL, 10) : -1;
  json_object_set_new(run, "valgrind_errors", json_integer(errors));
  /* Heap is covered when Valgrind printed its summary of a run that passed. */
  if (!failed && strstr(text, "HEAP SUMMARY:")) {
    json_t *layers = json_object_get(run, "layers");
    bool have = false;
    size_t i;
    json_t *l;
    json_array_foreach(layers, i, l) have |= strcmp(json_string_value(l), "heap") == 0;
    if (json_is_array(layers) && !have) json_array_append_new(layers, json_string("heap"));
    json_object_set_new(run, "heap_checker", json_string("valgrind"));
  }
  free(text);
}

/* ---- layers that could not be checked: why, and the fix ---- */

static void add_unchecked(json_t *run, const char *layer, const char *why, const char *fix) {
  json_t *u = json_object_get(run, "unchecked");
  if (!u) {
    u = json_array();
    json_object_set_new(run, "unchecked", u);
  }
  json_t *e = json_object();
  json_object_set_new(e, "layer", json_string(layer));
  json_object_set_new(e, "why", json_string(why));
  json_object_set_new(e, "fix", json_string(fix));
  json_array_append_new(u, e);
}

static bool run_has_layer(json_t *run, const char *layer) {
  size_t i;
  json_t *l;
  json_array_foreach(json_object_get(run, "layers"), i, l) if (strcmp(json_string_value(l), layer) == 0) return true;
  return false;
}

/* Why no check ran at all in a run that did not crash or fail. */
static void explain_no_check(const lc_job *j, json_t *run) {
  char why[PATH_MAX + 256];
  const char *fix;
  if (!j->links_leakcheck && !cfg.preload) {
    snprintf(why, sizeof why,
             "the checker library libgort_leakcheck.so was not found (looked next to this command "
             "and in %s/../lib/gort)", self_dir);
    fix = "pass --preload /path/to/libgort_leakcheck.so, or reinstall gort (make install)";
  } else if (!j->links_leakcheck && !gort__lc_elf_is_dynamic(j->argv[0])) {
    snprintf(why, sizeof why, "%s is statically linked, so LD_PRELOAD cannot load the checker",
             j->argv[0]);
    fix = "link it dynamically, or link -lgort_leakcheck into it and return "
          "gort_leakcheck_verify_main(rc, NULL) from main";
  } else {
    snprintf(why, sizeof why,
             "%s ended without running its exit handlers (_exit, quick_exit, exec, or a "
             "signal it handled), so the exit-time check never ran", j->argv[0]);
    fix = "end it with exit() or a return from main, or call gort_leakcheck_verify_main "
          "yourself before it leaves";
  }
  static const char *const all[] = {"task", "thread", "fd", "heap"};
  for (size_t i = 0; i < 4; i++) add_unchecked(run, all[i], why, fix);
}

/* Layers a completed check did not cover. */
static void explain_layers(json_t *run) {
  if (!run_has_layer(run, "heap")) {
    if (cfg.valgrind)
      add_unchecked(run, "heap", "Valgrind printed no leak summary (it did not finish)",
                    "see the program's output above; make the run finish");
    else
      add_unchecked(run, "heap",
                    "the program runs neither under Valgrind nor with LeakSanitizer",
                    "run gort-leakcheck --valgrind PROG, or build PROG with -fsanitize=address "
                    "(or -fsanitize=leak)");
  }
}

static void explain_unchecked(const lc_job *j, json_t *run) {
  bool crashed = WIFSIGNALED(j->status) || j->timed_out;
  bool failed = WIFEXITED(j->status) && WEXITSTATUS(j->status) != 0;
  if (json_is_true(json_object_get(run, "checked")))
    explain_layers(run);
  else if (!crashed && !failed)
    explain_no_check(j, run);
}

static void print_unchecked(json_t *run) {
  size_t i;
  json_t *u;
  json_array_foreach(json_object_get(run, "unchecked"), i, u) {
    printf("leakcheck: %s layer not checked: %s\n", json_string_value(json_object_get(u, "layer")),
           json_string_value(json_object_get(u, "why")));
    printf("leakcheck:   fix: %s\n", json_string_value(json_object_get(u, "fix")));
  }
}

static const char *verdict_of(const lc_job *j, json_t *run) {
  size_t nf = json_array_size(j->findings);
  if (nf > 0) return "leaks";
  if (j->timed_out) return "timeout";
  if (WIFSIGNALED(j->status)) return "crashed";
  if (WIFEXITED(j->status) && WEXITSTATUS(j->status) != 0) return "failed";
  if (!json_is_true(json_object_get(run, "checked"))) return "unchecked";
  return "clean";
}

static void finish_job(lc_job *j) {
  json_t *run = json_object();
  json_object_set_new(run, "binary", json_string(j->argv[0]));
  json_t *args = json_array();
  for (size_t i = 1; j->argv[i]; i++) json_array_append_new(args, json_string(j->argv[i]));
  json_object_set_new(run, "args", args);
  json_object_set_new(run, "mode", json_string(cfg.mode ? cfg.mode : cfg.valgrind ? "valgrind" : "native"));
  json_object_set_new(run, "preloaded", json_boolean(j->preloaded));
  json_object_set_new(run, "duration_ms", json_integer(now_ms() - j->started_ms));
  if (WIFEXITED(j->status))
    json_object_set_new(run, "exit_status", json_integer(WEXITSTATUS(j->status)));
  else if (WIFSIGNALED(j->status))
    json_object_set_new(run, "signal", json_integer(WTERMSIG(j->status)));
  read_records(j, run);
  if (cfg.valgrind) read_valgrind(j, run);
  explain_unchecked(j, run);
  size_t i;
  json_t *f;
  json_array_foreach(j->findings, i, f) {
    json_object_set_new(f, "binary", json_string(j->argv[0]));
    json_object_set(f, "mode", json_object_get(run, "mode"));
  }
  json_object_set_new(run, "findings", json_integer((json_int_t)json_array_size(j->findings)));
  const char *verdict = verdict_of(j, run);
  json_object_set_new(run, "verdict", json_string(verdict));
  j->run = run;
  /* Findings are printed from the records; the output matters when the run
   * failed some other way. */
  bool exited_ok = WIFEXITED(j->status) && WEXITSTATUS(j->status) == 0 && !j->timed_out;
  bool show = cfg.verbose || (strcmp(verdict, "clean") != 0 && !exited_ok);
  if (show) {
    char *out = slurp(j->output);
    if (out && out[0]) {
      printf("---- output of %s ----\n%s", j->argv[0], out);
      if (out[strlen(out) - 1] != '\n') putchar('\n');
      printf("---- end of output ----\n");
    }
    free(out);
  }
  unlink(j->records);
  unlink(j->output);
  if (cfg.valgrind) unlink(j->vglog);
}

/* Run jobs, at most cfg.jobs at once; each ends in finish_job. */
static void run_jobs(lc_job *jobs, size_t n) {
  size_t next = 0, running = 0, done = 0;
  while (done < n) {
    while (running < (size_t)cfg.jobs && next < n) {
      if (start_job(&jobs[next]) != 0) {
        jobs[next].status = 127 << 8;
        finish_job(&jobs[next]);
        done++;
      } else {
        running++;
      }
      next++;
    }
    int64_t t = now_ms();
    for (size_t i = 0; i < next; i++) {
      lc_job *j = &jobs[i];
      if (j->pid <= 0 || j->run) continue;
      int st;
      pid_t r = waitpid(j->pid, &st, WNOHANG);
      if (r == j->pid) {
        j->status = st;
        finish_job(j);
        running--;
        done++;
        continue;
      }
      if (!j->timed_out && t > j->deadline_ms) {
        /* As ci/run-tests.sh: SIGQUIT first (gort prints a task dump). */
        j->timed_out = true;
        kill(-j->pid, SIGQUIT);
        j->deadline_ms = t + 10000;
      } else if (j->timed_out && t > j->deadline_ms) {
        kill(-j->pid, SIGKILL);
      }
    }
    if (done < n) {
      struct timespec ts = {0, 5 * 1000000};
      nanosleep(&ts, NULL);
    }
  }
}

/* ---- printing and the report ---- */

static const char *const kind_headers[][2] = {
    {"task", "found unexpected tasks:"},
    {"thread", "found unexpected threads:"},
    {"fd", "found unexpected file descriptors:"},
    {"heap", "found heap leaks:"},
    {"timer", "found pending timers:"},
};
#define N_KINDS (sizeof kind_headers / sizeof kind_headers[0])

static void print_findings(json_t *findings) {
  for (size_t k = 0; k < N_KINDS; k++) {
    bool header = false;
    size_t i;
    json_t *f;
    json_array_foreach(findings, i, f) {
      const char *kind = json_string_value(json_object_get(f, "kind"));
      if (!kind || strcmp(kind, kind_headers[k][0]) != 0) continue;
      if (!header) printf("leakcheck: %s\n", kind_headers[k][1]);
      header = true;
      const char *test = json_string_value(json_object_get(f, "test"));
      printf("[%s", json_string_value(json_object_get(f, "binary")));
      if (test && test[0]) printf(", test %s", test);
      printf(", %s]\n%s\n", json_string_value(json_object_get(f, "mode")),
             json_string_value(json_object_get(f, "message")));
    }
  }
}

static void summarize(json_t *doc) {
  json_t *runs = json_object_get(doc, "runs"), *findings = json_object_get(doc, "findings");
  json_t *by_kind = json_object();
  for (size_t k = 0; k < N_KINDS; k++) json_object_set_new(by_kind, kind_headers[k][0], json_integer(0));
  size_t i;
  json_t *v;
  json_array_foreach(findings, i, v) {
    const char *kind = json_string_value(json_object_get(v, "kind"));
    if (!kind) continue;
    json_int_t c = json_integer_value(json_object_get(by_kind, kind));
    json_object_set_new(by_kind, kind, json_integer(c + 1));
  }
  size_t failed = 0;
  json_array_foreach(runs, i, v) {
    const char *verdict = json_string_value(json_object_get(v, "verdict"));
    if (verdict && strcmp(verdict, "clean") != 0 && strcmp(verdict, "leaks") != 0) failed++;
  }
  json_t *s = json_object();
  json_object_set_new(s, "runs", json_integer((json_int_t)json_array_size(runs)));
  json_object_set_new(s, "failed_runs", json_integer((json_int_t)failed));
  json_object_set_new(s, "findings", json_integer((json_int_t)json_array_size(findings)));
  json_object_set_new(s, "by_kind", by_kind);
  json_object_set_new(s, "clean", json_boolean(json_array_size(findings) == 0 && failed == 0));
  json_object_set_new(doc, "summary", s);
}

static json_t *new_doc(void) {
  json_t *doc = json_object();
  json_object_set_new(doc, "schema", json_string("gort.leakcheck/1"));
  char when[64];
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  json_object_set_new(doc, "generated_at", json_string(when));
  json_object_set_new(doc, "runs", json_array());
  json_object_set_new(doc, "findings", json_array());
  return doc;
}

static int write_doc(json_t *doc, const char *path) {
  if (!path) return 0;
  char *dir = strdup(path);
  char *slash = dir ? strrchr(dir, '/') : NULL;
  if (slash) {
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) /* mkdir -p */
      if (*p == '/') {
        *p = '\0';
        mkdir(dir, 0755);
        *p = '/';
      }
    mkdir(dir, 0755);
  }
  free(dir);
  if (json_dump_file(doc, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0) {
    fprintf(stderr, "leakcheck: cannot write %s\n", path);
    return -1;
  }
  return 0;
}

static int exit_code_of(json_t *doc) {
  json_t *s = json_object_get(doc, "summary");
  if (json_integer_value(json_object_get(s, "findings")) > 0) return EXIT_LEAKS;
  if (json_integer_value(json_object_get(s, "failed_runs")) > 0) return EXIT_FAILED;
  return 0;
}

static void print_summary(json_t *doc) {
  json_t *s = json_object_get(doc, "summary");
  json_t *k = json_object_get(s, "by_kind");
  size_t i;
  json_t *run;
  json_array_foreach(json_object_get(doc, "runs"), i, run) {
    const char *verdict = json_string_value(json_object_get(run, "verdict"));
    if (cfg.quiet && verdict && strcmp(verdict, "clean") == 0) continue;
    printf("leakcheck: %-7s %s (%s, %lld ms, %lld tests checked, layers:",
           verdict ? verdict : "?", json_string_value(json_object_get(run, "binary")),
           json_string_value(json_object_get(run, "mode")),
           (long long)json_integer_value(json_object_get(run, "duration_ms")),
           (long long)json_integer_value(json_object_get(run, "tests_checked")));
    size_t li;
    json_t *l;
    json_array_foreach(json_object_get(run, "layers"), li, l) printf(" %s", json_string_value(l));
    printf(")\n");
    if (!cfg.quiet || (verdict && strcmp(verdict, "unchecked") == 0)) print_unchecked(run);
  }
  printf("leakcheck: %lld run(s), %lld failed, %lld finding(s): %lld task, %lld thread, %lld fd, "
         "%lld heap, %lld timer\n",
         (long long)json_integer_value(json_object_get(s, "runs")),
         (long long)json_integer_value(json_object_get(s, "failed_runs")),
         (long long)json_integer_value(json_object_get(s, "findings")),
         (long long)json_integer_value(json_object_get(k, "task")),
         (long long)json_integer_value(json_object_get(k, "thread")),
         (long long)json_integer_value(json_object_get(k, "fd")),
         (long long)json_integer_value(json_object_get(k, "heap")),
         (long long)json_integer_value(json_object_get(k, "timer")));
}

static int run_binaries(lc_job *jobs, size_t n) {
  run_jobs(jobs, n);
  json_t *doc = new_doc();
  for (size_t i = 0; i < n; i++) {
    json_array_append_new(json_object_get(doc, "runs"), jobs[i].run);
    json_array_extend(json_object_get(doc, "findings"), jobs[i].findings);
    json_decref(jobs[i].findings);
  }
  summarize(doc);
  print_findings(json_object_get(doc, "findings"));
  print_summary(doc);
  int rc = exit_code_of(doc);
  if (write_doc(doc, cfg.json_out) != 0 && rc == 0) rc = EXIT_FAILED;
  json_decref(doc);
  return rc;
}

/* ---- --merge ---- */

static int merge(const char *out, char **inputs, int n) {
  json_t *doc = new_doc();
  for (int i = 0; i < n; i++) {
    json_error_t err;
    json_t *in = json_load_file(inputs[i], 0, &err);
    if (!in) {
      fprintf(stderr, "leakcheck: %s: %s (line %d)\n", inputs[i], err.text, err.line);
      json_t *run = json_object();
      json_object_set_new(run, "binary", json_string(inputs[i]));
      json_object_set_new(run, "mode", json_string("merge"));
      json_object_set_new(run, "verdict", json_string("missing"));
      json_array_append_new(json_object_get(doc, "runs"), run);
      continue;
    }
    json_array_extend(json_object_get(doc, "runs"), json_object_get(in, "runs"));
    json_array_extend(json_object_get(doc, "findings"), json_object_get(in, "findings"));
    json_decref(in);
  }
  summarize(doc);
  cfg.quiet = true;
  print_summary(doc);
  int rc = exit_code_of(doc);
  if (write_doc(doc, out) != 0 && rc == 0) rc = EXIT_FAILED;
  json_decref(doc);
  return rc;
}

/* ---- --calibrate ---- */

typedef struct {
  char name[64], kind[16], site[128], match[128], mode[16];
} lc_case;

static size_t read_cases(const char *path, lc_case **out) {
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = 0, cap = 16;
  lc_case *v = calloc(cap, sizeof *v);
  char line[512];
  while (v && fgets(line, sizeof line, f)) {
    char *hash = strchr(line, '#');
    if (hash) *hash = '\0';
    lc_case c;
    memset(&c, 0, sizeof c);
    if (sscanf(line, "%63s %15s %127s %127s %15s", c.name, c.kind, c.site, c.match, c.mode) != 5)
      continue;
    if (n == cap) {
      lc_case *nv = realloc(v, 2 * cap * sizeof *v);
      if (!nv) break;
      v = nv;
      cap *= 2;
    }
    v[n++] = c;
  }
  fclose(f);
  *out = v;
  return n;
}

static bool finding_matches(const lc_case *c, json_t *f) {
  const char *kind = json_string_value(json_object_get(f, "kind"));
  if (!kind || strcmp(kind, c->kind) != 0) return false;
  json_t *site = json_object_get(f, "site");
  const char *fn = json_string_value(json_object_get(site, "function"));
  const char *file = json_string_value(json_object_get(site, "file"));
  if (strcmp(c->site, "-") != 0 && (!fn || strcmp(fn, c->site) != 0)) return false;
  if (strcmp(c->match, "-") == 0) return true;
  const char *target = json_string_value(json_object_get(json_object_get(f, "identity"), "target"));
  return (file && strstr(file, c->match)) || (target && strstr(target, c->match));
}

static json_t *short_finding(json_t *f) {
  json_t *s = json_object();
  json_object_set(s, "kind", json_object_get(f, "kind"));
  json_object_set(s, "site", json_object_get(f, "site"));
  json_object_set(s, "identity", json_object_get(f, "identity"));
  json_object_set(s, "state", json_object_get(f, "state"));
  json_object_set(s, "message", json_object_get(f, "message"));
  return s;
}

static int calibrate(const char *cases_path, const char *out) {
  lc_case *cases = NULL;
  size_t n = read_cases(cases_path, &cases);
  if (n == 0 || !cfg.bindir) {
    fprintf(stderr, "leakcheck: no cases in %s (or no --bindir)\n", cases_path);
    return EXIT_USAGE;
  }
  json_t *doc = json_object(), *jcases = json_array();
  json_object_set_new(doc, "schema", json_string("gort.leakcheck-calibration/1"));
  json_object_set_new(doc, "runs_per_twin", json_integer(cfg.runs));
  size_t found_count = 0, twin_runs = 0, false_alarms = 0;
  bool quiet = cfg.quiet;
  for (size_t i = 0; i < n; i++) {
    const lc_case *c = &cases[i];
    cfg.valgrind = strcmp(c->mode, "valgrind") == 0;
    cfg.mode = c->mode;
    cfg.quiet = true;
    char leaky[PATH_MAX], fixed[PATH_MAX];
    snprintf(leaky, sizeof leaky, "%s/%s", cfg.bindir, c->name);
    snprintf(fixed, sizeof fixed, "%s/%s_fixed", cfg.bindir, c->name);
    char *largv[2] = {leaky, NULL}, *fargv[2] = {fixed, NULL};
    /* The leak, once. */
    lc_job lj;
    memset(&lj, 0, sizeof lj);
    lj.argv = largv;
    run_jobs(&lj, 1);
    json_t *jc = json_object();
    json_object_set_new(jc, "name", json_string(c->name));
    json_object_set_new(jc, "mode", json_string(c->mode));
    json_t *exp = json_object();
    json_object_set_new(exp, "kind", json_string(c->kind));
    json_object_set_new(exp, "site", json_string(c->site));
    json_object_set_new(exp, "match", json_string(c->match));
    json_object_set_new(jc, "expected", exp);
    json_t *found = json_array();
    bool hit = false, right_kind = false;
    size_t k;
    json_t *f;
    json_array_foreach(lj.findings, k, f) {
      json_array_append_new(found, short_finding(f));
      const char *kind = json_string_value(json_object_get(f, "kind"));
      if (kind && strcmp(kind, c->kind) == 0) right_kind = true;
      if (finding_matches(c, f)) hit = true;
    }
    json_object_set_new(jc, "found", found);
    json_object_set_new(jc, "verdict",
                        json_string(hit ? "found" : right_kind ? "wrong-site" : "missed"));
    found_count += hit;
    printf("calibrate: %-20s %-8s %s\n", c->name, c->kind,
           hit ? "found" : right_kind ? "WRONG SITE" : "MISSED");
    if (!hit) print_findings(lj.findings);
    json_decref(lj.findings);
    json_decref(lj.run);
    /* The fixed twin, cfg.runs times. */
    lc_job *tj = calloc((size_t)cfg.runs, sizeof *tj);
    if (!tj) return EXIT_FAILED;
    for (int r = 0; r < cfg.runs; r++) tj[r].argv = fargv;
    run_jobs(tj, (size_t)cfg.runs);
    size_t clean = 0;
    json_t *alarms = json_array();
    for (int r = 0; r < cfg.runs; r++) {
      const char *verdict = json_string_value(json_object_get(tj[r].run, "verdict"));
      if (verdict && strcmp(verdict, "clean") == 0) {
        clean++;
      } else {
        json_t *a = json_object();
        json_object_set_new(a, "run", json_integer(r));
        json_object_set_new(a, "verdict", json_string(verdict ? verdict : "?"));
        json_t *fs = json_array();
        json_array_foreach(tj[r].findings, k, f) json_array_append_new(fs, short_finding(f));
        json_object_set_new(a, "findings", fs);
        json_array_append_new(alarms, a);
        if (json_array_size(alarms) == 1) print_findings(tj[r].findings);
      }
      json_decref(tj[r].findings);
      json_decref(tj[r].run);
    }
    free(tj);
    twin_runs += (size_t)cfg.runs;
    false_alarms += (size_t)cfg.runs - clean;
    json_t *twin = json_object();
    json_object_set_new(twin, "runs", json_integer(cfg.runs));
    json_object_set_new(twin, "clean", json_integer((json_int_t)clean));
    json_object_set_new(twin, "false_alarms", json_integer(cfg.runs - (json_int_t)clean));
    json_object_set_new(twin, "alarms", alarms);
    json_object_set_new(jc, "twin", twin);
    printf("calibrate: %-20s fixed twin clean in %zu/%d runs\n", c->name, clean, cfg.runs);
    json_array_append_new(jcases, jc);
  }
  cfg.quiet = quiet;
  json_object_set_new(doc, "cases", jcases);
  json_t *s = json_object();
  json_object_set_new(s, "leaks", json_integer((json_int_t)n));
  json_object_set_new(s, "found", json_integer((json_int_t)found_count));
  json_object_set_new(s, "found_pct", json_real(100.0 * (double)found_count / (double)n));
  json_object_set_new(s, "twin_runs", json_integer((json_int_t)twin_runs));
  json_object_set_new(s, "false_alarms", json_integer((json_int_t)false_alarms));
  bool pass = found_count == n && false_alarms == 0;
  json_object_set_new(s, "pass", json_boolean(pass));
  json_object_set_new(doc, "summary", s);
  printf("calibrate: %zu/%zu leaks found (%.0f%%), %zu false alarm(s) in %zu fixed-twin runs: %s\n",
         found_count, n, 100.0 * (double)found_count / (double)n, false_alarms, twin_runs,
         pass ? "PASS" : "FAIL");
  int rc = pass ? 0 : EXIT_LEAKS;
  if (write_doc(doc, out) != 0 && rc == 0) rc = EXIT_FAILED;
  json_decref(doc);
  free(cases);
  return rc;
}

/* ---- main ---- */

static void usage(FILE *out) {
  fprintf(out,
          "usage: leakcheck [options] [--] BINARY [ARGS...]\n"
          "       leakcheck [options] --each BINARY...\n"
          "       leakcheck --merge OUT.json IN.json...\n"
          "       leakcheck [options] --calibrate CASES --bindir DIR [--runs N]\n"
          "options:\n"
          "  --json FILE     write the JSON report (schema gort.leakcheck/1)\n"
          "  --valgrind      run under Valgrind memcheck (heap layer from its leak check)\n"
          "  --preload LIB   library to preload into binaries that do not link leakcheck\n"
          "                  (default: libgort_leakcheck.so next to this command)\n"
          "  --mode NAME     label the runs (default native, or valgrind)\n"
          "  --timeout S     per-binary timeout in seconds (300; 900 under Valgrind)\n"
          "  -j N            run N binaries at once\n"
          "  -v / -q         show every binary's output / only failures\n"
          "exit status: 0 clean, 1 leaks, 2 could not check (a run failed, no check ran, bad usage)\n");
}

/* A whole number >= min, or one line on stderr. */
static bool count_arg(const char *opt, const char *text, int min, int *out) {
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno || end == text || *end || v < min || v > INT_MAX) {
    fprintf(stderr, "gort-leakcheck: %s wants a whole number >= %d, not \"%s\"\n", opt, min, text);
    return false;
  }
  *out = (int)v;
  return true;
}

/* Bad command lines get one line (getopt has said what was wrong). */
static void one_line_usage(void) {
  fprintf(stderr, "usage: gort-leakcheck [options] [--] PROGRAM [ARGS...] (--help for more)\n");
}

int main(int argc, char **argv) {
  enum { O_JSON = 256, O_VALGRIND, O_PRELOAD, O_MODE, O_TIMEOUT, O_EACH, O_MERGE, O_CALIBRATE,
         O_BINDIR, O_RUNS };
  static const struct option longopts[] = {
      {"json", required_argument, NULL, O_JSON},
      {"valgrind", no_argument, NULL, O_VALGRIND},
      {"preload", required_argument, NULL, O_PRELOAD},
      {"mode", required_argument, NULL, O_MODE},
      {"timeout", required_argument, NULL, O_TIMEOUT},
      {"each", no_argument, NULL, O_EACH},
      {"merge", required_argument, NULL, O_MERGE},
      {"calibrate", required_argument, NULL, O_CALIBRATE},
      {"bindir", required_argument, NULL, O_BINDIR},
      {"runs", required_argument, NULL, O_RUNS},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  bool each = false;
  const char *merge_out = NULL, *cases = NULL;
  int c;
  /* '+': stop at the first non-option, so the binary's own args pass. */
  while ((c = getopt_long(argc, argv, "+j:vqh", longopts, NULL)) != -1) {
    switch (c) {
      case O_JSON: cfg.json_out = optarg; break;
      case O_VALGRIND: cfg.valgrind = true; break;
      case O_PRELOAD: cfg.preload = optarg; break;
      case O_MODE: cfg.mode = optarg; break;
      case O_TIMEOUT: if (!count_arg("--timeout", optarg, 0, &cfg.timeout_s)) return EXIT_USAGE; break;
      case O_EACH: each = true; break;
      case O_MERGE: merge_out = optarg; break;
      case O_CALIBRATE: cases = optarg; break;
      case O_BINDIR: cfg.bindir = optarg; break;
      case O_RUNS: if (!count_arg("--runs", optarg, 1, &cfg.runs)) return EXIT_USAGE; break;
      case 'j': if (!count_arg("-j", optarg, 1, &cfg.jobs)) return EXIT_USAGE; break;
      case 'v': cfg.verbose = true; break;
      case 'q': cfg.quiet = true; break;
      case 'h': usage(stdout); return 0;
      default: one_line_usage(); return EXIT_USAGE;
    }
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (merge_out) return merge(merge_out, argv + optind, argc - optind);
  find_self_dir();
  static char preload[PATH_MAX + 32];
  if (!cfg.preload) {
    /* Next to the command in the build tree, in ../lib/gort once installed. */
    static const char *const where[] = {"%s/libgort_leakcheck.so", "%s/../lib/gort/libgort_leakcheck.so"};
    for (size_t i = 0; i < 2 && !cfg.preload; i++) {
      char candidate[PATH_MAX + 32];
      snprintf(candidate, sizeof candidate, where[i], self_dir);
      if (access(candidate, R_OK) == 0 && realpath(candidate, preload) != NULL) cfg.preload = preload;
    }
  } else if (cfg.preload[0] != '/') {
    /* LD_PRELOAD wants a path the child can find from anywhere. */
    if (realpath(cfg.preload, preload)) cfg.preload = preload;
  }
  if (cases) return calibrate(cases, cfg.json_out);
  if (optind >= argc) {
    one_line_usage();
    return EXIT_USAGE;
  }
  size_t n = each ? (size_t)(argc - optind) : 1;
  lc_job *jobs = calloc(n, sizeof *jobs);
  char ***argvs = calloc(n, sizeof *argvs);
  if (!jobs || !argvs) return EXIT_FAILED;
  for (size_t i = 0; i < n; i++) {
    if (each) {
      argvs[i] = calloc(2, sizeof(char *));
      if (!argvs[i]) return EXIT_FAILED;
      argvs[i][0] = argv[optind + (int)i];
      jobs[i].argv = argvs[i];
    } else {
      jobs[i].argv = argv + optind;
    }
  }
  int rc = run_binaries(jobs, n);
  for (size_t i = 0; i < n; i++) free(argvs[i]);
  free(argvs);
  free(jobs);
  return rc;
}
