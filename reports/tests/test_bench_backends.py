"""Benchmarks per backend: make bench-quick and make bench write bench.json
(GORT_BACKEND=thread) and bench-mn.json (mn); the seed, ratio and micro
tables of index.html and summary.md show gort (threads), gort (mn) and Go
side by side, with gort / Go per backend and cv per column. The clean
fixture is one real bench-quick run (both backends and Go's seed pair);
without bench-mn.json the report still renders and says mn did not run.

Golden files: reports/tests/fixtures/golden/ (GOLDEN_REGEN=1 rewrites them
from the current renderers; read the diff before committing it)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from conftest import FIXTURES, copy_fixture, load, run_module

GOLDEN = FIXTURES / "golden"


def _section(page: str, sid: str) -> str:
    start = page.index(f"<section id='{sid}'>")
    return page[start:page.index("</section>", start) + len("</section>")]


def _bench_md(summary: str) -> str:
    return summary[summary.index("## Benchmarks"):summary.index("## Findings")]


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("GOLDEN_REGEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"{name} differs from its golden file (GOLDEN_REGEN=1 rewrites it)"


def _threads_only(out: Path) -> None:
    """As make report wrote reports/out before bench-quick had an M:N run."""
    (out / "bench-mn.json").unlink()
    steps = [json.loads(line) for line in (out / "steps.jsonl").read_text().splitlines()]
    for s in steps:
        if s["step"] == "bench-quick":
            s["outputs"] = ["bench.json"]
    (out / "steps.jsonl").write_text("".join(json.dumps(s) + "\n" for s in steps))


def _generate(out: Path) -> tuple[dict[str, Any], str, str]:
    r = run_module("gortreport.generate", str(out))
    assert r.returncode == 0, r.stderr
    return load(out / "report.json"), (out / "index.html").read_text(), (out / "summary.md").read_text()


def _cells(row_html: str) -> list[str]:
    return re.findall(r"<td>(.*?)</td>", row_html)


def test_both_backends_beside_go(tmp: Path) -> None:
    out = copy_fixture("clean", tmp)
    report, page, summary = _generate(out)
    b = report["bench"]
    assert b["sources"] == {
        "gort": {"file": "bench.json", "backend": "thread", "backend_from": "context"},
        "gort_mn": {"file": "bench-mn.json", "backend": "mn", "backend_from": "context"},
        "go": {"file": "bench-go-quick.json"}}
    assert b["context"]["gort"]["gort_backend"] == "thread" and b["context"]["gort_mn"]["gort_backend"] == "mn"
    for side in ("gort", "gort_mn"):
        row, go = b[side]["NaiveSpawn"], b["go"]["NaiveSpawn"]
        assert row["over_go"] == pytest.approx(row["median_ns"] / go["median_ns"])
        assert b["ratios"][side]["naive_over_pool"]["ratio"] == pytest.approx(
            row["median_ns"] / b[side]["WorkerPool"]["median_ns"])
    assert b["gort_mn"]["NaiveSpawn"]["median_ns"] != b["gort"]["NaiveSpawn"]["median_ns"]

    seed = _section(page, "seed")
    for label in ("gort (threads)", "gort (mn)", "Go", "gort / Go"):
        assert f"class='side'>{label}</th>" in seed
    [naive] = [r for r in seed.split("<tr>") if r.startswith("<td>NaiveSpawn</td>")]
    # name, then time/op, cv, allocs/op for each side, then threads / Go and mn / Go
    cells = _cells(naive)
    assert len(cells) == 1 + 3 * 3 + 2
    assert cells[-2:] == [f"{b['gort']['NaiveSpawn']['over_go']:.2f}×", f"{b['gort_mn']['NaiveSpawn']['over_go']:.2f}×"]
    assert cells[5] == f"{b['gort_mn']['NaiveSpawn']['cv']:.1%}"
    # The noise warning names every column's noisy figures.
    warn = re.search(r"<p class='warn'>Noisy:.*?</p>", seed)
    assert warn and all(f"{label} NaiveSpawn (cv" in warn.group(0) for label in ("gort (threads)", "gort (mn)", "Go"))
    assert "did not run" not in seed
    read = re.search(r"Read: .*?</p>", page)
    assert read and "bench.json (" in read.group(0) and "bench-mn.json (" in read.group(0)
    assert [i["file"] for i in report["inputs"]].count("bench-mn.json") == 1

    _golden("both.seed.html", seed)
    _golden("both.micro.html", _section(page, "micro"))
    _golden("both.summary-bench.md", _bench_md(summary))


def test_threads_only_still_renders_and_says_mn_did_not_run(tmp: Path) -> None:
    out = copy_fixture("clean", tmp)
    _threads_only(out)
    report, page, summary = _generate(out)
    assert report["verdict"] == "pass"
    b = report["bench"]
    assert b["gort_mn"] == {} and b["sources"]["gort_mn"] is None and b["ratios"]["gort_mn"]["naive_over_pool"] is None
    seed = _section(page, "seed")
    assert "gort (mn) did not run (no bench-mn.json in reports/out" in seed
    assert "gort (mn) did not run" in _bench_md(summary)
    [naive] = [r for r in seed.split("<tr>") if r.startswith("<td>NaiveSpawn</td>")]
    cells = _cells(naive)
    assert cells[4:7] == ["-", "-", "-"] and cells[-1] == "-" and cells[-2] != "-"
    read = re.search(r"Read: .*?</p>", page)
    assert read and "bench.json (" in read.group(0) and "bench-mn.json" not in read.group(0)

    _golden("threads-only.seed.html", seed)
    _golden("threads-only.micro.html", _section(page, "micro"))
    _golden("threads-only.summary-bench.md", _bench_md(summary))


def test_backend_inferred_from_the_file_name_says_so(tmp: Path) -> None:
    """A file written before the bench binary named its backend."""
    out = copy_fixture("clean", tmp)
    doc = load(out / "bench-mn.json")
    del doc["context"]["gort_backend"]
    (out / "bench-mn.json").write_text(json.dumps(doc))
    report, page, _ = _generate(out)
    assert report["bench"]["sources"]["gort_mn"]["backend_from"] == "file name"
    assert "GORT_BACKEND=mn (inferred from the file name: its context has no gort_backend)" in _section(page, "seed")


def test_mislabelled_backend_is_bad_input(tmp: Path) -> None:
    """bench-mn.json whose context says it ran on the thread backend: no
    figure is drawn under a backend it did not run on."""
    out = copy_fixture("clean", tmp)
    (out / "steps.jsonl").unlink()
    doc = load(out / "bench-mn.json")
    doc["context"]["gort_backend"] = "thread"
    (out / "bench-mn.json").write_text(json.dumps(doc))
    r = run_module("gortreport.generate", str(out))
    assert r.returncode == 2
    [line] = r.stderr.strip().splitlines()
    assert "bench-mn.json: gort_backend is 'thread', expected 'mn'" in line


def test_bench_quick_step_must_write_bench_mn(tmp: Path) -> None:
    """make report's bench-quick step names bench-mn.json among its
    outputs: a run that left it missing is that step's failure."""
    out = copy_fixture("clean", tmp)
    (out / "bench-mn.json").unlink()
    r = run_module("gortreport.generate", str(out))
    assert r.returncode == 1, r.stderr
    [f] = load(out / "report.json")["findings"]
    assert f["kind"] == "step-failed" and f["subject"] == "bench-quick" and "bench-mn.json: not written" in f["text"]


def test_report_schema_reads_bench_sections_before_and_after_backends(tmp: Path) -> None:
    """Revision 2 of the bench section only adds: a report.json written
    before it (no gort_mn, sources or over_go) is still a valid gort.report/2
    file, and the new fields are checked."""
    from gortreport import jsonio
    from gortreport.errors import InputError
    out = copy_fixture("clean", tmp)
    report, _, _ = _generate(out)
    jsonio.validate(report, "gort.report/2")
    old = json.loads(json.dumps(report))
    b = old["bench"]
    for key in ("gort_mn", "sources"):
        del b[key]
    del b["context"]["gort_mn"], b["ratios"]["gort_mn"]
    for row in b["gort"].values():
        del row["over_go"]
    jsonio.validate(old, "gort.report/2")
    report["bench"]["gort_mn"]["NaiveSpawn"]["over_go"] = "fast"
    with pytest.raises(InputError, match="over_go"):
        jsonio.validate(report, "gort.report/2")
