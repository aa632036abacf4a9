#!/usr/bin/env bash
# leakcheck/run-leakcheck.sh O ASAN_O OUT.json BIN... -- the passes of `make leakcheck`.
# BINs are test binaries relative to the build directory O; each pass runs
# them all under the leakcheck command:
#   native    tasks, threads, fds (per test and per binary)
#   asan      the same binaries built with SAN=address in ASAN_O, + LSan heap
#   valgrind  the native binaries under Valgrind memcheck, + its heap check
# then merges the three reports into OUT.json. Every pass runs even when an
# earlier one failed; the exit status is the merge's (0 clean, 1 leaks,
# 2 a run failed or was not checked).
set -uo pipefail
o=$1 asan_o=$2 out=$3
shift 3
jobs=${LEAKCHECK_JOBS:-1}
vg_jobs=${LEAKCHECK_VALGRIND_JOBS:-2}
work=$o/leakcheck/passes
mkdir -p "$work"
rm -f "$work"/*.json
if (($# == 0)); then
  echo "leakcheck: no test binaries" >&2
  exit 2
fi
native=() asan=()
for b in "$@"; do
  native+=("$o/$b")
  asan+=("$asan_o/$b")
done
start=$SECONDS
echo "leakcheck: native pass (${#native[@]} binaries)"
"$o/leakcheck/leakcheck" -q -j "$jobs" --mode native --json "$work/native.json" --each "${native[@]}"
echo "leakcheck: asan pass"
"$asan_o/leakcheck/leakcheck" -q -j "$jobs" --mode asan --json "$work/asan.json" --each "${asan[@]}"
echo "leakcheck: valgrind pass"
"$o/leakcheck/leakcheck" -q -j "$vg_jobs" --valgrind --json "$work/valgrind.json" --each "${native[@]}"
echo "leakcheck: all passes took $((SECONDS - start)) s"
"$o/leakcheck/leakcheck" --merge "$out" "$work/native.json" "$work/asan.json" "$work/valgrind.json"
