#!/usr/bin/env bash
# The Valgrind sweep: every test binary under each tool of VALGRIND_TOOLS
# (default "memcheck helgrind drd"):
#   memcheck  memory errors and definite leaks;
#   helgrind  data races and lock-order inversions. The runtime tells Helgrind
#             (and DRD) its happens-before edges (runtime/src/hb.h), so a
#             report is a race in the program, not in gort's hand-offs;
#   drd       data races, a second opinion on DRD_BINS only (DRD is slow:
#             test_chan takes 6 min under it on the shared machine).
# A binary fails on any error of any tool (Valgrind's --error-exitcode).
# Stress sizes are scaled down (GORT_STRESS_SCALE) because Valgrind
# serialises threads. Suppressions, each with its reason: ci/valgrind.supp.
#
# usage: ci/valgrind.sh BINARY...    (make valgrind passes every test binary)
# Environment: REPORT_DIR (reports/out), VALGRIND_TOOLS, TEST_TIMEOUT (600 s
# per binary and tool), GORT_STRESS_SCALE (0.01), HELGRIND_BINS (names of
# the binaries Helgrind runs on; empty: all), DRD_BINS (names of the
# binaries DRD runs on; empty: none); GORT_BACKEND reaches the binaries
# unchanged (threads by default, mn for the M:N backend).
#
# Writes, per binary and tool, under $REPORT_DIR/valgrind/:
#   <binary>.<tool>.xml   Valgrind's own XML (--xml=yes, protocol 4): every
#                         error with its kind (InvalidRead, Leak_DefinitelyLost,
#                         Race, LockOrder, ...) and symbolized stacks
#   <binary>.<tool>.log   Valgrind's text log of the same run
# and $REPORT_DIR/valgrind.json (gort.valgrind/2, reports/schemas/), made from
# those XML files by python3 -m gortreport.valgrind: per binary and tool the
# XML path, its error count and whether the run completed, then every error.
# Prints one line per binary and tool ("valgrind: ok|FAIL <tool> <binary>
# (exit N, E errors)") and closes with "valgrind: N passed, M failed" (one
# count per binary and tool). Exit 0 when every run was clean, 1 otherwise.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${REPORT_DIR:-reports/out}
mkdir -p "$out/valgrind"
rm -f "$out"/valgrind/*.xml "$out"/valgrind/*.log
export GORT_STRESS_SCALE=${GORT_STRESS_SCALE:-0.01}
timeout_s=${TEST_TIMEOUT:-600}
tools=${VALGRIND_TOOLS:-memcheck helgrind drd}

# Options per tool. Forked children (death tests) stay silent: they would
# write a second document into the parent's XML file.
common=(--error-exitcode=99 --fair-sched=yes --child-silent-after-fork=yes
        "--suppressions=$here/valgrind.supp")
tool_options() {
  case $1 in
    memcheck) extra=(--leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite) ;;
    helgrind) extra=(--track-lockorders=yes) ;;
    *) extra=() ;;
  esac
}

failed=0 total=0
for bin in "$@"; do
  name=$(basename "$bin")
  for tool in $tools; do
    if [[ $tool == helgrind && -n ${HELGRIND_BINS:-} && " $HELGRIND_BINS " != *" $name "* ]]; then
      continue
    fi
    if [[ $tool == drd && " ${DRD_BINS:-} " != *" $name "* ]]; then
      continue
    fi
    base="$out/valgrind/$name.$tool"
    rm -f "$base.xml" "$base.rc"
    total=$((total + 1))
    tool_options "$tool"
    timeout -s QUIT -k 10 "$timeout_s" valgrind --tool="$tool" "${common[@]}" "${extra[@]}" \
      --log-file="$base.log" --xml=yes --xml-file="$base.xml" "$bin" >/dev/null 2>&1
    rc=$?
    echo "$rc" >"$base.rc"  # beside the XML: its exit status (gortreport.valgrind)
    errors=$(grep -c '<error>' "$base.xml" 2>/dev/null)
    if ((rc == 0)); then
      echo "valgrind: ok   $tool $name"
    else
      failed=$((failed + 1))
      echo "valgrind: FAIL $tool $name (exit $rc, ${errors:-0} errors, log $base.log)"
    fi
  done
done
if ((total > 0)); then
  # Its exit status is 1 when the files hold errors (counted above already),
  # 2 when it could not read them.
  PYTHONPATH="$here/../reports" python3 -m gortreport.valgrind --out "$out/valgrind.json" \
    "$out"/valgrind/*.xml >/dev/null
  if (($? > 1)); then
    echo "valgrind: could not write $out/valgrind.json"
    failed=$((failed + 1))
  fi
fi
echo "valgrind: $((total - failed)) passed, $failed failed"
((failed == 0))
