"""gortreport.verdicts: the judges, on fixed detector outputs, and the document."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gortreport import jsonio  # noqa: E402
from gortreport.errors import InputError  # noqa: E402
from gortreport.verdicts import (  # noqa: E402
    Entry,
    Judgment,
    Proc,
    build_doc,
    demonstration,
    entry_doc,
    judge_abort,
    judge_leakcheck,
    judge_race_doc,
    judge_tsan,
    parse_list,
    summarize_findings,
    tsan_warnings,
)

ABORT = -int(signal.SIGABRT)


def leakcheck_doc(verdict: str, findings: list[dict[str, Any]], layers: list[str] | None = None) -> dict[str, Any]:
    return {
        "schema": "gort.leakcheck/1",
        "runs": [{"binary": "antipattern", "verdict": verdict, "exit_status": 0,
                  "layers": layers if layers is not None else ["task", "thread", "fd", "timer"]}],
        "findings": findings,
    }


def task(state: str, site: str) -> dict[str, Any]:
    return {"kind": "task", "state": {"state": state, "waiting_ms": 440}, "site": {"function": site}}


def timer(kind: str, site: str) -> dict[str, Any]:
    return {"kind": "timer", "state": {"state": kind}, "site": {"function": site}}


# ---- leakcheck ----


def test_leak_with_the_expected_wait_reason_and_site_is_detected() -> None:
    doc = leakcheck_doc("leaks", [task("chan send", "leaky")])
    j = judge_leakcheck(doc, "task", "chan send", "leaky", bad=True)
    assert j.outcome == "detected"
    assert j.said == "1 task [chan send] created by leaky"


def test_leak_with_another_wait_reason_is_missed() -> None:
    doc = leakcheck_doc("leaks", [task("running", "leaky")])
    assert judge_leakcheck(doc, "task", "chan send", "leaky", bad=True).outcome == "missed"


def test_leak_from_another_site_is_missed() -> None:
    doc = leakcheck_doc("leaks", [task("chan send", "elsewhere")])
    assert judge_leakcheck(doc, "task", "chan send", "leaky", bad=True).outcome == "missed"


def test_a_task_finding_does_not_count_for_the_timer_layer() -> None:
    doc = leakcheck_doc("leaks", [task("time.After", "loop")])
    assert judge_leakcheck(doc, "timer", "time.After", "loop", bad=True).outcome == "missed"


def test_timer_leaks_are_counted_per_site() -> None:
    doc = leakcheck_doc("leaks", [timer("time.After", "loop")] * 100)
    j = judge_leakcheck(doc, "timer", "time.After", "loop", bad=True)
    assert j.outcome == "detected"
    assert j.said == "100 timer [time.After] created by loop"


def test_clean_bad_run_is_a_miss() -> None:
    assert judge_leakcheck(leakcheck_doc("clean", []), "task", "sleep", None, bad=True).outcome == "missed"


def test_fixed_run_with_any_finding_is_a_false_alarm() -> None:
    doc = leakcheck_doc("leaks", [{"kind": "fd", "state": {"state": "read end"}, "site": {"function": ""}}])
    j = judge_leakcheck(doc, "task", "chan send", None, bad=False)
    assert j.outcome == "alarm"
    assert j.said == "1 fd [read end] created by ?"


def test_fixed_clean_run_is_clean() -> None:
    assert judge_leakcheck(leakcheck_doc("clean", []), "task", "chan send", None, bad=False) == Judgment("clean", "nothing")


@pytest.mark.parametrize("verdict", ["unchecked", "failed", "crashed", "timeout"])
def test_leakcheck_that_could_not_check_leaves_the_run_unjudged(verdict: str) -> None:
    for bad in (True, False):
        assert judge_leakcheck(leakcheck_doc(verdict, []), "task", "sleep", None, bad).outcome == "unjudged"


def test_missing_layer_or_report_leaves_the_run_unjudged() -> None:
    doc = leakcheck_doc("clean", [], layers=["thread", "fd"])
    assert judge_leakcheck(doc, "task", "sleep", None, bad=False).outcome == "unjudged"
    assert judge_leakcheck(None, "task", "sleep", None, bad=True).outcome == "unjudged"


# ---- ThreadSanitizer ----

RACE_LOG = """==================
WARNING: ThreadSanitizer: data race (pid=4242)
  Read of size 4 at 0x7ffd by thread T3:
    #0 print_i patterns/antipatterns/ap_results.c:44 (antipattern+0x1234)
SUMMARY: ThreadSanitizer: data race patterns/antipatterns/ap_results.c:44 in print_i
==================
"""
ORDER_LOG = RACE_LOG.replace("data race", "lock-order-inversion (potential deadlock)")


def test_data_race_report_is_detected() -> None:
    j = judge_tsan([RACE_LOG], Proc(66, "", ""), "data race", bad=True)
    assert j.outcome == "detected"
    assert j.said == "data race patterns/antipatterns/ap_results.c:44 in print_i"


def test_other_tsan_report_is_not_the_expected_race() -> None:
    assert tsan_warnings([ORDER_LOG]) == ["lock-order-inversion (potential deadlock)"]
    assert judge_tsan([ORDER_LOG], Proc(66, "", ""), "data race", bad=True).outcome == "missed"


def test_silent_tsan_on_a_bad_run_is_a_miss_but_a_crash_is_unjudged() -> None:
    assert judge_tsan([], Proc(0, "", ""), "data race", bad=True).outcome == "missed"
    assert judge_tsan([], Proc(-11, "", ""), "data race", bad=True).outcome == "unjudged"


def test_any_tsan_report_on_a_fixed_run_is_a_false_alarm() -> None:
    assert judge_tsan([ORDER_LOG], Proc(66, "", ""), "data race", bad=False).outcome == "alarm"
    assert judge_tsan([], Proc(0, "", ""), "data race", bad=False).outcome == "clean"
    assert judge_tsan([], Proc(1, "", "boom\n"), "data race", bad=False).outcome == "unjudged"
    assert judge_tsan([], Proc(0, "", "", timed_out=True), "data race", bad=False).outcome == "unjudged"


# ---- deadlock detector and misuse abort ----

DEADLOCK = "fatal error: all tasks are asleep - deadlock!\n\ntask 1 [chan send (nil chan), 0 ms]:\n"
PANIC = "panic: close of closed channel\n\ntask 1 [running]:\n"


def test_deadlock_report_and_abort_is_detected() -> None:
    j = judge_abort(Proc(ABORT, "", DEADLOCK), "fatal error: all tasks are asleep - deadlock!", bad=True)
    assert j == Judgment("detected", "fatal error: all tasks are asleep - deadlock!")


def test_message_without_abort_or_abort_without_message_is_a_miss() -> None:
    head = "panic: close of closed channel"
    assert judge_abort(Proc(0, "", PANIC), head, bad=True).outcome == "missed"
    assert judge_abort(Proc(ABORT, "", "something else\n"), head, bad=True).outcome == "missed"
    assert judge_abort(Proc(ABORT, "", "panic: send on closed channel\n"), head, bad=True).outcome == "missed"


def test_fixed_run_that_panics_deadlocks_or_aborts_is_a_false_alarm() -> None:
    head = "panic: close of closed channel"
    assert judge_abort(Proc(ABORT, "", PANIC), head, bad=False).outcome == "alarm"
    assert judge_abort(Proc(ABORT, "", DEADLOCK), head, bad=False).outcome == "alarm"
    assert judge_abort(Proc(ABORT, "", ""), head, bad=False).outcome == "alarm"
    assert judge_abort(Proc(0, "", ""), head, bad=False).outcome == "clean"
    assert judge_abort(Proc(3, "", "oops\n"), head, bad=False).outcome == "unjudged"


def test_demonstration_shows_its_line_or_how_it_ended() -> None:
    assert demonstration(Proc(0, "x\ndemonstration: 2 of 3 failed\n", "")).said == "2 of 3 failed"
    assert demonstration(Proc(-15, "step 1 of 2 done\n", "")) == Judgment("shown", "signal 15")


# ---- the list and the document ----

LIST = (
    "leaky_send\tleakcheck-task\tchan send\tleaky\t000 Pitfalls\ta sender nobody reads\n"
    "sleep_sync\ttsan\tdata race\t-\t003 Basics\tsleep and hope\n"
    "style\tdemonstration\tstyle: #\t-\t001\ta style choice\n"
)


def test_parse_list() -> None:
    entries = parse_list(LIST)
    assert [e.name for e in entries] == ["leaky_send", "sleep_sync", "style"]
    assert entries[0].site == "leaky" and entries[1].site is None
    assert not entries[2].detectable


@pytest.mark.parametrize("text", ["", "a\tb\n", "a\tvalgrind\tx\t-\ts\tm\n"])
def test_parse_list_rejects_bad_input(text: str) -> None:
    with pytest.raises(InputError):
        parse_list(text)


def entries_for(bad_leak: list[str], fixed_leak: list[str]) -> list[dict[str, Any]]:
    e, demo = parse_list(LIST)[0], parse_list(LIST)[2]
    return [
        entry_doc(e, [Judgment(o, "s", "exit 0") for o in bad_leak], [Judgment(o, "s", "exit 0") for o in fixed_leak]),
        entry_doc(demo, [Judgment("shown", "style: 1")], [Judgment("shown", "clean")]),
    ]


def test_full_recall_and_no_alarm_pass_and_validate() -> None:
    doc = build_doc(entries_for(["detected"] * 3, ["clean"] * 3), 3, 1.25, 2)
    jsonio.validate(doc, "gort.verdicts/1")
    assert doc["recall"] == 1.0 and doc["false_alarms"] == 0 and doc["pass"]
    assert doc["summary"]["detectable"] == 1 and doc["summary"]["demonstration"] == 1
    demo = doc["entries"][1]
    assert demo["recall"] is None and demo["false_alarms"] is None and demo["detector"] is None
    assert doc["entries"][0]["expected"] == "chan send, created by leaky"


def test_a_miss_fails_with_recall_below_one() -> None:
    doc = build_doc(entries_for(["detected", "missed", "detected", "detected"], ["clean"] * 4), 4, 1.0, 2)
    jsonio.validate(doc, "gort.verdicts/1")
    assert doc["recall"] == 0.75 and not doc["pass"]
    assert doc["entries"][0]["recall"] == 0.75


def test_a_false_alarm_fails() -> None:
    doc = build_doc(entries_for(["detected"] * 2, ["clean", "alarm"]), 2, 1.0, 2)
    assert doc["false_alarms"] == 1 and doc["recall"] == 1.0 and not doc["pass"]


def test_an_unjudged_run_fails_even_with_full_recall() -> None:
    doc = build_doc(entries_for(["detected"] * 2, ["clean", "unjudged"]), 2, 1.0, 2)
    assert doc["recall"] == 1.0 and doc["false_alarms"] == 0 and not doc["pass"]
    assert doc["summary"]["unjudged"] == 1


def test_demonstrations_alone_do_not_pass() -> None:
    demo = parse_list(LIST)[2]
    doc = build_doc([entry_doc(demo, [Judgment("shown", "x")], [Judgment("shown", "y")])], 1, 0.1, 1)
    jsonio.validate(doc, "gort.verdicts/1")
    assert doc["recall"] is None and not doc["pass"]


def test_summarize_findings_groups_identical_findings() -> None:
    assert summarize_findings([task("sleep", "f"), task("sleep", "f"), task("chan send", "g")]) == (
        "2 task [sleep] created by f; 1 task [chan send] created by g"
    )


def test_entry_type_is_frozen() -> None:
    e = Entry("n", "tsan", "data race", None, "s", "m")
    with pytest.raises(AttributeError):
        e.name = "other"  # type: ignore[misc]


# ---- gort-race (gort.race/1) ----


def race_doc(run_reports: list[int], races: list[dict[str, Any]], status: str = "races") -> dict[str, Any]:
    return {
        "schema": "gort.race/1",
        "programs": [{
            "argv": ["antipattern", "sleep_sync"], "status": status,
            "run_log": [{"index": i, "cpus": [0], "chaos_seed": 7, "exit_code": 66 if n else 0, "signal": None,
                         "timed_out": False, "seconds": 0.2, "reports": n} for i, n in enumerate(run_reports, 1)],
            "races": races,
        }],
    }


def race(kind: str, runs: list[int]) -> dict[str, Any]:
    return {"kind": kind, "summary": f"{kind} ap_results.c:93 in add_inside", "runs_found": runs}


def test_gort_race_runs_are_judged_one_by_one() -> None:
    doc = race_doc([1, 0, 1], [race("data race", [1, 3])])
    judged = judge_race_doc(doc, 3, "data race", bad=True)
    assert [j.outcome for j in judged] == ["detected", "missed", "detected"]
    assert judged[0].said.startswith("data race ap_results.c:93 in add_inside (run 1")
    assert judged[0].exit == "exit 66" and judged[1].exit == "exit 0"


def test_gort_race_other_report_kinds_are_not_the_race_but_alarm_a_fixed_run() -> None:
    doc = race_doc([1], [race("lock-order-inversion (potential deadlock)", [1])])
    assert judge_race_doc(doc, 1, "data race", bad=True)[0].outcome == "missed"
    assert judge_race_doc(doc, 1, "data race", bad=False)[0].outcome == "alarm"
    assert judge_race_doc(race_doc([0, 0], [], "clean"), 2, "data race", bad=False)[0].outcome == "clean"


def test_gort_race_unchecked_or_missing_runs_are_unjudged() -> None:
    unchecked = race_doc([], [], "unchecked")
    assert [j.outcome for j in judge_race_doc(unchecked, 2, "data race", bad=True)] == ["unjudged"] * 2
    short = judge_race_doc(race_doc([1], [race("data race", [1])]), 3, "data race", bad=True)
    assert [j.outcome for j in short] == ["detected", "unjudged", "unjudged"]
    assert [j.outcome for j in judge_race_doc(None, 1, "data race", bad=False)] == ["unjudged"]


def test_gort_race_crashed_fixed_run_is_unjudged() -> None:
    doc = race_doc([0], [], "failed")
    doc["programs"][0]["run_log"][0].update(exit_code=None, signal=11)
    j = judge_race_doc(doc, 1, "data race", bad=False)[0]
    assert j.outcome == "unjudged" and j.exit == "signal 11"
