#!/usr/bin/python3
"""ci/gate_selftest.py - show the benchmark gate what it must catch.

In a scratch git worktree of HEAD (never the user's tree: the plants are
commits on a detached HEAD there), plant one change per scenario, run
`make bench-compare BASE=<HEAD>` in the scratch tree and gort-gate on its
compare.json, and check that the gate reports exactly what was planted:

  wall    ContextWithCancel does one extra WithCancel+cancel every 5th op
          (+20% work): a bench-regression of ContextWithCancel, nothing else
          (its instruction count rises too: an icount finding for it is fine)
  icount  SingleflightDo does one extra Do every 33rd op (~+3% instructions,
          far under the wall threshold): a bench-icount-regression of
          SingleflightDo and no other finding
  none    no plant: the same commit against itself, no finding at all

usage: gate_selftest.py WORKDIR [--plants wall,icount] [--runs N]
Exit 0 when every run of every scenario met its expectation, 1 otherwise,
2 when the self-test itself could not run. Knobs through the environment:
BENCH_FILTER, BENCH_ROUNDS, BENCH_MIN_TIME, BENCH_ICOUNT_ITERS,
BENCH_BASE_CACHE (shared with make bench-compare so the base is built once).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GATE = ROOT / "reports" / "gort-gate"

# What each plant inserts, after which line of which file, and what the gate
# must then say: the set of findings required, and the benchmarks a finding
# may name.
PLANTS = {
    "wall": {
        "file": "bench/micro.c",
        "after": "gort_context_free(c); /* cancel(), and the release Go's GC does */",
        "insert": "    { static int plant; if (++plant == 5) { plant = 0;"
                  " if (gort_context_with_cancel(bg, &c) == 0) gort_context_free(c); } }",
        "required": {"bench-regression:ContextWithCancel/real_time"},
        "allowed": {"ContextWithCancel/real_time"},
    },
    "icount": {
        "file": "bench/xsync.c",
        "after": 'gort_singleflight_do(g, "key", one, &value, &v, NULL);',
        "insert": '    { static int plant; if (++plant == 33) { plant = 0;'
                  ' gort_singleflight_do(g, "key", one, &value, &v, NULL); } }',
        "required": {"bench-icount-regression:SingleflightDo/real_time"},
        "allowed": {"SingleflightDo/real_time"},
        "exact": True,
    },
    "none": {"file": None, "required": set(), "allowed": set()},
}

MICRO = ("^(ChanSync|ChanBufferedSendRecv|SelectUncontended|SelectUncontended8|SelectNonblock|"
         "MutexLockUnlock|ContextWithCancel|SemaphoreAcquireRelease|RateLimiterAllow|PoolPutGet|"
         "SingleflightDo)/")


def sh(*cmd: str, cwd: Path | None = None, quiet: bool = False) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "O")}
    return subprocess.run(cmd, cwd=cwd, env=env, text=True,
                          stdout=subprocess.PIPE if quiet else None, stderr=subprocess.STDOUT if quiet else None)


def git(*args: str, cwd: Path = ROOT) -> str:
    res = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"gate-selftest: git {' '.join(args)} failed: {res.stderr.strip()}")
    return res.stdout.strip()


def plant(tree: Path, head: str, name: str) -> None:
    """Reset the scratch tree to head and commit the plant there."""
    git("checkout", "-q", "-f", "--detach", head, cwd=tree)
    spec = PLANTS[name]
    if spec["file"] is None:
        return
    path = tree / str(spec["file"])
    text = path.read_text()
    anchor = str(spec["after"])
    if text.count(anchor) != 1:
        raise SystemExit(f"gate-selftest: cannot plant '{name}': '{anchor}' is not once in {spec['file']}")
    path.write_text(text.replace(anchor, anchor + "\n" + str(spec["insert"])))
    git("-c", "user.name=gate-selftest", "-c", "user.email=gate-selftest@localhost",
        "commit", "-q", "-am", f"gate-selftest: plant {name}", cwd=tree)


def one_run(tree: Path, head: str, name: str, n: int, work: Path) -> tuple[bool, str]:
    """One comparison and one decision; (met the expectation, what it said)."""
    knobs = {"BENCH_FILTER": MICRO, "BENCH_ROUNDS": "9", "BENCH_MIN_TIME": "0.05",
             "BENCH_ICOUNT_ITERS": "5000"}
    args = [f"{k}={os.environ.get(k, v)}" for k, v in knobs.items()]
    if "BENCH_BASE_CACHE" in os.environ:
        args.append(f"BENCH_BASE_CACHE={os.environ['BENCH_BASE_CACHE']}")
    log = work / f"{name}-{n}.log"
    res = sh("make", "-C", str(tree), "--no-print-directory", "bench-compare", f"BASE={head}", *args, quiet=True)
    log.write_text(res.stdout)
    if res.returncode != 0:
        return False, f"bench-compare failed (exit {res.returncode}, log {log})"
    out = work / f"gate-{name}-{n}.json"
    compare = work / f"compare-{name}-{n}.json"
    (tree / "reports" / "out" / "compare.json").replace(compare)
    gate = sh(str(GATE), "--compare", str(compare), "--out", str(out), str(work), quiet=True)
    with log.open("a") as f:
        f.write(gate.stdout)
    doc = json.loads(out.read_text())
    found = {f["id"] for f in doc["findings"]}
    spec = PLANTS[name]
    named = {f.get("benchmark", "") for f in doc["findings"]}
    ok = (spec["required"] <= found and named <= spec["allowed"]
          and (not spec.get("exact") or found == spec["required"])
          and gate.returncode == (1 if spec["required"] else 0))
    return ok, f"exit {gate.returncode}, findings {sorted(found) or 'none'}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("workdir")
    ap.add_argument("--plants", default="wall,icount")
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    names = args.plants.split(",")
    for name in names:
        if name not in PLANTS:
            print(f"gate-selftest: unknown plant '{name}' (wall, icount, none)", file=sys.stderr)
            return 2
    work = Path(args.workdir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    tree = work / "tree"
    head = git("rev-parse", "HEAD")
    git("worktree", "prune")
    if tree.exists():
        git("worktree", "remove", "--force", str(tree))
    git("worktree", "add", "-q", "--detach", str(tree), head)
    failures = 0
    try:
        for name in names:
            plant(tree, head, name)
            met = 0
            for n in range(1, args.runs + 1):
                ok, what = one_run(tree, head, name, n, work)
                met += ok
                print(f"gate-selftest: {name} run {n}/{args.runs}: {'ok' if ok else 'WRONG'}: {what}", flush=True)
            print(f"gate-selftest: {name}: {met}/{args.runs} runs as expected")
            failures += args.runs - met
    finally:
        # The scratch tree goes; the plant commits stay unreferenced (git gc
        # drops them) and the user's branch and tree were never touched.
        git("worktree", "remove", "--force", str(tree))
    print(f"gate-selftest: {'PASS' if failures == 0 else 'FAIL'} (logs and compare.json files in {work})")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
