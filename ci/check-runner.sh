#!/usr/bin/env bash
# check-runner.sh HANG_BIN - ci/run-tests.sh's per-test timeout and selection,
# on runtime/tests/runner/hang.c (tests: first_passes, second_hangs,
# third_passes, fourth_fails). Exits 1 with the output on any mismatch.
set -uo pipefail
bin=$1
here=$(dirname "$0")
bad=0
expect() {  # expect DESCRIPTION PATTERN OUTPUT
  if ! grep -qE -- "$2" <<<"$3"; then
    echo "check-runner: $1: no line matching '$2' in:"
    echo "$3" | sed 's/^/  | /'
    bad=1
  fi
}
out=$(TEST_CASE_TIMEOUT=2 "$here/run-tests.sh" "$bin" 2>&1)
expect "the hung test is named" '^\[ TIMEOUT  \] second_hangs \(test 2 of 4\) after 2 s$' "$out"
expect "its tasks are dumped" '^SIGQUIT: quit$' "$out"
expect "the tests after it still run" '^\[       OK \] third_passes$' "$out"
expect "and still fail" '^\[  FAILED  \] fourth_fails$' "$out"
expect "the hang counts as one failure" '^tests: 2 passed, 2 failed$' "$out"
out=$(TEST_RUN='^third' "$here/run-tests.sh" "$bin" 2>&1)
expect "RUN selects by name" '^tests: 1 passed, 0 failed$' "$out"
out=$(TEST_SKIP='hangs|fails' "$here/run-tests.sh" "$bin" 2>&1)
expect "SKIP drops by name" '^tests: 2 passed, 0 failed$' "$out"
(( bad == 0 )) && echo "check-runner: per-test timeout, resume and RUN/SKIP selection: ok"
exit $bad
