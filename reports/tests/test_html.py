"""The HTML report in a real browser (Debian's headless Chromium): every
section present, no broken image, not blank."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import copy_fixture, run_module
from gortreport.html import SECTIONS

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--disable-background-networking", "--disable-component-update", "--disable-sync",
                           "--no-first-run", f"--user-data-dir={tmp / 'profile'}", *args],
                          capture_output=True, text=True, timeout=180)


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium not installed (make deps)")
@pytest.mark.parametrize("name", ["clean", "planted"])
def test_report_renders(tmp: Path, name: str) -> None:
    out = copy_fixture(name, tmp)
    assert run_module("gortreport.generate", str(out)).returncode in (0, 1)
    page = out / "index.html"
    assert "http://" not in page.read_text().replace("http://www.w3.org/", "")
    # A script added to a copy reports broken images and the text length
    # into the DOM chromium dumps.
    probe = page.read_text().replace("</body>", (
        "<script>document.body.setAttribute('data-broken', [...document.images]"
        ".filter(i => !i.complete || i.naturalWidth === 0).length);"
        "document.body.setAttribute('data-text', document.body.innerText.trim().length);"
        "document.body.setAttribute('data-svg', document.querySelectorAll('svg').length);"
        "document.body.setAttribute('data-flat-svg', [...document.querySelectorAll('svg')]"
        ".filter(s => { const r = s.getBoundingClientRect(); return r.width < 50 || r.height < 50; }).length);"
        "</script></body>"))
    probed = out / "probe.html"
    probed.write_text(probe)
    r = _chromium(tmp, "--dump-dom", probed.as_uri())
    dom = r.stdout
    assert dom, r.stderr
    for s in SECTIONS:
        assert re.search(rf"<section id=\"{s}\"", dom), s
    assert 'data-broken="0"' in dom
    assert 'data-flat-svg="0"' in dom  # every plot has a size
    assert int(re.search(r'data-svg="(\d+)"', dom).group(1)) >= 5  # type: ignore[union-attr]
    text = int(re.search(r'data-text="(\d+)"', dom).group(1))  # type: ignore[union-attr]
    assert text > 500
    shot = tmp / "shot.png"
    _chromium(tmp, f"--screenshot={shot}", "--window-size=1200,900", page.as_uri())
    assert shot.exists() and shot.stat().st_size > 10000


def test_micro_ratio_bars(tmp: Path) -> None:
    """One bar per backend and benchmark: gort (threads) / Go and gort (mn) / Go."""
    from gortreport import build, html
    out = copy_fixture("clean", tmp)
    report = build.build(out)
    bench = report["bench"]
    micro = [n for n in bench["gort"] if n.startswith(("Chan", "Mutex", "Create"))]
    assert micro and set(micro) <= set(bench["gort_mn"])
    for n in micro:
        bench["go"][n] = dict(bench["gort"][n], median_ns=bench["gort"][n]["median_ns"] * 0.8)
        bench["gort_mn"][n]["median_ns"] = bench["gort"][n]["median_ns"] * 0.4
    for side in ("gort", "gort_mn"):
        bench["context"][side]["gort_set"] = "full"  # as make bench writes it
    page = html.render(report)
    section = page[page.index("<section id='micro'>"):page.index("<section id='compare'>")]
    assert section.count("<rect") == 2 * len(micro)
    assert section.count("1.25×") == 2 * len(micro)  # threads / Go: in the table and on the bar
    assert section.count("0.50×") == 2 * len(micro)  # mn / Go
    assert f"{micro[0]} (threads)" in section and f"{micro[0]} (mn)" in section


def _section(page: str, sid: str) -> str:
    start = page.index(f"<section id='{sid}'>")
    return page[start:page.index("</section>", start)]


def test_micro_says_plainly_when_the_micro_set_did_not_run(tmp: Path) -> None:
    """make report runs bench-quick: the section says so and names the
    commands that fill it, with no chart."""
    out = copy_fixture("clean", tmp)
    run_module("gortreport.generate", str(out))
    section = _section((out / "index.html").read_text(), "micro")
    assert "The micro set did not run" in section and "make bench-quick" in section
    assert "<code>make bench</code>" in section and "<code>make report-generate</code>" in section
    assert "<svg" not in section and "<rect" not in section
    mk = (Path(__file__).resolve().parents[1] / "reports.mk").read_text()
    assert re.search(r"^report-generate:", mk, re.M)  # the command it names exists


def test_sweeps_draw_naive_pool_and_floor_at_each_workload(tmp: Path) -> None:
    from gortreport import build, plots
    report = build.build(copy_fixture("clean", tmp))
    svgs = plots.sweeps(report["bench"])
    loads = [t for t in svgs if t.startswith("workLoad")]
    assert loads == ["workLoad 0", "workLoad 100", "workLoad 1000", "workLoad 10000"]
    assert list(svgs)[-1] == "IO variant"
    for title in loads:
        for family in ("NaiveSpawn", "WorkerPool", "ParallelFloor (limit)"):
            assert f"<title>{family}</title>" in svgs[title], (title, family)
    assert "ParallelFloor" not in svgs["IO variant"] and "<title>WorkerPool</title>" in svgs["IO variant"]
