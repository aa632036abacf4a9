#!/usr/bin/env bash
# Run every example that has an expected output and compare.
#   patterns/examples/expected/<name>.txt     exact output
#   patterns/examples/expected/<name>.sorted  same lines, any order
#   patterns/examples/expected/<name>.sed     optional sed script applied to
#                                             the output first (masks worker
#                                             ids, timings)
# Usage: check.sh <dir with example binaries>
set -uo pipefail
dir=${1:?usage: check.sh build-dir/examples}
exp=$(dirname "$0")/expected
pass=0 fail=0
for bin in "$dir"/*; do
  [[ -x $bin && -f $bin ]] || continue
  name=$(basename "$bin")
  if [[ -f $exp/$name.txt ]]; then want=$exp/$name.txt sorted=0
  elif [[ -f $exp/$name.sorted ]]; then want=$exp/$name.sorted sorted=1
  else continue; fi
  got=$(timeout -s QUIT -k 5 60 "$bin" 2>/dev/null)
  rc=$?
  [[ -f $exp/$name.sed ]] && got=$(sed -f "$exp/$name.sed" <<<"$got")
  if (( sorted )); then
    diffout=$(diff <(sort "$want") <(sort <<<"$got"))
  else
    diffout=$(diff "$want" <(cat <<<"$got"))
  fi
  if (( rc == 0 )) && [[ -z $diffout ]]; then
    echo "ok   $name"; pass=$((pass + 1))
  else
    echo "FAIL $name (exit $rc)"; echo "$diffout" | sed 's/^/    /'; fail=$((fail + 1))
  fi
done
echo "examples: $pass ok, $fail failed"
(( fail == 0 ))
