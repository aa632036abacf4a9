"""junit.xml: the gate's truth. Every test is a testcase; every occurrence
of every finding is a failing testcase (an error when something could not
run); clean leakcheck runs and Valgrind binaries are passing testcases.
Every testcase has a time.

A failure's message attribute is the detector's own first line(s), with the
site they name (excerpt.headline: leakcheck's "found unexpected tasks: Task 2
in state [...], created by f in task 1 at file:line", TSan's first line and
both accesses, Valgrind's record line, cmocka's assertion and its
file:line); its body is the detector's whole text (the goleak-shaped report,
both TSan stacks, the Valgrind record), then the finding it belongs to. A
test not run because its binary died first is an error whose message names
what stopped the binary (the sanitizer's or gort's first line).

What leakcheck could not check is never silent, and never a failure by
itself: the exit of a run that failed (its heap, under LeakSanitizer or
Valgrind, is judged only there, as goleak judges nothing after a failure)
is a skipped testcase "<binary>: (exit)" saying why; the layers a run
could not check (leakcheck's `unchecked`: the heap of a native run) are in
its testcase's system-out.

Invariant (tested): the report's verdict is not "pass" exactly when the
file has a failure or an error.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from typing import Any

from . import excerpt

# XML 1.0 cannot carry most control characters; sanitizer logs can.
_BAD = {c: None for c in range(32) if c not in (9, 10, 13)}


def _clean(text: str) -> str:
    return text.translate(_BAD)


class _Suites:
    def __init__(self) -> None:
        self.root = ET.Element("testsuites", name="gort")
        self.suites: dict[str, ET.Element] = {}

    def case(self, suite: str, name: str, seconds: float, classname: str | None = None) -> ET.Element:
        s = self.suites.get(suite)
        if s is None:
            s = self.suites[suite] = ET.SubElement(self.root, "testsuite", name=suite)
        return ET.SubElement(s, "testcase", classname=classname or suite, name=name, time=f"{seconds:.3f}")

    def finish(self) -> ET.Element:
        totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for s in self.suites.values():
            cases = s.findall("testcase")
            counts = {"tests": len(cases),
                      "failures": sum(c.find("failure") is not None for c in cases),
                      "errors": sum(c.find("error") is not None for c in cases),
                      "skipped": sum(c.find("skipped") is not None for c in cases)}
            secs = sum(float(c.get("time", "0")) for c in cases)
            for k, v in counts.items():
                s.set(k, str(v))
                totals[k] += v
            s.set("time", f"{secs:.3f}")
        for k, v in totals.items():
            self.root.set(k, str(v))
        return self.root


def _fail(case: ET.Element, message: str, text: str, error: bool = False) -> None:
    el = ET.SubElement(case, "error" if error else "failure", message=excerpt.one_line(_clean(message)),
                       type="error" if error else "failure")
    el.text = _clean(text)


def _by_detector(kind: str) -> bool:
    """Whether a finding's text is a detector's report (its headline is the
    message) rather than gort's own account (a crash, a failed step, a
    benchmark, the catalog: its title is)."""
    return kind in ("test-failure", "timeout", "race", "memory-error") or kind.startswith("leak-")


def _site(f: dict[str, Any]) -> tuple[str, str, int]:
    return f.get("function", ""), f.get("file", ""), f.get("line", 0)


def died(r: dict[str, Any]) -> str:
    """Why a binary's remaining tests did not run: its status and what
    stopped it, in the detector's words."""
    name = os.path.basename(r["binary"])
    how = (f"exit status {r['exit_code']}" + (f", signal {r['signal']}" if r.get("signal") else ""))
    by = r.get("stopped_by") or excerpt.stopped_by(r.get("log_tail", ""))
    return f"not run: {name} died first ({how})" + (f", stopped by {by}" if by else "")


# Which heap checker a leakcheck mode runs (leakcheck/README.md).
_HEAP_CHECKER = {"asan": "LeakSanitizer", "valgrind": "Valgrind"}


def _leakcheck_runs(js: _Suites, leak: dict[str, Any], finding_cases: set[tuple[str, str]]) -> None:
    """A testcase per leakcheck run (a finding's own testcase when it has
    one); a skipped "(exit)" testcase for the exit of a run that failed; the
    layers a run could not check in its system-out."""
    for r in leak.get("runs", []):
        suite, case = f"leakcheck.{r['mode']}", os.path.basename(r["binary"])
        secs = r.get("duration_ms", 0) / 1000
        if (suite, case) not in finding_cases:
            c = js.case(suite, case, secs)
            notes = [f"{u['layer']} layer not checked: {u['why']}; fix: {u['fix']}" for u in r.get("unchecked", [])]
            if notes:
                ET.SubElement(c, "system-out").text = _clean("\n".join(notes))
    for r in unchecked_exits(leak):
        suite, case = f"leakcheck.{r['mode']}", os.path.basename(r["binary"])
        ET.SubElement(js.case(suite, f"{case}: (exit)", 0.0), "skipped",
                      message=excerpt.one_line(_clean(exit_not_checked(r))))


def unchecked_exits(leak: dict[str, Any]) -> list[dict[str, Any]]:
    """The leakcheck runs whose exit was not judged because they failed
    (a failed test; a run that failed otherwise is an error of its own,
    leakcheck-run): what JUnit skips and SARIF notes."""
    return [r for r in leak.get("runs", []) if not r.get("checked", True) and r["verdict"] == "leaks"]


def exit_not_checked(r: dict[str, Any]) -> str:
    """Why a leakcheck run's exit was not checked, and what that leaves unknown."""
    how = (f"exit status {r['exit_status']}" if "exit_status" in r else f"signal {r.get('signal', '?')}")
    checker = _HEAP_CHECKER.get(r["mode"])
    heap = f", so its heap ({checker}) was not checked" if checker else ""
    return (f"{os.path.basename(r['binary'])} [{r['mode']}]: exit-time leak check not run{heap}: the run failed "
            f"({how}), and as goleak, leakcheck does not judge what a failed run leaves at exit; its "
            f"{r.get('tests_checked', 0)} tests' own checks (tasks, threads, fds, timers) did run. Fix the "
            f"failing test to have the exit checked.")


def render(report: dict[str, Any]) -> ET.Element:
    js = _Suites()
    finding_cases = {(o["suite"], o["case"]) for f in report["findings"] for o in f["occurrences"]}
    for variant, sec in report["tests"].items():
        for r in sec["records"]:
            name = os.path.basename(r["binary"])
            suite = f"tests.{variant}.{name}"
            why = died(r) if any(t["status"] == "not_run" for t in r["tests"]) else ""
            for t in r["tests"]:
                c = js.case(suite, t["name"], t.get("seconds", 0.0))
                if t["status"] == "failed":
                    text = t.get("message") or "failed"
                    _fail(c, excerpt.headline(text), text)
                elif t["status"] == "not_run":
                    _fail(c, why, f"{why}\n\n{r['binary']}'s last output:\n"
                          f"{r.get('log_tail', '')}", error=True)
                elif t["status"] == "skipped":
                    ET.SubElement(c, "skipped")
    for f in report["findings"]:
        for o in f["occurrences"]:
            if o["suite"].startswith("tests.") and o["case"] != "(binary)":
                continue  # the test's own testcase above already fails
            c = js.case(o["suite"], o["case"], o["seconds"])
            seen = ", ".join(f["modes"])
            _fail(c, excerpt.headline(o["text"], _site(f)) if _by_detector(f["kind"]) else f["message"],
                  f"{o['text'].rstrip()}\n\n-- gort: {f['message']} (finding {f['id']}, seen in: {seen})",
                  error=o["error"])
    _leakcheck_runs(js, report.get("leakcheck") or {}, finding_cases)
    for cal in (report.get("calibration") or {}).get("cases", []):
        if ("leakcheck.calibration", cal["name"]) not in finding_cases:
            js.case("leakcheck.calibration", cal["name"], 0.0)
    for b in (report.get("valgrind") or {}).get("binaries", []):
        if not b["errors"] and b.get("complete", True) and b.get("exit_code") in (None, 0):
            js.case(f"valgrind.{b['tool']}", os.path.basename(b["binary"]), 0.0)
    compare = report.get("compare") or {}
    rows = compare.get("benchmarks", []) + ((compare.get("icount") or {}).get("benchmarks", []))
    for b in rows:
        if ("bench.compare", b["name"]) not in finding_cases:
            c = js.case("bench.compare", b["name"], 0.0)
            if b["verdict"] in ("insufficient", "new"):
                ET.SubElement(c, "skipped", message=b["verdict"])
    if report["verdict"] == "incomplete":
        why = "incomplete: no test run was recorded, nothing was proven"
        _fail(js.case("report", "complete", 0.0), why, why, error=True)
    return js.finish()


def write(report: dict[str, Any], path: str) -> None:
    root = render(report)
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
