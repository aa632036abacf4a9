"""make report's outputs, end to end, on golden fixtures: a clean tree and a
tree with a planted failing assert, task leak, heap leak and race."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from conftest import REPORTS, copy_fixture, junit_counts, load, run_module

SARIF_SCHEMA = REPORTS / "schemas" / "sarif-2.1.0-rtm.5.schema.json"


def generate(tmp: Path, name: str) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = copy_fixture(name, tmp)
    return out, run_module("gortreport.generate", str(out))


def test_clean_tree_passes_everywhere(tmp: Path) -> None:
    out, r = generate(tmp, "clean")
    assert r.returncode == 0, r.stderr
    report = load(out / "report.json")
    assert report["verdict"] == "pass" and report["findings"] == []
    counts = junit_counts(out / "junit.xml")
    assert counts["tests"] > 0 and counts["failures"] == 0 and counts["errors"] == 0
    sarif = load(out / "findings.sarif")
    jsonschema.validate(sarif, load(SARIF_SCHEMA))
    assert sarif["runs"][0]["results"] == []
    assert "PASS" in (out / "summary.md").read_text().splitlines()[0]


def _cases(out: Path) -> list[ET.Element]:
    return ET.parse(out / "junit.xml").getroot().findall(".//testcase")


def _failing_text(out: Path) -> list[str]:
    texts = []
    for c in _cases(out):
        for el in list(c):
            if el.tag in ("failure", "error"):
                texts.append(f"{c.get('classname')} {c.get('name')}\n{el.text}")
    return texts


def test_planted_findings_fail_junit_with_the_detectors_text(tmp: Path) -> None:
    out, r = generate(tmp, "planted")
    assert r.returncode == 1, r.stderr
    texts = _failing_text(out)
    # The failing assert: cmocka's own message.
    assert any("planted_failing_assert" in t and "0x2 != 0x3" in t for t in texts)
    # The task leak: leakcheck's goleak-shaped report, in each mode it was seen.
    task = [t for t in texts if "leakcheck." in t.split()[0] and "[task]" in t]
    assert task and all("found unexpected tasks" in t or "Task" in t for t in task)
    # The heap leak: the heap checker's record (LSan or Valgrind).
    assert any("[heap]" in t and ("definitely lost" in t or "leak" in t.lower()) for t in texts)
    # The race: ThreadSanitizer's report with both stacks.
    race = [t for t in texts if t.startswith("races.")]
    assert race and all("data race" in t and "Previous" in t for t in race)
    for c in _cases(out):
        assert c.get("time") is not None
    # A leak's testcase takes the time of the leakcheck run that found it.
    lc = load(out / "leakcheck.json")
    [run] = [r for r in lc["runs"] if r["mode"] == "valgrind" and r["binary"].endswith("/test_planted")]
    [case] = [c for c in _cases(out) if c.get("classname") == "leakcheck.valgrind" and "[task]" in c.get("name", "")]
    assert run["duration_ms"] > 0
    assert float(case.get("time", "0")) == pytest.approx(run["duration_ms"] / 1000, abs=0.001)


def test_planted_sarif_one_result_per_finding(tmp: Path) -> None:
    out, _ = generate(tmp, "planted")
    report, sarif = load(out / "report.json"), load(out / "findings.sarif")
    jsonschema.validate(sarif, load(SARIF_SCHEMA))
    results = sarif["runs"][0]["results"]
    assert len(results) == len(report["findings"])
    prints = [res["partialFingerprints"]["gortFinding/v1"] for res in results]
    assert len(set(prints)) == len(prints)
    kinds = {res["ruleId"] for res in results}
    assert {"test-failure", "leak-task", "leak-heap", "race", "bench-regression"} <= kinds
    for res in results:
        for loc in res["locations"]:
            uri = loc["physicalLocation"]["artifactLocation"]["uri"]
            assert not uri.startswith("/") and "://" not in uri
            assert (REPORTS.parent / uri).exists(), uri
            assert loc["physicalLocation"]["region"]["startLine"] > 0
    driver = sarif["runs"][0]["tool"]["driver"]
    assert driver["version"] == report["meta"]["gort_version"] and driver["version"] != "0.0.0"
    assert all(rule["help"]["text"] for rule in driver["rules"])
    assert "example" not in json.dumps(sarif)


def test_one_leak_in_several_modes_is_one_finding(tmp: Path) -> None:
    out, _ = generate(tmp, "planted")
    report = load(out / "report.json")
    leaks = [f for f in report["findings"] if f["kind"] == "leak-task"]
    assert len(leaks) == 1
    assert len(leaks[0]["modes"]) >= 2, leaks[0]["modes"]
    page = (out / "index.html").read_text()
    for f in report["findings"]:
        assert page.count(f"id='f-{f['id']}'") == 1


def test_each_planted_defect_is_one_finding_with_its_modes(tmp: Path) -> None:
    """The fixture is make report-planted-check's run: the race sweep lets
    the tests finish (the assert and the task leak fail under TSan too), the
    heap leak is in a binary of its own, seen by LSan and Valgrind."""
    out, _ = generate(tmp, "planted")
    found = load(out / "report.json")["findings"]
    modes = {f["kind"]: f["modes"] for f in found if f["kind"] != "bench-regression"}
    assert len(modes) == len(found) - 1, [f["message"] for f in found]
    assert modes == {"test-failure": ["default", "thread"], "leak-heap": ["asan", "valgrind"],
                     "leak-task": ["asan", "native", "tests:default", "tests:thread", "valgrind"],
                     "race": ["gort-race", "thread"]}
    [heap] = [f for f in found if f["kind"] == "leak-heap"]
    assert ", allocated at planted_heap_leak (reports/tests/fixtures/src/test_planted_heap.c:13)" in heap["message"]
    # Its title names no variant: the modes say where it was seen.
    assert [f["message"] for f in found if f["kind"] == "test-failure"] == [
        "test_planted: planted_failing_assert failed"]
    page = (out / "index.html").read_text()
    # The planted binary failed: leakcheck did not judge its exit (as goleak).
    assert "Not judged at exit" in page and "test_planted (asan, native, valgrind)" in page


def test_binary_stopped_by_a_race_reports_its_tests_and_the_race(tmp: Path) -> None:
    """As make test SAN=thread (halt_on_error=1): TSan kills the binary at
    the race, cmocka never writes its XML; each test (listed by the default
    run) is an error, the race still a finding with both stacks."""
    out = copy_fixture("planted", tmp)
    (out / "race.json").unlink()
    lines = (out / "tests-thread.jsonl").read_text().splitlines()
    recs = [json.loads(line) for line in lines]
    for rec in recs:
        if rec["binary"].endswith("/test_planted"):
            rec.update(status="crashed", tests=[])
    (out / "tests-thread.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    assert run_module("gortreport.generate", str(out)).returncode == 1
    errors = [(c.get("classname"), c.get("name")) for c in _cases(out) if c.find("error") is not None]
    assert errors == [("tests.thread.test_planted", n) for n in
                      ("planted_failing_assert", "planted_task_leak", "planted_race")]
    [race] = [f for f in load(out / "report.json")["findings"] if f["kind"] == "race"]
    assert race["modes"] == ["thread"] and "Previous" in race["text"]
    assert assert_outputs_agree(out) == "fail"


def test_tsan_reports_of_a_binary_tsan_did_not_fail_are_no_finding(tmp: Path) -> None:
    """A binary that failed a test but did not exit with TSan's status: the
    reports in its log are its children's (forked on purpose to misbehave,
    as test_badinput's), not findings."""
    out = copy_fixture("planted", tmp)
    (out / "race.json").unlink()
    recs = [json.loads(line) for line in (out / "tests-thread.jsonl").read_text().splitlines()]
    [rec] = [r for r in recs if r["binary"].endswith("/test_planted")]
    assert rec["exit_code"] == 66 and "WARNING: ThreadSanitizer: data race" in rec["log_tail"]
    rec["exit_code"] = 2
    (out / "tests-thread.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    assert run_module("gortreport.generate", str(out)).returncode == 1
    kinds = [f["kind"] for f in load(out / "report.json")["findings"]]
    assert "race" not in kinds and "test-failure" in kinds


def test_race_seen_by_two_detectors_is_one_finding(tmp: Path) -> None:
    out, _ = generate(tmp, "planted")
    races = [f for f in load(out / "report.json")["findings"] if f["kind"] == "race"]
    assert len(races) == 1
    assert {"thread", "gort-race"} <= set(races[0]["modes"])


def test_race_fingerprint_ignores_which_access_came_first() -> None:
    from gortreport.findings import conflict_site
    a = [("writer", "reports/tests/fixtures/src/test_planted.c", 42)]
    b = [("planted_race", "reports/tests/fixtures/src/test_planted.c", 47)]
    assert conflict_site([a, b]) == conflict_site([b, a])


def assert_outputs_agree(out: Path) -> str:
    """The five outputs and the gate say the same thing, whatever it is:
    FAIL <=> SARIF has results <=> summary.md and index.html say FAIL; not
    PASS <=> junit.xml has a failure or an error <=> make gate fails."""
    report = load(out / "report.json")
    verdict = report["verdict"]
    jsonschema.validate(load(out / "findings.sarif"), load(SARIF_SCHEMA))
    results = load(out / "findings.sarif")["runs"][0]["results"]
    counts = junit_counts(out / "junit.xml")
    summary = (out / "summary.md").read_text().splitlines()[0]
    page = (out / "index.html").read_text()
    assert (verdict == "fail") == bool(results) == bool(report["findings"])
    assert len(results) == len(report["findings"])
    assert summary == f"# gort report: {verdict.upper()}"
    assert f"<title>gort report: {verdict.upper()}</title>" in page
    assert (verdict != "pass") == (counts["failures"] + counts["errors"] > 0)
    gate = subprocess.run([sys.executable, str(REPORTS / "gort-gate"), str(out)], capture_output=True,
                          text=True, timeout=120)
    assert (gate.returncode != 0) == (verdict != "pass"), gate.stdout + gate.stderr
    assert gate.returncode in (0, 1), gate.stderr
    return str(verdict)


@pytest.mark.parametrize("name", ["clean", "planted", "incomplete"])
def test_outputs_agree_on_the_verdict(tmp: Path, name: str) -> None:
    out, _ = generate(tmp, name)
    assert assert_outputs_agree(out) == {"clean": "pass", "planted": "fail", "incomplete": "incomplete"}[name]


def _step(out: Path, step: str, script: str, *outputs: str) -> int:
    """Run a fake step of make report through gortreport.progress, as reports.mk does."""
    args = [a for o in outputs for a in ("--output", o)]
    return run_module("gortreport.progress", "--out", str(out), *args, step, "--", "sh", "-c", script).returncode


def _step_failed(out: Path) -> dict[str, object]:
    r = run_module("gortreport.generate", str(out))
    assert r.returncode == 1, r.stderr
    assert assert_outputs_agree(out) == "fail"
    report = load(out / "report.json")
    [f] = report["findings"]
    assert f["kind"] == "step-failed"
    page = (out / "index.html").read_text()
    assert page.count(f"id='f-{f['id']}'") == 1
    assert f"step {f['subject']} failed" in (out / "summary.md").read_text()
    [res] = load(out / "findings.sarif")["runs"][0]["results"]
    loc = res["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "reports/reports.mk"
    mk = (REPORTS / "reports.mk").read_text().splitlines()
    assert f" {f['subject']} --" in mk[loc["region"]["startLine"] - 1]
    [case] = [c for c in _cases(out) if c.find("error") is not None]
    assert case.get("name") == f["subject"] and f["text"] in (case.find("error").text or "")
    return dict(f)


def test_step_that_fails_without_writing_is_a_finding(tmp: Path) -> None:
    out = copy_fixture("clean", tmp)
    (out / "bench-sweep.json").unlink()
    rc = _step(out, "sweeps", "echo 'running the sweeps'; echo 'gort-bench: out of threads' >&2; exit 1",
               "bench-sweep.json")
    assert rc == 1
    f = _step_failed(out)
    assert f["subject"] == "sweeps"
    text = str(f["text"])
    assert "exit 1" in text and "bench-sweep.json: not written" in text and "out of threads" in text


def test_step_that_exits_zero_with_truncated_output_is_a_finding(tmp: Path) -> None:
    out = copy_fixture("clean", tmp)
    rc = _step(out, "leakcheck", f"head -c 300 {out / 'leakcheck.json'} > {out / 'lc.tmp'}; "
               f"mv {out / 'lc.tmp'} {out / 'leakcheck.json'}; echo 'leakcheck: native pass'", "leakcheck.json")
    assert rc == 0
    f = _step_failed(out)
    assert f["subject"] == "leakcheck" and "exit 0" in str(f["text"]) and "truncated" in str(f["text"])


def test_failed_build_step_fails_everything(tmp: Path) -> None:
    out = copy_fixture("clean", tmp)
    assert _step(out, "build-thread", "echo \"mn.c:495:3: error: 'atomic_thread_fence' is not supported\"; "
                 "exit 2") == 2
    f = _step_failed(out)
    assert "exit 2" in str(f["message"]) and "atomic_thread_fence" in str(f["text"])


def test_a_step_whose_findings_say_why_it_failed_is_not_a_step_failure(tmp: Path) -> None:
    """The planted tree's tests and leakcheck steps exit non-zero: their
    findings are the reason, so no step-failed is added."""
    out, _ = generate(tmp, "planted")
    steps = [json.loads(line) for line in (out / "steps.jsonl").read_text().splitlines()]
    assert any(s["status"] != 0 for s in steps)
    assert all(f["kind"] != "step-failed" for f in load(out / "report.json")["findings"])


def test_valgrind_failure_without_an_error_record_fails(tmp: Path) -> None:
    out = copy_fixture("clean", tmp)
    (out / "valgrind.json").write_text(json.dumps({
        "schema": "gort.valgrind/2", "errors": [],
        "binaries": [{"binary": "build/cc/tests/runtime/test_err", "tool": "memcheck", "xml": "x.xml",
                      "errors": 0, "complete": True, "exit_code": 1},
                     {"binary": "build/cc/tests/runtime/test_chan", "tool": "memcheck", "xml": "y.xml",
                      "errors": 0, "complete": True, "exit_code": 0}]}))
    assert run_module("gortreport.generate", str(out)).returncode == 1
    report = load(out / "report.json")
    assert [(f["kind"], f["subject"]) for f in report["findings"]] == [("crash", "test_err")]
    root = ET.parse(out / "junit.xml").getroot()
    cases = {c.get("name"): c for c in root.iter("testcase") if c.get("classname") == "valgrind.memcheck"}
    assert cases["test_err"].find("error") is not None and cases["test_chan"].find("error") is None


def test_misgraded_catalog_entry_fails_the_report(tmp: Path) -> None:
    """A miss and a false alarm in verdicts.json (make antipatterns-check
    exits 1 on them) are findings: the report cannot pass over them."""
    out = copy_fixture("clean", tmp)
    doc = load(out / "verdicts.json")
    entry = next(e for e in doc["entries"] if e["detection"] == "detectable")
    entry["name"] = "leaky_send"  # a real entry: the finding points at its definition
    entry["bad"]["results"][0].update(outcome="missed", said="nothing")
    entry["bad"]["flagged"] -= 1
    entry["fixed"]["results"][0].update(outcome="alarm", said="1 task leaked")
    entry["fixed"]["flagged"] += 1
    doc["pass"] = False
    (out / "verdicts.json").write_text(json.dumps(doc))
    r = run_module("gortreport.generate", str(out))
    assert r.returncode == 1, r.stderr
    report = load(out / "report.json")
    assert report["verdict"] == "fail"
    [f] = report["findings"]
    assert f["kind"] == "catalog-verdict" and entry["name"] in f["message"]
    assert f["file"] == "patterns/antipatterns/ap_leaks.c" and f["line"] > 0
    assert junit_counts(out / "junit.xml")["failures"] == 2
    assert len(load(out / "findings.sarif")["runs"][0]["results"]) == 1


# A timer leak as leakcheck wrote it in a real make report (test_timer, native).
TIMER_LEAK = {
    "kind": "timer", "test": "timer_thread_quiesce_and_restart",
    "identity": {"timer_id": 11717, "type": "time.NewTimer"}, "state": {"state": "time.NewTimer"},
    "site": {"function": "timer_thread_quiesce_and_restart", "file": "runtime/tests/test_timer.c", "line": 636},
    "top_function": "timer_thread_quiesce_and_restart", "detail": "created 433 ms ago, fires in 3599566 ms",
    "stack": [{"pc": "0x560d84d8405c", "function": "timer_thread_quiesce_and_restart",
               "file": "runtime/tests/test_timer.c", "line": 636, "object": "test_timer"}],
    "message": "Timer 11717 [time.NewTimer, created 433 ms ago, fires in 3599566 ms], created by "
               "timer_thread_quiesce_and_restart\n\truntime/tests/test_timer.c:636\n",
    "scope": "test", "binary": "build/cc/tests/runtime/test_timer", "mode": "native"}


def test_a_timer_leak_is_a_finding_beside_the_others(tmp: Path) -> None:
    """leakcheck's timer layer: its finding is read (the schema had no
    "timer" kind, so one timer leak made the whole file invalid and hid
    every other leak behind a step-failed), and has a SARIF rule."""
    out = copy_fixture("planted", tmp)
    doc = load(out / "leakcheck.json")
    doc["findings"].append(TIMER_LEAK)
    doc["runs"][0]["valgrind_errors"] = -1  # Valgrind printed no ERROR SUMMARY
    (out / "leakcheck.json").write_text(json.dumps(doc))
    assert run_module("gortreport.generate", str(out)).returncode == 1
    kinds = [f["kind"] for f in load(out / "report.json")["findings"]]
    assert "step-failed" not in kinds and {"leak-timer", "leak-task", "leak-heap"} <= set(kinds)
    sarif = load(out / "findings.sarif")
    jsonschema.validate(sarif, load(SARIF_SCHEMA))
    [rule] = [r for r in sarif["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "leak-timer"]
    assert "timer" in rule["help"]["text"]
    assert assert_outputs_agree(out) == "fail"
