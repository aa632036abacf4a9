#!/usr/bin/env bash
# check-headers.sh HEADER...
# Every public header must compile on its own, first in a translation unit,
# as C11 and as C++17, with warnings as errors and no feature macro defined:
# that is how a user's program includes it.
# CC and CXX name the compilers (default cc, c++).
set -uo pipefail
cc=${CC:-cc} cxx=${CXX:-c++}
# Each header's include root (the directory above gort/ or gortp/).
declare -A roots
for h in "$@"; do roots["-I${h%/include/*}/include"]=1; done
inc=("${!roots[@]}")
bad=0 n=0
for h in "$@"; do
  name=${h#*/include/}
  for lang in c c++; do
    if [[ $lang == c ]]; then
      cmd=($cc -x c -std=c11 -Wall -Wextra -Wpedantic -Werror)
    else
      cmd=($cxx -x c++ -std=c++17 -Wall -Wextra -Wpedantic -Werror)
    fi
    if ! out=$(printf '#include "%s"\ntypedef int check_headers_nonempty;\n' "$name" | "${cmd[@]}" "${inc[@]}" -fsyntax-only - 2>&1); then
      echo "check-headers: $name does not compile alone as $lang:"
      echo "$out" | head -20
      bad=1
    fi
    n=$((n + 1))
  done
done
(( bad == 0 )) && echo "check-headers: $# headers, each alone as C11 and as C++17: ok"
exit $bad
