"""Fingerprints: one finding per defect whatever the detector and however
deep it unwound the stack; distinct defects stay distinct."""

from __future__ import annotations

from gortreport.findings import Finding, conflict_site, own_frames

SRC = "reports/tests/fixtures/src/test_planted_heap.c"
HARNESS = ["rec_test leakcheck/src/lc_cmocka.c:72",
           "__wrap__cmocka_run_group_tests runtime/tests/support/watchdog.c:143",
           "gort_leakcheck_cmocka_run_group leakcheck/src/lc_cmocka.c:127", f"main {SRC}:23"]


def heap(stack: list[str]) -> Finding:
    return Finding("leak-heap", "leaked heap", "text", subject="test_planted_heap: (exit)",
                   function="planted_heap_leak", file=SRC, line=13, stack=stack)


def test_one_heap_leak_unwound_to_different_depths_is_one_finding() -> None:
    # LSan's fast unwinder stops at libcmocka (no frame pointers); Valgrind
    # goes on to main (the planted run's leakcheck.json).
    lsan = heap([f"planted_heap_leak {SRC}:13", HARNESS[0]])
    valgrind = heap([f"planted_heap_leak {SRC}:13"] + HARNESS)
    assert lsan.id == valgrind.id


def test_leaks_of_one_site_from_different_callers_stay_apart() -> None:
    a = heap([f"make_block {SRC}:9", f"planted_heap_leak {SRC}:13"] + HARNESS)
    b = heap([f"make_block {SRC}:9", f"other_caller {SRC}:30"] + HARNESS)
    assert a.id != b.id


def test_own_frames_keeps_a_harness_frame_that_is_the_site() -> None:
    assert own_frames(HARNESS[:2]) == HARNESS[:1]
    assert own_frames([f"f {SRC}:1", f"g {SRC}:2"]) == [f"f {SRC}:1", f"g {SRC}:2"]


def test_race_keeps_both_sides_above_the_harness() -> None:
    main_side = [("planted_race", "reports/tests/fixtures/src/test_planted.c", 38),
                 ("rec_test", "leakcheck/src/lc_cmocka.c", 72),
                 ("main", "reports/tests/fixtures/src/test_planted.c", 48)]
    task_side = [("writer", "reports/tests/fixtures/src/test_planted.c", 33),
                 ("run_task", "runtime/src/threads/threads.c", 58)]
    fn, file, line, stack = conflict_site([main_side, task_side])
    assert (fn, line) == ("planted_race", 38)
    assert [s.split(" ")[0] for s in stack] == ["planted_race", "writer", "run_task"]
    assert conflict_site([task_side, main_side]) == (fn, file, line, stack)


def test_every_finding_kind_has_a_sarif_rule_and_a_place_in_the_schema() -> None:
    import json

    from conftest import REPORTS
    from gortreport.findings import RULES
    schema = json.loads((REPORTS / "schemas" / "gort.report-2.schema.json").read_text())
    text = json.dumps(schema)
    start = text.index('"test-failure"')
    kinds = set(json.loads(text[text.rindex("[", 0, start):text.index("]", start) + 1]))
    assert kinds == set(RULES)
