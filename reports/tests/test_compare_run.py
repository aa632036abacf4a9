"""compare.main end to end on stand-in binaries: interleaving, crashes and
errors of one side become errors of that side, never a crash of ours."""

import json
import stat
import subprocess
import sys
from pathlib import Path

from gortreport import compare, jsonio

# A stand-in for gort-bench: writes one repetition of benchmarks A and B in
# Google Benchmark's JSON. Its behaviour comes from its own name:
#   slow  - A takes 20% longer;  crash3 - the 3rd run dies of SIGSEGV;
#   errB  - B reports error_occurred;  noB - B does not exist.
FAKE = r'''#!/usr/bin/python3
import json, os, signal, sys
from pathlib import Path
me = Path(sys argv0)
log = me.with_suffix(".log")
with log.open("a") as f:
    f.write(me.name + "\n")
runs = len(log.read_text().split())
with (me.parent / "order.log").open("a") as f:
    f.write(me.name + "\n")
out = [a.split("=", 1)[1] for a in sys.argv if a.startswith("--benchmark_out=")][0]
if "crash3" in me.name and runs == 3:
    Path(out).write_text('{"context": {"schema": "gort.bench/1"}, "benchm')
    os.kill(os.getpid(), signal.SIGSEGV)
jitter = [1.0, 1.01, 0.99, 1.02, 0.98, 1.005, 0.995, 1.015, 0.985, 1.0][runs % 10]
a = 100.0 * jitter * (1.2 if "slow" in me.name else 1.0)
rows = [{"name": "A/real_time", "run_name": "A/real_time", "run_type": "iteration",
         "iterations": 1000, "real_time": a, "cpu_time": a, "time_unit": "ns",
         "process_cpu_ns_per_op": a}]
if "noB" not in me.name:
    b = {"name": "B/real_time", "run_name": "B/real_time", "run_type": "iteration", "iterations": 1000,
         "real_time": 50.0 * jitter, "cpu_time": 50.0 * jitter, "time_unit": "ns"}
    if "errB" in me.name:
        b = {"name": "B/real_time", "run_name": "B/real_time", "run_type": "iteration",
             "error_occurred": True, "error_message": "gort_go: thread creation failed"}
    rows.append(b)
Path(out).write_text(json.dumps({"context": {"schema": "gort.bench/1"}, "benchmarks": rows}))
'''.replace("sys argv0", "sys.argv[0]")


def fake(tmp_path, name):
    p = tmp_path / name
    p.write_text(FAKE)
    p.chmod(p.stat().st_mode | stat.S_IEXEC)
    return str(p)


def run(tmp_path, base, cur, rounds=9):
    out = tmp_path / "compare.json"
    code = compare.main(["--base-bin", fake(tmp_path, base), "--current-bin", fake(tmp_path, cur),
                         "--base-ref", "HEAD", "--base-commit", "0" * 40, "--rounds", str(rounds),
                         "--out", str(out), "--workdir", str(tmp_path / "work")])
    assert code == 0
    doc = jsonio.read(out, compare.SCHEMA)
    return {b["name"]: b for b in doc["benchmarks"]}, doc


def test_interleaved_order_and_a_regression(tmp_path):
    rows, doc = run(tmp_path, "base", "slow")
    assert doc["order"][:2] == [["base", "current"], ["current", "base"]]
    # The stand-ins ran alternately: base, slow, slow, base, base, slow, ...
    ran = (tmp_path / "order.log").read_text().split()
    assert ran == [x for r in range(9) for x in (["base", "slow"] if r % 2 == 0 else ["slow", "base"])]
    assert rows["A/real_time"]["verdict"] == "regressed"
    assert rows["A/real_time"]["metrics"]["cpu"]["change"] > 0.15
    assert rows["B/real_time"]["verdict"] == "unchanged"


def test_a_crashing_round_is_an_error_of_that_side(tmp_path):
    rows, _ = run(tmp_path, "base", "crash3")
    for name in ("A/real_time", "B/real_time"):
        assert rows[name]["verdict"] == "errored"
        assert rows[name]["current"]["good_rounds"] == 8
        assert "killed by signal 11" in rows[name]["current"]["errors"][0]


def test_errored_and_missing_benchmarks(tmp_path):
    rows, _ = run(tmp_path, "base", "errB")
    assert rows["B/real_time"]["verdict"] == "errored"
    assert rows["A/real_time"]["verdict"] == "unchanged"
    rows, _ = run(tmp_path, "base2", "noB")
    assert rows["B/real_time"]["verdict"] == "missing"


def test_too_few_rounds_is_refused(tmp_path):
    res = subprocess.run([sys.executable, "-m", "gortreport.compare", "--base-bin", fake(tmp_path, "base"),
                          "--current-bin", fake(tmp_path, "slow"), "--base-ref", "x", "--base-commit", "y",
                          "--rounds", "3", "--out", str(tmp_path / "c.json")],
                         cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True)
    assert res.returncode == 2 and "BENCH_ROUNDS=3 can decide nothing" in res.stderr
    assert not (tmp_path / "c.json").exists()


def test_bad_input_is_one_line_exit_2(tmp_path):
    res = subprocess.run([sys.executable, "-m", "gortreport.compare", "--base-bin", "/nonexistent",
                          "--current-bin", "/nonexistent", "--base-ref", "x", "--base-commit", "y",
                          "--out", str(tmp_path / "c.json")],
                         cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True)
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "base binary /nonexistent is missing" in res.stderr
