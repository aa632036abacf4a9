#!/usr/bin/env bash
# The Valgrind sweep: every test binary under memcheck. A binary fails on any
# memcheck error or definite leak. Stress sizes are scaled down
# (GORT_STRESS_SCALE) because memcheck serialises threads.
# Writes reports/out/valgrind.json (gort.valgrind/1).
set -uo pipefail
out=${REPORT_DIR:-reports/out}
mkdir -p "$out/valgrind"
export GORT_STRESS_SCALE=${GORT_STRESS_SCALE:-0.01}
timeout_s=${TEST_TIMEOUT:-600}
records=()
failed=0 total=0
for bin in "$@"; do
  name=$(basename "$bin")
  log="$out/valgrind/$name.log"
  total=$((total + 1))
  timeout -s QUIT -k 10 "$timeout_s" valgrind --tool=memcheck --error-exitcode=99 \
    --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
    --fair-sched=yes --suppressions=ci/valgrind.supp --log-file="$log" "$bin" >/dev/null 2>&1
  rc=$?
  if ((rc == 0)); then
    echo "valgrind: ok   $name"
  else
    failed=$((failed + 1))
    echo "valgrind: FAIL $name (exit $rc, log $log)"
    summary=$(grep -E "ERROR SUMMARY|definitely lost|Invalid|uninitialised" "$log" | head -5 | sed 's/"/\\"/g' | tr '\n' ' ')
    records+=("{\"binary\": \"$bin\", \"kind\": \"memcheck\", \"message\": \"$name: memcheck exit $rc\", \"detail\": \"$summary\"}")
  fi
done
{
  printf '{"schema": "gort.valgrind/1", "binaries": %d, "findings": [' "$total"
  (IFS=,; printf '%s' "${records[*]:-}")
  printf ']}\n'
} >"$out/valgrind.json"
echo "valgrind: $((total - failed)) passed, $failed failed"
((failed == 0))
