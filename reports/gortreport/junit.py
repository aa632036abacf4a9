"""junit.xml: the gate's truth. Every test is a testcase; every occurrence
of every finding is a failing testcase (an error when something could not
run) whose text is the detector's own; clean leakcheck runs and Valgrind
binaries are passing testcases. Every testcase has a time.

Invariant (tested): the report's verdict is not "pass" exactly when the
file has a failure or an error.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from typing import Any

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


def _fail(case: ET.Element, text: str, error: bool = False) -> None:
    text = _clean(text)
    first = next((ln for ln in text.splitlines() if ln.strip()), "failed")
    el = ET.SubElement(case, "error" if error else "failure", message=first[:300],
                       type="error" if error else "failure")
    el.text = text


def render(report: dict[str, Any]) -> ET.Element:
    js = _Suites()
    finding_cases = {(o["suite"], o["case"]) for f in report["findings"] for o in f["occurrences"]}
    for variant, sec in report["tests"].items():
        for r in sec["records"]:
            name = os.path.basename(r["binary"])
            suite = f"tests.{variant}.{name}"
            died = (f"not run: {name} died first (exit status {r['exit_code']}"
                    + (f", signal {r['signal']}" if r.get("signal") else "") + ")")
            for t in r["tests"]:
                c = js.case(suite, t["name"], t.get("seconds", 0.0))
                if t["status"] == "failed":
                    _fail(c, t.get("message") or "failed")
                elif t["status"] == "not_run":
                    _fail(c, f"{died}\n{r.get('log_tail', '')}", error=True)
                elif t["status"] == "skipped":
                    ET.SubElement(c, "skipped")
    for f in report["findings"]:
        for o in f["occurrences"]:
            if o["suite"].startswith("tests.") and o["case"] != "(binary)":
                continue  # the test's own testcase above already fails
            c = js.case(o["suite"], o["case"], o["seconds"])
            _fail(c, f"{f['message']}\n\n{o['text']}", error=o["error"])
    leak = report.get("leakcheck") or {}
    for r in leak.get("runs", []):
        suite, case = f"leakcheck.{r['mode']}", os.path.basename(r["binary"])
        if (suite, case) not in finding_cases:
            js.case(suite, case, r.get("duration_ms", 0) / 1000)
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
        _fail(js.case("report", "complete", 0.0), "incomplete: no test run was recorded, nothing was proven",
              error=True)
    return js.finish()


def write(report: dict[str, Any], path: str) -> None:
    root = render(report)
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
