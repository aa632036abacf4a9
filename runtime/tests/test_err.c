/* test_err.c - the error table, gort_strerror/gort_err_name, the misuse
 * classification and the misuse switch (mode + hook).
 *
 * The expected values come from err.h's own X-macro table, so a code added to
 * the table is checked without touching this file.
 */
#include "support/gort_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gort/gort.h"

typedef struct {
  int code;
  const char *name;
  const char *msg;
} err_row;

static const err_row rows[] = {
#define ROW(name, value, msg) {(value), "GORT_" #name, (msg)},
    GORT_ERRNO_MAP(ROW)
#undef ROW
};
#define NROWS (sizeof rows / sizeof rows[0])

static void err_table_messages_and_names(void **state) {
  (void)state;
  for (size_t i = 0; i < NROWS; i++) {
    assert_string_equal(gort_strerror(rows[i].code), rows[i].msg);
    assert_string_equal(gort_err_name(rows[i].code), rows[i].name);
  }
}

static void err_table_distinct(void **state) {
  (void)state;
  for (size_t i = 0; i < NROWS; i++) {
    for (size_t j = i + 1; j < NROWS; j++) {
      assert_int_not_equal(rows[i].code, rows[j].code);
      assert_string_not_equal(gort_strerror(rows[i].code), gort_strerror(rows[j].code));
      assert_string_not_equal(gort_err_name(rows[i].code), gort_err_name(rows[j].code));
    }
  }
}

static void err_codes_are_zero_or_negative(void **state) {
  (void)state;
  assert_int_equal(GORT_OK, 0);
  for (size_t i = 0; i < NROWS; i++) assert_true(rows[i].code <= 0);
}

static bool in_table(int code) {
  for (size_t i = 0; i < NROWS; i++)
    if (rows[i].code == code) return true;
  return false;
}

static void err_unknown_code(void **state) {
  (void)state;
  const int unknown[] = {-999, -30, -31, -100000, 7};
  for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    int code = unknown[i];
    assert_false(in_table(code));
    char want[64];
    snprintf(want, sizeof want, "unknown error %d", code);
    const char *msg = gort_strerror(code);
    assert_non_null(msg);
    assert_string_equal(msg, want);
    assert_string_equal(gort_err_name(code), "GORT_UNKNOWN");
    assert_false(gort_is_misuse(code));
  }
}

/* Go panics on exactly these: the table's "misuse" block, codes -32 and
 * below. */
static bool expect_misuse(int code) { return code <= -32; }

static void err_is_misuse(void **state) {
  (void)state;
  for (size_t i = 0; i < NROWS; i++) {
    if (expect_misuse(rows[i].code))
      assert_true(gort_is_misuse(rows[i].code));
    else
      assert_false(gort_is_misuse(rows[i].code));
  }
  /* Spelled out, in case the table changes shape. */
  assert_false(gort_is_misuse(GORT_OK));
  assert_false(gort_is_misuse(GORT_EAGAIN));
  assert_false(gort_is_misuse(GORT_ECLOSED));
  assert_false(gort_is_misuse(GORT_EDEADLOCK));
  assert_true(gort_is_misuse(GORT_ESENDCLOSED));
  assert_true(gort_is_misuse(GORT_ECLOSECLOSED));
}

static void err_misuse_messages_are_gos(void **state) {
  (void)state;
  assert_string_equal(gort_strerror(GORT_ESENDCLOSED), "send on closed channel");
  assert_string_equal(gort_strerror(GORT_ECLOSECLOSED), "close of closed channel");
  assert_string_equal(gort_strerror(GORT_ECLOSENIL), "close of nil channel");
  assert_string_equal(gort_strerror(GORT_ENEGWG), "sync: negative WaitGroup counter");
  assert_string_equal(gort_strerror(GORT_EDEADLOCK), "all tasks are asleep - deadlock!");
}

static void err_misuse_mode_switch(void **state) {
  (void)state;
  gort_misuse_mode start = gort_get_misuse_mode();
  assert_int_equal(start, GORT_MISUSE_ABORT); /* tests run without GORT_MISUSE */
  assert_int_equal(gort_set_misuse_mode(GORT_MISUSE_RETURN), GORT_MISUSE_ABORT);
  assert_int_equal(gort_get_misuse_mode(), GORT_MISUSE_RETURN);
  assert_int_equal(gort_set_misuse_mode(GORT_MISUSE_ABORT), GORT_MISUSE_RETURN);
  assert_int_equal(gort_get_misuse_mode(), GORT_MISUSE_ABORT);
}

/* A hook that records everything it sees. */
typedef struct {
  int calls;
  int code;
  char msg[128];
  uint64_t task;
  void *arg;
} hook_log;

static void record_hook(int code, const char *message, void *arg) {
  hook_log *log = arg;
  log->calls++;
  log->code = code;
  snprintf(log->msg, sizeof log->msg, "%s", message ? message : "(null)");
  log->task = gort_task_id();
  log->arg = arg;
}

static void err_misuse_hook_gets_code_and_message(void **state) {
  (void)state;
  hook_log log = {0};
  gort_set_misuse_hook(record_hook, &log);
  gort_set_misuse_mode(GORT_MISUSE_RETURN);

  gort_chan *c = NULL;
  assert_int_equal(gort_chan_make(&c, sizeof(int), 0), 0);
  assert_int_equal(gort_chan_close(c), 0);
  assert_int_equal(log.calls, 0); /* a first close is no misuse */
  assert_int_equal(gort_chan_close(c), GORT_ECLOSECLOSED);
  assert_int_equal(log.calls, 1);
  assert_int_equal(log.code, GORT_ECLOSECLOSED);
  assert_string_equal(log.msg, "close of closed channel");
  assert_ptr_equal(log.arg, &log);
  assert_int_equal(log.task, gort_task_id()); /* called on the misusing task */

  assert_int_equal(gort_chan_send(c, &(int){1}), GORT_ESENDCLOSED);
  assert_int_equal(log.calls, 2);
  assert_string_equal(log.msg, "send on closed channel");

  assert_int_equal(gort_chan_close(NULL), GORT_ECLOSENIL);
  assert_int_equal(log.calls, 3);
  assert_string_equal(log.msg, "close of nil channel");

  /* Removing the hook: misuse still returns its code, nothing is called. */
  gort_set_misuse_hook(NULL, NULL);
  assert_int_equal(gort_chan_close(c), GORT_ECLOSECLOSED);
  assert_int_equal(log.calls, 3);

  gort_chan_release(c);
  gort_test_misuse_abort_mode();
}

static void close_twice(void *arg) {
  (void)arg;
  gort_chan *c = NULL;
  if (gort_chan_make(&c, 1, 0) != 0) return;
  gort_chan_close(c);
  gort_chan_close(c);
}

static void err_misuse_abort_prints_panic(void **state) {
  (void)state;
  gort_runtime_quiesce();
  assert_true(gort_test_child_aborts(close_twice, NULL, "panic: close of closed channel"));
}

/* Support helper check: the return-mode counter counts each misuse. */
static void err_support_return_mode_counts(void **state) {
  (void)state;
  int *calls = gort_test_misuse_return_mode();
  assert_int_equal(*calls, 0);
  assert_int_equal(gort_chan_close(NULL), GORT_ECLOSENIL);
  assert_int_equal(*calls, 1);
  assert_int_equal(gort_test_misuse_last(), GORT_ECLOSENIL);
  gort_test_misuse_abort_mode();
  assert_int_equal(gort_get_misuse_mode(), GORT_MISUSE_ABORT);
}

/* GORT_ERR_GO_MAP: every row is a code of the table; exactly its fatal
 * rows are fatal; gort_errmsg falls back to the fixed message when the
 * calling task's last error was another code. */
static void err_go_reports(void **state) {
  (void)state;
  static const struct {
    int code;
    int fatal;
  } go[] = {
#define GO_ROW(name, fatal, format) {GORT_##name, (fatal)},
      GORT_ERR_GO_MAP(GO_ROW)
#undef GO_ROW
  };
  for (size_t i = 0; i < sizeof go / sizeof go[0]; i++) {
    assert_true(in_table(go[i].code));
    assert_int_equal(gort_is_fatal(go[i].code), go[i].fatal);
  }
  assert_true(gort_is_fatal(GORT_EUNLOCK));
  assert_false(gort_is_fatal(GORT_ECLOSECLOSED));
  assert_false(gort_is_fatal(GORT_OK));
  for (size_t i = 0; i < NROWS; i++)
    assert_string_equal(gort_errmsg(rows[i].code), gort_strerror(rows[i].code));
  assert_string_equal(gort_errmsg(-999), "unknown error -999");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(err_go_reports),
    cmocka_unit_test(err_table_messages_and_names),
    cmocka_unit_test(err_table_distinct),
    cmocka_unit_test(err_codes_are_zero_or_negative),
    cmocka_unit_test(err_unknown_code),
    cmocka_unit_test(err_is_misuse),
    cmocka_unit_test(err_misuse_messages_are_gos),
    cmocka_unit_test(err_misuse_mode_switch),
    cmocka_unit_test(err_misuse_hook_gets_code_and_message),
    cmocka_unit_test(err_misuse_abort_prints_panic),
    cmocka_unit_test(err_support_return_mode_counts),
};

GORT_TEST_MAIN(tests)
