#!/usr/bin/env bash
# make report-planted-check: make report proven on real compiled binaries.
# A scratch copy of this tree (tracked and untracked files, as they are now)
# gets the planted tests of reports/tests/fixtures/src/ as real tests
# (runtime/tests/test_planted*.c: a failing assert, a task leak and a race;
# a heap leak in a binary of its own, since the heap is only judged at the
# exit of a run that passed). make report runs there on those two binaries
# only (REPORT_STEPS: build, tests, the TSan race sweep, leakcheck native,
# ASan and Valgrind), then make gate; reports/tests/check_planted_run.py
# asserts that each finding reaches junit.xml with its detector's text,
# findings.sarif once with a distinct fingerprint and a relative location,
# index.html once with its modes, and that the gate fails.
#   PLANTED_DIR=dir  work there (kept) instead of a temporary directory
#   PLANTED_REGEN=1  then refresh reports/tests/fixtures/planted (and the
#                    cmocka XML and log in reports/tests/fixtures/cmocka) from the run
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [[ -n ${PLANTED_DIR:-} ]]; then
  work=$PLANTED_DIR
  rm -rf "$work" && mkdir -p "$work"
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/gort-planted.XXXXXX")
  trap 'rm -rf "$work"' EXIT
fi
echo "planted-check: scratch copy in $work"
(cd "$root" && git ls-files -z -co --exclude-standard) | (cd "$root" && tar --null -T - -cf -) | tar -xf - -C "$work"
cd "$work"
git init -q && git add -A
git -c user.name=planted-check -c user.email=planted-check@localhost commit -qm "scratch copy for make report-planted-check"
cp reports/tests/fixtures/src/test_planted.c reports/tests/fixtures/src/test_planted_heap.c runtime/tests/
start=$SECONDS
# $(O) is expanded by each make (default, thread and ASan builds alike).
make --no-print-directory report REPORT_STEPS="build tests build-thread race-sweep leakcheck" \
  TEST_BINS='$(O)/tests/runtime/test_planted $(O)/tests/runtime/test_planted_heap' >make-report.log 2>&1 || {
  tail -40 make-report.log; echo "planted-check: make report failed"; exit 1; }
grep '^==' make-report.log
echo "planted-check: make report took $((SECONDS - start)) s (load: $(cut -d' ' -f1-3 /proc/loadavg))"
set +e
make --no-print-directory gate >gate.log 2>&1
gate=$?
set -e
echo "planted-check: make gate exited $gate: $(grep "^gate: " gate.log | tail -1)"
PLANTED_OUT=reports/out PLANTED_GATE=$gate ${PYTHON:-/usr/bin/python3} -m pytest -q -p no:cacheprovider \
  reports/tests/check_planted_run.py
if [[ -n ${PLANTED_REGEN:-} ]]; then
  # gort-race's view of the race too (make race), for the fixture's race.json.
  make --no-print-directory race RACE_RUNS=1 TEST_BINS='$(O)/tests/runtime/test_planted' >race.log 2>&1 || true
  dst=$root/reports/tests/fixtures/planted
  # In the fixtures the sources are where the tree keeps them (same lines).
  for f in tests-default.jsonl tests-thread.jsonl leakcheck.json race.json; do
    sed 's|runtime/tests/test_planted|reports/tests/fixtures/src/test_planted|g' "reports/out/$f" >"$dst/$f"
  done
  # cmocka's own XML and the binary's output, for the readers' tests.
  cm=$root/reports/tests/fixtures/cmocka
  sed 's|runtime/tests/test_planted|reports/tests/fixtures/src/test_planted|g' \
    reports/out/tests-default.d/test_planted.0.tests.xml >"$cm/test_planted.tests.xml"
  ${PYTHON:-/usr/bin/python3} -c 'import json, sys
for line in open(sys.argv[1]):
    rec = json.loads(line)
    if rec["binary"].endswith("/test_planted"):
        sys.stdout.write(rec.get("log_tail", ""))' reports/out/tests-default.jsonl |
    sed 's|runtime/tests/test_planted|reports/tests/fixtures/src/test_planted|g' >"$cm/test_planted.log"
  echo "planted-check: refreshed tests-*.jsonl, leakcheck.json and race.json in $dst, test_planted.* in $cm"
fi
