/* test_lc_parse.c - leakcheck's parsers against golden data
 * (leakcheck/tests/golden): /proc stat and fdinfo, fd link targets,
 * LeakSanitizer reports (gcc, clang, ASan), Valgrind logs; ELF files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lc_internal.h"
#include "support/gort_test.h"

static char *golden(const char *name) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", LEAKCHECK_GOLDEN_DIR, name);
  FILE *f = fopen(path, "r");
  if (!f) fail_msg("cannot open golden file %s", path);
  char *buf = malloc(65536);
  assert_non_null(buf);
  size_t n = fread(buf, 1, 65535, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

static void stat_running(void **state) {
  (void)state;
  char *text = golden("stat_running.txt");
  gort__lc_thread t;
  assert_int_equal(gort__lc_parse_stat(text, &t), 0);
  assert_int_equal(t.tid, 13516);
  assert_string_equal(t.comm, "cat");
  assert_int_equal(t.state, 'R');
  assert_int_equal(t.starttime, 108774);
  assert_false(t.exiting); /* flags 0x400000: PF_RANDOMIZE only */
  assert_string_equal(gort__lc_thread_state_name(t.state), "running");
  free(text);
}

static void stat_kernel_thread(void **state) {
  (void)state;
  char *text = golden("stat_kthread.txt");
  gort__lc_thread t;
  assert_int_equal(gort__lc_parse_stat(text, &t), 0);
  assert_int_equal(t.tid, 2);
  assert_string_equal(t.comm, "kthreadd");
  assert_int_equal(t.state, 'S');
  assert_int_equal(t.starttime, 24);
  free(text);
}

static void stat_comm_with_parens_and_spaces(void **state) {
  (void)state;
  char *text = golden("stat_comm_parens.txt");
  gort__lc_thread t;
  assert_int_equal(gort__lc_parse_stat(text, &t), 0);
  assert_string_equal(t.comm, "we(ird) )name");
  assert_int_equal(t.state, 'S');
  assert_int_equal(t.starttime, 99887766);
  free(text);
  text = golden("stat_comm_space.txt");
  assert_int_equal(gort__lc_parse_stat(text, &t), 0);
  assert_string_equal(t.comm, "gort worker");
  assert_int_equal(t.state, 't');
  assert_int_equal(t.starttime, 5);
  assert_string_equal(gort__lc_thread_state_name(t.state), "tracing stop");
  free(text);
}

/* A task thread of gort's under ASan, in disk sleep inside exit: flags
 * 0x400044 carry PF_EXITING (0x4), so it is never a leak. */
static void stat_exiting_thread(void **state) {
  (void)state;
  char *text = golden("stat_exiting.txt");
  gort__lc_thread t;
  assert_int_equal(gort__lc_parse_stat(text, &t), 0);
  assert_int_equal(t.tid, 28841);
  assert_int_equal(t.state, 'D');
  assert_true(t.exiting);
  assert_int_equal(t.starttime, 5531209);
  free(text);
}

static void stat_malformed(void **state) {
  (void)state;
  gort__lc_thread t;
  assert_int_equal(gort__lc_parse_stat("", &t), -1);
  assert_int_equal(gort__lc_parse_stat("garbage", &t), -1);
  assert_int_equal(gort__lc_parse_stat("12 (x", &t), -1);
  assert_int_equal(gort__lc_parse_stat("12 (x) ", &t), -1);
  assert_int_equal(gort__lc_parse_stat("12 (x) S 1 2 3", &t), -1); /* no field 22 */
}

static void stat_of_this_thread(void **state) {
  (void)state;
  pid_t *tids;
  size_t n;
  assert_int_equal(gort__lc_list_tids(&tids, &n), 0);
  assert_true(n >= 1);
  bool found = false;
  for (size_t i = 0; i < n; i++) found |= tids[i] == getpid();
  assert_true(found);
  free(tids);
  gort__lc_thread t;
  assert_int_equal(gort__lc_read_thread(getpid(), &t), 0);
  assert_int_equal(t.tid, getpid());
  assert_true(t.starttime > 0);
}

static void fd_targets(void **state) {
  (void)state;
  char *text = golden("fd_targets.tsv");
  int lines = 0;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    char *tab = strchr(line, '\t');
    assert_non_null(tab);
    *tab = '\0';
    if (strcmp(gort__lc_fd_type(line), tab + 1) != 0)
      fail_msg("%s: got %s, want %s", line, gort__lc_fd_type(line), tab + 1);
    lines++;
  }
  assert_int_equal(lines, 11);
  free(text);
}

static void fdinfo(void **state) {
  (void)state;
  static const struct {
    const char *file;
    long long pos;
    unsigned flags;
    const char *access;
  } cases[] = {
      {"fdinfo_pipe_write.txt", 0, 02000001, "write end"},
      {"fdinfo_file_read.txt", 6, 0100000, "read end"},
      {"fdinfo_eventfd_rw.txt", 0, 02004002, "read-write"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *text = golden(cases[i].file);
    long long pos = -1;
    unsigned flags = 0;
    assert_int_equal(gort__lc_parse_fdinfo(text, &pos, &flags), 0);
    assert_int_equal(pos, cases[i].pos);
    assert_int_equal(flags, cases[i].flags);
    assert_string_equal(gort__lc_fd_access(flags), cases[i].access);
    free(text);
  }
  long long pos;
  unsigned flags;
  assert_int_equal(gort__lc_parse_fdinfo("mnt_id: 3\n", &pos, &flags), -1);
}

static gort_leakcheck_report *parse_lsan(const char *file, size_t want) {
  char *text = golden(file);
  gort_leakcheck_report *r = gort__lc_report_new();
  assert_non_null(r);
  assert_int_equal(gort__lc_parse_lsan(text, r), want);
  assert_int_equal(gort_leakcheck_report_count(r), want);
  free(text);
  return r;
}

static void lsan_gcc(void **state) {
  (void)state;
  gort_leakcheck_report *r = parse_lsan("lsan_gcc.txt", 1);
  const gort_leakcheck_finding *f = gort_leakcheck_report_finding(r, 0);
  assert_int_equal(f->kind, GORT_LEAK_HEAP);
  assert_string_equal(f->name, "lsan");
  assert_string_equal(f->state, "Direct leak");
  assert_int_equal(f->bytes, 4096);
  assert_int_equal(f->objects, 1);
  assert_int_equal(f->n_frames, 2);
  assert_string_equal(f->frames[0].function, "__interceptor_malloc");
  assert_string_equal(f->site_function, "make_buffer");
  assert_string_equal(f->site_file, "/tmp/lcg/heap_malloc.c");
  assert_int_equal(f->site_line, 15);
  gort_leakcheck_report_free(r);
}

static void lsan_clang_columns_and_modules(void **state) {
  (void)state;
  gort_leakcheck_report *r = parse_lsan("lsan_clang.txt", 1);
  const gort_leakcheck_finding *f = gort_leakcheck_report_finding(r, 0);
  assert_string_equal(f->frames[0].object, "h_clang");
  assert_string_equal(f->frames[0].file, "");
  assert_string_equal(f->site_function, "make_buffer");
  assert_string_equal(f->site_file, "/tmp/lcg/heap_malloc.c");
  assert_int_equal(f->site_line, 15); /* file:line:column */
  gort_leakcheck_report_free(r);
}

static void lsan_direct_and_indirect(void **state) {
  (void)state;
  gort_leakcheck_report *r = parse_lsan("lsan_asan_indirect.txt", 2);
  const gort_leakcheck_finding *d = gort_leakcheck_report_finding(r, 0);
  const gort_leakcheck_finding *i = gort_leakcheck_report_finding(r, 1);
  assert_string_equal(d->state, "Direct leak");
  assert_string_equal(i->state, "Indirect leak");
  assert_int_equal(d->bytes, 32);
  assert_int_equal(d->n_frames, 5);
  assert_int_equal(i->n_frames, 5);
  assert_string_equal(d->site_function, "make_list");
  assert_int_equal(d->site_line, 4);
  assert_string_equal(i->site_function, "make_list");
  assert_int_equal(i->site_line, 5);
  assert_string_equal(i->frames[4].object, "libc.so.6");
  gort_leakcheck_report_free(r);
}

static gort_leakcheck_report *parse_vg(const char *file, size_t want) {
  char *text = golden(file);
  gort_leakcheck_report *r = gort__lc_report_new();
  assert_non_null(r);
  assert_int_equal(gort__lc_parse_valgrind(text, r), want);
  free(text);
  return r;
}

static void valgrind_exit_records(void **state) {
  (void)state;
  gort_leakcheck_report *r = parse_vg("valgrind_exit.txt", 2);
  const gort_leakcheck_finding *ind = gort_leakcheck_report_finding(r, 0);
  const gort_leakcheck_finding *def = gort_leakcheck_report_finding(r, 1);
  assert_string_equal(ind->state, "indirectly lost");
  assert_int_equal(ind->bytes, 32);
  assert_string_equal(ind->frames[0].function, "calloc");
  assert_string_equal(ind->frames[0].object, "vgpreload_memcheck-amd64-linux.so");
  assert_string_equal(ind->site_function, "make_list");
  assert_string_equal(ind->site_file, "two.c");
  assert_int_equal(ind->site_line, 5);
  assert_string_equal(def->state, "definitely lost");
  assert_int_equal(def->bytes, 64); /* 32 direct + 32 indirect */
  assert_int_equal(def->objects, 1);
  assert_int_equal(def->n_frames, 4);
  assert_string_equal(def->site_function, "make_list");
  assert_int_equal(def->site_line, 4);
  gort_leakcheck_report_free(r);
}

static void valgrind_only_the_exit_check_counts(void **state) {
  (void)state;
  /* The log holds an in-process check's records, then the exit check's. */
  gort_leakcheck_report *r = parse_vg("valgrind_inprocess.txt", 1);
  const gort_leakcheck_finding *f = gort_leakcheck_report_finding(r, 0);
  assert_int_equal(f->bytes, 100);
  assert_string_equal(f->site_function, "early");
  assert_string_equal(f->site_file, "inproc.c");
  assert_int_equal(f->site_line, 3);
  gort_leakcheck_report_free(r);
  r = gort__lc_report_new();
  assert_int_equal(gort__lc_parse_valgrind("==1== no summary: the process crashed\n", r), 0);
  gort_leakcheck_report_free(r);
}

static void elf_symbols(void **state) {
  (void)state;
  char exe[1024];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  assert_true(n > 0);
  exe[n] = '\0';
  assert_true(gort__lc_elf_has_symbol(exe, "gort__lc_parse_stat"));
  assert_true(gort__lc_elf_has_symbol(exe, "stat_running")); /* static: .symtab */
  assert_false(gort__lc_elf_has_symbol(exe, "no_such_symbol_anywhere"));
  assert_false(gort__lc_elf_has_symbol("/nonexistent", "main"));
  char name[128];
  assert_true(gort__lc_function_name((void *)stat_running, name, sizeof name));
  assert_string_equal(name, "stat_running");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(stat_running),
    cmocka_unit_test(stat_kernel_thread),
    cmocka_unit_test(stat_comm_with_parens_and_spaces),
    cmocka_unit_test(stat_exiting_thread),
    cmocka_unit_test(stat_malformed),
    cmocka_unit_test(stat_of_this_thread),
    cmocka_unit_test(fd_targets),
    cmocka_unit_test(fdinfo),
    cmocka_unit_test(lsan_gcc),
    cmocka_unit_test(lsan_clang_columns_and_modules),
    cmocka_unit_test(lsan_direct_and_indirect),
    cmocka_unit_test(valgrind_exit_records),
    cmocka_unit_test(valgrind_only_the_exit_check_counts),
    cmocka_unit_test(elf_symbols),
};

GORT_TEST_MAIN(tests)
