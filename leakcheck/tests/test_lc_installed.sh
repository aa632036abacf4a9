#!/usr/bin/env bash
# test_lc_installed.sh SRCDIR CC - the installed gort-leakcheck, tested from
# outside (run by test_lc_installed.c, so make test and the sweeps see it as
# one more test binary).
#
# `make install PREFIX=<empty dir>` with nothing else, then plain C programs
# that never heard of gort (built here with the system compiler, no gort
# header or library): one leaks a blocked thread, one an fd, one a heap
# block (checked with --valgrind, and in an ASan build); each must get its verdict (exit 1, the
# leak named with its function and file:line) and its fixed twin must be
# clean (exit 0). Layers that cannot be checked must say why and the fix,
# and a run nothing could check must exit 2. Exit status: 0 when every case
# passed.
set -uo pipefail
src=$1
cc=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/gort-lc-installed-XXXXXX")
trap 'rm -rf "$work"' EXIT
passed=0 failed=0 failures=()

run_case() { # name function...: the function's status is the case's
  local name=$1
  shift
  echo "[ RUN      ] $name"
  if "$@" >"$work/$name.log" 2>&1; then
    echo "[       OK ] $name"
    passed=$((passed + 1))
  else
    sed 's/^/    /' "$work/$name.log"
    echo "[  FAILED  ] $name"
    failed=$((failed + 1))
    failures+=("$name")
  fi
}

# expect STATUS PATTERN... -- ARGS: run gort-leakcheck ARGS, want STATUS and
# every PATTERN (grep -E) in its output.
expect() {
  local want=$1
  shift
  local patterns=()
  while [[ $1 != -- ]]; do patterns+=("$1"); shift; done
  shift
  local out=$work/out.txt
  "$work/prefix/bin/gort-leakcheck" "$@" >"$out" 2>&1
  local got=$?
  cat "$out"
  if ((got != want)); then
    echo "want exit $want, got $got: gort-leakcheck $*"
    return 1
  fi
  for p in "${patterns[@]}"; do
    if ! grep -Eq -- "$p" "$out"; then
      echo "missing /$p/ in the output of: gort-leakcheck $*"
      return 1
    fi
  done
}

build() { # name source [cc flags...]: a leaky build and a fixed twin
  local name=$1 file=$2
  shift 2
  "$cc" -std=c11 -g -O1 -pthread "$@" "$work/$file" -o "$work/$name" &&
    "$cc" -std=c11 -g -O1 -pthread -DFIXED "$@" "$work/$file" -o "$work/${name}_fixed"
}

# ---- the plain programs ----
cat >"$work/thread.c" <<'EOF'
#include <pthread.h>
#ifndef EXIT_STATUS
#define EXIT_STATUS 0
#endif
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int go;
static void *blocked_worker(void *arg) {
  pthread_mutex_lock(&mu);
  while (!go) pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  return arg;
}
int main(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, blocked_worker, NULL) != 0) return 3;
#ifdef FIXED
  pthread_mutex_lock(&mu);
  go = 1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  pthread_join(t, NULL);
#endif
  return EXIT_STATUS;
}
EOF
cat >"$work/fd.c" <<'EOF'
#include <fcntl.h>
#include <unistd.h>
int main(int argc, char **argv) {
  int fd = open(argc > 1 ? argv[1] : "/dev/null", O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd < 0 || write(fd, "log\n", 4) != 4) return 3;
#ifdef FIXED
  close(fd);
#endif
  return 0;
}
EOF
cat >"$work/heap.c" <<'EOF'
#include <stdlib.h>
#include <string.h>
static char *volatile published; /* keeps the malloc from being optimised out */
__attribute__((noinline)) static char *make_buffer(size_t n) {
  char *b = malloc(n);
  if (b) memset(b, 'x', n);
  published = b;
  return b;
}
__attribute__((noinline)) static int use_buffer(void) {
  char *b = make_buffer(4096);
  int ok = b && b[4095] == 'x';
  published = NULL;
#ifdef FIXED
  free(b);
#endif
  return ok ? 0 : 3;
}
__attribute__((noinline)) static void scrub_stack(void) { /* no stale copy of b */
  volatile char pad[16384];
  for (size_t i = 0; i < sizeof pad; i++) pad[i] = 0;
}
int main(void) {
  int rc = use_buffer();
  scrub_stack();
  return rc;
}
EOF
cat >"$work/cmocka_user.c" <<'EOF'
#include <gort/gort.h>
#include <gort/leakcheck_cmocka.h>
static void blocked(void *arg) { gort_chan_recv(arg, NULL, NULL); }
static void leaves_a_task(void **state) {
  (void)state;
  gort_chan *c;
  gort_chan_make(&c, 1, 0);
  gort_go(blocked, c);
}
static void clean(void **state) { (void)state; }
static const struct CMUnitTest tests[] = {
    cmocka_unit_test(clean),
#ifndef FIXED
    cmocka_unit_test(leaves_a_task),
#endif
};
GORT_LEAKCHECK_TEST_MAIN(tests)
EOF
cat >"$work/quick.c" <<'EOF'
#include <unistd.h>
int main(void) { _exit(0); }
EOF

# ---- the cases ----
install_prefix() {
  mkdir "$work/prefix" &&
    env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$src" install PREFIX="$work/prefix" &&
    test -x "$work/prefix/bin/gort-leakcheck" &&
    test -f "$work/prefix/lib/gort/libgort_leakcheck.so" &&
    test -f "$work/prefix/lib/pkgconfig/gort_leakcheck.pc" &&
    build thread thread.c && build fd fd.c && build heap heap.c &&
    build heap_asan heap.c -fsanitize=address &&
    "$cc" -std=c11 -g -pthread -DEXIT_STATUS=3 "$work/thread.c" -o "$work/thread_fails" &&
    "$cc" -g "$work/quick.c" -o "$work/quick" &&
    "$cc" -static -g "$work/thread.c" -pthread -o "$work/static"
}
thread_leak() {
  expect 1 'found unexpected threads' 'blocked_worker' 'thread\.c:[0-9]+' -- "$work/thread"
}
thread_fixed() { expect 0 'clean' -- "$work/thread_fixed"; }
# As goleak: a failed run (exit 3) is reported as failed, its leaks not judged.
failed_run_not_judged() {
  expect 2 'failed' -- "$work/thread_fails" || return 1
  ! grep -q 'found unexpected threads' "$work/out.txt"
}
fd_leak() {
  expect 1 'found unexpected file descriptors' "$work/app\\.log" -- "$work/fd" "$work/app.log"
}
fd_fixed() { expect 0 'clean' -- "$work/fd_fixed" "$work/app.log"; }
heap_leak() {
  expect 1 'found heap leaks' 'definitely lost' 'make_buffer' 'heap\.c:[0-9]+' \
    -- --valgrind "$work/heap"
}
heap_fixed() { expect 0 'clean' -- --valgrind "$work/heap_fixed"; }
heap_asan_leak() { # an ASan build: LeakSanitizer is the heap checker
  expect 1 'found heap leaks' 'lsan' 'make_buffer' 'heap\.c:[0-9]+' -- "$work/heap_asan"
}
heap_asan_fixed() { expect 0 'clean .*layers:.* heap' -- "$work/heap_asan_fixed"; }
# A user's own cmocka tests, built from the installed pkg-config files only.
cmocka_via_pkg_config() {
  local pc=(env PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" pkg-config)
  local flags
  flags=$("${pc[@]}" --cflags --libs gort_leakcheck) || return 1
  # shellcheck disable=SC2086
  "$cc" -std=c11 "$work/cmocka_user.c" $flags -o "$work/cmocka_user" &&
    "$cc" -std=c11 -DFIXED "$work/cmocka_user.c" $flags -o "$work/cmocka_user_fixed" || return 1
  # A prefix off the loader's path: as for any library installed there.
  local ld=(env LD_LIBRARY_PATH="$work/prefix/lib")
  "${ld[@]}" "$work/cmocka_user_fixed" || return 1
  "${ld[@]}" "$work/cmocka_user" >"$work/cmocka_user.out" 2>&1
  local rc=$?
  cat "$work/cmocka_user.out"
  ((rc != 0)) && grep -q 'found unexpected tasks' "$work/cmocka_user.out" &&
    grep -q 'blocked' "$work/cmocka_user.out"
}
heap_unchecked_says_why() {
  expect 0 'heap layer not checked: .*neither under Valgrind nor with LeakSanitizer' \
    'fix: .*--valgrind' -- "$work/heap"
}
exit_without_handlers() {
  expect 2 'unchecked' 'never ran' 'fix: .*exit\(\)' -- "$work/quick"
}
static_binary() { expect 2 'unchecked' 'statically linked' 'fix: link it dynamically' -- "$work/static"; }
bad_usage() { # exit 2, at most two lines (getopt's, then ours)
  local args
  for args in "--no-such-option" "--timeout soon $work/thread" "-j 0 $work/thread" ""; do
    # shellcheck disable=SC2086
    "$work/prefix/bin/gort-leakcheck" $args >"$work/usage.txt" 2>&1
    local rc=$?
    cat "$work/usage.txt"
    ((rc == 2)) && (($(grep -c . "$work/usage.txt") <= 2)) || return 1
  done
}

echo "[==========] Running the installed gort-leakcheck from outside."
if [[ -n ${SAN:-} ]]; then
  # Installed tools are the plain build's; a sanitizer build of them would
  # preload a sanitizer runtime into programs that have none.
  echo "[  SKIPPED ] installed gort-leakcheck: SAN=$SAN (covered by the plain make test)"
  echo "[  PASSED  ] 0 test(s)."
  exit 0
fi
run_case install_prefix install_prefix
if ((failed == 0)); then
  run_case thread_leak thread_leak
  run_case thread_fixed thread_fixed
  run_case failed_run_not_judged failed_run_not_judged
  run_case fd_leak fd_leak
  run_case fd_fixed fd_fixed
  run_case heap_leak heap_leak
  run_case heap_fixed heap_fixed
  run_case heap_asan_leak heap_asan_leak
  run_case heap_asan_fixed heap_asan_fixed
  run_case cmocka_via_pkg_config cmocka_via_pkg_config
  run_case heap_unchecked_says_why heap_unchecked_says_why
  run_case exit_without_handlers exit_without_handlers
  run_case static_binary static_binary
  run_case bad_usage bad_usage
fi
echo "[==========] $((passed + failed)) test(s) run."
echo "[  PASSED  ] $passed test(s)."
if ((failed > 0)); then
  echo "[  FAILED  ] $failed test(s), listed below:"
  for f in "${failures[@]}"; do echo "[  FAILED  ] $f"; done
  exit 1
fi
