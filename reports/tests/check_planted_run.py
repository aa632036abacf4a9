"""The planted run's outputs (make report-planted-check, not make test: it
builds and runs real binaries). PLANTED_OUT is the run's reports/out in the
scratch copy, PLANTED_GATE the exit status of make gate there.

Issue 9's "done when": each planted finding is a failing JUnit testcase with
its detector's own text, one SARIF result with a distinct fingerprint and a
repository-relative location with a line, one entry in the HTML with the
modes it was seen in; make gate fails; and all five outputs agree."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conftest import REPORTS, load

ROOT = REPORTS.parent
OUT = Path(os.environ.get("PLANTED_OUT", "reports/out"))
SRC = "runtime/tests/test_planted.c"
HEAP_SRC = "runtime/tests/test_planted_heap.c"

pytestmark = pytest.mark.skipif("PLANTED_OUT" not in os.environ, reason="run by make report-planted-check")


def line_of(path: str, text: str, after: str = "") -> int:
    """The line of the first occurrence of text (after the line holding after)."""
    lines = (ROOT / path).read_text().splitlines()
    start = next(i for i, ln in enumerate(lines) if after in ln) if after else 0
    return next(i + 1 for i in range(start, len(lines)) if text in lines[i])


def report() -> dict[str, Any]:
    doc: dict[str, Any] = load(OUT / "report.json")
    return doc


def by_kind() -> dict[str, dict[str, Any]]:
    found = report()["findings"]
    kinds = {f["kind"]: f for f in found}
    assert len(kinds) == len(found), [(f["kind"], f["message"]) for f in found]
    return kinds


def failing_cases() -> list[tuple[str, str, str, str]]:
    """(suite, testcase, message attribute, text) of every failing or erroring testcase."""
    out = []
    for suite in ET.parse(OUT / "junit.xml").getroot().iter("testsuite"):
        for case in suite.iter("testcase"):
            for el in case:
                if el.tag in ("failure", "error"):
                    out.append((suite.get("name", ""), case.get("name", ""), el.get("message", ""), el.text or ""))
    return out


def test_exactly_the_four_planted_findings() -> None:
    kinds = by_kind()
    assert sorted(kinds) == ["leak-heap", "leak-task", "race", "test-failure"], list(kinds)
    assert report()["verdict"] == "fail"


def test_each_finding_is_located_in_the_planted_source() -> None:
    k = by_kind()
    assert (k["test-failure"]["file"], k["test-failure"]["line"]) == (SRC, line_of(SRC, "assert_int_equal(1 + 1, 3)"))
    assert (k["leak-task"]["file"], k["leak-task"]["line"]) == (SRC, line_of(SRC, "gort_go(stuck, c)"))
    assert k["leak-task"]["function"] == "planted_task_leak"
    # make_block's malloc is a tail call: the allocating frame is the test's.
    heap_lines = {line_of(HEAP_SRC, "return malloc(4096)"), line_of(HEAP_SRC, "kept = make_block()")}
    assert k["leak-heap"]["file"] == HEAP_SRC and k["leak-heap"]["line"] in heap_lines
    assert k["leak-heap"]["function"] in ("make_block", "planted_heap_leak")
    race_lines = {line_of(SRC, "shared++", "planted_race(void"), line_of(SRC, "shared++", "writer(void")}
    assert k["race"]["file"] == SRC and k["race"]["line"] in race_lines
    assert {k["race"]["function"]} <= {"planted_race", "writer"}


def test_modes() -> None:
    k = by_kind()
    assert "default" in k["test-failure"]["modes"]
    assert {"native", "asan", "valgrind", "tests:default"} <= set(k["leak-task"]["modes"])
    assert set(k["leak-heap"]["modes"]) == {"asan", "valgrind"}
    assert "thread" in k["race"]["modes"]


def test_junit_has_a_failing_testcase_with_the_detectors_text_for_each() -> None:
    cases = failing_cases()
    src_line = f"{SRC}:{line_of(SRC, 'assert_int_equal(1 + 1, 3)')}: error: Failure!"
    # Each failure's message attribute is the detector's own first line(s)
    # with the site they name; its body the detector's whole text.
    # The failing assert: cmocka's message and where it failed.
    [assert_case] = [c for c in cases if c[0] == "tests.default.test_planted" and c[1] == "planted_failing_assert"]
    assert assert_case[2] == f"0x2 != 0x3 ({SRC}:{line_of(SRC, 'assert_int_equal(1 + 1, 3)')})", assert_case[2]
    assert src_line in assert_case[3]
    # The task leak: leakcheck's goleak-shaped report, in each mode, and in
    # the test that failed on it.
    created = f"created by planted_task_leak in task 1 at {SRC}:{line_of(SRC, 'gort_go(stuck, c)')}"
    task_message = re.compile(r"leakcheck: found unexpected tasks: Task 2 in state \[chan receive, \d+ ms\], "
                              rf"with stuck on top of the stack, {re.escape(created)}")
    for mode in ("native", "asan", "valgrind"):
        [task] = [c for c in cases if c[0] == f"leakcheck.{mode}" and c[1] == "test_planted: planted_task_leak [task]"]
        assert task_message.fullmatch(task[2]), task[2]
        assert re.search(r"Task 2 in state \[chan receive, \d+ ms\], with stuck on top of the stack:", task[3])
        assert f"created by planted_task_leak in task 1\n\t{SRC}:{line_of(SRC, 'gort_go(stuck, c)')}" in task[3]
        assert "spawn stack:" in task[3]
    [test_leak] = [c for c in cases if c[0] == "tests.default.test_planted" and c[1] == "planted_task_leak"]
    assert task_message.fullmatch(test_leak[2]), test_leak[2]
    # The heap leak: LeakSanitizer's and Valgrind's records, allocated by make_block.
    heap = {c[0]: c for c in cases if c[1].startswith("test_planted_heap: (exit) [heap]")}
    assert set(heap) == {"leakcheck.asan", "leakcheck.valgrind"}, [c[:2] for c in cases]
    heap_at = rf", allocated by (make_block|planted_heap_leak) at {re.escape(HEAP_SRC)}:\d+"
    assert re.fullmatch(r"leakcheck: found heap leaks: Direct leak: 16384 byte\(s\) in 4 object\(s\) \(lsan\)"
                        + heap_at, heap["leakcheck.asan"][2]), heap["leakcheck.asan"][2]
    assert re.fullmatch(r"leakcheck: found heap leaks: definitely lost: 16384 byte\(s\) in 4 object\(s\) "
                        r"\(valgrind\)" + heap_at, heap["leakcheck.valgrind"][2]), heap["leakcheck.valgrind"][2]
    assert "Direct leak: 16384 byte(s) in 4 object(s) (lsan)" in heap["leakcheck.asan"][3]
    assert "definitely lost: 16384 byte(s) in 4 object(s) (valgrind)" in heap["leakcheck.valgrind"][3]
    for c in heap.values():
        assert re.search(rf"\n\t{re.escape(HEAP_SRC)}:\d+\n", c[3]), c[3]
    # The race: ThreadSanitizer's first line and both accesses in the
    # message, its report with both stacks in the body.
    [race] = [c for c in cases if c[0] == "races.thread"]
    text = race[3]
    assert race[2].startswith("ThreadSanitizer: data race: "), race[2]
    for fn, after in (("writer", "writer(void"), ("planted_race", "planted_race(void")):
        assert f" in {fn} ({SRC}:{line_of(SRC, 'shared++', after)})" in race[2], race[2]
    assert "WARNING: ThreadSanitizer: data race" in text and "SUMMARY: ThreadSanitizer: data race" in text
    assert re.search(r"#0 planted_race " + re.escape(SRC), text) and re.search(r"#0 writer " + re.escape(SRC), text)
    assert "Previous write" in text or "Previous read" in text
    for _, _, message, _ in cases:
        assert "\n" not in message and 0 < len(message) <= 500, message
    for tc in ET.parse(OUT / "junit.xml").getroot().iter("testcase"):
        assert tc.get("time") is not None
    # A leak's testcase takes the time of the leakcheck run that found it.
    times = {(s.get("name"), c.get("name")): float(c.get("time", "0"))
             for s in ET.parse(OUT / "junit.xml").getroot().iter("testsuite") for c in s.iter("testcase")}
    assert times[("leakcheck.valgrind", "test_planted: planted_task_leak [task]")] > 0


def test_unchecked_exit_is_skipped_in_junit_and_noted_in_sarif() -> None:
    """test_planted failed, so leakcheck judged no exit of it (as goleak):
    its heap went unchecked under ASan and Valgrind. Not a failure, not
    silent: a skipped testcase and a SARIF warning for each mode."""
    root = ET.parse(OUT / "junit.xml").getroot()
    skipped = {s.get("name", ""): c.find("skipped") for s in root.iter("testsuite") for c in s.iter("testcase")
               if c.get("name") == "test_planted: (exit)"}
    assert set(skipped) == {"leakcheck.native", "leakcheck.asan", "leakcheck.valgrind"}, set(skipped)
    for mode, checker in (("asan", "LeakSanitizer"), ("valgrind", "Valgrind")):
        el = skipped[f"leakcheck.{mode}"]
        assert el is not None and f"so its heap ({checker}) was not checked: the run failed" in el.get("message", "")
    [inv] = load(OUT / "findings.sarif")["runs"][0]["invocations"]
    warned = sorted(n["properties"]["mode"] for n in inv["toolExecutionNotifications"]
                    if n["descriptor"]["id"] == "leakcheck-exit-not-checked")
    assert warned == ["asan", "native", "valgrind"]


def test_sarif_one_result_per_finding_valid_and_located() -> None:
    sarif = load(OUT / "findings.sarif")
    jsonschema.validate(sarif, load(REPORTS / "schemas" / "sarif-2.1.0-rtm.5.schema.json"))
    results = sarif["runs"][0]["results"]
    found = report()["findings"]
    assert len(results) == len(found) == 4
    prints = [r["partialFingerprints"]["gortFinding/v1"] for r in results]
    assert len(set(prints)) == 4 and set(prints) == {f["id"] for f in found}
    for r, f in zip(results, found):
        [loc] = r["locations"]
        phys = loc["physicalLocation"]
        assert phys["artifactLocation"]["uri"] == f["file"] and not f["file"].startswith("/")
        assert phys["region"]["startLine"] == f["line"] > 0
        assert r["ruleId"] == f["kind"] and r["properties"]["modes"] == f["modes"]


def test_html_shows_each_finding_once_with_its_modes() -> None:
    page = (OUT / "index.html").read_text()
    for f in report()["findings"]:
        anchor = f"id='f-{f['id']}'"
        assert page.count(anchor) == 1, f["id"]
        div = page[page.index(anchor):]
        div = div[:div.index("</div>")]
        assert "seen in: " + "".join(f"<span class='mode'>{m}</span>" for m in f["modes"]) in div
        assert page.count(f"href='#f-{f['id']}'") == 1  # the summary links to it


def test_the_gate_fails_and_the_outputs_agree() -> None:
    assert os.environ.get("PLANTED_GATE") not in (None, "0")  # make's status (gort-gate's 1 is checked below)
    from test_generate import assert_outputs_agree
    assert assert_outputs_agree(OUT) == "fail"
