#!/usr/bin/env bash
# ci/bench-base.sh REF CACHE_DIR - build gort-bench of git ref REF and print
# the binary's path (the only line on stdout). Each commit gets its own
# directory, CACHE_DIR/<commit>/, with its own git worktree (src/) and build
# directory (build/), so the base never mixes with the working tree's build;
# a second call for the same commit reuses the binary without rebuilding.
# The base is built with the same CC/CXX/CFLAGS as the caller's make passes.
set -euo pipefail
ref=$1 cache=$2
commit=$(git rev-parse --verify --quiet "$ref^{commit}") || {
  echo "bench-base: '$ref' is not a commit in this repository" >&2; exit 2; }
dir=$(mkdir -p "$cache" && cd "$cache" && pwd)/$commit
bin=$dir/gort-bench
if [[ -x $bin ]]; then
  echo "bench-base: $ref = ${commit:0:12}: cached $bin" >&2
  echo "$bin"; exit 0
fi
echo "bench-base: building $ref = ${commit:0:12} in $dir" >&2
git worktree prune
rm -rf "$dir/src" "$dir/build"
git worktree add --quiet --detach "$dir/src" "$commit" >&2
# The caller's make exports O and passes its command line down: give the
# base its own O and nothing else of ours.
mkdir -p "$dir"
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u O \
     make -C "$dir/src" --no-print-directory -j2 O="$dir/build" bench-build > "$dir/build.log" 2>&1; then
  tail -20 "$dir/build.log" >&2
  echo "bench-base: building $ref failed (log: $dir/build.log)" >&2
  git worktree remove --force "$dir/src"
  exit 2
fi
cp "$dir/build/bench/gort-bench" "$bin.tmp" && mv "$bin.tmp" "$bin"
git worktree remove --force "$dir/src"
echo "$bin"
