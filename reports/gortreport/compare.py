"""Base vs current benchmark comparison (make bench-compare): gort.compare/1.

Two binaries of gort-bench, the base ref's and the working tree's, run
interleaved: each round runs one repetition of every selected benchmark from
each side, and the side that goes first alternates round by round. Drift of a
shared machine (a neighbour's build starting, thermal or frequency changes)
then lands on both sides alike instead of on the one that happened to run
later, which is what made a U test over back-to-back runs cry wolf.

Per benchmark two metrics go to gortreport.stats (U test, Holm across every
test, Hodges-Lehmann change and interval): real time per op, what the
benchmarks report, and the process's CPU time per op, which a loaded
machine barely moves (a descheduled thread keeps the wall clock running but
not its CPU clock); a benchmark regresses when either does. The
deterministic bodies (bench/icount.txt) are also counted under callgrind for
a fixed number of iterations: instructions do not depend on the neighbours.

The analysis (compare_wall, compare_icount) is pure and tested with fixed
samples; running the binaries is kept apart (run_rounds, count_instructions).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import statistics
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from . import gbench, jsonio, stats
from .errors import EXIT_OK, InputError, run_cli

SCHEMA = "gort.compare/1"
SIDES = ("base", "current")
WALL_VERDICTS = ("regressed", "improved", "unchanged", "missing", "errored", "new", "insufficient")
ICOUNT_VERDICTS = WALL_VERDICTS


@dataclass(frozen=True)
class Settings:
    threshold: float = 0.10        # relative slowdown that counts (wall)
    alpha: float = 0.05            # family-wise, after Holm
    confidence: float = 0.95       # of the change's interval
    min_samples: int = 6           # good samples per side before testing
    icount_threshold: float = 0.01  # relative change of instructions per op


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    wall: float | None
    icount: float | None


@dataclass
class Thresholds:
    """Per-benchmark overrides: the first rule whose regex matches wins."""

    rules: list[Rule] = field(default_factory=list)

    def wall(self, name: str, default: float) -> float:
        for r in self.rules:
            if r.wall is not None and r.pattern.search(name):
                return r.wall
        return default

    def icount(self, name: str, default: float) -> float:
        for r in self.rules:
            if r.icount is not None and r.pattern.search(name):
                return r.icount
        return default


def _fraction(text: str, where: str) -> float | None:
    if text == "-":
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{where}: '{text}' is not a number (write 0.15 for 15%, or - for the default)") from None
    if not 0 < value < 10:
        raise InputError(f"{where}: threshold {value} out of range (0, 10)")
    return value


def read_thresholds(path: str | os.PathLike[str]) -> Thresholds:
    """bench/thresholds.txt: `REGEX WALL [ICOUNT]` per line, '#' comments,
    '-' for the default. Example: `^ChanMPMC4x4/ 0.25 -`."""
    p = Path(path)
    try:
        lines = p.read_text().splitlines()
    except OSError as err:
        raise InputError(f"{p}: cannot read: {err.strerror}") from err
    rules = []
    for n, line in enumerate(lines, 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        where = f"{p}:{n}"
        if len(words) not in (2, 3):
            raise InputError(f"{where}: expected 'REGEX WALL [ICOUNT]', found {len(words)} fields")
        try:
            pattern = re.compile(words[0])
        except re.error as err:
            raise InputError(f"{where}: bad regex '{words[0]}': {err}") from None
        icount = _fraction(words[2], where) if len(words) == 3 else None
        rules.append(Rule(pattern, _fraction(words[1], where), icount))
    return Thresholds(rules)


# ---- the analysis (pure) --------------------------------------------------------

def merge_rounds(files: Sequence[gbench.BenchFile | str]) -> dict[str, gbench.Benchmark]:
    """Every round of one side in one Benchmark per name. A round given as a
    string is a run that failed as a whole (a crash): every benchmark seen
    in the other rounds gets that message as an error for it."""
    merged: dict[str, gbench.Benchmark] = {}
    for f in files:
        if isinstance(f, gbench.BenchFile):
            for name, b in f.benchmarks.items():
                m = merged.setdefault(name, gbench.Benchmark(name))
                m.runs.extend(b.runs)
                m.errors.extend(b.errors)
    for f in files:
        if isinstance(f, str):
            for m in merged.values():
                m.errors.append(f)
    return merged


METRICS = ("real", "cpu")


def samples(b: gbench.Benchmark | None, metric: str) -> list[float]:
    """Per-op ns of every good round: real (wall-clock) time, or the CPU
    time of the whole process (the shim's process_cpu_ns_per_op counter;
    Google Benchmark's cpu_time of the benchmark's thread without it)."""
    if b is None:
        return []
    if metric == "real":
        return b.real_ns
    return [r.counters.get("process_cpu_ns_per_op", r.cpu_ns) for r in b.runs]


def _median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def _metric(b: gbench.Benchmark | None, c: gbench.Benchmark | None, metric: str,
            verdict: str | None, confidence: float) -> dict[str, Any]:
    bs, cs = samples(b, metric), samples(c, metric)
    m: dict[str, Any] = {"base_ns": bs, "current_ns": cs, "base_median_ns": _median(bs),
                         "current_median_ns": _median(cs), "change": None, "ci": None,
                         "p": None, "p_holm": None, "verdict": verdict}
    if verdict is None:
        ch = stats.hodges_lehmann_change(bs, cs, confidence)
        m["change"], m["ci"] = ch.estimate, [ch.low, ch.high]
        m["p"] = stats.mann_whitney_p(bs, cs)
    return m


def _side(b: gbench.Benchmark | None) -> dict[str, Any]:
    return {"good_rounds": len(b.runs) if b else 0, "errors": list(b.errors) if b else []}


def _status(base: gbench.Benchmark | None, cur: gbench.Benchmark | None, min_samples: int) -> str | None:
    """The verdict that needs no test, or None when the pair is tested."""
    if base is None:
        return "new"
    if cur is None:
        return "missing" if base.runs else "insufficient"
    if cur.errored:
        # An error in the current run is a finding when the base ran fine.
        return "errored" if base.runs else "insufficient"
    if len(base.runs) < min_samples or len(cur.runs) < min_samples:
        return "insufficient"
    return None


def compare_wall(base: dict[str, gbench.Benchmark], cur: dict[str, gbench.Benchmark],
                 settings: Settings, thresholds: Thresholds | None = None) -> list[dict[str, Any]]:
    """One gort.compare/1 `benchmarks` entry per name of either side: both
    metrics tested, Holm over every test, the worst metric's verdict."""
    thresholds = thresholds or Thresholds()
    names = list(base) + [n for n in cur if n not in base]
    rows: list[dict[str, Any]] = []
    for name in names:
        b, c = base.get(name), cur.get(name)
        status = _status(b, c, settings.min_samples)
        rows.append({"name": name, "threshold": thresholds.wall(name, settings.threshold),
                     "verdict": status, "base": _side(b), "current": _side(c),
                     "metrics": {m: _metric(b, c, m, status, settings.confidence) for m in METRICS}})
    tested = [(r, r["metrics"][m]) for r in rows for m in METRICS if r["metrics"][m]["p"] is not None]
    for (r, m), p in zip(tested, stats.holm([m["p"] for _, m in tested])):
        m["p_holm"] = p
        m["verdict"] = _decide(m["change"], p, r["threshold"], settings.alpha)
    for r in rows:
        if r["verdict"] is None:
            verdicts = {r["metrics"][m]["verdict"] for m in METRICS}
            r["verdict"] = next(v for v in ("regressed", "improved", "unchanged") if v in verdicts)
    return rows


def _decide(change: float, p_holm: float, threshold: float, alpha: float) -> str:
    """Slower than the threshold AND significant after Holm: regressed; the
    mirror image: improved; anything else is benchstat's '~'."""
    if p_holm < alpha and change > threshold:
        return "regressed"
    if p_holm < alpha and change < -threshold:
        return "improved"
    return "unchanged"


@dataclass(frozen=True)
class Count:
    """Instructions (callgrind's Ir) of one body over `iterations` ops, or
    why there is no count; absent = the binary has no such benchmark."""

    total: int | None = None
    error: str | None = None
    absent: bool = False


def compare_icount(base: dict[str, Count], cur: dict[str, Count], iterations: int,
                   settings: Settings, thresholds: Thresholds | None = None) -> list[dict[str, Any]]:
    """Instruction counts are deterministic: no test, a threshold only."""
    thresholds = thresholds or Thresholds()
    rows = []
    for name in list(base) + [n for n in cur if n not in base]:
        b, c = base.get(name, Count(absent=True)), cur.get(name, Count(absent=True))
        row: dict[str, Any] = {
            "name": name, "base_total": b.total, "current_total": c.total,
            "base_per_op": None if b.total is None else b.total / iterations,
            "current_per_op": None if c.total is None else c.total / iterations,
            "change": None, "threshold": thresholds.icount(name, settings.icount_threshold),
            "error": c.error or b.error,
        }
        if b.absent:
            row["verdict"] = "new"
        elif b.total is None:
            row["verdict"] = "insufficient"
        elif c.absent:
            row["verdict"] = "missing"
        elif c.total is None:
            row["verdict"] = "errored"
        else:
            change = c.total / b.total - 1
            row["change"] = change
            row["verdict"] = ("regressed" if change > row["threshold"]
                              else "improved" if change < -row["threshold"] else "unchanged")
        rows.append(row)
    return rows


def summarize(rows: Sequence[dict[str, Any]], verdicts: Sequence[str]) -> dict[str, int]:
    return {v: sum(1 for r in rows if r["verdict"] == v) for v in verdicts}


# ---- running the binaries ------------------------------------------------------

def _exit_text(rc: int) -> str:
    return f"killed by signal {-rc}" if rc < 0 else f"exited with status {rc}"


# A run of one side that takes longer than this is stopped and counted as
# failed (every benchmark of it errors in that round): a hang must not hang CI.
RUN_TIMEOUT_S = 1800


def _run(cmd: Sequence[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(cmd, 124, "", f"timed out after {RUN_TIMEOUT_S} s")


def run_once(binary: str, flt: str, min_time: float | None, out: Path) -> gbench.BenchFile | str:
    """One repetition of every selected benchmark; the parsed file, or the
    reason the run as a whole failed."""
    cmd = [binary, f"--benchmark_filter={flt}", "--benchmark_repetitions=1",
           f"--benchmark_out={out}", "--benchmark_out_format=json"]
    if min_time is not None:
        cmd.append(f"--benchmark_min_time={min_time}")
    proc = _run(cmd)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [""])[-1]
        return f"gort-bench {_exit_text(proc.returncode)}" + (f": {last}" if last else "")
    try:
        return gbench.read(out)
    except InputError as err:
        return f"gort-bench wrote no valid JSON: {err}"


def run_rounds(bins: dict[str, str], rounds: int, flt: str, min_time: float | None,
               workdir: Path, log: bool = True) -> tuple[dict[str, list[gbench.BenchFile | str]], list[list[str]]]:
    """Rounds of base and current, the first side alternating per round."""
    results: dict[str, list[gbench.BenchFile | str]] = {s: [] for s in SIDES}
    order = []
    for r in range(rounds):
        sides = list(SIDES) if r % 2 == 0 else list(reversed(SIDES))
        order.append(sides)
        for side in sides:
            if log:
                print(f"bench-compare: round {r + 1}/{rounds}: {side}", flush=True)
            results[side].append(run_once(bins[side], flt, min_time, workdir / f"round{r}-{side}.json"))
    return results, order


def callgrind_total(path: Path) -> int:
    """Ir over the whole run from a callgrind output file ('totals:' line)."""
    for line in path.read_text().splitlines():
        if line.startswith(("totals:", "summary:")):
            return int(line.split()[1])
    raise InputError(f"{path}: no totals line in callgrind's output")


def count_instructions(binary: str, family: str, iterations: int, workdir: Path) -> tuple[str | None, Count]:
    """Instructions of `family`'s body over `iterations` ops under callgrind
    (collection toggled on by gort_bench_begin and off by gort_bench_end).
    Returns the benchmark's run name (None when the binary has none) and
    the count."""
    tag = re.sub(r"\W", "_", f"{Path(binary).parent.name}-{family}")
    cg, js = workdir / f"cg-{tag}.out", workdir / f"cg-{tag}.json"
    cmd = ["valgrind", "--tool=callgrind", "--collect-atstart=no", f"--callgrind-out-file={cg}",
           binary, f"--benchmark_filter=^{family}(/|$)", f"--gort_iterations={iterations}",
           "--benchmark_repetitions=1", f"--benchmark_out={js}", "--benchmark_out_format=json"]
    proc = _run(cmd)
    if proc.returncode != 0:
        hint = " (a binary older than --gort_iterations?)" if "gort_iterations" in proc.stderr else ""
        return family, Count(error=f"gort-bench under callgrind {_exit_text(proc.returncode)}{hint}")
    try:
        run = gbench.read(js)
    except InputError as err:
        return family, Count(error=str(err))
    if not run.benchmarks:
        return None, Count(absent=True)
    name, bench = next(iter(run.benchmarks.items()))
    name = re.sub(r"/iterations:\d+", "", name)  # the wall-time run's name
    if bench.errored:
        return name, Count(error=bench.errors[0])
    total = callgrind_total(cg)
    if total == 0:
        return name, Count(error="no instructions collected (a binary without the callgrind toggles?)")
    return name, Count(total=total)


def read_icount_list(path: str | os.PathLike[str]) -> list[str]:
    """bench/icount.txt: one benchmark family per line, '#' comments."""
    try:
        text = Path(path).read_text()
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror}") from err
    return [w for line in text.splitlines() for w in line.split("#", 1)[0].split()[:1]]


def run_icount(bins: dict[str, str], families: Sequence[str], flt: str, iterations: int,
               workdir: Path) -> dict[str, dict[str, Count]]:
    """Counts per side, keyed by run name, of the families the filter selects."""
    if shutil.which("valgrind") is None:
        raise InputError("valgrind not found: run 'make deps', or BENCH_ICOUNT=0 to skip instruction counts")
    counts: dict[str, dict[str, Count]] = {s: {} for s in SIDES}
    for family in families:
        if not re.search(flt, f"{family}/real_time"):
            continue
        for side in SIDES:
            print(f"bench-compare: instructions of {family} ({side})", flush=True)
            name, count = count_instructions(bins[side], family, iterations, workdir)
            if name is not None:
                counts[side][name] = count
    return counts


# ---- the command ----------------------------------------------------------------

def _git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=False).stdout.strip()


def build_document(args: argparse.Namespace, settings: Settings, thresholds: Thresholds,
                   rows: list[dict[str, Any]], order: list[list[str]],
                   icount: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "base": {"ref": args.base_ref, "commit": args.base_commit, "binary": args.base_bin},
        "current": {"commit": _git("rev-parse", "HEAD"), "dirty": bool(_git("status", "--porcelain", "-uno")),
                    "binary": args.current_bin},
        "rounds": args.rounds, "filter": args.filter, "order": order,
        "settings": {"threshold": settings.threshold, "alpha": settings.alpha,
                     "confidence": settings.confidence, "min_samples": settings.min_samples,
                     "icount_threshold": settings.icount_threshold,
                     "thresholds_file": args.thresholds, "min_time": args.min_time,
                     "backend": os.environ.get("GORT_BACKEND", "default")},
        "benchmarks": rows,
        "icount": icount,
        "summary": {"wall": summarize(rows, WALL_VERDICTS),
                    "icount": summarize(icount["benchmarks"] if icount else [], ICOUNT_VERDICTS)},
    }


def _fmt(x: float | None) -> str:
    return "      n/a" if x is None or math.isnan(x) else f"{x:+8.1%}"


def print_table(doc: dict[str, Any]) -> None:
    print(f"bench-compare: {doc['base']['ref']} ({doc['base']['commit'][:12]}) vs current, "
          f"{doc['rounds']} interleaved rounds; change [95% CI] Holm p, real time | CPU time")
    for r in doc["benchmarks"]:
        cols = []
        for m in METRICS:
            x = r["metrics"][m]
            if x["ci"] is None:
                cols.append(f"{'n/a':>36}")
            else:
                cols.append(f"{_fmt(x['change'])} [{_fmt(x['ci'][0]).strip()}, {_fmt(x['ci'][1]).strip()}]"
                            f" p={x['p_holm']:.3f}".rjust(36))
        mark = "~" if r["verdict"] == "unchanged" else r["verdict"].upper()
        print(f"  {r['name']:<36} {cols[0]} | {cols[1]}  {mark}")
    if doc["icount"]:
        print(f"  instructions per op (callgrind, {doc['icount']['iterations']} iterations):")
        for r in doc["icount"]["benchmarks"]:
            per = "" if r["current_per_op"] is None else f"{r['base_per_op'] or 0:10.1f} -> {r['current_per_op']:10.1f}"
            mark = "~" if r["verdict"] == "unchanged" else r["verdict"].upper()
            print(f"  {r['name']:<36} {_fmt(r['change'])} {per:<26} {mark} {r['error'] or ''}")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="bench-compare", description=__doc__.split("\n\n")[0])
    ap.add_argument("--base-bin", required=True)
    ap.add_argument("--current-bin", required=True)
    ap.add_argument("--base-ref", required=True)
    ap.add_argument("--base-commit", required=True)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--filter", default=".")
    ap.add_argument("--min-time", type=float, default=None)
    ap.add_argument("--threshold", type=float, default=Settings.threshold)
    ap.add_argument("--alpha", type=float, default=Settings.alpha)
    ap.add_argument("--min-samples", type=int, default=Settings.min_samples)
    ap.add_argument("--thresholds", default=None, help="per-benchmark overrides (bench/thresholds.txt)")
    ap.add_argument("--icount-list", default=None, help="deterministic bodies (bench/icount.txt); none: no counts")
    ap.add_argument("--icount-iterations", type=int, default=20000)
    ap.add_argument("--icount-threshold", type=float, default=Settings.icount_threshold)
    ap.add_argument("--workdir", default=None, help="keep the per-round files here")
    ap.add_argument("--out", default="reports/out/compare.json")
    args = ap.parse_args(argv)
    if args.rounds < args.min_samples:
        # Fewer rounds could never reach significance: refuse instead of
        # writing a comparison that looks like a pass.
        raise InputError(f"BENCH_ROUNDS={args.rounds} can decide nothing: at least {args.min_samples} "
                         "rounds are needed (9 by default)")
    try:
        re.compile(args.filter)
    except re.error as err:
        raise InputError(f"BENCH_FILTER '{args.filter}' is not a regex: {err}") from None
    settings = Settings(args.threshold, args.alpha, Settings.confidence, args.min_samples, args.icount_threshold)
    thresholds = read_thresholds(args.thresholds) if args.thresholds else Thresholds()
    bins = {"base": args.base_bin, "current": args.current_bin}
    for side, b in bins.items():
        if not os.access(b, os.X_OK):
            raise InputError(f"{side} binary {b} is missing or not executable")
    Path(args.out).unlink(missing_ok=True)  # never leave a stale comparison behind
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
        work = Path(args.workdir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        results, order = run_rounds(bins, args.rounds, args.filter, args.min_time, work)
        rows = compare_wall(merge_rounds(results["base"]), merge_rounds(results["current"]), settings, thresholds)
        icount = None
        if args.icount_list:
            counts = run_icount(bins, read_icount_list(args.icount_list), args.filter,
                                args.icount_iterations, work)
            icount = {"tool": f"{_valgrind_version()} callgrind, collection on the timed body only",
                      "iterations": args.icount_iterations, "threshold": settings.icount_threshold,
                      "benchmarks": compare_icount(counts["base"], counts["current"], args.icount_iterations,
                                                   settings, thresholds)}
    doc = build_document(args, settings, thresholds, rows, order, icount)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    jsonio.write(args.out, doc, SCHEMA)
    print_table(doc)
    print(f"bench-compare: wrote {args.out} (the decision is gort-gate's: make gate)")
    return EXIT_OK


def _valgrind_version() -> str:
    return subprocess.run(["valgrind", "--version"], capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    run_cli("bench-compare", main)
