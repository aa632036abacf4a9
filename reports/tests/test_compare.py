"""gortreport.compare's analysis on fixed sample sets."""

import pytest

from gortreport import compare, gbench
from gortreport.errors import InputError

BASE = [100.0, 102.0, 99.0, 101.0, 100.5, 98.5, 103.0, 100.2, 99.6]
SETTINGS = compare.Settings()


def bench(name, samples, errors=(), cpu=None):
    """Runs with real time `samples`; CPU time (process_cpu_ns_per_op) the
    same unless `cpu` gives it."""
    b = gbench.Benchmark(name)
    cpu = samples if cpu is None else cpu
    b.runs = [gbench.Run(name, x, 1.0, 1000, {"process_cpu_ns_per_op": y}) for x, y in zip(samples, cpu)]
    b.errors = list(errors)
    return b


def one(base, cur, settings=SETTINGS, thresholds=None):
    rows = compare.compare_wall({"X": base} if base else {}, {"X": cur} if cur else {}, settings, thresholds)
    assert len(rows) == 1
    return rows[0]


def test_twenty_percent_slower_is_regressed():
    r = one(bench("X", BASE), bench("X", [x * 1.2 for x in BASE]))
    assert r["verdict"] == "regressed"
    for m in ("real", "cpu"):
        x = r["metrics"][m]
        assert x["verdict"] == "regressed"
        assert x["change"] == pytest.approx(0.2)
        assert x["ci"][0] > 0.1
        assert x["p"] == pytest.approx(2 / 48620)  # exact: complete separation, 9 vs 9
        assert x["p_holm"] == pytest.approx(2 * 2 / 48620)  # Holm over both metrics


def test_cpu_time_alone_can_regress():
    # Wall time drowned in a loaded machine's noise, CPU time clearly 20% up.
    noisy = [BASE[(i * 4) % 9] * (1 + 5 * (i % 2)) for i in range(9)]
    r = one(bench("X", BASE), bench("X", noisy, cpu=[x * 1.2 for x in BASE]))
    assert r["metrics"]["real"]["verdict"] == "unchanged"
    assert r["metrics"]["cpu"]["verdict"] == "regressed"
    assert r["verdict"] == "regressed"
    assert r["metrics"]["cpu"]["base_median_ns"] == pytest.approx(100.2)


def test_per_benchmark_threshold_override():
    th = compare.Thresholds([compare.Rule(__import__("re").compile("^X$"), 0.25, None)])
    r = one(bench("X", BASE), bench("X", [x * 1.2 for x in BASE]), thresholds=th)
    assert (r["threshold"], r["verdict"]) == (0.25, "unchanged")


def test_slower_but_not_significant_is_unchanged():
    # Same values, one outlier: nothing significant.
    cur = list(BASE)
    cur[0] = 500.0
    assert one(bench("X", BASE), bench("X", cur))["verdict"] == "unchanged"


def test_significant_but_under_threshold_is_unchanged():
    r = one(bench("X", BASE), bench("X", [x * 1.05 for x in BASE]))
    assert r["metrics"]["real"]["p"] < 0.01 and r["verdict"] == "unchanged"


def test_faster_is_improved():
    assert one(bench("X", BASE), bench("X", [x * 0.7 for x in BASE]))["verdict"] == "improved"


def test_missing_errored_new_insufficient():
    assert one(bench("X", BASE), None)["verdict"] == "missing"
    assert one(bench("X", BASE), bench("X", BASE[:8], ["gort_go: thread creation failed"]))["verdict"] == "errored"
    assert one(None, bench("X", BASE))["verdict"] == "new"
    assert one(bench("X", BASE[:3]), bench("X", BASE))["verdict"] == "insufficient"
    # An error on both sides is no change of the current run.
    assert one(bench("X", [], ["e"]), bench("X", [], ["e"]))["verdict"] == "insufficient"


def test_holm_runs_over_every_tested_benchmark():
    # Two benchmarks 20% and 30% slower: each raw p (both metrics) is 2/48620;
    # Holm over 6 tests multiplies the smallest by 6, and monotonicity keeps
    # the next three at that value.
    base = {"A": bench("A", BASE), "B": bench("B", BASE), "C": bench("C", BASE)}
    cur = {"A": bench("A", [x * 1.2 for x in BASE]), "B": bench("B", [x * 1.3 for x in BASE]),
           "C": bench("C", list(reversed(BASE)))}
    rows = {r["name"]: r for r in compare.compare_wall(base, cur, SETTINGS)}
    assert rows["A"]["metrics"]["real"]["p_holm"] == pytest.approx(6 * 2 / 48620)
    assert rows["B"]["metrics"]["cpu"]["p_holm"] == pytest.approx(6 * 2 / 48620)
    assert rows["C"]["metrics"]["cpu"]["p_holm"] == pytest.approx(1.0)
    assert [rows[n]["verdict"] for n in "ABC"] == ["regressed", "regressed", "unchanged"]


def test_merge_rounds_spreads_a_crash_over_every_benchmark():
    f = gbench.parse({"context": {"schema": "gort.bench/1"}, "benchmarks": [
        {"name": "A", "run_name": "A", "run_type": "iteration", "real_time": 5, "cpu_time": 5,
         "time_unit": "ns", "iterations": 10}]})
    merged = compare.merge_rounds([f, "gort-bench killed by signal 11", f])
    assert merged["A"].real_ns == [5.0, 5.0]
    assert merged["A"].errors == ["gort-bench killed by signal 11"]


def icount(b, c):
    return compare.compare_icount({"X": b}, {"X": c}, 1000, SETTINGS)[0]


def test_icount_threshold():
    assert icount(compare.Count(100000), compare.Count(103000))["verdict"] == "regressed"
    assert icount(compare.Count(100000), compare.Count(100500))["verdict"] == "unchanged"
    assert icount(compare.Count(100000), compare.Count(97000))["verdict"] == "improved"
    r = icount(compare.Count(100000), compare.Count(103000))
    assert (r["base_per_op"], r["current_per_op"], r["change"]) == pytest.approx((100.0, 103.0, 0.03))


def test_icount_missing_errored_insufficient():
    assert icount(compare.Count(1000), compare.Count(absent=True))["verdict"] == "missing"
    assert icount(compare.Count(1000), compare.Count(error="boom"))["verdict"] == "errored"
    assert icount(compare.Count(error="old binary"), compare.Count(1000))["verdict"] == "insufficient"
    assert icount(compare.Count(absent=True), compare.Count(1000))["verdict"] == "new"


def test_read_thresholds(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("# comment\n^ChanMPMC 0.25 -\n^Select - 0.02  # icount only\n")
    th = compare.read_thresholds(p)
    assert th.wall("ChanMPMC4x4/real_time", 0.1) == 0.25
    assert th.icount("ChanMPMC4x4/real_time", 0.01) == 0.01
    assert th.wall("SelectNonblock/real_time", 0.1) == 0.1
    assert th.icount("SelectNonblock/real_time", 0.01) == 0.02


@pytest.mark.parametrize("line", ["^X", "^X abc", "(( 0.1", "^X 0.1 0.2 0.3", "^X -1"])
def test_read_thresholds_rejects_bad_lines(tmp_path, line):
    p = tmp_path / "t.txt"
    p.write_text(line + "\n")
    with pytest.raises(InputError):
        compare.read_thresholds(p)


def test_callgrind_total(tmp_path):
    p = tmp_path / "cg.out"
    p.write_text("version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nsummary: 4480042\ntotals: 4480042\n")
    assert compare.callgrind_total(p) == 4480042
