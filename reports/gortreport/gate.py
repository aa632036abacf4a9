"""The gate: the one explicit decision a pipeline takes (gort-gate).

Reads whichever of report.json (gort.report/1 or /2: its `verdict` and
`findings`) and compare.json (gort.compare/1) exist, and writes gate.json
(gort.gate/2). Exit status: 0 pass, 1 findings, 2 missing or invalid input
(neither file, or one truncated or schema-invalid: one line, no traceback).

A comparison is a report; the decision is here (Google Benchmark's
compare.py makes the same split). What fails the gate from compare.json:
  - a benchmark `regressed` in wall time (slower than its threshold AND
    significant after Holm), or in instructions per op;
  - a benchmark present in the base but `missing` from the current run, or
    `errored` in it (wall time or instruction count).
Improvements are listed, never a finding. `insufficient` (the base itself
could not be measured) and `new` are notes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from . import compare, jsonio
from .errors import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, InputError

SCHEMA = "gort.gate/2"
REPORT_SCHEMAS = ("gort.report/1", "gort.report/2")

Finding = dict[str, str]
# The finding kinds that come from compare.json.
COMPARE_KINDS = {"bench-regression", "bench-missing", "bench-errored", "bench-icount-regression",
                 "bench-icount-missing", "bench-icount-errored"}


def read_report(path: Path) -> jsonio.JSON:
    """report.json in any format version the gate knows, validated."""
    doc = jsonio.read(path)
    schema = doc.get("schema")
    if schema not in REPORT_SCHEMAS:
        raise InputError(f"{path}: schema {schema!r} is not one of {', '.join(REPORT_SCHEMAS)}")
    if jsonio.schema_path(str(schema)).exists():
        jsonio.validate(doc, str(schema), str(path))
    return doc


def _from_report(f: dict[str, Any]) -> Finding:
    out = {"id": str(f.get("id") or f"{f['kind']}:{f['message']}"), "kind": str(f["kind"]),
           "message": str(f["message"]), "source": "report"}
    if f["kind"] in COMPARE_KINDS and f.get("subject"):
        out["benchmark"] = str(f["subject"])  # gort.report/2 names the benchmark there
    return out


def report_findings(doc: jsonio.JSON) -> list[Finding]:
    out = [_from_report(f) for f in doc["findings"]]
    if doc["verdict"] == "incomplete":
        out.append({"id": "report:incomplete", "kind": "incomplete", "source": "report",
                    "message": "the report recorded no test run (verdict incomplete)"})
    elif doc["verdict"] == "fail" and not out:
        out.append({"id": "report:fail", "kind": "report-fail", "source": "report",
                    "message": "the report's verdict is fail but it lists no finding"})
    return out


def _bench_finding(kind: str, name: str, message: str) -> Finding:
    return {"id": f"{kind}:{name}", "kind": kind, "message": message, "source": "compare",
            "benchmark": name}


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.1%}"


_METRIC_TEXT = {"real": "real time", "cpu": "CPU time"}


def wall_finding(row: dict[str, Any]) -> Finding | None:
    name, v = row["name"], row["verdict"]
    if v == "regressed":
        what = [f"{_METRIC_TEXT[k]} {_pct(m['change'])} (95% CI {_pct(m['ci'][0])} .. {_pct(m['ci'][1])}, "
                f"U test p={m['p']:.2g}, Holm p={m['p_holm']:.2g})"
                for k, m in row["metrics"].items() if m["verdict"] == "regressed"]
        return _bench_finding("bench-regression", name,
                              f"{name}: slower: {'; '.join(what)}; threshold {row['threshold']:.0%}")
    if v == "missing":
        return _bench_finding("bench-missing", name, f"{name}: in the base, missing from the current run")
    if v == "errored":
        errs = row["current"]["errors"]
        return _bench_finding("bench-errored", name,
                              f"{name}: errored in {len(errs)} round(s) of the current run: {errs[0]}")
    return None


def icount_finding(row: dict[str, Any]) -> Finding | None:
    name, v = row["name"], row["verdict"]
    if v == "regressed":
        return _bench_finding("bench-icount-regression", name,
                              f"{name}: {_pct(row['change'])} instructions per op "
                              f"({row['base_per_op']:.1f} -> {row['current_per_op']:.1f}; threshold "
                              f"{row['threshold']:.1%})")
    if v == "missing":
        return _bench_finding("bench-icount-missing", name,
                              f"{name}: instructions counted in the base, benchmark missing from the current")
    if v == "errored":
        return _bench_finding("bench-icount-errored", name, f"{name}: could not count instructions: {row['error']}")
    return None


def compare_findings(doc: jsonio.JSON) -> tuple[list[Finding], list[str], list[str]]:
    """Findings, improvements and notes of a gort.compare/1 document."""
    findings: list[Finding] = []
    improved: list[str] = []
    notes: list[str] = []
    icount_rows = doc["icount"]["benchmarks"] if doc["icount"] else []
    for rows, judge, what in ((doc["benchmarks"], wall_finding, "wall time"),
                              (icount_rows, icount_finding, "instructions")):
        for row in rows:
            f = judge(row)
            if f is not None:
                findings.append(f)
            elif row["verdict"] == "improved":
                change = row["change"] if "change" in row else min(
                    m["change"] for m in row["metrics"].values() if m["verdict"] == "improved")
                improved.append(f"{row['name']} ({what} {_pct(change)})")
            elif row["verdict"] == "insufficient":
                notes.append(f"{row['name']}: not compared ({what}): the base could not be measured "
                             "(errored, or too few good rounds)")
    if doc["icount"] is None:
        notes.append("no instruction counts in compare.json (BENCH_ICOUNT=0)")
    return findings, improved, notes


def merge_findings(from_report: list[Finding], from_compare: list[Finding]) -> list[Finding]:
    """Report findings plus compare.json's, each once. A report generated
    after bench-compare already holds the comparison's findings (the reports
    judge compare.json with compare_findings too); compare.json decides
    which exist, and a finding keeps the report's id so that gate.json,
    report.json, JUnit and SARIF name it alike."""
    kinds = {f["kind"] for f in from_compare} | COMPARE_KINDS
    ids = {(f["kind"], f.get("benchmark", "")): f["id"] for f in from_report if f["kind"] in kinds}
    kept = [f for f in from_report if f["kind"] not in kinds]
    for f in from_compare:
        f["id"] = ids.get((f["kind"], f.get("benchmark", "")), f["id"])
    return kept + from_compare


def decide(report: Path | None, comparison: Path | None) -> dict[str, Any]:
    """The gort.gate/2 document for the given inputs (InputError if bad)."""
    if report is None and comparison is None:
        raise InputError("neither report.json nor compare.json found: run make report "
                         "(and make bench-compare BASE=<ref>) first")
    findings: list[Finding] = []
    improved: list[str] = []
    notes: list[str] = []
    if report is not None:
        findings += report_findings(read_report(report))
    if comparison is not None:
        f, improved, notes = compare_findings(jsonio.read(comparison, compare.SCHEMA))
        findings = merge_findings(findings, f)
    return {"schema": SCHEMA, "verdict": "fail" if findings else "pass",
            "exit_code": EXIT_FINDINGS if findings else EXIT_OK, "error": None,
            "inputs": {"report": None if report is None else str(report),
                       "compare": None if comparison is None else str(comparison)},
            "comparison": "none" if comparison is None else "made",
            "findings": findings, "improvements": improved, "notes": notes}


def _input(explicit: str | None, directory: Path, name: str) -> Path | None:
    """An input given by name must exist; the default one may be absent."""
    if explicit is not None:
        p = Path(explicit)
        if not p.exists():
            raise InputError(f"{p}: no such file")
        return p
    p = directory / name
    return p if p.exists() else None


def _print(doc: dict[str, Any]) -> None:
    for msg in doc["improvements"]:
        print(f"gate: improved: {msg}")
    for msg in doc["notes"]:
        print(f"gate: note: {msg}")
    if doc["comparison"] == "none":
        print("gate: NO BENCHMARK COMPARISON WAS MADE (no compare.json): benchmark regressions are not "
              "checked; run make bench-compare BASE=<ref> or make ci BASE=<ref>", file=sys.stderr)
    for f in doc["findings"]:
        print(f"gate: FAIL {f['kind']}: {f['message']}")
    print(f"gate: {doc['verdict']} ({len(doc['findings'])} finding(s))")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="gort-gate", description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", nargs="?", default="reports/out",
                    help="where report.json and compare.json are read and gate.json is written")
    ap.add_argument("--report", help="report.json to read (must exist)")
    ap.add_argument("--compare", help="compare.json to read (must exist)")
    ap.add_argument("--out", help="gate.json to write (default DIR/gate.json)")
    args = ap.parse_args(argv)
    directory = Path(args.dir)
    out = Path(args.out) if args.out else directory / "gate.json"
    try:
        doc = decide(_input(args.report, directory, "report.json"),
                     _input(args.compare, directory, "compare.json"))
    except InputError as err:
        # Record why there is no decision, where a reader would look for it.
        if out.parent.is_dir():
            jsonio.write(out, {"schema": SCHEMA, "verdict": "error", "exit_code": EXIT_INPUT, "error": str(err),
                               "inputs": {"report": args.report, "compare": args.compare},
                               "comparison": "none", "findings": []}, SCHEMA)
        raise
    jsonio.write(out, doc, SCHEMA)
    _print(doc)
    return int(doc["exit_code"])
