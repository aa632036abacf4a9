"""The benchmark tables as the HTML page and summary.md both draw them: the
seed's benchmarks, the naive/pool and pool/floor ratios and the micro
benchmarks, each with gort on the thread backend, gort on the M:N backend
and Go side by side. One model for both renderers, so that they cannot
disagree on a row, a ratio, a noisy figure or a side that did not run.

Reads report.json's `bench` section (gortreport.build): `gort` (bench.json,
GORT_BACKEND=thread, with make report's sweep), `gort_mn` (bench-mn.json),
`go`, and `sources` (the file each side came from; null: it did not run).
"""

from __future__ import annotations

import re
from typing import Any

# (report key, column label, short label for a ratio column)
SIDES = (("gort", "gort (threads)", "threads"), ("gort_mn", "gort (mn)", "mn"), ("go", "Go", "Go"))
GORT_SIDES = SIDES[:2]
RATIOS = (("naive_over_pool", "NaiveSpawn / WorkerPool"), ("pool_over_floor", "WorkerPool / ParallelFloor"))

_SWEEP = re.compile(r"^\w+?(Sweep|IO)(/|$)")
# What to run when a side did not.
_HOW = {"gort": "no bench.json in reports/out: make bench-quick or make bench writes it",
        "gort_mn": "no bench-mn.json in reports/out: make bench-quick or make bench writes it, with GORT_BACKEND=mn",
        "go": "no bench-go.json or bench-go-quick.json in reports/out: make bench-quick and make bench run Go "
              "when go is installed (make deps)"}

Bench = dict[str, Any]


def row(b: Bench, side: str, name: str) -> dict[str, Any]:
    """One side's figures for one benchmark ({} when it has none)."""
    return dict((b.get(side) or {}).get(name) or {})


def ran(b: Bench, side: str) -> bool:
    return (b.get("sources") or {}).get(side) is not None


def seed_names(b: Bench) -> list[str]:
    from .build import SEED
    return [n for n in SEED if any(n in (b.get(side) or {}) for side, _, _ in SIDES)]


def micro_names(b: Bench) -> list[str]:
    """gort's benchmarks outside the seed and the sweeps, in the files' order
    (the thread backend's first, then any only the M:N run has)."""
    from .build import SEED
    names: dict[str, None] = {}
    for side, _, _ in GORT_SIDES:
        names.update((n, None) for n in b.get(side) or {} if n.split("/")[0] not in SEED and not _SWEEP.match(n))
    return list(names)


def sweep_names(b: Bench) -> list[str]:
    return [n for n in b.get("gort") or {} if _SWEEP.match(n)]


def over_go(b: Bench, side: str, name: str) -> float | None:
    """A gort side's median over Go's, from the medians drawn beside it (as
    build's `over_go`)."""
    g, o = row(b, side, name).get("median_ns"), row(b, "go", name).get("median_ns")
    return float(g) / float(o) if g and o else None


def not_run(b: Bench) -> list[str]:
    """One sentence per side that did not run, saying how to run it."""
    return [f"{label} did not run ({_HOW[side]})." for side, label, _ in SIDES if not ran(b, side)]


def noisy(b: Bench, names: list[str]) -> list[str]:
    """Every figure among these benchmarks, on every side, whose coefficient
    of variation exceeds the report's threshold (cv_noisy)."""
    out = []
    for name in names:
        for side, label, _ in SIDES:
            cv = row(b, side, name).get("cv")
            if cv is not None and cv > b["cv_noisy"]:
                out.append(f"{label} {name} (cv {cv:.1%})")
    return out


def sources(b: Bench) -> str:
    """Where each column comes from: its file and, for gort, its backend
    and whether the file said so (context gort_backend) or its name did."""
    parts = []
    for side, label, _ in SIDES:
        src = (b.get("sources") or {}).get(side)
        if src is None:
            parts.append(f"{label}: not run")
            continue
        what = src["file"]
        if "backend" in src:
            said = "its context's gort_backend" if src.get("backend_from") == "context" else \
                "inferred from the file name: its context has no gort_backend"
            what += f", GORT_BACKEND={src['backend']} ({said})"
        elif (b.get("context") or {}).get("go", {}).get("go_version"):
            what += f", {b['context']['go']['go_version']}"
        parts.append(f"{label}: {what}")
    return "; ".join(parts)
