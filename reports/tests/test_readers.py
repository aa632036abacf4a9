"""The readers on golden detector output: cmocka's XML, Valgrind's XML
(complete and cut short), sanitizer reports in a log."""

from __future__ import annotations

from pathlib import Path

from conftest import FIXTURES, load, run_module
from gortreport import sanitizer, tests, valgrind


def test_cmocka_xml_cases() -> None:
    cases = tests.parse_cmocka_xml(FIXTURES / "cmocka" / "test_planted.tests.xml")
    by = {c.name: c for c in cases}
    assert by["planted_failing_assert"].status == "failed"
    assert "0x2 != 0x3" in by["planted_failing_assert"].message
    assert by["planted_race"].status == "passed"
    assert all(c.seconds >= 0 for c in cases)


def test_leak_report_is_cut_from_the_log() -> None:
    log = (FIXTURES / "cmocka" / "test_planted.log").read_text()
    rep = tests.leak_report(log, "planted_task_leak")
    assert rep.startswith("leakcheck: found unexpected tasks:")
    assert "ERROR: leakcheck" not in rep


def test_crashed_binary_lists_tests_not_run(tmp_path: Path) -> None:
    listing = tmp_path / "list"
    listing.write_text("a\nb\nc\n")
    log = tmp_path / "log"
    log.write_text("WARNING: ThreadSanitizer: data race\n")
    out = tmp_path / "t.jsonl"
    r = run_module("gortreport.tests", "--binary", "bin", "--rc", "66", "--seconds", "1", "--log", str(log),
                   "--list", str(listing), "--out", str(out))
    assert r.returncode == 0, r.stderr
    rec = load(out)
    assert rec["status"] == "crashed"
    assert [t["status"] for t in rec["tests"]] == ["not_run"] * 3
    assert r.stdout.strip().splitlines()[-2:] == ["ThreadSanitizer: data race in bin at ?", "0 3"]


def test_valgrind_xml() -> None:
    f = valgrind.parse(FIXTURES / "valgrind" / "memcheck.xml")
    assert f.complete and f.tool == "memcheck"
    kinds = {e.kind for e in f.errors}
    assert "Leak_DefinitelyLost" in kinds and "InvalidRead" in kinds
    assert all(e.stacks for e in f.errors)
    assert "at " in f.errors[0].text()


def test_valgrind_xml_cut_short() -> None:
    f = valgrind.parse(FIXTURES / "valgrind" / "cut-short.xml")
    assert not f.complete


def test_tsan_report_has_both_stacks() -> None:
    log = (FIXTURES / "logs" / "tsan.log").read_text()
    reps = sanitizer.reports(log)
    assert len(reps) >= 1 and reps[0].kind == "race"
    assert len(reps[0].stacks) >= 2
    assert reps[0].text.startswith("WARNING: ThreadSanitizer: data race")


def test_failed_assert_is_located_at_the_assertion() -> None:
    from gortreport.build import _assert_site
    msg = "0x2 != 0x3\nreports/tests/fixtures/src/test_planted.c:12: error: Failure!"
    assert _assert_site(msg) == ("reports/tests/fixtures/src/test_planted.c", 12)
    assert _assert_site("leakcheck/src/lc_cmocka.c:76: error: Failure!") is None


def test_valgrind_xml_with_a_forked_childs_lines_after_the_end() -> None:
    f = valgrind.parse(FIXTURES / "valgrind" / "forked-child.xml")
    assert f.complete and f.errors == []
    assert f.binary.endswith("test_err")


def test_sanitizer_reports_of_a_passing_binary_are_not_named(tmp_path: Path) -> None:
    """test_badinput's forked children misbehave on purpose and TSan says so
    in the log; the binary passed (exit 0): no progress line, no finding."""
    log = tmp_path / "log"
    log.write_text((FIXTURES / "logs" / "tsan.log").read_text())
    out = tmp_path / "t.jsonl"
    r = run_module("gortreport.tests", "--binary", "build/x/test_badinput", "--rc", "0", "--seconds", "1",
                   "--log", str(log), "--out", str(out), str(FIXTURES / "cmocka" / "test_planted.tests.xml"))
    assert r.returncode == 0, r.stderr
    assert "Sanitizer" not in r.stdout
    r = run_module("gortreport.tests", "--binary", "build/x/test_planted", "--rc", "66", "--seconds", "1",
                   "--log", str(log), "--out", str(out), str(FIXTURES / "cmocka" / "test_planted.tests.xml"))
    assert "ThreadSanitizer: data race in test_planted at " in r.stdout
