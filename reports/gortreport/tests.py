"""Test runs: cmocka's own JUnit XML turned into gort.tests/2 records, and
the reader of the records (reports/out/tests-<variant>.jsonl).

ci/run-tests.sh runs every binary with CMOCKA_MESSAGE_OUTPUT=xml and
CMOCKA_XML_FILE=<dir>/<binary>.%g.xml. cmocka 1.1 writes the XML once per
group when the group ends (one file per group thanks to %g; it refuses to
overwrite a file it did not create, so the runner deletes old ones first), so
a binary that dies mid-run leaves no XML: its tests are then taken from an
earlier run's list (the runner keeps one per binary) and each is `not_run`.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import signal as signals
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import excerpt, jsonio, sanitizer
from .errors import InputError, run_cli

SCHEMA = "gort.tests/2"
TAIL_CHARS = 16000  # the end of a failed binary's output kept; a longer one says how much was cut

# A test that leaks prints leakcheck's report to stderr, opened by this line
# (leakcheck/src/lc_cmocka.c), and fails with "... leaked (report above)".
_LEAK_OPEN = "leakcheck: {name} leaked:"


@dataclass
class Case:
    name: str
    status: str  # passed | failed | skipped | not_run
    seconds: float = 0.0
    message: str = ""


@dataclass
class Record:
    """One test binary's run in one variant (default, thread, address...)."""

    variant: str
    binary: str
    status: str  # passed | failed | crashed | timeout
    exit_code: int
    seconds: float
    tests: list[Case] = field(default_factory=list)
    signal: int | None = None
    log_tail: str = ""

    @property
    def name(self) -> str:
        return os.path.basename(self.binary)

    def count(self, status: str) -> int:
        return sum(t.status == status for t in self.tests)


# ---------------------------------------------------------------- cmocka XML

def parse_cmocka_xml(path: str | os.PathLike[str]) -> list[Case]:
    """The test cases of one cmocka XML file (every <testsuite> in it)."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as err:
        raise InputError(f"{path}: not valid cmocka XML (truncated?): {err}") from err
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror}") from err
    cases = []
    for tc in root.iter("testcase"):
        name = tc.get("name") or "?"
        seconds = float(tc.get("time") or 0)
        failure = tc.find("failure")
        if failure is None:
            failure = tc.find("error")
        if failure is not None:
            text = (failure.text or failure.get("message") or "failed").strip()
            cases.append(Case(name, "failed", seconds, text))
        elif tc.find("skipped") is not None:
            cases.append(Case(name, "skipped", seconds))
        else:
            cases.append(Case(name, "passed", seconds))
    return cases


def leak_report(log: str, test: str) -> str:
    """The leakcheck report a test printed before failing ("" when none)."""
    opener = _LEAK_OPEN.format(name=test)
    start = log.find(opener)
    if start < 0:
        return ""
    # The report runs until leakcheck's closing line for this test.
    body = log[start + len(opener):]
    end = body.find(f"ERROR: leakcheck: {test} leaked")
    return (body if end < 0 else body[:end]).strip()


# ci/run-tests.sh's per-test watchdog (runtime/tests/support/watchdog.c).
_HUNG = re.compile(r"^\[ TIMEOUT  \] (\S+) \(test \d+ of \d+\) after \d+ s$", re.M)
HUNG_DUMP_LINES = 80


def hung_tests(log: str) -> dict[str, str]:
    """The tests the watchdog timed out: name -> its line and the task dump
    after it (up to the next run's first line)."""
    out: dict[str, str] = {}
    for m in _HUNG.finditer(log):
        after = log[m.start():].splitlines()[:HUNG_DUMP_LINES]
        out.setdefault(m.group(1), "\n".join(after).strip())
    return out


def classify(rc: int, cases: list[Case], timeout: bool) -> tuple[str, int | None]:
    """The binary's status and the signal that killed it, if any."""
    sig = None
    if rc < 0:
        sig = -rc
    elif rc > 128 and rc - 128 < 65:
        sig = rc - 128
    if timeout:
        return "timeout", sig
    if rc == 0:
        return "passed", None
    if cases and any(c.status == "failed" for c in cases) and sig is None:
        return "failed", None
    return "crashed", sig


def make_record(binary: str, rc: int, seconds: float, xml_files: list[str], log: str,
                known_tests: list[str], timeout: bool = False) -> dict[str, Any]:
    """Build a gort.tests/2 record from what a run left behind."""
    cases: list[Case] = []
    for f in xml_files:
        cases += parse_cmocka_xml(f)
    for c in cases:
        if c.status == "failed":
            report = leak_report(log, c.name)
            if report:
                c.message = f"{report}\n\n(cmocka: {c.message})"
    status, sig = classify(rc, cases, timeout)
    # A test the watchdog timed out failed, with the watchdog's line and the
    # task dump as its message (the run it hung in left no XML).
    hung = hung_tests(log)
    for c in cases:
        if c.name in hung:
            c.status, c.message = "failed", hung.pop(c.name)
    cases += [Case(n, "failed", 0.0, text) for n, text in hung.items() if n not in {c.name for c in cases}]
    seen = {c.name for c in cases}
    if status in ("crashed", "timeout") or any(c.message.startswith("[ TIMEOUT  ]") for c in cases):
        # (a run that hung wrote no XML: the tests it ran before have no result)
        cases += [Case(n, "not_run") for n in known_tests if n not in seen]
    rec: dict[str, Any] = {
        "schema": SCHEMA, "binary": binary, "status": status, "exit_code": rc,
        "seconds": round(seconds, 3),
        "tests": [{"name": c.name, "status": c.status, "seconds": c.seconds,
                   **({"message": c.message} if c.message else {})} for c in cases],
    }
    if sig is not None:
        rec["signal"] = sig
    if status != "passed":
        rec["log_tail"] = excerpt.keep_tail(log, TAIL_CHARS)
    jsonio.validate(rec, SCHEMA, binary)
    return rec


# ---------------------------------------------------------------- reading

def _record(variant: str, doc: dict[str, Any]) -> Record:
    return Record(
        variant=variant, binary=doc["binary"], status=doc["status"], exit_code=doc["exit_code"],
        seconds=float(doc["seconds"]),
        tests=[Case(t["name"], t["status"], float(t.get("seconds", 0)), t.get("message", ""))
               for t in doc["tests"]],
        signal=doc.get("signal"), log_tail=doc.get("log_tail", ""))


def variant_of(path: str | os.PathLike[str]) -> str:
    """The variant a tests-<variant>.jsonl file is of."""
    return os.path.basename(path)[len("tests-"):-len(".jsonl")]


def read_variant(path: str | os.PathLike[str]) -> list[Record]:
    """One tests-<variant>.jsonl, validated."""
    variant = variant_of(path)
    return [_record(variant, d) for d in jsonio.read_lines(path, SCHEMA)]


def read_variants(out_dir: str | os.PathLike[str]) -> dict[str, list[Record]]:
    """Every tests-<variant>.jsonl in out_dir, validated."""
    return {variant_of(p): read_variant(p) for p in sorted(glob.glob(os.path.join(out_dir, "tests-*.jsonl")))}


def fill_not_run(variants: dict[str, list[Record]]) -> None:
    """A binary that died with no list of its own gets the tests another
    variant ran of the same binary, each not_run (an error in JUnit)."""
    known: dict[str, list[str]] = {}
    for recs in variants.values():
        for r in recs:
            if r.status in ("passed", "failed") and r.tests:
                known.setdefault(r.name, [t.name for t in r.tests])
    for recs in variants.values():
        for r in recs:
            if r.status in ("crashed", "timeout"):
                have = {t.name for t in r.tests}
                r.tests += [Case(n, "not_run") for n in known.get(r.name, []) if n not in have]


def signal_name(sig: int) -> str:
    try:
        return signals.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


# ---------------------------------------------------------------- command line

def _main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(
        prog="gortreport.tests",
        description="Turn one test binary's cmocka XML into a gort.tests/2 line; "
                    "print its counts as 'PASSED FAILED' on stderr's last line.")
    ap.add_argument("--binary", required=True)
    ap.add_argument("--rc", type=int, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--timeout", action="store_true", help="the runner's timeout killed it")
    ap.add_argument("--log", required=True, help="the binary's output")
    ap.add_argument("--list", help="file of the binary's test names: read when it died, "
                                   "rewritten when it ran to the end")
    ap.add_argument("--out", help="append the record to this JSON Lines file")
    ap.add_argument("xml", nargs="*")
    a = ap.parse_args(argv)
    log = Path(a.log).read_text(errors="replace") if os.path.exists(a.log) else ""
    known = Path(a.list).read_text().split() if a.list and os.path.exists(a.list) else []
    rec = make_record(a.binary, a.rc, a.seconds, a.xml, log, known, a.timeout)
    hung = any(t.get("message", "").startswith("[ TIMEOUT  ]") for t in rec["tests"])
    if a.list and rec["status"] in ("passed", "failed") and not hung:  # a hung run's list is partial
        Path(a.list).write_text("".join(t["name"] + "\n" for t in rec["tests"]))
    if a.out:
        jsonio.append_line(a.out, rec)
    for t in rec["tests"]:
        if t["status"] in ("failed", "not_run"):
            first = (t.get("message") or "not run: the binary died first").splitlines()[0]
            print(f"[  {t['status'].upper():<6}  ] {t['name']}: {first}")
    # A sanitizer's reports are in no test's result (make report's race
    # sweep lets the tests finish): name each, for the progress lines; only
    # those of a binary the sanitizer failed (a passing one may print the
    # reports of children it expected to misbehave).
    judged = rec["status"] in ("crashed", "timeout") or rec["exit_code"] == sanitizer.TSAN_EXITCODE
    for rep in sanitizer.reports(log) if judged else []:
        fn, file, line = next(((f.function, f.file, f.line) for s in rep.stacks for f in s), ("?", "", 0))
        where = f" {file}:{line}" if file else ""
        print(f"{rep.tool}: {rep.headline} in {os.path.basename(a.binary)} at {fn}{where}")
    passed = sum(t["status"] == "passed" for t in rec["tests"])
    failed = sum(t["status"] in ("failed", "not_run") for t in rec["tests"])
    if rec["status"] in ("crashed", "timeout") and failed == 0:
        failed = 1  # died outside any test: count it
    print(f"{passed} {failed}")
    return 0


def main() -> None:
    run_cli("gortreport.tests", _main)


if __name__ == "__main__":
    main()
