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
    from gortreport import build, html
    out = copy_fixture("clean", tmp)
    report = build.build(out)
    bench = report["bench"]
    micro = [n for n in bench["gort"] if n.startswith(("Chan", "Mutex", "Create"))]
    assert micro
    for n in micro:
        bench["go"][n] = dict(bench["gort"][n], median_ns=bench["gort"][n]["median_ns"] * 0.8)
    page = html.render(report)
    section = page[page.index("<section id='micro'>"):page.index("<section id='compare'>")]
    assert section.count("<rect") == len(micro)
    assert "1.25×" in section
