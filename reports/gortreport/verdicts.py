"""The anti-pattern catalog graded by detectors: `make antipatterns-check`.

Every entry of patterns/antipatterns/ names its detector (`antipattern
--list`). Its bad program and its fixed twin each run N times under that
detector, and the judgment comes from the detector's own output, never from
the program:

  leakcheck-task   the leakcheck command's JSON (gort.leakcheck/1): a task
                   finding whose wait reason is the expected one and whose
                   "created by" is the expected function
  leakcheck-timer  the same, a timer finding of the expected kind
                   ("time.After", "context deadline") made by that function
  tsan             ThreadSanitizer on a SAN=thread build, through gort-race
                   (its gort.race/1 JSON: a "data race" found in that run;
                   runs vary CPUs and GORT_CHAOS seeds), or without
                   --gort-race TSan's own report files (log_path)
  deadlock         gort's deadlock detector: "fatal error: all tasks are
                   asleep - deadlock!" on stderr and death by SIGABRT
  misuse           the misuse abort: Go's "panic: <message>" on stderr and
                   death by SIGABRT

A bad run is detected when its detector says what the entry expects; a fixed
run is a false alarm when its detector says anything at all. A run the
detector could not judge (it failed, timed out, wrote nothing) is
"unjudged", and fails the check as surely as a miss. Demonstrations (no
detector can judge them) run once each way and are left out of recall.

usage: python3 -m gortreport.verdicts --antipattern BIN --tsan-antipattern BIN
           --leakcheck CMD [--gort-race CMD] [--runs 20] [--jobs 2]
           [--out reports/out/verdicts.json]
Exit status: 0 pass, 1 a miss, a false alarm or an unjudged run, 2 bad input.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

from . import jsonio
from .errors import EXIT_FINDINGS, EXIT_OK, InputError, run_cli
from .jsonio import JSON

SCHEMA = "gort.verdicts/1"
LEAKCHECK_SCHEMA = None  # gort.leakcheck/1 has no schema file yet: read unvalidated
DEMO = "demonstration"
DETECTORS = ("leakcheck-task", "leakcheck-timer", "tsan", "deadlock", "misuse")
RUN_TIMEOUT_S = 120


@dataclass(frozen=True)
class Entry:
    name: str
    detector: str
    expected: str
    site: str | None
    seeds: str
    mistake: str

    @property
    def detectable(self) -> bool:
        return self.detector != DEMO


def parse_list(text: str) -> list[Entry]:
    """`antipattern --list`: name, detector, expected, site, seeds, mistake."""
    entries = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) != 6:
            raise InputError(f"antipattern --list, line {n}: expected 6 tab-separated fields")
        name, detector, expected, site, seeds, mistake = cols
        if detector not in DETECTORS and detector != DEMO:
            raise InputError(f"antipattern --list, line {n}: unknown detector {detector!r}")
        entries.append(Entry(name, detector, expected, None if site == "-" else site, seeds, mistake))
    if not entries:
        raise InputError("antipattern --list printed no entry")
    return entries


@dataclass(frozen=True)
class Proc:
    """What a finished run left: subprocess's returncode (negative: signal)."""

    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False


def exit_text(p: Proc) -> str:
    if p.timed_out:
        return "timeout"
    if p.returncode < 0:
        return f"signal {-p.returncode}"
    return f"exit {p.returncode}"


@dataclass(frozen=True)
class Judgment:
    outcome: str  # detected | missed | clean | alarm | unjudged | shown
    said: str
    exit: str = ""


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


# ---- judges: pure functions of a detector's output ------------------------


def summarize_findings(findings: Sequence[JSON]) -> str:
    """leakcheck findings in one line: "1 task [chan send] created by leaky"."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for f in findings:
        state = f.get("state", {}).get("state", "")
        site = f.get("site", {}).get("function", "") or "?"
        counts[(str(f.get("kind", "?")), str(state), str(site))] += 1
    return "; ".join(f"{n} {kind} [{state}] created by {site}" for (kind, state, site), n in counts.items())


def judge_leakcheck(doc: JSON | None, layer: str, expected: str, site: str | None, bad: bool) -> Judgment:
    """One run of the leakcheck command; layer is "task" or "timer"."""
    if doc is None:
        return Judgment("unjudged", "leakcheck wrote no report")
    runs = doc.get("runs", [])
    if len(runs) != 1:
        return Judgment("unjudged", f"leakcheck reported {len(runs)} runs, expected 1")
    run = runs[0]
    verdict = run.get("verdict")
    findings = [f for f in doc.get("findings", []) if isinstance(f, dict)]
    said = summarize_findings(findings) or "nothing"
    if verdict not in ("clean", "leaks"):
        return Judgment("unjudged", f"leakcheck could not check the run: {verdict}")
    if layer not in run.get("layers", []):
        return Judgment("unjudged", f"leakcheck's {layer} layer did not run (layers: {run.get('layers')})")
    if not bad:
        return Judgment("alarm" if findings or verdict == "leaks" else "clean", said)
    hit = any(
        f.get("kind") == layer
        and f.get("state", {}).get("state") == expected
        and (site is None or f.get("site", {}).get("function") == site)
        for f in findings
    )
    return Judgment("detected" if hit else "missed", said)


TSAN_WARNING = "WARNING: ThreadSanitizer: "


def tsan_warnings(logs: Sequence[str]) -> list[str]:
    """The kinds of ThreadSanitizer reports in its log files ("data race", ...)."""
    kinds = []
    for text in logs:
        for line in text.splitlines():
            at = line.find(TSAN_WARNING)
            if at >= 0:
                kinds.append(line[at + len(TSAN_WARNING):].split(" (pid=")[0].strip())
    return kinds


def tsan_summaries(logs: Sequence[str]) -> list[str]:
    return [
        line.strip()[len("SUMMARY: ThreadSanitizer: "):]
        for text in logs
        for line in text.splitlines()
        if line.strip().startswith("SUMMARY: ThreadSanitizer: ")
    ]


def judge_tsan(logs: Sequence[str], p: Proc, expected: str, bad: bool) -> Judgment:
    """One run of a SAN=thread build with log_path set; expected: "data race"."""
    kinds = tsan_warnings(logs)
    summaries = tsan_summaries(logs)
    said = "; ".join(summaries[:3]) + (f" (+{len(summaries) - 3} more)" if len(summaries) > 3 else "")
    said = said or ("; ".join(kinds) if kinds else "nothing")
    if p.timed_out:
        return Judgment("unjudged", "timed out: " + said)
    if bad:
        if expected in kinds:
            return Judgment("detected", said)
        # No report and a crash: TSan never got to judge the run.
        return Judgment("unjudged" if p.returncode < 0 else "missed", said)
    if kinds:
        return Judgment("alarm", said)
    if p.returncode != 0:
        return Judgment("unjudged", f"no report, but the run failed ({exit_text(p)}): {_first_line(p.stderr)}")
    return Judgment("clean", said)


def _race_line(r: JSON) -> str:
    return str(r.get("summary") or r.get("kind") or "a report")


def judge_race_doc(doc: JSON | None, runs: int, expected: str, bad: bool) -> list[Judgment]:
    """gort-race's gort.race/1 document for one program run `runs` times:
    one judgment per run, from the run log and the races each run found."""
    if doc is None or len(doc.get("programs", [])) != 1:
        return [Judgment("unjudged", "gort-race wrote no report for the program")] * runs
    prog = doc["programs"][0]
    if prog.get("status") == "unchecked":
        return [Judgment("unjudged", f"gort-race could not check it: {prog.get('reason', '')}")] * runs
    races = prog.get("races", [])
    judged = []
    for run in prog.get("run_log", []):
        idx = run.get("index")
        found = [r for r in races if idx in r.get("runs_found", [])]
        how = f"run {idx}, cpus {run.get('cpus')}, GORT_CHAOS={run.get('chaos_seed')}"
        said = "; ".join(_race_line(r) for r in found) or "nothing"
        crashed = run.get("timed_out") or run.get("signal") is not None
        if bad:
            hit = any(r.get("kind") == expected for r in found)
            outcome = "detected" if hit else "unjudged" if crashed else "missed"
        elif run.get("reports", 0) > 0 or found:
            outcome = "alarm"
        else:
            outcome = "unjudged" if crashed or run.get("exit_code") != 0 else "clean"
        ended = ("timeout" if run.get("timed_out") else f"signal {run.get('signal')}"
                 if run.get("signal") is not None else f"exit {run.get('exit_code')}")
        judged.append(Judgment(outcome, f"{said} ({how})", ended))
    # Runs gort-race did not perform (it stopped early) were not judged.
    judged += [Judgment("unjudged", "gort-race did not run it")] * (runs - len(judged))
    return judged[:runs]


def judge_abort(p: Proc, headline: str, bad: bool) -> Judgment:
    """The deadlock detector or the misuse abort: headline on stderr, then
    SIGABRT. headline: "fatal error: <msg>" or "panic: <msg>"."""
    reported = any(line == headline for line in p.stderr.splitlines())
    aborted = p.returncode == -signal.SIGABRT
    said = _first_line(p.stderr) or "nothing"
    if p.timed_out:
        return Judgment("unjudged", "timed out: " + said)
    if bad:
        return Judgment("detected" if reported and aborted else "missed", said)
    for line in p.stderr.splitlines():
        if line.startswith("panic: ") or line.startswith("fatal error: "):
            return Judgment("alarm", line)
    if aborted:
        return Judgment("alarm", f"aborted: {said}")
    if p.returncode != 0:
        return Judgment("unjudged", f"the run failed ({exit_text(p)}): {said}")
    return Judgment("clean", "nothing")


def demonstration(p: Proc) -> Judgment:
    for line in p.stdout.splitlines():
        if line.startswith("demonstration: "):
            return Judgment("shown", line[len("demonstration: "):])
    return Judgment("shown", exit_text(p))


# ---- running ----------------------------------------------------------------


@dataclass(frozen=True)
class Tools:
    antipattern: Path  # plain build: leakcheck, deadlock, misuse, demonstrations
    tsan_antipattern: Path  # SAN=thread build
    leakcheck: Path
    tsan_options: str = ""
    gort_race: Path | None = None  # None: read TSan's log files directly


def run_proc(argv: Sequence[str], env: dict[str, str] | None = None, timeout: float = RUN_TIMEOUT_S) -> Proc:
    """Run argv in its own session; on timeout kill the whole group."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    with subprocess.Popen(
        list(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=full_env,
        start_new_session=True,
        text=True,
        errors="replace",
    ) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
            return Proc(proc.returncode, out, err)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            return Proc(proc.returncode, out, err, timed_out=True)


def _read_leakcheck(path: Path) -> JSON | None:
    if not path.exists():
        return None
    try:
        return jsonio.read(path, LEAKCHECK_SCHEMA)
    except InputError:
        return None


def run_gort_race(tools: Tools, e: Entry, bad: bool, runs: int) -> list[Judgment]:
    """All runs of one side of a tsan entry in one gort-race sweep."""
    assert tools.gort_race is not None
    args = [e.name] if bad else [e.name, "--fixed"]
    with tempfile.TemporaryDirectory(prefix="gort-ap-") as tmp:
        out = Path(tmp) / "race.json"
        env = {"TSAN_OPTIONS": f"halt_on_error=0 {tools.tsan_options}".strip()}
        p = run_proc([str(tools.gort_race), "--runs", str(runs), "--timeout", "60", "--json", str(out), "--",
                      str(tools.tsan_antipattern), *args], env, timeout=RUN_TIMEOUT_S * runs)
        doc: JSON | None = None
        if out.exists():
            try:
                doc = jsonio.read(out, "gort.race/1")
            except InputError:
                doc = None
        judged = judge_race_doc(doc, runs, e.expected, bad)
        if doc is None:
            judged = [Judgment(j.outcome, f"{j.said}: {exit_text(p)} {_first_line(p.stderr)}") for j in judged]
        return judged


def run_side(tools: Tools, e: Entry, bad: bool, runs: int) -> list[Judgment]:
    """`runs` runs of one side of an entry (one gort-race sweep for tsan)."""
    if e.detector == "tsan" and tools.gort_race is not None:
        return run_gort_race(tools, e, bad, runs)
    return [run_one(tools, e, bad) for _ in range(runs)]


def run_one(tools: Tools, e: Entry, bad: bool) -> Judgment:
    """Run one side of an entry once under its detector and judge it."""
    args = [e.name] if bad else [e.name, "--fixed"]
    with tempfile.TemporaryDirectory(prefix="gort-ap-") as tmp:
        if e.detector.startswith("leakcheck-"):
            out = Path(tmp) / "leakcheck.json"
            p = run_proc([str(tools.leakcheck), "-q", "--timeout", "60", "--json", str(out), "--",
                          str(tools.antipattern), *args])
            doc = _read_leakcheck(out)
            j = judge_leakcheck(doc, e.detector.removeprefix("leakcheck-"), e.expected, e.site, bad)
            status = doc["runs"][0].get("exit_status") if doc and doc.get("runs") else None
            return Judgment(j.outcome, j.said, f"exit {status}" if isinstance(status, int) else exit_text(p))
        if e.detector == "tsan":
            opts = f"log_path={tmp}/tsan halt_on_error=0 exitcode=66 {tools.tsan_options}".strip()
            p = run_proc([str(tools.tsan_antipattern), *args], {"TSAN_OPTIONS": opts})
            logs = [f.read_text(errors="replace") for f in sorted(Path(tmp).glob("tsan*"))]
            j = judge_tsan(logs, p, e.expected, bad)
        elif e.detector == "deadlock":
            p = run_proc([str(tools.antipattern), *args])
            j = judge_abort(p, f"fatal error: {e.expected}", bad)
        elif e.detector == "misuse":
            p = run_proc([str(tools.antipattern), *args])
            j = judge_abort(p, f"panic: {e.expected}", bad)
        else:
            p = run_proc([str(tools.antipattern), *args])
            j = demonstration(p)
        return Judgment(j.outcome, j.said, exit_text(p))


# ---- the document ----------------------------------------------------------


def side_doc(results: Sequence[Judgment], bad: bool) -> JSON:
    flagged = "detected" if bad else "alarm"
    return {
        "runs": len(results),
        "flagged": sum(r.outcome == flagged for r in results),
        "unjudged": sum(r.outcome == "unjudged" for r in results),
        "results": [
            {"run": i, "outcome": r.outcome, "exit": r.exit, "said": r.said} for i, r in enumerate(results, 1)
        ],
    }


def entry_doc(e: Entry, bad: Sequence[Judgment], fixed: Sequence[Judgment]) -> JSON:
    b, f = side_doc(bad, True), side_doc(fixed, False)
    return {
        "name": e.name,
        "seeds": e.seeds,
        "mistake": e.mistake,
        "detection": "detectable" if e.detectable else DEMO,
        "detector": e.detector if e.detectable else None,
        "expected": e.expected if e.site is None else f"{e.expected}, created by {e.site}",
        "bad": b,
        "fixed": f,
        "recall": (b["flagged"] / b["runs"] if b["runs"] else 0.0) if e.detectable else None,
        "false_alarms": f["flagged"] if e.detectable else None,
    }


def build_doc(entries: Sequence[JSON], runs: int, duration_s: float, jobs: int) -> JSON:
    det = [e for e in entries if e["detection"] == "detectable"]
    bad_runs = sum(e["bad"]["runs"] for e in det)
    detected = sum(e["bad"]["flagged"] for e in det)
    false_alarms = sum(e["fixed"]["flagged"] for e in det)
    unjudged = sum(e["bad"]["unjudged"] + e["fixed"]["unjudged"] for e in det)
    recall = detected / bad_runs if bad_runs else None
    return {
        "schema": SCHEMA,
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "runs": runs,
        "recall": recall,
        "false_alarms": false_alarms,
        "pass": bool(det) and recall == 1.0 and false_alarms == 0 and unjudged == 0,
        "summary": {
            "entries": len(entries),
            "detectable": len(det),
            "demonstration": len(entries) - len(det),
            "bad_runs": bad_runs,
            "detected": detected,
            "fixed_runs": sum(e["fixed"]["runs"] for e in det),
            "unjudged": unjudged,
            "duration_s": round(duration_s, 1),
            "jobs": jobs,
        },
        "entries": list(entries),
    }


def print_table(doc: JSON) -> None:
    for e in doc["entries"]:
        if e["detection"] == DEMO:
            shown = e["bad"]["results"][0]["said"] if e["bad"]["results"] else ""
            print(f"  {e['name']:24} demonstration    {shown}")
            continue
        b, f = e["bad"], e["fixed"]
        mark = "ok  " if b["flagged"] == b["runs"] and f["flagged"] == 0 and not b["unjudged"] + f["unjudged"] else "FAIL"
        print(
            f"{mark} {e['name']:24} {e['detector']:16} bad {b['flagged']:3}/{b['runs']} detected, "
            f"fixed {f['flagged']}/{f['runs']} alarms"
            + (f", {b['unjudged'] + f['unjudged']} unjudged" if b["unjudged"] + f["unjudged"] else "")
        )
        for r in b["results"]:
            if r["outcome"] != "detected":
                print(f"       bad run {r['run']}: {r['outcome']} ({r['exit']}): {r['said']}")
                break
        for r in f["results"]:
            if r["outcome"] != "clean":
                print(f"       fixed run {r['run']}: {r['outcome']} ({r['exit']}): {r['said']}")
                break
    s = doc["summary"]
    recall = "n/a" if doc["recall"] is None else f"{100 * doc['recall']:.1f}%"
    print(
        f"antipatterns-check: recall {recall} ({s['detected']}/{s['bad_runs']} bad runs of "
        f"{s['detectable']} detectable entries), {doc['false_alarms']} false alarms in "
        f"{s['fixed_runs']} fixed runs, {s['unjudged']} unjudged; {s['demonstration']} "
        f"demonstration-only entries; {s['duration_s']} s at -j{s['jobs']}: "
        + ("PASS" if doc["pass"] else "FAIL")
    )


def _executable(path: str) -> Path:
    p = Path(path)
    if not (p.is_file() and os.access(p, os.X_OK)):
        raise InputError(f"{p}: not an executable file (build it first: make antipatterns-check builds all)")
    return p


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="antipatterns-check", description=__doc__.split("\n\n")[0])
    ap.add_argument("--antipattern", required=True, help="the catalog driver, plain build")
    ap.add_argument("--tsan-antipattern", required=True, help="the catalog driver, SAN=thread build")
    ap.add_argument("--leakcheck", required=True, help="the leakcheck command")
    ap.add_argument("--gort-race", default="", help="the gort-race command (default: TSan's log files)")
    ap.add_argument("--runs", type=int, default=20, help="runs of each bad program and fixed twin")
    ap.add_argument("--jobs", type=int, default=2, help="runs at once")
    ap.add_argument("--tsan-options", default="", help="more TSAN_OPTIONS (suppressions=...)")
    ap.add_argument("--only", default="", help="comma-separated entry names")
    ap.add_argument("--out", default="reports/out/verdicts.json")
    a = ap.parse_args(argv)
    if a.runs < 1 or a.jobs < 1:
        raise InputError("--runs and --jobs must be at least 1")
    tools = Tools(_executable(a.antipattern), _executable(a.tsan_antipattern), _executable(a.leakcheck),
                  a.tsan_options, _executable(a.gort_race) if a.gort_race else None)
    listed = run_proc([str(tools.antipattern), "--list"], timeout=30)
    if listed.returncode != 0:
        raise InputError(f"{tools.antipattern} --list failed ({exit_text(listed)})")
    entries = parse_list(listed.stdout)
    if a.only:
        wanted = set(a.only.split(","))
        entries = [e for e in entries if e.name in wanted]
        if not entries:
            raise InputError(f"--only {a.only}: no such entry")
    # Interleave entries (run i of every entry, then run i+1) so that a
    # moment of heavy load on the machine does not land on one entry only;
    # a gort-race sweep does all runs of one side, and goes first (longest).
    swept = [(e, bad, a.runs) for e in entries for bad in (True, False)
             if e.detector == "tsan" and tools.gort_race is not None]
    single = [(e, bad, 1) for i in range(a.runs) for e in entries for bad in (True, False)
              if (e.detectable or i == 0) and not (e.detector == "tsan" and tools.gort_race is not None)]
    jobs = swept + single
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=a.jobs) as pool:
        judged = list(pool.map(lambda job: run_side(tools, *job), jobs))
    results: dict[tuple[str, bool], list[Judgment]] = {}
    for (e, bad, _), js in zip(jobs, judged):
        results.setdefault((e.name, bad), []).extend(js)
    docs = [entry_doc(e, results.get((e.name, True), []), results.get((e.name, False), [])) for e in entries]
    doc = build_doc(docs, a.runs, time.monotonic() - started, a.jobs)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    jsonio.write(a.out, doc, SCHEMA)
    print_table(doc)
    print(f"antipatterns-check: wrote {a.out}")
    return EXIT_OK if doc["pass"] else EXIT_FINDINGS


if __name__ == "__main__":
    run_cli("antipatterns-check", main)
    sys.exit(2)  # not reached: run_cli exits
