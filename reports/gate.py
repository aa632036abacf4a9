#!/usr/bin/env python3
"""reports/gate.py - the CI gate: a separate, explicit decision over report.json.

Fails (exit 1) when the report has any finding (test failure, race, memory
error, leak, calibration miss), and - when a baseline Google Benchmark JSON is
given - when a benchmark is slower than the baseline by more than THRESHOLD
*and* the difference is significant (two-sided Mann-Whitney U test, p < ALPHA,
which needs 9+ repetitions on each side to mean anything: with fewer, the
benchmark is reported but never gates).

usage: gate.py [--out reports/out] [--baseline old-bench.json]
               [--threshold 0.10] [--alpha 0.05] [--filter REGEX]
Writes reports/out/gate.json (gort.gate/1).
"""
import argparse
import json
import math
import os
import re
import sys

MIN_REPS = 9


def samples(bench_json):
    out = {}
    for b in bench_json.get("benchmarks", []):
        if b.get("run_type") == "aggregate" or b.get("error_occurred"):
            continue
        unit = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}.get(b.get("time_unit", "ns"), 1)
        out.setdefault(b.get("run_name") or b["name"], []).append(b["real_time"] * unit)
    return out


def mann_whitney_p(a, b):
    """Two-sided p-value, normal approximation with tie correction."""
    n1, n2 = len(a), len(b)
    allv = sorted([(v, 0) for v in a] + [(v, 1) for v in b])
    ranks = [0.0] * len(allv)
    i, tie_term = 0, 0.0
    while i < len(allv):
        j = i
        while j + 1 < len(allv) and allv[j + 1][0] == allv[i][0]:
            j += 1
        r = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[k] = r
        t = j - i + 1
        tie_term += t ** 3 - t
        i = j + 1
    r1 = sum(r for r, (_, g) in zip(ranks, allv) if g == 0)
    u1 = r1 - n1 * (n1 + 1) / 2
    mu = n1 * n2 / 2
    n = n1 + n2
    sigma = math.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))))
    if sigma == 0:
        return 1.0
    z = (abs(u1 - mu) - 0.5) / sigma
    return math.erfc(max(z, 0) / math.sqrt(2))


def median(v):
    s = sorted(v)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="reports/out")
    ap.add_argument("--baseline", default=os.environ.get("BASELINE") or None)
    ap.add_argument("--threshold", type=float, default=float(os.environ.get("THRESHOLD", 0.10)))
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--filter", default=".*")
    args = ap.parse_args()

    path = os.path.join(args.out, "report.json")
    if not os.path.exists(path):
        print(f"gate: {path} missing: run `make report` first", file=sys.stderr)
        return 2
    with open(path) as f:
        report = json.load(f)
    failures = [f"{f['kind']}: {f['message']}" for f in report.get("findings", [])]
    if report.get("verdict") == "incomplete":
        failures.append("incomplete: the report recorded no test run")
    comparisons = []
    if args.baseline:
        with open(args.baseline) as f:
            old = samples(json.load(f))
        cur_path = os.path.join(args.out, "bench.json")
        with open(cur_path) as f:
            new = samples(json.load(f))
        pat = re.compile(args.filter)
        for name in sorted(set(old) & set(new)):
            if not pat.search(name):
                continue
            a, b = old[name], new[name]
            change = median(b) / median(a) - 1
            enough = len(a) >= MIN_REPS and len(b) >= MIN_REPS
            p = mann_whitney_p(a, b) if enough else None
            regressed = enough and change > args.threshold and p < args.alpha
            comparisons.append({"name": name, "baseline_median_ns": median(a), "median_ns": median(b),
                                "change": change, "p_value": p, "repetitions": [len(a), len(b)],
                                "regressed": regressed})
            if regressed:
                failures.append(f"bench-regression: {name} {change:+.1%} slower (p={p:.4f})")
    verdict = "fail" if failures else "pass"
    with open(os.path.join(args.out, "gate.json"), "w") as f:
        json.dump({"schema": "gort.gate/1", "verdict": verdict, "threshold": args.threshold,
                   "alpha": args.alpha, "failures": failures, "comparisons": comparisons}, f, indent=1)
    for c in comparisons:
        p = "n/a" if c["p_value"] is None else f"{c['p_value']:.4f}"
        print(f"  {c['name']:<48} {c['change']:+7.1%}  p={p}{'  REGRESSED' if c['regressed'] else ''}")
    for msg in failures:
        print(f"gate: FAIL {msg}")
    print(f"gate: {verdict} ({len(failures)} failure(s))")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
