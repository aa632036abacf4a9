"""bench/table.py --backends: one row per benchmark with gort on both
backends and Go, the ratios computed from the medians, and a file of the
wrong backend refused with one clear error (exit 2)."""
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIX = ROOT / "reports" / "tests" / "fixtures" / "clean"


def bench_file(tmp_path, name, backend, scale):
    data = json.loads((FIX / "bench.json").read_text())
    data["context"]["gort_backend"] = backend
    for b in data["benchmarks"]:
        if b.get("aggregate_name") in (None, "mean", "median"):
            b["real_time"] = b["real_time"] * scale
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def run(*args):
    return subprocess.run([sys.executable, str(ROOT / "bench" / "table.py"), *map(str, args)],
                          capture_output=True, text=True, check=False)


def rows(out):
    table = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 6 and cells[0] not in ("Benchmark", "---") and not cells[0].startswith("-"):
            table[cells[0]] = cells[1:]
    return table


def test_backends_table_has_both_gort_rows_beside_go(tmp_path):
    thread = bench_file(tmp_path, "bench.json", "thread", 1.0)
    mn = bench_file(tmp_path, "bench-mn.json", "mn", 0.5)
    go = bench_file(tmp_path, "bench-go.json", "thread", 0.25)
    res = run("--backends", thread, mn, go)
    assert res.returncode == 0, res.stderr
    table = rows(res.stdout)
    for name in ("NaiveSpawn", "WorkerPool", "Serial", "ParallelFloor"):
        t, m, o, t_go, m_go = table[name]
        assert float(t_go) == 4.0 and float(m_go) == 2.0, table[name]
        assert float(t.replace(",", "")) > float(m.replace(",", "")) > float(o.replace(",", ""))
    assert "| WorkerPool / ParallelFloor |" in res.stdout


def test_backends_table_refuses_a_file_of_the_wrong_backend(tmp_path):
    thread = bench_file(tmp_path, "bench.json", "thread", 1.0)
    res = run("--backends", thread, thread, thread)
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0
    assert "gort_backend is 'thread', expected 'mn'" in res.stderr
