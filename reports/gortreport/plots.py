"""SVG plots drawn by gnuplot (inlined into the HTML): the benchmark sweeps,
time/op against numTasks for naive spawn, the worker pool and the parallel
floor (the physical limit, dashed) at every workLoad, and the IO variant."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

_ARG = re.compile(r"^(\w+?)(Sweep|IO)(?:/(.*))?$")


def _series(rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, list[tuple[float, float]]]]:
    """plot title -> series label -> [(numTasks, ms/op)]."""
    plots: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for name, row in rows.items():
        m = _ARG.match(name)
        if not m or row.get("median_ns") is None:
            continue
        family, variant, args = m.group(1), m.group(2), m.group(3) or ""
        kv = dict(a.split(":", 1) for a in args.split("/") if ":" in a)
        if "tasks" not in kv:
            continue
        tasks = float(kv["tasks"])
        title = "IO variant" if variant == "IO" else f"workLoad {kv.get('load', '?')}"
        plots.setdefault(title, {}).setdefault(family, []).append((tasks, row["median_ns"] / 1e6))
    return plots


# family -> (order, gnuplot style): the same colour for a family in every plot.
STYLES = {"NaiveSpawn": (0, "lc rgb '#9400d3' lw 2 pt 1"), "WorkerPool": (1, "lc rgb '#009e73' lw 2 pt 2"),
          "ParallelFloor": (2, "lc rgb '#555555' lw 2 dt 2 pt 7 ps 0.6")}


def _gnuplot(title: str, series: dict[str, list[tuple[float, float]]]) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        plots = []
        ordered = sorted(series.items(), key=lambda kv: (STYLES.get(kv[0], (9, ""))[0], kv[0]))
        for i, (label, pts) in enumerate(ordered):
            dat = Path(tmp) / f"{i}.dat"
            dat.write_text("".join(f"{x} {y}\n" for x, y in sorted(pts)))
            style = STYLES.get(label, (9, "lw 2"))[1]
            name = "ParallelFloor (limit)" if label == "ParallelFloor" else label
            plots.append(f"'{dat}' using 1:2 with linespoints {style} title '{name}'")
        script = (f"set terminal svg size 520,320 fixed font 'sans,10'\nset output\n"
                  f"set title '{title}'\nset logscale xy\nset xlabel 'numTasks'\nset ylabel 'ms/op (median)'\n"
                  f"set key top left\nset grid\nplot {', '.join(plots)}\n")
        r = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True, timeout=60)
    svg = r.stdout
    start = svg.find("<svg")
    return svg[start:] if r.returncode == 0 and start >= 0 else ""


def sweeps(bench: dict[str, Any] | None) -> dict[str, str]:
    """title -> inline SVG ({} without data or gnuplot)."""
    if not bench or not shutil.which("gnuplot"):
        return {}
    out = {}
    def order(title: str) -> tuple[int, float]:  # workLoad ascending, the IO variant last
        load = title.split()[-1]
        return (1, 0.0) if title.startswith("IO") else (0, float(load) if load.isdigit() else 0.0)

    series_by_title = _series(bench["gort"])
    for title in sorted(series_by_title, key=order):
        series = series_by_title[title]
        svg = _gnuplot(title, series)
        if svg:
            out[title] = svg
    return out
