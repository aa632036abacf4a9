"""A test that hangs is a timeout finding at the test's definition: the real
runner (ci/run-tests.sh, its per-test watchdog) on runtime/tests/runner/hang.c
(second_hangs hangs, fourth_fails fails, two pass). A binary that timed out
with no test named points at its source with no line, never a made-up one."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import copy_fixture, load, run_module

ROOT = Path(__file__).resolve().parents[2]
HANG_SRC = "runtime/tests/runner/hang.c"


def line_of(path: str, needle: str) -> int:
    return next(n for n, text in enumerate((ROOT / path).read_text().splitlines(), 1) if needle in text)


@pytest.fixture(scope="module")
def hang_bin() -> Path:
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "SAN")}
    o = env.setdefault("O", "build/cc")
    target = f"{o}/tests/runner/hang"
    done = subprocess.run(["make", "-C", str(ROOT), "--no-print-directory", target], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return ROOT / target


def test_hung_test_is_a_timeout_at_its_definition(tmp: Path, hang_bin: Path) -> None:
    out = tmp / "out"
    out.mkdir()
    results = out / "tests-default.jsonl"
    # The list an earlier complete run left: the tests the hung run had
    # finished before it hung have no result (no XML), so they are not_run.
    lists = out / "tests-default.d"
    lists.mkdir()
    (lists / "hang.tests").write_text("first_passes\nsecond_hangs\nthird_passes\nfourth_fails\n")
    env = dict(os.environ, TEST_CASE_TIMEOUT="2", TEST_RESULTS=str(results))
    run = subprocess.run([str(ROOT / "ci/run-tests.sh"), str(hang_bin)], env=env, capture_output=True,
                         text=True, timeout=240)
    assert run.returncode == 1
    assert "tests: 1 passed, 3 failed" in run.stdout, run.stdout  # the hang counted once
    r = run_module("gortreport.generate", str(out))
    assert r.returncode == 1, r.stderr
    report = load(out / "report.json")
    by_kind = {f["kind"]: f for f in report["findings"]}
    assert set(by_kind) == {"timeout", "test-failure"}, by_kind
    hung = by_kind["timeout"]
    assert hung["file"] == HANG_SRC and hung["line"] == line_of(HANG_SRC, "void second_hangs(")
    assert hung["text"].startswith("[ TIMEOUT  ] second_hangs (test 2 of 4) after 2 s")
    assert "SIGQUIT: quit" in hung["text"]  # the task dump
    fails = by_kind["test-failure"]
    assert (fails["file"], fails["line"]) == (HANG_SRC, line_of(HANG_SRC, "assert_int_equal(1, 2)"))
    statuses = {t["name"]: t["status"] for t in json.loads(results.read_text())["tests"]}
    assert statuses == {"first_passes": "not_run", "second_hangs": "failed", "third_passes": "passed",
                        "fourth_fails": "failed"}
    [res] = [x for x in load(out / "findings.sarif")["runs"][0]["results"] if x["ruleId"] == "timeout"]
    loc = res["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == HANG_SRC and loc["region"]["startLine"] == hung["line"]


def test_binary_timeout_without_a_named_test_has_no_line(tmp: Path) -> None:
    out = copy_fixture("clean", tmp)
    lines = (out / "tests-default.jsonl").read_text().splitlines()
    rec = json.loads(lines[0])
    rec.update(status="timeout", exit_code=124, signal=None, log_tail="SIGQUIT: quit\n")
    rec.pop("signal")
    rec["tests"] = [dict(t, status="not_run") for t in rec["tests"]]
    (out / "tests-default.jsonl").write_text("\n".join([json.dumps(rec)] + lines[1:]) + "\n")
    assert run_module("gortreport.generate", str(out)).returncode == 1
    [f] = [f for f in load(out / "report.json")["findings"] if f["kind"] == "timeout"]
    name = rec["binary"].rsplit("/", 1)[-1]
    assert f["file"].endswith(f"/{name}.c") and f["line"] == 0
    [res] = [x for x in load(out / "findings.sarif")["runs"][0]["results"] if x["ruleId"] == "timeout"]
    assert "region" not in res["locations"][0]["physicalLocation"]
    assert f"`{f['file']}`" in (out / "summary.md").read_text()
