#!/usr/bin/env bash
# Run test binaries, each under a timeout. On a hang the binary first gets
# SIGQUIT (gort prints a task dump, like Go's goroutine dump), then SIGKILL.
# Each test also has its own timeout, TEST_CASE_TIMEOUT seconds (default 120;
# 0: none; runtime/tests/support/watchdog.c): a test that hangs is named
# ("[ TIMEOUT  ] name"), dumps its tasks, counts as one failure, and the
# binary is run again from the next test, so the rest still run.
# TEST_RUN / TEST_SKIP (regexes on test names) select tests.
# Prints each binary's cmocka output, then one closing line:
#   "tests: N passed, M failed"
# With TEST_RESULTS=file, binaries write cmocka's own XML instead of its text,
# and one JSON record per binary (gort.tests/2) is appended to the file by
# python3 -m gortreport.tests (which also prints failed tests and the counts).
# Honours TEST_TOTAL_SHARDS / TEST_SHARD_INDEX (GoogleTest/Bazel protocol):
# binaries are dealt round-robin to shards.
set -uo pipefail
shopt -s nullglob  # no XML file: an empty list, not the pattern
timeout_s=${TEST_TIMEOUT:-300}
export GORT_TEST_TIMEOUT=${TEST_CASE_TIMEOUT:-120}
export GORT_TEST_RUN=${TEST_RUN:-} GORT_TEST_SKIP=${TEST_SKIP:-}
shards=${TEST_TOTAL_SHARDS:-1}
index=${TEST_SHARD_INDEX:-0}
[[ -n ${TEST_SHARD_STATUS_FILE:-} ]] && touch "$TEST_SHARD_STATUS_FILE"
# stdbuf works by preloading a library; ASan insists on coming first in the
# link order unless told that this preload is fine.
export ASAN_OPTIONS="verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
passed=0 failed=0 i=0
failed_bins=()
for bin in "$@"; do
  if (( i++ % shards != index )); then continue; fi
  out=$(mktemp)
  if [[ -n ${TEST_RESULTS:-} ]]; then
    xml=${TEST_RESULTS%.jsonl}.d/$(basename "$bin")
    mkdir -p "${xml%/*}"
    rm -f "$xml".*.xml  # cmocka will not overwrite a file it did not create
    export CMOCKA_MESSAGE_OUTPUT=xml
  fi
  start=$(date +%s.%N)
  from=0 hangs=0 run_passed=0
  while :; do
    # One XML file per run: cmocka will not overwrite the previous run's.
    [[ -n ${TEST_RESULTS:-} ]] && export CMOCKA_XML_FILE="$xml.$from.%g.xml"
    # Line-buffered so cmocka's stdout and stderr interleave in order.
    GORT_TEST_START=$from timeout -s QUIT -k 10 "$timeout_s" stdbuf -oL -eL "$bin" >"$out.run" 2>&1
    rc=$?
    cat "$out.run" >>"$out"
    # Passed tests of this run: cmocka's count, or for a run that a hang cut
    # short (no count printed), the tests it reported OK.
    n=$(sed -n 's/^\[  PASSED  \] \([0-9]\+\) test(s)\./\1/p' "$out.run" | tail -1)
    run_passed=$((run_passed + ${n:-$(grep -c '^\[       OK \] ' "$out.run")}))
    # A test that hung: resume after it (k is 1-based: start at index k).
    k=$(sed -n 's/^\[ TIMEOUT  \] .* (test \([0-9]*\) of \([0-9]*\)) after .*/\1 \2/p' "$out" | tail -1)
    read -r k total <<<"$k"
    if [[ -z $k ]] || (( k <= from )); then break; fi
    hangs=$((hangs + 1)) from=$k
    (( from < total )) || break
  done
  rm -f "$out.run"
  (( hangs > 0 && rc == 0 )) && rc=124  # the hung tests failed, whatever the rerun did
  end=$(date +%s.%N)
  if [[ -n ${TEST_RESULTS:-} ]]; then
    (( rc == 124 || rc == 137 )) && cat "$out"  # the task dump
    counts=$(PYTHONPATH="$(dirname "$0")/../reports" python3 -m gortreport.tests --binary "$bin" \
      --rc "$rc" --seconds "$(awk "BEGIN{print $end - $start}")" --log "$out" \
      --list "$xml.tests" --out "$TEST_RESULTS" $( ((rc == 124 || rc == 137)) && echo --timeout) \
      "$xml".*.xml 2>&1) || echo "warning: could not record $bin in $TEST_RESULTS: $counts"
    echo "$counts" | sed '$d'
    read -r p f <<<"$(echo "$counts" | tail -1)"
    [[ $p =~ ^[0-9]+$ && $f =~ ^[0-9]+$ ]] || p=0 f=1
    echo "$(basename "$bin"): $p passed, $f failed"
  else
    cat "$out"
    # Summed over the runs (more than one when a test hung).
    p=$run_passed
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]\+\) test(s), listed below:/\1/p' "$out" | awk '{s += $1} END {print s + 0}')
    f=$((${f:-0} + hangs))  # (gortreport.tests counts a hung test as failed itself)
  fi
  p=${p:-0} f=${f:-0}
  grep '^\[ TIMEOUT  \]' "$out" | sed "s|^|TIMEOUT: $bin: |"
  if (( rc != 0 )) && (( f == 0 )); then
    # Crashed, hung or failed outside cmocka's accounting: count it.
    f=1
    if (( rc == 124 || rc == 137 )); then echo "TIMEOUT: $bin after ${timeout_s}s"; fi
    echo "ERROR: $bin exited with status $rc"
  fi
  passed=$((passed + p)) failed=$((failed + f))
  (( f > 0 )) && failed_bins+=("$bin")
  rm -f "$out"
done
echo
for b in "${failed_bins[@]}"; do echo "FAILED: $b"; done
echo "tests: $passed passed, $failed failed"
(( failed == 0 ))
