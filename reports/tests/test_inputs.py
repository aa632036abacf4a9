"""Bad input: a malformed, truncated or schema-invalid harness file gets one
clear error line naming it, and exit 2 (never a traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import FIXTURES, copy_fixture, load, run_module


def _one_error_line(stderr: str, prog: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"{prog}: error: ")
    return lines[0]


@pytest.mark.parametrize("bad,name", [
    ("truncated-tests.jsonl", "tests-default.jsonl"),
    ("invalid-tests.jsonl", "tests-default.jsonl"),
    ("truncated-leakcheck.json", "leakcheck.json"),
    ("invalid-leakcheck.json", "leakcheck.json"),
    ("truncated-bench.json", "bench.json"),
    ("truncated-bench.json", "bench-mn.json"),
    ("empty.json", "valgrind.json"),
])
def test_bad_harness_file(tmp: Path, bad: str, name: str) -> None:
    """Outside make report (no step of it wrote the file): bad input."""
    out = copy_fixture("clean", tmp)
    (out / "steps.jsonl").unlink()
    (out / name).write_bytes((FIXTURES / "bad" / bad).read_bytes())
    r = run_module("gortreport.generate", str(out))
    assert r.returncode == 2
    assert name in _one_error_line(r.stderr, "gortreport.generate")


@pytest.mark.parametrize("bad,name", [
    ("truncated-tests.jsonl", "tests-default.jsonl"),
    ("truncated-leakcheck.json", "leakcheck.json"),
    ("truncated-bench.json", "bench.json"),
    ("truncated-bench.json", "bench-mn.json"),
])
def test_bad_file_of_a_report_step_is_that_steps_failure(tmp: Path, bad: str, name: str) -> None:
    """A file a step of make report had to write (its --output in
    steps.jsonl) that is bad: the step failed, a finding, not a missing report."""
    out = copy_fixture("clean", tmp)
    (out / name).write_bytes((FIXTURES / "bad" / bad).read_bytes())
    r = run_module("gortreport.generate", str(out))
    assert r.returncode == 1, r.stderr
    [f] = load(out / "report.json")["findings"]
    assert f["kind"] == "step-failed" and name in f["message"]


def test_missing_directory(tmp: Path) -> None:
    r = run_module("gortreport.generate", str(tmp / "nope"))
    assert r.returncode == 2
    _one_error_line(r.stderr, "gortreport.generate")


def test_truncated_cmocka_xml(tmp: Path) -> None:
    log = tmp / "log"
    log.write_text("")
    r = run_module("gortreport.tests", "--binary", "b", "--rc", "0", "--seconds", "1", "--log", str(log),
                   str(FIXTURES / "bad" / "truncated-cmocka.xml"))
    assert r.returncode == 2
    assert "truncated-cmocka.xml" in _one_error_line(r.stderr, "gortreport.tests")


def test_not_valgrind_xml(tmp: Path) -> None:
    r = run_module("gortreport.valgrind", "--out", str(tmp / "v.json"), str(FIXTURES / "bad" / "empty.json"))
    assert r.returncode == 2
    _one_error_line(r.stderr, "gortreport.valgrind")
