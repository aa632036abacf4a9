#!/usr/bin/env bash
# check-exports.sh LIBGORT_SO LIBGORT_A [PATTERNS_A...]
# The libraries' symbol discipline, read with nm:
#  - libgort.so exports gort_* names only (no gort__ internal, no stray name);
#  - every gort_* function the static library defines is exported, i.e. no
#    public function lacks GORT_API in its header;
#  - the pattern archives define gortp_* names only.
# Sanitizer builds add their instrumentation's own names (__asan_*, __tsan_*,
# __odr_asan_gen_*, ...); names that start with "__" are those and are skipped.
# Prints each offending name; exits 1 if there is one.
set -uo pipefail
so=$1 a=$2
shift 2
bad=0
fail() { echo "check-exports: $*"; bad=1; }
public() { grep -E '^gort_[a-z0-9]' ; }

exported=$(nm -D --defined-only "$so" | awk '{print $NF}' | grep -v '^__' | sort -u)
[[ -n $exported ]] || fail "$so exports nothing (nm failed?)"
while read -r s; do
  [[ -n $s ]] && fail "$so exports a non-public name: $s"
done < <(grep -vE '^gort_[a-z0-9]' <<<"$exported")

defined=$(nm -g --defined-only "$a" | awk 'NF == 3 {print $3}' | grep -v '^__' | sort -u)
while read -r s; do
  [[ -n $s ]] && fail "$a defines $s outside the gort_/gort__ prefixes"
done < <(grep -vE '^gort_' <<<"$defined")
while read -r s; do
  [[ -n $s ]] && fail "$s is defined but not exported from $so (GORT_API missing in its header?)"
done < <(comm -23 <(public <<<"$defined") <(public <<<"$exported"))

for p in "$@"; do
  while read -r s; do
    [[ -n $s ]] && fail "$p defines $s outside the gortp_ prefix"
  done < <(nm -g --defined-only "$p" | awk 'NF == 3 {print $3}' | grep -v '^__' | grep -vE '^gortp_')
done
(( bad == 0 )) && echo "check-exports: $(wc -l <<<"$exported") public names exported from $so, none else"
exit $bad
