"""junit.xml, testcase by testcase: a failure's message attribute is the
detector's own first line(s) with the site they name (one line, bounded,
escaped by the XML library), its body the detector's whole text; a test not
run names what stopped its binary; what leakcheck could not check is a
skipped testcase (never a failure) and a SARIF notification; long texts say
how much was cut."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema

from conftest import FIXTURES, REPORTS, copy_fixture, junit_counts, load, run_module
from gortreport import excerpt, junit, tests, valgrind

SRC = "reports/tests/fixtures/src/test_planted.c"
HEAP_SRC = "reports/tests/fixtures/src/test_planted_heap.c"
SARIF_SCHEMA = REPORTS / "schemas" / "sarif-2.1.0-rtm.5.schema.json"


def _generate(tmp: Path, name: str = "planted") -> Path:
    out = copy_fixture(name, tmp)
    r = run_module("gortreport.generate", str(out))
    assert r.returncode in (0, 1), r.stderr
    return out


def _failing(out: Path) -> dict[tuple[str, str], ET.Element]:
    """(suite, testcase) -> its failure or error element."""
    found = {}
    for suite in ET.parse(out / "junit.xml").getroot().iter("testsuite"):
        for case in suite.iter("testcase"):
            for el in case:
                if el.tag in ("failure", "error"):
                    found[(suite.get("name", ""), case.get("name", ""))] = el
    return found


def test_failure_messages_are_the_detectors_first_lines(tmp: Path) -> None:
    fails = _failing(_generate(tmp))
    msg = {k: el.get("message", "") for k, el in fails.items()}
    # cmocka: the assertion, then where it failed.
    assert msg[("tests.default.test_planted", "planted_failing_assert")] == f"0x2 != 0x3 ({SRC}:14)"
    # leakcheck: its header, the leaked task and where it was created; the
    # same line for the test that failed on it and in each leakcheck mode.
    task = [m for (s, c), m in msg.items() if c.endswith("planted_task_leak [task]") or c == "planted_task_leak"]
    assert len(task) == 5
    for m in task:
        assert m.startswith("leakcheck: found unexpected tasks: Task 2 in state [chan receive, "), m
        assert m.endswith(f"with stuck on top of the stack, created by planted_task_leak in task 1 at {SRC}:27"), m
    # The heap: LeakSanitizer's and Valgrind's records as leakcheck prints them.
    heap = {s: m for (s, c), m in msg.items() if c == "test_planted_heap: (exit) [heap]"}
    at = f"allocated by planted_heap_leak at {HEAP_SRC}:13"
    assert heap == {"leakcheck.asan": f"leakcheck: found heap leaks: Direct leak: 16384 byte(s) in 4 object(s) "
                                      f"(lsan), {at}",
                    "leakcheck.valgrind": f"leakcheck: found heap leaks: definitely lost: 16384 byte(s) in 4 "
                                          f"object(s) (valgrind), {at}"}
    # ThreadSanitizer: its first line, then both accesses with their sites.
    [race] = [m for (s, c), m in msg.items() if s == "races.thread"]
    assert race.startswith("ThreadSanitizer: data race: Read of size 8 at 0x")
    assert f"by thread T3 in writer ({SRC}:33); Previous write of size 8 at 0x" in race
    assert race.endswith(f"by main thread in planted_race ({SRC}:38)")
    for m in msg.values():
        assert "\n" not in m and 0 < len(m) <= excerpt.MESSAGE_CHARS


def test_failure_bodies_keep_the_detectors_whole_text(tmp: Path) -> None:
    fails = _failing(_generate(tmp))
    [race] = [el.text or "" for (s, c), el in fails.items() if s == "races.thread"]
    assert race.startswith("WARNING: ThreadSanitizer: data race")
    assert "Read of size 8" in race and "Previous write of size 8" in race and "SUMMARY: ThreadSanitizer" in race
    task = fails[("leakcheck.native", "test_planted: planted_task_leak [task]")].text or ""
    assert task.startswith("leakcheck: found unexpected tasks:\nTask 2 in state")
    assert "spawn stack:" in task and f"created by planted_task_leak in task 1\n\t{SRC}:27" in task
    # ... then the finding it is an occurrence of (its SARIF fingerprint).
    report = load(tmp / "planted" / "report.json")
    [leak] = [f for f in report["findings"] if f["kind"] == "leak-task"]
    assert task.rstrip().endswith(f"(finding {leak['id']}, seen in: {', '.join(leak['modes'])})")


def test_valgrind_record_headline() -> None:
    f = valgrind.parse(FIXTURES / "valgrind" / "memcheck.xml")
    by = {e.kind: e for e in f.errors}
    lost = by["Leak_DefinitelyLost"].text()
    assert excerpt.headline(lost) == ("40 bytes in 1 blocks are definitely lost in loss record 1 of 1, "
                                      "allocated at mk (vg.c:2)")
    # With the finding's site, the path is the repository's.
    assert excerpt.headline(lost, ("mk", "src/vg.c", 2)).endswith(", allocated at mk (src/vg.c:2)")
    assert excerpt.headline(by["InvalidRead"].text()) == "Invalid read of size 4 at main (vg.c:3)"


def test_message_is_bounded_one_line_and_escaped_by_the_xml_library() -> None:
    nasty = 'expected "<a>" & got \'</failure>\'\x01\x1b[0m ' + "x" * 2000 + "\nsecond line"
    report = {"verdict": "fail", "findings": [], "tests": {"default": {"records": [{
        "binary": "build/cc/tests/runtime/test_x", "exit_code": 1, "signal": None, "log_tail": "",
        "tests": [{"name": "t", "status": "failed", "seconds": 0.0, "message": nasty}]}]}}}
    data = ET.tostring(junit.render(report))
    [failure] = ET.fromstring(data).iter("failure")
    message = failure.get("message", "")
    assert message.startswith('expected "<a>" & got \'</failure>\'') and "\x01" not in message
    assert len(message) == excerpt.MESSAGE_CHARS and message.endswith("…") and "\n" not in message
    assert (failure.text or "").endswith("\nsecond line")


def _crashed_thread_run(out: Path, log_tail: str | None = None, signal: int | None = None) -> None:
    """test_planted in the thread variant as under make SAN=thread test
    (halt_on_error=1): killed at the race, before cmocka wrote its XML."""
    recs = [json.loads(line) for line in (out / "tests-thread.jsonl").read_text().splitlines()]
    for rec in recs:
        if rec["binary"].endswith("/test_planted"):
            rec.update(status="crashed", tests=[])
            if log_tail is not None:
                rec["log_tail"] = log_tail
            if signal is not None:
                rec.update(signal=signal, exit_code=128 + signal)
    (out / "tests-thread.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    (out / "race.json").unlink()
    assert run_module("gortreport.generate", str(out)).returncode == 1


def test_tests_not_run_name_the_detector_that_stopped_the_binary(tmp: Path) -> None:
    out = copy_fixture("planted", tmp)
    _crashed_thread_run(out)
    errors = {c: el for (s, c), el in _failing(out).items() if s == "tests.thread.test_planted"}
    assert sorted(errors) == ["planted_failing_assert", "planted_race", "planted_task_leak"]
    for el in errors.values():
        assert el.tag == "error"
        m = el.get("message", "")
        assert m.startswith("not run: test_planted died first (exit status 66), stopped by ThreadSanitizer: "
                            "data race: Read of size 8 at 0x"), m
        assert f"in writer ({SRC}:33)" in m and len(m) <= excerpt.MESSAGE_CHARS
        assert "WARNING: ThreadSanitizer: data race" in (el.text or "")  # the log's end, in the body
    # The HTML's list of tests that did not pass says the same.
    page = (out / "index.html").read_text()
    assert ("[thread] test_planted: planted_race — <b>not run</b>: <code>test_planted died first (exit status 66), "
            "stopped by ThreadSanitizer: data race: Read of size 8") in page


def test_tests_not_run_after_gorts_panic_name_it(tmp: Path) -> None:
    out = copy_fixture("planted", tmp)
    _crashed_thread_run(out, "planted_task_leak: ok\npanic: send on closed channel\n\ntask 3 [running]:\n"
                             "\tsender(0x0)\n", signal=6)
    [err] = [el for (s, c), el in _failing(out).items() if (s, c) == ("tests.thread.test_planted", "planted_race")]
    assert err.get("message") == ("not run: test_planted died first (exit status 134, signal 6), stopped by "
                                  "panic: send on closed channel")
    [crash] = [f for f in load(out / "report.json")["findings"] if f["kind"] == "crash"]
    assert crash["message"] == "test_planted died (killed by SIGABRT, stopped by panic: send on closed channel)"


def test_failed_runs_unchecked_exit_is_skipped_never_failed(tmp: Path) -> None:
    """leakcheck judges no exit of a failed run (as goleak), so the planted
    binary's heap went unchecked under ASan and Valgrind: a skipped testcase
    says so (a failure of its own would fail a tree whose only fault is the
    failed test), and the SARIF run carries it as a warning."""
    out = _generate(tmp)
    root = ET.parse(out / "junit.xml").getroot()
    skipped = {s.get("name"): c.find("skipped") for s in root.iter("testsuite") for c in s.iter("testcase")
               if c.get("name") == "test_planted: (exit)"}
    assert set(skipped) == {"leakcheck.native", "leakcheck.asan", "leakcheck.valgrind"}
    for suite, el in skipped.items():
        assert el is not None
        m = el.get("message", "")
        assert "exit-time leak check not run" in m and "the run failed (exit status 2)" in m, m
    for mode, checker in (("asan", "LeakSanitizer"), ("valgrind", "Valgrind")):
        el = skipped[f"leakcheck.{mode}"]
        assert el is not None and f"so its heap ({checker}) was not checked" in el.get("message", "")
    counts = {s.get("name"): (s.get("failures"), s.get("errors"), s.get("skipped")) for s in root.iter("testsuite")}
    assert counts["leakcheck.asan"] == ("2", "0", "1")
    sarif = load(out / "findings.sarif")
    jsonschema.validate(sarif, load(SARIF_SCHEMA))
    [inv] = sarif["runs"][0]["invocations"]
    assert inv["executionSuccessful"] is True
    warnings = [n for n in inv["toolExecutionNotifications"] if n["level"] == "warning"]
    assert sorted(n["properties"]["mode"] for n in warnings) == ["asan", "native", "valgrind"]
    assert all(n["descriptor"]["id"] == "leakcheck-exit-not-checked" for n in warnings)
    # The layers a run could not check (the native runs' heap): a note, and
    # the run's testcase's system-out.
    [note] = [n for n in inv["toolExecutionNotifications"] if n["level"] == "note"]
    assert note["properties"] == {"mode": "native", "layer": "heap", "binaries": ["test_planted_heap"]}
    [case] = [c for s in root.iter("testsuite") if s.get("name") == "leakcheck.native"
              for c in s.iter("testcase") if c.get("name") == "test_planted_heap"]
    assert (case.findtext("system-out") or "").startswith("heap layer not checked: the program runs neither")


def test_unchecked_layers_do_not_fail_a_clean_tree(tmp: Path) -> None:
    out = copy_fixture("clean", tmp)
    doc = load(out / "leakcheck.json")
    native = [r for r in doc["runs"] if r["mode"] == "native"]
    assert native
    for r in native:
        r["unchecked"] = [{"layer": "heap", "why": "the program runs neither under Valgrind nor with "
                           "LeakSanitizer", "fix": "run gort-leakcheck --valgrind PROG"}]
    (out / "leakcheck.json").write_text(json.dumps(doc))
    assert run_module("gortreport.generate", str(out)).returncode == 0
    from test_generate import assert_outputs_agree
    assert assert_outputs_agree(out) == "pass"
    c = junit_counts(out / "junit.xml")
    assert c["failures"] == c["errors"] == 0
    notes = load(out / "findings.sarif")["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    [note] = notes
    assert note["level"] == "note" and len(note["properties"]["binaries"]) == len(native)
    system_out = [c.findtext("system-out") for c in ET.parse(out / "junit.xml").getroot().iter("testcase")]
    assert sum(bool(t) for t in system_out) == len(native)


def test_a_long_log_says_how_much_it_lost(tmp: Path) -> None:
    log = tmp / "log"
    log.write_text("é" * 10 + "x" * tests.TAIL_CHARS + "\nWARNING: ThreadSanitizer: data race\n")
    out = tmp / "t.jsonl"
    r = run_module("gortreport.tests", "--binary", "bin", "--rc", "66", "--seconds", "1", "--log", str(log),
                   "--out", str(out))
    assert r.returncode == 0, r.stderr
    tail = load(out)["log_tail"]
    cut = len(log.read_text()) - tests.TAIL_CHARS
    assert tail.startswith(f"[... {cut + 10} bytes elided ...]\n")  # é is two bytes
    assert tail.endswith("WARNING: ThreadSanitizer: data race\n")
    assert excerpt.keep_tail("short", 10) == "short" and excerpt.keep_head("short", 10) == "short"
    assert excerpt.keep_head("abcdef", 2) == "ab\n[... 4 bytes elided ...]"


def test_a_test_that_leaked_fails_with_leakchecks_report() -> None:
    """cmocka's own XML and output of the planted binary: the failure of the
    test that leaked is leakcheck's report, its headline the leak's line."""
    xml = FIXTURES / "cmocka" / "test_planted.tests.xml"
    log = (FIXTURES / "cmocka" / "test_planted.log").read_text()
    rec = tests.make_record("build/cc/tests/runtime/test_planted", 2, 1.0, [str(xml)], log, [])
    by = {t["name"]: t for t in rec["tests"]}
    assert excerpt.headline(by["planted_failing_assert"]["message"]) == f"0x2 != 0x3 ({SRC}:14)"
    leak = by["planted_task_leak"]["message"]
    assert leak.startswith("leakcheck: found unexpected tasks:\nTask 2 in state [chan receive, ")
    assert leak.endswith("(cmocka: leakcheck/src/lc_cmocka.c:76: error: Failure!)")
    assert excerpt.headline(leak).endswith(f"created by planted_task_leak in task 1 at {SRC}:27")


ASAN = f"""==123==ERROR: AddressSanitizer: heap-use-after-free on address 0x602000000010 at pc 0x55 bp 0x7f sp 0x7e
READ of size 4 at 0x602000000010 thread T0
    #0 0x55d in use_after {SRC}:14:5
    #1 0x55e in main {SRC}:48:3

freed by thread T0 here:
    #0 0x7f in __interceptor_free ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:52
    #1 0x55 in use_after {SRC}:13:3

SUMMARY: AddressSanitizer: heap-use-after-free {SRC}:14 in use_after
"""


def test_asan_and_ubsan_headlines() -> None:
    """ASan: its first line, the access and the free, each at its first
    frame in the repository (not the allocator's interceptor); UBSan's
    report is one line with its site already."""
    assert excerpt.headline(ASAN) == (
        "AddressSanitizer: heap-use-after-free on address 0x602000000010 at pc 0x55 bp 0x7f sp 0x7e: READ of "
        f"size 4 at 0x602000000010 thread T0 in use_after ({SRC}:14); freed by thread T0 in use_after ({SRC}:13)")
    assert excerpt.stopped_by("test output\n" + ASAN) == excerpt.headline(ASAN)
    ub = f"{SRC}:14:5: runtime error: signed integer overflow\n    #0 0x55 in f {SRC}:14\n"
    assert excerpt.headline(ub) == f"{SRC}:14:5: runtime error: signed integer overflow"
