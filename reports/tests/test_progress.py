"""make report's progress lines: one at each end of a step when not on a
terminal, with elapsed time and counters, and the step recorded."""

from __future__ import annotations

from pathlib import Path

from conftest import load, run_module


def test_step_lines_in_ci(tmp: Path) -> None:
    script = ("echo 'a: 3 passed, 1 failed'; echo 'b: 2 passed, 0 failed'; echo 'quiet line'; "
              "echo 'ThreadSanitizer: data race in b at writer x.c:3'; "
              "echo 'leakcheck: native pass'; echo 'tests: 5 passed, 1 failed'; "
              "echo 'leakcheck: all passes took 9 s'; exit 3")
    r = run_module("gortreport.progress", "--out", str(tmp), "tests", "--", "sh", "-c", script)
    assert r.returncode == 3
    lines = r.stdout.strip().splitlines()
    assert lines[0] == "== tests: started"
    assert lines[1] == "ThreadSanitizer: data race in b at writer x.c:3" and "quiet line" not in lines
    assert lines[-1].startswith("== tests [0:0")
    assert "passed 5, failed 1" in lines[-1] and "leakcheck passes 1" in lines[-1] and "exit 3" in lines[-1]
    step = load(tmp / "steps.jsonl")
    assert step["step"] == "tests" and step["status"] == 3 and step["counters"]["passed"] == 5
    assert (tmp / "logs" / "tests.log").read_text().count("\n") == 7


def test_step_not_in_only_is_skipped_and_not_recorded(tmp: Path) -> None:
    r = run_module("gortreport.progress", "--out", str(tmp), "--only", "tests leakcheck", "sweeps", "--",
                   "sh", "-c", "echo ran > " + str(tmp / "ran"))
    assert r.returncode == 0 and "skipped" in r.stdout
    assert not (tmp / "ran").exists() and not (tmp / "steps.jsonl").exists()
    r = run_module("gortreport.progress", "--out", str(tmp), "--only", "tests leakcheck", "tests", "--",
                   "sh", "-c", "exit 4")
    assert r.returncode == 4 and load(tmp / "steps.jsonl")["step"] == "tests"
