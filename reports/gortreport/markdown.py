"""summary.md: the verdict, the counts and each finding once, with its modes."""

from __future__ import annotations

from typing import Any

from . import benchview


def _ns(v: float | None) -> str:
    return "-" if v is None else f"{v:,.0f}"


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.1%}"


def _times(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}×"


def _table(b: dict[str, Any], names: list[str]) -> list[str]:
    """One row per benchmark: each side's median and cv, then gort / Go
    for each backend."""
    sides = benchview.SIDES
    head = ("| benchmark | " + " | ".join(f"{label} | {label} cv" for _, label, _ in sides) + " | "
            + " | ".join(f"{short} / Go" for _, _, short in benchview.GORT_SIDES) + " |")
    rule = "|---|" + "---:|" * (2 * len(sides) + len(benchview.GORT_SIDES))
    rows = []
    for name in names:
        cells = []
        for side, _, _ in sides:
            r = benchview.row(b, side, name)
            cells += [_ns(r.get("median_ns")), _pct(r.get("cv"))]
        cells += [_times(benchview.over_go(b, side, name)) for side, _, _ in benchview.GORT_SIDES]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return [head, rule, *rows]


def _bench(b: dict[str, Any]) -> list[str]:
    """The seed table, the ratios and the micro benchmarks (gort on each
    backend beside Go), then make report's sweep (gort, thread backend)."""
    seed, micro = benchview.seed_names(b), benchview.micro_names(b)
    lines = [f"Sources: {benchview.sources(b)}.", ""]
    notes = benchview.not_run(b)
    noisy = benchview.noisy(b, seed + micro)
    if noisy:
        notes.append(f"Noisy: coefficient of variation above {b['cv_noisy']:.0%} for {', '.join(noisy)}.")
    lines += [line for n in notes for line in (f"> {n}", "")]
    lines += ["### Seed: naive spawn vs worker pool", "", *_table(b, seed), "",
              "| ratio | " + " | ".join(label for _, label, _ in benchview.SIDES) + " |",
              "|---|" + "---:|" * len(benchview.SIDES)]
    for key, label in benchview.RATIOS:
        cells = []
        for side, _, _ in benchview.SIDES:
            r = (b["ratios"].get(side) or {}).get(key)
            cells.append("-" if not r else f"{r['ratio']:.2f}× ({r['low']:.2f} – {r['high']:.2f})")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "Ratios: medians, with their range over the repetitions' extremes."]
    if micro:
        lines += ["", "### Micro benchmarks", "", *_table(b, micro)]
    sweeps = benchview.sweep_names(b)
    if sweeps:
        lines += ["", "### Sweeps (gort, thread backend)", "", "| benchmark | gort (threads) | cv |", "|---|---:|---:|"]
        lines += [f"| {n} | {_ns(b['gort'][n]['median_ns'])} | {_pct(b['gort'][n].get('cv'))} |" for n in sweeps]
    return lines


def render(report: dict[str, Any]) -> str:
    m = report["meta"]
    lines = [f"# gort report: {report['verdict'].upper()}", "",
             f"commit `{m['commit']}` · gort {m['gort_version']} · {report['generated_at']} · "
             f"{m['machine']['cpus']} CPUs · {m['compiler']}", "", "## Tests", ""]
    if report["tests"]:
        lines += ["| variant | binaries | passed | failed | not run | skipped |", "|---|---:|---:|---:|---:|---:|"]
        for v, t in report["tests"].items():
            lines.append(f"| {v} | {t['binaries']} | {t['passed']} | {t['failed']} | {t['not_run']} | "
                         f"{t['skipped']} |")
    else:
        lines.append("not run")
    b = report.get("bench")
    lines += ["", "## Benchmarks (medians, ns/op)", ""]
    lines += _bench(b) if b else ["not run"]
    lines += ["", f"## Findings ({len(report['findings'])})", ""]
    for f in report["findings"]:
        where = f" — `{f['file']}" + (f":{f['line']}`" if f["line"] else "`") if f["file"] else ""
        lines.append(f"- **{f['kind']}** {f['message']}{where} (seen in: {', '.join(f['modes'])})")
    if not report["findings"]:
        lines.append("none")
    return "\n".join(lines) + "\n"
