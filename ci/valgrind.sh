#!/usr/bin/env bash
# The Valgrind sweep: every test binary under memcheck. A binary fails on any
# memcheck error or definite leak. Stress sizes are scaled down
# (GORT_STRESS_SCALE) because memcheck serialises threads.
# Valgrind writes its own XML per binary; reports/out/valgrind.json
# (gort.valgrind/2) is made from those files by python3 -m gortreport.valgrind.
set -uo pipefail
out=${REPORT_DIR:-reports/out}
mkdir -p "$out/valgrind"
export GORT_STRESS_SCALE=${GORT_STRESS_SCALE:-0.01}
timeout_s=${TEST_TIMEOUT:-600}
failed=0 total=0
for bin in "$@"; do
  name=$(basename "$bin")
  log="$out/valgrind/$name.log"
  rm -f "$out/valgrind/$name.xml" "$out/valgrind/$name.rc"
  total=$((total + 1))
  timeout -s QUIT -k 10 "$timeout_s" valgrind --tool=memcheck --error-exitcode=99 \
    --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
    --fair-sched=yes --suppressions=ci/valgrind.supp --log-file="$log" \
    --xml=yes --xml-file="$out/valgrind/$name.xml" --child-silent-after-fork=yes "$bin" >/dev/null 2>&1
  rc=$?
  echo "$rc" >"$out/valgrind/$name.rc"  # beside the XML: its exit status
  if ((rc == 0)); then
    echo "valgrind: ok   $name"
  else
    failed=$((failed + 1))
    echo "valgrind: FAIL $name (exit $rc, log $log)"
  fi
done
PYTHONPATH="$(dirname "$0")/../reports" python3 -m gortreport.valgrind --out "$out/valgrind.json" \
  "$out"/valgrind/*.xml >/dev/null
echo "valgrind: $((total - failed)) passed, $failed failed"
((failed == 0))
