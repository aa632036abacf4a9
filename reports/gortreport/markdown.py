"""summary.md: the verdict, the counts and each finding once, with its modes."""

from __future__ import annotations

from typing import Any


def _ns(v: float | None) -> str:
    return "-" if v is None else f"{v:,.0f}"


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
    if b:
        lines += ["| benchmark | gort | Go | gort cv |", "|---|---:|---:|---:|"]
        for name, row in b["gort"].items():
            go = b["go"].get(name, {})
            cv = row.get("cv")
            lines.append(f"| {name} | {_ns(row['median_ns'])} | {_ns(go.get('median_ns'))} | "
                         f"{'-' if cv is None else f'{cv:.1%}'} |")
    else:
        lines.append("not run")
    lines += ["", f"## Findings ({len(report['findings'])})", ""]
    for f in report["findings"]:
        where = f" — `{f['file']}" + (f":{f['line']}`" if f["line"] else "`") if f["file"] else ""
        lines.append(f"- **{f['kind']}** {f['message']}{where} (seen in: {', '.join(f['modes'])})")
    if not report["findings"]:
        lines.append("none")
    return "\n".join(lines) + "\n"
