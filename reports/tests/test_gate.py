"""gort-gate: its decision and every exit code, run as a user runs it."""

import json
import subprocess
from pathlib import Path

import pytest

from gortreport import compare, gbench, jsonio

GATE = Path(__file__).resolve().parent.parent / "gort-gate"
BASE = [100.0, 102.0, 99.0, 101.0, 100.5, 98.5, 103.0, 100.2, 99.6]


def bench(name, samples, errors=()):
    b = gbench.Benchmark(name)
    b.runs = [gbench.Run(name, x, x, 1000, {"process_cpu_ns_per_op": x}) for x in samples]
    b.errors = list(errors)
    return b


def compare_doc(base, cur, icount=None):
    """A gort.compare/1 document from base/current benchmarks (name -> samples)."""
    s = compare.Settings()
    rows = compare.compare_wall({n: bench(n, x) for n, x in base.items()},
                                {n: (x if isinstance(x, gbench.Benchmark) else bench(n, x))
                                 for n, x in cur.items()}, s)
    ic = None
    if icount is not None:
        ic = {"tool": "test", "iterations": 1000, "threshold": s.icount_threshold,
              "benchmarks": compare.compare_icount(icount[0], icount[1], 1000, s)}
    return {"schema": compare.SCHEMA, "base": {"ref": "HEAD~1", "commit": "a" * 40},
            "current": {"commit": "b" * 40, "dirty": False}, "rounds": 9, "filter": ".",
            "order": [["base", "current"]] * 9,
            "settings": {"threshold": 0.1, "alpha": 0.05, "confidence": 0.95, "min_samples": 6,
                         "icount_threshold": 0.01},
            "benchmarks": rows, "icount": ic,
            "summary": {"wall": compare.summarize(rows, compare.WALL_VERDICTS),
                        "icount": compare.summarize(ic["benchmarks"] if ic else [], compare.ICOUNT_VERDICTS)}}


def report_doc(findings=(), verdict=None):
    return {"schema": "gort.report/1", "verdict": verdict or ("fail" if findings else "pass"),
            "findings": list(findings)}


def write(d, name, doc, schema=None):
    jsonio.write(d / name, doc, schema)
    return d / name


def gate(d, *args):
    res = subprocess.run([str(GATE), str(d), *args], capture_output=True, text=True)
    return res.returncode, res.stdout, res.stderr


def gate_json(d):
    return jsonio.read(d / "gate.json", "gort.gate/2")


SAME = {"A/real_time": BASE, "B/real_time": BASE}


def test_pass_on_a_clean_report_and_comparison(tmp_path):
    write(tmp_path, "report.json", report_doc(), "gort.report/1")
    write(tmp_path, "compare.json", compare_doc(SAME, {n: list(reversed(x)) for n, x in SAME.items()}),
          compare.SCHEMA)
    code, out, _ = gate(tmp_path)
    assert code == 0, out
    doc = gate_json(tmp_path)
    assert (doc["verdict"], doc["comparison"], doc["findings"]) == ("pass", "made", [])


def test_report_findings_fail(tmp_path):
    write(tmp_path, "report.json", report_doc([{"id": "t1", "kind": "test", "message": "test_x failed"}]))
    code, out, err = gate(tmp_path)
    assert code == 1
    assert "NO BENCHMARK COMPARISON WAS MADE" in err
    assert [f["id"] for f in gate_json(tmp_path)["findings"]] == ["t1"]


def test_incomplete_report_fails(tmp_path):
    write(tmp_path, "report.json", report_doc(verdict="incomplete"))
    assert gate(tmp_path)[0] == 1


def test_regression_fails_and_improvement_is_only_reported(tmp_path):
    cur = {"A/real_time": [x * 1.2 for x in BASE], "B/real_time": [x * 0.7 for x in BASE]}
    write(tmp_path, "compare.json", compare_doc(SAME, cur), compare.SCHEMA)
    code, out, _ = gate(tmp_path)
    assert code == 1
    doc = gate_json(tmp_path)
    assert [f["id"] for f in doc["findings"]] == ["bench-regression:A/real_time"]
    assert doc["improvements"] and "B/real_time" in doc["improvements"][0]


def test_a_regression_in_both_report_and_compare_is_one_finding(tmp_path):
    # make ci generates the report again after bench-compare: report.json then
    # holds the comparison's findings too (gort.report/2 names the benchmark
    # in `subject`). The gate lists each once, under the report's id.
    write(tmp_path, "report.json", report_doc([
        {"id": "bench-regression:0123abcd", "kind": "bench-regression", "message": "A slower",
         "subject": "A/real_time"},
        {"id": "t1", "kind": "test", "message": "test_x failed"}]))
    cur = {"A/real_time": [x * 1.2 for x in BASE], "B/real_time": BASE}
    write(tmp_path, "compare.json", compare_doc(SAME, cur), compare.SCHEMA)
    assert gate(tmp_path)[0] == 1
    f = gate_json(tmp_path)["findings"]
    assert [(x["id"], x["source"]) for x in f] == [("t1", "report"), ("bench-regression:0123abcd", "compare")]


def test_missing_benchmark_fails(tmp_path):
    write(tmp_path, "compare.json", compare_doc(SAME, {"A/real_time": BASE}), compare.SCHEMA)
    assert gate(tmp_path)[0] == 1
    assert [f["id"] for f in gate_json(tmp_path)["findings"]] == ["bench-missing:B/real_time"]


def test_errored_benchmark_fails(tmp_path):
    errored = bench("B/real_time", BASE[:8], ["gort_go: thread creation failed"])
    write(tmp_path, "compare.json", compare_doc(SAME, {"A/real_time": BASE, "B/real_time": errored}),
          compare.SCHEMA)
    assert gate(tmp_path)[0] == 1
    f = gate_json(tmp_path)["findings"]
    assert [x["id"] for x in f] == ["bench-errored:B/real_time"]
    assert "thread creation failed" in f[0]["message"]


def test_icount_regression_and_errors_fail(tmp_path):
    C = compare.Count
    ic = ({"A/real_time": C(100000), "B/real_time": C(100000), "D/real_time": C(5000)},
          {"A/real_time": C(103000), "B/real_time": C(100100), "D/real_time": C(error="crashed")})
    write(tmp_path, "compare.json", compare_doc(SAME, SAME, ic), compare.SCHEMA)
    assert gate(tmp_path)[0] == 1
    assert [f["id"] for f in gate_json(tmp_path)["findings"]] == [
        "bench-icount-regression:A/real_time", "bench-icount-errored:D/real_time"]


def test_neither_input_is_exit_2(tmp_path):
    code, out, err = gate(tmp_path)
    assert code == 2
    assert err.count("\n") == 1 and "neither report.json nor compare.json" in err
    assert gate_json(tmp_path)["verdict"] == "error"


def test_a_named_input_that_does_not_exist_is_exit_2(tmp_path):
    write(tmp_path, "report.json", report_doc())
    code, _, err = gate(tmp_path, "--compare", str(tmp_path / "nope.json"))
    assert code == 2 and "nope.json: no such file" in err


@pytest.mark.parametrize("name", ["report.json", "compare.json"])
def test_truncated_json_is_exit_2_in_one_line(tmp_path, name):
    good = compare_doc(SAME, SAME) if name == "compare.json" else report_doc()
    (tmp_path / name).write_text(json.dumps(good)[:57])
    code, out, err = gate(tmp_path)
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err and "truncated" in err


@pytest.mark.parametrize("name, doc", [
    ("report.json", {"schema": "gort.report/1", "verdict": "maybe", "findings": []}),
    ("report.json", {"schema": "gort.report/9", "verdict": "pass", "findings": []}),
    ("compare.json", {"schema": "gort.compare/1", "benchmarks": "none"}),
])
def test_schema_invalid_is_exit_2_in_one_line(tmp_path, name, doc):
    (tmp_path / name).write_text(json.dumps(doc))
    code, out, err = gate(tmp_path)
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err and name in err


def test_make_gate_turns_everything_into_2(tmp_path):
    # Why gort-gate exists: make's own status cannot tell findings from input errors.
    write(tmp_path, "report.json", report_doc([{"id": "t1", "kind": "test", "message": "m"}]))
    root = GATE.parent.parent
    res = subprocess.run(["make", "-s", "-C", str(root), "gate", f"REPORT_DIR={tmp_path}"],
                         capture_output=True, text=True)
    assert res.returncode == 2 and "gate: FAIL test: m" in res.stdout
