"""Build report.json (gort.report/2) from the harness files in one directory.

Inputs (each optional): tests-<variant>.jsonl (gort.tests/2), bench.json
(gort on the thread backend), bench-mn.json (on the M:N backend),
bench-sweep.json and bench-go[-quick].json (gort.bench/1), compare.json (gort.compare/1),
leakcheck.json (gort.leakcheck/1), leakcheck-calibration.json
(gort.leakcheck-calibration/1), valgrind.json (gort.valgrind/2), race.json
(gort.race/1), verdicts.json (gort.verdicts/1), steps.jsonl (progress).
Every file read is validated; a bad one is an InputError (exit 2).

The verdict: fail when there is any finding, incomplete when no test run was
recorded (nothing was proven), else pass.
"""

from __future__ import annotations

import datetime
import os
import re
from pathlib import Path
from typing import Any, Callable, TypeVar

from . import excerpt, gate, gbench, jsonio, repo, sanitizer, tests, valgrind
from .errors import InputError
from .findings import Finding, Occurrence, conflict_site, merge, site

T = TypeVar("T")

SCHEMA = "gort.report/2"
SEED = ["NaiveSpawn", "WorkerPool", "Serial", "ParallelFloor", "NaiveSpawnPthread", "WorkerPoolCores",
        "ChanSemaphore"]
SWEEP_FAMILIES = ("Sweep", "IO")
CV_NOISY = 0.05  # a benchmark whose cv exceeds this is flagged as noisy


def _base(path: str) -> str:
    return os.path.basename(path)


# ---------------------------------------------------------------- tests

def _source_of(name: str) -> tuple[str, int]:
    """A test binary's source file, with no line: which line is unknown."""
    for d in ("runtime/tests", "patterns/tests", "leakcheck/tests", "runtime/tests/runner"):
        p = repo.ROOT / d / f"{name}.c"
        if p.exists():
            return f"{d}/{name}.c", 0
    return "", 0


def _test_site(binary: str, test: str) -> tuple[str, int]:
    """Where a cmocka test function is defined: in its binary's source
    first (test names repeat across files), else anywhere."""
    src = _source_of(binary)[0]
    return repo.locate_test(test, src) if src else repo.locate_test(test)


_ASSERT_AT = re.compile(r"^(\S+?\.c):(\d+): error:", re.M)


def _assert_site(message: str) -> tuple[str, int] | None:
    """The assertion that failed, from cmocka's "file:line: error:" line."""
    for m in _ASSERT_AT.finditer(message):
        rel = repo.relpath(m.group(1))
        if rel and not rel.startswith("leakcheck/src/"):  # leakcheck's own fail_msg is not the site
            return rel, int(m.group(2))
    return None


def _test_findings(variants: dict[str, list[tests.Record]]) -> list[Finding]:
    out: list[Finding] = []
    for variant, recs in variants.items():
        for r in recs:
            suite = f"tests.{variant}.{r.name}"
            for t in r.tests:
                if t.status != "failed":
                    continue
                hung = t.message.startswith("[ TIMEOUT  ]")
                file, line = (None if hung else _assert_site(t.message)) or _test_site(r.name, t.name)
                out.append(Finding(
                    "timeout" if hung else "test-failure",
                    f"{r.name}: {t.name} {'timed out' if hung else 'failed'}", t.message,
                    subject=f"{r.name}: {t.name}", function=t.name, file=file, line=line,
                    occurrences=[Occurrence(variant, suite, t.name, t.message, t.seconds)]))
            if r.status in ("crashed", "timeout"):
                out += _crash_findings(variant, r, suite)
            elif r.status == "failed" and r.exit_code == sanitizer.TSAN_EXITCODE:
                # TSan that does not halt (make report's race sweep) reports,
                # lets the tests finish, and fails the binary at exit.
                out += _sanitizer_findings(variant, r)
    return out


def _sanitizer_findings(variant: str, r: tests.Record) -> list[Finding]:
    """The sanitizer reports in a binary's output, each with its stacks."""
    found = []
    for rep in sanitizer.reports(r.log_tail):
        stacks = [[(f.function, f.file, f.line) for f in s] for s in rep.stacks]
        if rep.kind == "race":
            fn, file, line, stack = conflict_site(stacks)
        else:
            fn, file, line, _ = site(fr for s in stacks for fr in s)
            stack = site(stacks[0] if stacks else [])[3]
        group = "races" if rep.kind == "race" else "memory"
        title = f"{rep.tool}: {rep.headline} in {fn or '?'}" + (f" ({file}:{line})" if file else "")
        found.append(Finding(
            rep.kind, title, rep.text, function=fn, file=file, line=line, stack=stack,
            occurrences=[Occurrence(variant, f"{group}.{variant}", f"{r.name}: {rep.headline} at {fn or '?'}",
                                    rep.text, r.seconds)]))
    return found


def _crash_findings(variant: str, r: tests.Record, suite: str) -> list[Finding]:
    found = _sanitizer_findings(variant, r)
    if found or any(t.message.startswith("[ TIMEOUT  ]") for t in r.tests):
        return found  # a test the watchdog named is its own finding
    kind = "timeout" if r.status == "timeout" else "crash"
    why = (f"killed by {tests.signal_name(r.signal)}" if r.signal else f"exit status {r.exit_code}")
    by = excerpt.stopped_by(r.log_tail)
    why += f", stopped by {by}" if by else ""
    file, line = _source_of(r.name)
    text = f"{r.binary} {'timed out' if kind == 'timeout' else 'died'} ({why}); its last output:\n{r.log_tail}"
    return [Finding(kind, f"{r.name} {'timed out' if kind == 'timeout' else 'died'} ({excerpt.one_line(why, 300)})",
                    text, subject=r.name, file=file, line=line,
                    occurrences=[Occurrence(variant, suite, "(binary)", text, r.seconds, error=True)])]


def _tests_section(variants: dict[str, list[tests.Record]]) -> dict[str, Any]:
    sec: dict[str, Any] = {}
    for variant, recs in variants.items():
        sec[variant] = {
            "binaries": len(recs),
            "passed": sum(r.count("passed") for r in recs),
            "failed": sum(r.count("failed") for r in recs),
            "skipped": sum(r.count("skipped") for r in recs),
            "not_run": sum(r.count("not_run") for r in recs),
            "seconds": round(sum(r.seconds for r in recs), 3),
            "records": [{"binary": r.binary, "status": r.status, "exit_code": r.exit_code,
                         "signal": r.signal, "seconds": r.seconds, "log_tail": r.log_tail,
                         **({"stopped_by": excerpt.stopped_by(r.log_tail)}
                            if r.status in ("crashed", "timeout") else {}),
                         "tests": [vars(t) for t in r.tests]} for r in recs],
        }
    return sec


# ---------------------------------------------------------------- leakcheck

def _leak_findings(doc: dict[str, Any]) -> list[Finding]:
    out = []
    # A finding's testcase takes the time of the run that found it.
    run_secs = {(r["binary"], r["mode"]): r.get("duration_ms", 0) / 1000 for r in doc["runs"]}
    for f in doc["findings"]:
        s = f.get("site") or {}
        frames = [(fr.get("function", ""), fr.get("file", ""), int(fr.get("line", 0)))
                  for fr in f.get("stack") or []]
        fn, file, line, stack = site([(s.get("function", ""), s.get("file", ""), int(s.get("line", 0)))]
                                     + frames)
        if not file and f.get("test"):
            file, line = repo.locate_test(f["test"])
        test = f.get("test") or "(exit)"
        name = _base(f["binary"])
        ident = f.get("identity") or {}
        extra = f"fd-target:{ident.get('target', '')}" if f["kind"] == "fd" else ""
        how = "allocated" if f["kind"] == "heap" else "created"
        title = f"leaked {f['kind']} in {name}: {test}" + (f", {how} at {fn} ({file}:{line})" if fn else "")
        # As leakcheck prints it: its header for the layer, then the leak.
        text = f"leakcheck: {excerpt.LEAK_HEADERS.get(f['kind'], 'found leaks:')}\n{f['message']}"
        out.append(Finding(
            f"leak-{f['kind']}", title, text, subject=f"{name}: {test}", function=fn, file=file,
            line=line, stack=stack, extra_key=extra,
            occurrences=[Occurrence(f["mode"], f"leakcheck.{f['mode']}", f"{name}: {test} [{f['kind']}]",
                                    text, run_secs.get((f["binary"], f["mode"]), 0.0))]))
    for r in doc["runs"]:
        if r["verdict"] in ("clean", "leaks"):
            continue
        name = _base(r["binary"])
        file, line = _source_of(name)
        how = f"exit {r['exit_status']}" if "exit_status" in r else f"signal {r.get('signal', '?')}"
        text = f"{r['binary']} [{r['mode']}] {r['verdict']} under leakcheck ({how}): its leaks are unknown"
        out.append(Finding("leakcheck-run", f"{name} could not be checked under leakcheck ({r['verdict']})",
                           text, subject=name, file=file, line=line,
                           occurrences=[Occurrence(r["mode"], f"leakcheck.{r['mode']}", name, text,
                                                   r.get("duration_ms", 0) / 1000, error=True)]))
    return out


def _fold_leaky_tests(found: list[Finding]) -> list[Finding]:
    """A test that failed because leakcheck found a leak is that leak: its
    failure becomes one more occurrence of the leak finding."""
    leaks = {f.subject: f for f in found if f.kind.startswith("leak-")}
    out = []
    for f in found:
        leak = leaks.get(f.subject) if f.kind == "test-failure" and "leakcheck: " in f.text else None
        if leak is not None:
            leak.occurrences += [Occurrence(f"tests:{o.mode}", o.suite, o.case, o.text, o.seconds)
                                 for o in f.occurrences]
        else:
            out.append(f)
    return out


def _calibration_findings(doc: dict[str, Any]) -> list[Finding]:
    out = []
    for c in doc["cases"]:
        twin = c.get("twin") or {}
        alarms = int(twin.get("false_alarms", 0))
        if c["verdict"] == "found" and not alarms:
            continue
        exp = c.get("expected", {})
        why = f"leak {c['verdict']}" if c["verdict"] != "found" else f"{alarms} false alarm(s) in the fixed twin"
        file, line = repo.locate(rf"\b{exp.get('site', '-')}\s*\(") if exp.get("site", "-") != "-" else ("", 0)
        text = (f"calibration case {c['name']} [{c['mode']}]: {why}; expected {exp.get('kind')} at "
                f"{exp.get('site')} matching {exp.get('match')}")
        out.append(Finding("calibration", f"leakcheck calibration {c['name']}: {why}", text, subject=c["name"],
                           function=exp.get("site", ""), file=file, line=line,
                           occurrences=[Occurrence(c["mode"], "leakcheck.calibration", c["name"], text)]))
    return out


# ---------------------------------------------------------------- valgrind, races

def _valgrind_findings(errors: list[valgrind.VgError]) -> list[Finding]:
    out = []
    for e in errors:
        kind = ("leak-heap" if e.kind.startswith("Leak_") else
                "race" if e.kind == "Race" else "memory-error")
        frames = [(fr.fn, os.path.join(fr.dir, fr.file) if fr.dir else fr.file, fr.line) for s in e.stacks for fr in s]
        fn, file, line, stack = site(frames)
        name = _base(e.binary)
        subject = f"{name}: (exit)" if kind == "leak-heap" else ""
        text = e.text()
        out.append(Finding(kind, f"{e.tool}: {e.what.splitlines()[0]} in {fn or '?'}", text, subject=subject,
                           function=fn, file=file, line=line, stack=stack,
                           occurrences=[Occurrence(e.tool, f"valgrind.{e.tool}", f"{name}: {e.kind} at {fn}",
                                                   text)]))
    return out


def _valgrind_run_findings(binaries: list[dict[str, Any]]) -> list[Finding]:
    """A binary that failed under Valgrind without an error record of its
    own (a failed test, a crash, the output cut short)."""
    out = []
    for b in binaries:
        rc = b.get("exit_code")
        if b["errors"] or (b.get("complete", True) and rc in (None, 0)):
            continue
        name = _base(b["binary"])
        why = "its output was cut short" if not b.get("complete", True) else f"it exited with status {rc}"
        text = f"{b['binary']} under Valgrind {b['tool']}: {why} (log beside {b['xml']})"
        file, line = _source_of(name)
        out.append(Finding("crash", f"{name} failed under Valgrind {b['tool']}: {why}", text, subject=name,
                           file=file, line=line,
                           occurrences=[Occurrence(b["tool"], f"valgrind.{b['tool']}", name, text, error=True)]))
    return out


def _race_json_findings(doc: dict[str, Any]) -> list[Finding]:
    """gort-race's races (gort.race/1): both stacks, deduplicated by gort-race."""
    out = []
    for p in doc["programs"]:
        name = _base(p.get("binary") or p["argv"][0])
        for r in p["races"]:
            stacks = r["stacks"]
            fn, file, line, stack = conflict_site(
                [[(fr["function"], fr.get("file", ""), fr.get("line", 0)) for fr in s["frames"]] for s in stacks])
            text = "\n".join([f"WARNING: ThreadSanitizer: {r['kind']}"]
                             + [f"  {s['title']}\n" + "\n".join(
                                 f"    #{i} {fr['function']} {fr.get('file', '?')}:{fr.get('line', 0)}"
                                 for i, fr in enumerate(s["frames"])) for s in stacks]
                             + [r["summary"]])
            out.append(Finding("race", f"ThreadSanitizer: {r['kind']} in {fn or '?'}", text, function=fn,
                               file=file, line=line, stack=stack,
                               occurrences=[Occurrence("gort-race", "races.gort-race",
                                                       f"{name}: {r['kind']} at {fn or '?'}", text)]))
    return out


def _verdict_findings(doc: dict[str, Any]) -> list[Finding]:
    """make antipatterns-check's misses, false alarms and unjudged runs
    (gort.verdicts/1), from each side's counts; each run the detector got
    wrong is one occurrence, its text what the detector said."""
    out = []
    for en in doc["entries"]:
        bad, fixed = en["bad"], en["fixed"]
        wrong_runs = (bad["runs"] - bad["flagged"]) + fixed["flagged"] + fixed["unjudged"]
        if en["detection"] != "detectable" or not wrong_runs:
            continue
        wrong = [(side, r) for side, ok in (("bad", "detected"), ("fixed", "clean"))
                 for r in en[side]["results"] if r["outcome"] != ok]
        file, line = repo.locate(rf"\bap_entry\s+ap_{re.escape(en['name'])}\b")
        text = (f"{en['name']} ({en['mistake']}) under {en['detector']}: expected {en['expected']}; bad runs "
                f"{bad['flagged']}/{bad['runs']} detected, fixed runs {fixed['flagged']}/{fixed['runs']} alarms, "
                f"{bad['unjudged'] + fixed['unjudged']} unjudged")
        occ = [Occurrence(en["detector"], "antipatterns.verdicts", f"{en['name']} [{side} run {r['run']}]",
                          f"{r['outcome']} ({r.get('exit', '?')}): {r['said']}", error=r["outcome"] == "unjudged")
               for side, r in wrong] or [Occurrence(en["detector"], "antipatterns.verdicts", en["name"], text)]
        out.append(Finding("catalog-verdict", f"anti-pattern {en['name']} misgraded under {en['detector']}: "
                           f"{wrong_runs} run(s) wrong", text, subject=en["name"], file=file, line=line,
                           occurrences=occ))
    return out


# ---------------------------------------------------------------- benchmarks

def _bench_rows(bf: gbench.BenchFile | None) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    if bf is None:
        return rows
    for name, b in bf.benchmarks.items():
        rows[name.removesuffix("/real_time")] = {
            "median_ns": b.median_real_ns(), "cv": b.cv(), "n": len(b.runs), "errors": b.errors,
            "samples_ns": b.real_ns,
            "allocs_per_op": b.median_counter("allocs_per_op"), "bytes_per_op": b.median_counter("bytes_per_op")}
    return rows


def _ratio(rows: dict[str, dict[str, Any]], a: str, b: str) -> dict[str, Any] | None:
    """median(a)/median(b) and its spread: the ratio's range over the
    repetitions' extremes, [min a / max b, max a / min b]."""
    ra, rb = rows.get(a), rows.get(b)
    if not ra or not rb or not ra["samples_ns"] or not rb["samples_ns"] or not rb["median_ns"]:
        return None
    return {"ratio": ra["median_ns"] / rb["median_ns"],
            "low": min(ra["samples_ns"]) / max(rb["samples_ns"]),
            "high": max(ra["samples_ns"]) / min(rb["samples_ns"])}


# The gort columns of the benchmark tables: report key, file, backend (make
# bench and make bench-quick write one file per backend; bench/bench.mk).
GORT_SIDES = (("gort", "bench.json", "thread"), ("gort_mn", "bench-mn.json", "mn"))
RATIOS = (("naive_over_pool", "NaiveSpawn", "WorkerPool"), ("pool_over_floor", "WorkerPool", "ParallelFloor"))


def _gort_reader(backend: str) -> Callable[[Path], tuple[gbench.BenchFile, str]]:
    """Reads one backend's file, checking the backend its context names;
    also returns where the backend was read (gbench.backend)."""
    def read(p: Path) -> tuple[gbench.BenchFile, str]:
        bf = gbench.read(p)
        return bf, gbench.backend(bf, backend)[1]
    return read


def _bench_section(rd: _Reader) -> dict[str, Any] | None:
    out = rd.out
    gort = {key: got for key, name, backend in GORT_SIDES
            if (got := rd.read(name, _gort_reader(backend))) is not None}
    go_files = [p for p in (out / "bench-go.json", out / "bench-go-quick.json") if p.exists()]
    go_name = max(go_files, key=lambda p: p.stat().st_mtime).name if go_files else ""
    go = rd.read(go_name, gbench.read) if go_name else None
    sweep = rd.read("bench-sweep.json", gbench.read)
    if not gort and go is None and sweep is None:
        return None
    o = _bench_rows(go)
    sides = {key: _bench_rows(gort[key][0] if key in gort else None) for key, _, _ in GORT_SIDES}
    # make report's short sweep (bench-sweep.json, the thread backend) joins
    # gort's rows.
    sides["gort"].update(_bench_rows(sweep))
    for rows in sides.values():
        for name, row in rows.items():
            g, go_row = row["median_ns"], o.get(name, {}).get("median_ns")
            row["over_go"] = g / go_row if g and go_row else None
    reps = [len(b.runs) for bf in [got[0] for got in gort.values()] + [go] if bf for b in bf.benchmarks.values()]
    sources: dict[str, dict[str, str] | None] = {
        key: {"file": name, "backend": backend, "backend_from": gort[key][1]} if key in gort else None
        for key, name, backend in GORT_SIDES}
    sources["go"] = {"file": go_name} if go else None
    return {
        **sides, "go": o,
        "context": {**{key: gort[key][0].context if key in gort else {} for key, _, _ in GORT_SIDES},
                    "go": go.context if go else {}},
        "sources": sources,
        "repetitions": max(reps) if reps else 0,
        "cv_noisy": CV_NOISY,
        "ratios": {side: {key: _ratio(rows, a, b) for key, a, b in RATIOS}
                   for side, rows in (*sides.items(), ("go", o))},
    }


def _compare_findings(doc: dict[str, Any]) -> list[Finding]:
    """The gate's own judgment of compare.json (gortreport.gate), so that the
    report and the gate cannot disagree on a benchmark."""
    out = []
    for g in gate.compare_findings(doc)[0]:
        name = g["benchmark"]
        file, line = repo.locate_benchmark(name)
        out.append(Finding(g["kind"], g["message"], g["message"], subject=name, function=name.split("/")[0],
                           file=file, line=line,
                           occurrences=[Occurrence("bench-compare", "bench.compare", name, g["message"])]))
    return out


# ---------------------------------------------------------------- the report

def _steps(out: Path) -> list[dict[str, Any]]:
    """The steps of make report; a step recorded twice (run again by hand)
    is its last run."""
    p = out / "steps.jsonl"
    last = {s["step"]: s for s in (jsonio.read_lines(p, "gort.steps/1") if p.exists() else [])}
    return list(last.values())


STEP_TAIL_LINES = 40
_REPORTS_MK = "reports/reports.mk"


def _step_site(step: str) -> tuple[str, int]:
    """Where make report runs the step (reports/reports.mk)."""
    try:
        lines = (repo.ROOT / _REPORTS_MK).read_text().splitlines()
    except OSError:
        return "", 0
    rx = re.compile(rf"\$\(REPORT_STEP\)(?: --output \S+)* {re.escape(step)} --")
    return next(((_REPORTS_MK, n) for n, text in enumerate(lines, 1) if rx.search(text)), ("", 0))


def _step_findings(out: Path, steps: list[dict[str, Any]], broken: dict[str, list[str]],
                   produced: dict[str, int]) -> list[Finding]:
    """A step of make report that failed: it exited non-zero and none of its
    outputs holds a finding that says why (a build, a runner that died, a
    tool that crashed), or it left an output missing or unreadable. The runs
    after a failed build checked an old build or nothing, and a missing file
    proves nothing, so the report cannot pass."""
    found = []
    for s in steps:
        step, rc = s["step"], s["status"]
        outputs = s.get("outputs", [])
        bad = [f"{o}: not written" for o in outputs if not (out / o).exists()] + broken.get(step, [])
        if not bad and (rc == 0 or sum(produced.get(o, 0) for o in outputs)):
            continue
        log = out / "logs" / f"{step}.log"
        tail = ("\n".join(log.read_text(errors="replace").splitlines()[-STEP_TAIL_LINES:]) if log.exists()
                else "(no log)")
        why = f"exit {rc}" + (f"; {'; '.join(bad)}" if bad else "")
        text = f"make report: step {step} failed ({why}); the end of its log ({log.name}):\n{tail}"
        file, line = _step_site(step)
        found.append(Finding("step-failed", f"make report: step {step} failed ({why})", text,
                             subject=step, file=file, line=line,
                             occurrences=[Occurrence("make report", "report.steps", step, text,
                                                     float(s["seconds"]), error=True)]))
    return found


def _inputs(out: Path) -> list[dict[str, str]]:
    """Every harness file the report read, and when it was written: a file
    left from an earlier run is visible as such."""
    names = sorted(p.name for p in out.glob("tests-*.jsonl")) + [
        n for n in ("bench.json", "bench-mn.json", "bench-sweep.json", "bench-go.json", "bench-go-quick.json", "compare.json", "leakcheck.json",
                    "leakcheck-calibration.json", "valgrind.json", "race.json", "verdicts.json")
        if (out / n).exists()]
    return [{"file": n, "written": datetime.datetime.fromtimestamp(
        (out / n).stat().st_mtime, datetime.timezone.utc).isoformat(timespec="seconds")} for n in names]


class _Reader:
    """Reads the harness files; a file a recorded step must write (its
    --output) that cannot be read becomes that step's failure instead of
    stopping the report. Counts the findings each file yields."""

    def __init__(self, out: Path, steps: list[dict[str, Any]]) -> None:
        self.out = out
        self.owner = {o: s["step"] for s in steps for o in s.get("outputs", [])}
        self.broken: dict[str, list[str]] = {}
        self.produced: dict[str, int] = {}

    def read(self, name: str, reader: Callable[[Path], T]) -> T | None:
        p = self.out / name
        if not p.exists():
            return None
        try:
            return reader(p)
        except InputError as err:
            step = self.owner.get(name)
            if step is None:
                raise
            self.broken.setdefault(step, []).append(str(err))
            return None

    def yielded(self, name: str, found: list[Finding]) -> list[Finding]:
        self.produced[name] = self.produced.get(name, 0) + len(found)
        return found


def _schema_reader(schema: str) -> Callable[[Path], dict[str, Any] | None]:
    def read(p: Path) -> dict[str, Any] | None:
        # A format whose schema has not landed yet cannot be trusted: skip it.
        return jsonio.read(p, schema) if jsonio.schema_path(schema).exists() else None
    return read


def build(out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    out = Path(out_dir)
    steps = _steps(out)
    rd = _Reader(out, steps)
    variants: dict[str, list[tests.Record]] = {}
    for p in sorted(out.glob("tests-*.jsonl")):
        recs = rd.read(p.name, tests.read_variant)
        if recs is not None:
            variants[tests.variant_of(p)] = recs
    tests.fill_not_run(variants)
    leak = rd.read("leakcheck.json", _schema_reader("gort.leakcheck/1"))
    calib = rd.read("leakcheck-calibration.json", _schema_reader("gort.leakcheck-calibration/1"))
    compare = rd.read("compare.json", _schema_reader("gort.compare/1"))
    race = rd.read("race.json", _schema_reader("gort.race/1"))
    verdicts = rd.read("verdicts.json", _schema_reader("gort.verdicts/1"))
    vg_bins, vg_errors = rd.read("valgrind.json", valgrind.read) or ([], [])
    bench = _bench_section(rd)

    found: list[Finding] = []
    for v, recs in variants.items():
        found += rd.yielded(f"tests-{v}.jsonl", _test_findings({v: recs}))
    if leak:
        found += rd.yielded("leakcheck.json", _leak_findings(leak))
    if calib:
        found += _calibration_findings(calib)
    found += _valgrind_findings(vg_errors) + _valgrind_run_findings(vg_bins)
    if race:
        found += _race_json_findings(race)
    if compare:
        found += _compare_findings(compare)
    if verdicts:
        found += rd.yielded("verdicts.json", _verdict_findings(verdicts))
    found = _step_findings(out, steps, rd.broken, rd.produced) + found
    findings = merge(_fold_leaky_tests(found))

    loads = [s["loadavg"][0] for s in steps if s.get("loadavg")]
    verdict = "fail" if findings else ("pass" if variants else "incomplete")
    return {
        "schema": SCHEMA,
        "verdict": verdict,
        "generated_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "meta": {
            "commit": repo.commit(), "gort_version": repo.version(), "machine": repo.machine(),
            "compiler": repo.compiler(), "loadavg_now": repo.loadavg(),
            "loadavg_steps": {"min": min(loads), "max": max(loads)} if loads else None,
            "repetitions": bench["repetitions"] if bench else 0,
        },
        "steps": steps,
        "inputs": _inputs(out),
        "tests": _tests_section(variants),
        "bench": bench,
        "compare": compare,
        "leakcheck": leak,
        "calibration": calib,
        "valgrind": {"binaries": vg_bins} if vg_bins else None,
        "race": race,
        "verdicts": verdicts,
        "findings": [f.to_json() for f in findings],
    }
