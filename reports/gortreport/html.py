"""index.html: one self-contained page (inline CSS and SVG, no network).

Sections, each with a stable id: summary, seed, sweeps, micro, compare,
leaks, races, verdicts, tests. Every finding is drawn once, in the section
of its detector, with the modes it was seen in; the summary links to it.
"""

from __future__ import annotations

import html
from typing import Any

from . import benchview, excerpt, junit, plots

SECTIONS = ["summary", "seed", "sweeps", "micro", "compare", "leaks", "races", "verdicts", "tests"]
_SECTION_OF = {"race": "races", "leakcheck-run": "leaks", "calibration": "leaks", "catalog-verdict": "verdicts",
               "step-failed": "summary"}

CSS = """
body{font:14px/1.45 system-ui,sans-serif;max-width:1150px;margin:1.5em auto;padding:0 1em;color:#222}
h1{margin:.2em 0}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}th{background:#f3f3f3}
.verdict{display:inline-block;padding:.15em .6em;border-radius:4px;color:#fff;font-weight:bold}
.pass{background:#1a7f37}.fail{background:#c62828}.incomplete{background:#b26a00}
.warn{background:#fff4e5;border-left:4px solid #b26a00;padding:.4em .8em}
.finding{border:1px solid #e0b4b4;border-left:5px solid #c62828;padding:.4em .8em;margin:.8em 0;background:#fffafa}
.mode{display:inline-block;background:#eee;border-radius:3px;padding:0 .4em;margin-right:.3em;font-size:12px}
pre{background:#f6f6f6;padding:6px 8px;overflow-x:auto;font-size:12px;max-height:28em}
.muted{color:#777}.bad{color:#c62828;font-weight:bold}.good{color:#1a7f37}
.plots{display:flex;flex-wrap:wrap;gap:8px}.plots>div{border:1px solid #ddd}
th.side{text-align:center}tr.sub th:first-child{text-align:right}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 1em}dt{font-weight:bold}dd{margin:0}
"""

e = html.escape


def _ns(v: float | None) -> str:
    if v is None:
        return "-"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if v >= scale:
            return f"{v / scale:,.2f} {unit}"
    return f"{v:,.1f} ns"


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.1%}"


def _finding(f: dict[str, Any]) -> str:
    where = (f" at <code>{e(f['file'])}" + (f":{f['line']}" if f["line"] else "") + "</code>") if f["file"] else ""
    modes = "".join(f"<span class='mode'>{e(m)}</span>" for m in f["modes"])
    return (f"<div class='finding' id='f-{e(f['id'])}'><b>{e(f['kind'])}</b>: {e(f['message'])}{where}"
            f"<br>seen in: {modes} <span class='muted'>id {e(f['id'])}</span>"
            f"<pre>{e(excerpt.keep_head(f['text'], 8000))}</pre></div>")


def _findings_in(report: dict[str, Any], section: str) -> list[dict[str, Any]]:
    def sec(kind: str) -> str:
        if kind.startswith("bench-"):
            return "compare"
        return _SECTION_OF.get(kind, "leaks" if kind.startswith("leak-") else "tests")
    return [f for f in report["findings"] if sec(f["kind"]) == section]


def _summary(report: dict[str, Any]) -> str:
    m, v = report["meta"], report["verdict"]
    load = m.get("loadavg_steps")
    load_txt = (f"{load['min']:.2f} – {load['max']:.2f} (1-min average at the end of each step)" if load
                else " / ".join(f"{x:.2f}" for x in m.get("loadavg_now", [])) + " (1, 5, 15 min, at the end)")
    rows = [("verdict", f"<span class='verdict {v}'>{e(v.upper())}</span>"),
            ("commit", f"<code>{e(m['commit'])}</code>"), ("gort", e(m["gort_version"])),
            ("date", e(report["generated_at"])),
            ("machine", e(f"{m['machine'].get('cpus')} CPUs, {m['machine'].get('cpu_model', '')}, "
                          f"kernel {m['machine'].get('kernel', '')}")),
            ("compiler", e(m["compiler"])), ("load average", e(load_txt)),
            ("repetitions", str(m.get("repetitions", 0)))]
    out = ["<dl>" + "".join(f"<dt>{k}</dt><dd>{val}</dd>" for k, val in rows) + "</dl>"]
    fs = report["findings"]
    if fs:
        out.append(f"<p class='bad'>{len(fs)} finding(s):</p><ul>")
        out += [f"<li><a href='#f-{e(f['id'])}'>{e(f['kind'])}: {e(f['message'])}</a> "
                f"<span class='muted'>({e(', '.join(f['modes']))})</span></li>" for f in fs]
        out.append("</ul>")
    elif v == "pass":
        out.append("<p class='good'>No findings: every detector agrees.</p>")
    else:
        out.append("<p class='bad'>Incomplete: no test run was recorded, so nothing was proven.</p>")
    inputs = report.get("inputs") or []
    if inputs:
        out.append("<p class='muted'>Read: " + ", ".join(f"{e(i['file'])} ({e(i['written'])})" for i in inputs)
                   + "</p>")
    steps = report.get("steps") or []
    if steps:
        out.append("<table><tr><th>step</th><th>seconds</th><th>status</th><th>load (1 min)</th></tr>")
        failed = {f["subject"] for f in _findings_in(report, "summary")}
        out += [f"<tr{' class=bad' if s['step'] in failed else ''}><td>{e(s['step'])}</td>"
                f"<td>{s['seconds']:.0f}</td><td>{s['status']}</td>"
                f"<td>{(s.get('loadavg') or ['-'])[0]}</td></tr>" for s in steps]
        out.append("</table>")
    out += [_finding(f) for f in _findings_in(report, "summary")]
    return "".join(out)


def _allocs(r: dict[str, Any]) -> str:
    return "-" if r.get("allocs_per_op") is None else f"{r['allocs_per_op']:,.1f}"


def _times(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}×"


def _warnings(b: dict[str, Any], names: list[str]) -> str:
    """The sides that did not run, and the noisy figures of every column."""
    out = [f"<p class='warn'>{e(n)}</p>" for n in benchview.not_run(b)]
    noisy = benchview.noisy(b, names)
    if noisy:
        out.append(f"<p class='warn'>Noisy: coefficient of variation above {b['cv_noisy']:.0%} for "
                   f"{e(', '.join(noisy))}. The machine was busy; treat these figures with care.</p>")
    return "".join(out)


def _head(cols: list[str]) -> str:
    """Two header rows: each side's label over its columns, then the columns,
    then one gort / Go ratio per backend."""
    sides = "".join(f"<th colspan='{len(cols)}' class='side'>{e(label)}</th>" for _, label, _ in benchview.SIDES)
    ratios = "".join(f"<th>{e(short)}</th>" for _, _, short in benchview.GORT_SIDES)
    return (f"<tr><th rowspan='2'>benchmark</th>{sides}<th colspan='{len(benchview.GORT_SIDES)}' "
            f"class='side'>gort / Go</th></tr><tr class='sub'>"
            + "".join(f"<th>{c}</th>" for _ in benchview.SIDES for c in cols) + ratios + "</tr>")


def _seed(b: dict[str, Any] | None) -> str:
    if not b:
        return "<p class='muted'>Benchmarks not run (make bench-quick or make bench).</p>"
    names = benchview.seed_names(b)
    out = [_warnings(b, names), "<table>", _head(["time/op", "cv", "allocs/op"])]
    for name in names:
        cells = []
        for side, _, _ in benchview.SIDES:
            r = benchview.row(b, side, name)
            cells += [_ns(r.get("median_ns")), _pct(r.get("cv")), _allocs(r)]
        cells += [_times(benchview.over_go(b, side, name)) for side, _, _ in benchview.GORT_SIDES]
        out.append(f"<tr><td>{e(name)}</td>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    out.append("</table><table><tr><th>ratio</th>"
               + "".join(f"<th>{e(label)}</th>" for _, label, _ in benchview.SIDES) + "</tr>")
    for key, label in benchview.RATIOS:
        cells = []
        for side, _, _ in benchview.SIDES:
            q = (b["ratios"].get(side) or {}).get(key)
            cells.append("-" if not q else f"{q['ratio']:.2f}× <span class='muted'>({q['low']:.2f} – {q['high']:.2f})</span>")
        out.append(f"<tr><td>{label}</td>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    out.append("</table><p class='muted'>Medians of the repetitions; the ratio's spread is its range over "
               f"the repetitions' extremes. {e(benchview.sources(b))}.</p>")
    return "".join(out)


def _sweeps(b: dict[str, Any] | None) -> str:
    svgs = plots.sweeps(b)
    if not svgs:
        return ("<p class='muted'>No sweep in this run (make report's sweeps step, or make bench, runs "
                "NaiveSpawnSweep, WorkerPoolSweep, ParallelFloorSweep and the IO variant).</p>")
    return ("<p class='muted'>Median time per op against numTasks (log-log), one plot per workLoad: naive "
            "spawn, the worker pool and the parallel floor (one thread per core, static shares: the "
            "physical limit); the IO variant's tasks sleep 1 ms instead of computing.</p>"
            "<div class='plots'>" + "".join(f"<div>{svg}</div>" for svg in svgs.values()) + "</div>")


def _bars(items: list[tuple[str, float]]) -> str:
    """Horizontal bars of gort/Go ratios on a log scale around 1×."""
    import math
    h, w, left = 18, 700, 220
    top = max(max(abs(math.log10(r)) for _, r in items), 0.5)
    mid = left + (w - left) / 2
    scale = (w - left) / 2 / top
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h * len(items) + 24}' role='img'>",
             f"<line x1='{mid}' y1='0' x2='{mid}' y2='{h * len(items)}' stroke='#333'/>"]
    for i, (name, r) in enumerate(items):
        x = math.log10(r) * scale
        color = "#c62828" if r > 1 else "#1a7f37"
        parts.append(f"<text x='{left - 6}' y='{i * h + 13}' text-anchor='end' font-size='12'>{e(name)}</text>"
                     f"<rect x='{min(mid, mid + x):.1f}' y='{i * h + 3}' width='{abs(x):.1f}' height='{h - 6}' "
                     f"fill='{color}'/><text x='{mid + x + (4 if x >= 0 else -4):.1f}' y='{i * h + 13}' "
                     f"font-size='11' text-anchor='{'start' if x >= 0 else 'end'}'>{r:.2f}×</text>")
    parts.append(f"<text x='{mid}' y='{h * len(items) + 16}' text-anchor='middle' font-size='11'>"
                 "gort / Go (log scale; right of the line: gort slower)</text></svg>")
    return "".join(parts)


MICRO_HOW = ("<code>make bench</code> (gort, on both backends, and Go, every benchmark; tens of minutes), then "
             "<code>make report-generate</code> to redraw this report from reports/out without running the rest "
             "again")


def _micro(b: dict[str, Any] | None) -> str:
    sets = {((b or {}).get("context", {}).get(side) or {}).get("gort_set", "") for side, _, _ in benchview.GORT_SIDES}
    if not b or not b["gort"] and not b.get("gort_mn") or "full" not in sets:
        what = ("make report runs <code>make bench-quick</code>: the seed's benchmarks and a few micro "
                "benchmarks, gort only" if "quick" in sets else "no gort benchmark file in reports/out")
        head = (f"<p class='warn'><b>The micro set did not run</b> ({what}), so there is no gort vs Go comparison "
                f"here. To fill this section: {MICRO_HOW}.</p>")
    else:
        head = ""
    names = benchview.micro_names(b) if b else []
    if not b or not names:
        return head
    out = [head, _warnings(b, names), "<table>", _head(["time/op", "cv"])]
    items = []
    for n in names:
        cells = []
        for side, _, _ in benchview.SIDES:
            r = benchview.row(b, side, n)
            cells += [_ns(r.get("median_ns")), _pct(r.get("cv"))]
        for side, _, short in benchview.GORT_SIDES:
            ratio = benchview.over_go(b, side, n)
            cells.append(_times(ratio))
            if ratio:
                items.append((f"{n} ({short})", ratio))
        out.append(f"<tr><td>{e(n)}</td>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    out.append("</table>")
    if head:
        out.append("<p class='muted'>Above: bench-quick's micro benchmarks, gort alone.</p>")
    elif items:
        out.append(_bars(items))
    else:
        out.append("<p class='warn'>The micro set ran, but without Go figures (bench-go.json missing: "
                   "<code>make bench</code> needs go; <code>make deps</code> installs it).</p>")
    return "".join(out)


def _compare(report: dict[str, Any]) -> str:
    c = report.get("compare")
    if not c:
        return "<p class='muted'>No comparison in this run (make bench-compare BASE=&lt;ref&gt;).</p>"
    out = [f"<p>base <code>{e(c['base']['ref'])}</code> ({e(c['base']['commit'][:12])}) vs current "
           f"<code>{e(c['current']['commit'][:12])}</code>, {c['rounds']} interleaved rounds</p>",
           "<table><tr><th>benchmark</th><th>base (real)</th><th>current</th><th>change</th><th>95% CI</th>"
           "<th>p (Holm)</th><th>verdict</th></tr>"]
    for b in c["benchmarks"]:
        m = b["metrics"]["real"]
        cls = " class='bad'" if b["verdict"] == "regressed" else (" class='good'" if b["verdict"] == "improved" else "")
        ci = "-" if not m["ci"] else f"{m['ci'][0]:+.1%} … {m['ci'][1]:+.1%}"
        change = "-" if m["change"] is None else f"{m['change']:+.1%}"
        p = "-" if m["p_holm"] is None else f"{m['p_holm']:.3g}"
        out.append(f"<tr{cls}><td>{e(b['name'])}</td><td>{_ns(m['base_median_ns'])}</td>"
                   f"<td>{_ns(m['current_median_ns'])}</td><td>{change}</td><td>{ci}</td><td>{p}</td>"
                   f"<td>{e(b['verdict'])}</td></tr>")
    out.append("</table>")
    out += [_finding(f) for f in _findings_in(report, "compare")]
    return "".join(out)


def _leaks(report: dict[str, Any]) -> str:
    lc = report.get("leakcheck")
    out = []
    if lc:
        table: dict[tuple[str, str], dict[str, int]] = {}
        for r in lc["runs"]:
            for layer in r.get("layers", []) or ["(none at exit)"]:
                t = table.setdefault((layer, r["mode"]), {"runs": 0, "tests": 0, "findings": 0, "failed": 0})
                t["runs"] += 1
                t["tests"] += r.get("tests_checked", 0)
                t["failed"] += r["verdict"] not in ("clean", "leaks")
        for f in lc["findings"]:
            t = table.setdefault((f["kind"], f["mode"]), {"runs": 0, "tests": 0, "findings": 0, "failed": 0})
            t["findings"] += 1
        out.append("<table><tr><th>layer</th><th>mode</th><th>runs</th><th>tests checked</th><th>failed runs</th>"
                   "<th>findings</th></tr>")
        for (layer, mode), t in sorted(table.items()):
            cls = " class='bad'" if t["findings"] or t["failed"] else ""
            out.append(f"<tr{cls}><td>{e(layer)}</td><td>{e(mode)}</td><td>{t['runs']}</td><td>{t['tests']}</td>"
                       f"<td>{t['failed']}</td><td>{t['findings']}</td></tr>")
        out.append("</table>")
        # As goleak, leakcheck does not judge what a failed run left at exit
        # (the heap is only checked there): say so, or a leak there is unseen.
        unjudged: dict[str, list[str]] = {}
        for r in lc["runs"]:
            if not r.get("checked", True):
                unjudged.setdefault(r["binary"].rsplit("/", 1)[-1], []).append(r["mode"])
        if unjudged:
            out.append("<p class='warn'>Not judged at exit, because the run failed (so the heap of these was "
                       "not checked; each test's own check did run): "
                       + ", ".join(f"{e(b)} ({e(', '.join(sorted(set(ms))))})" for b, ms in sorted(unjudged.items()))
                       + "</p>")
    else:
        out.append("<p class='muted'>leakcheck did not run (make leakcheck).</p>")
    cal = report.get("calibration")
    if cal:
        s = cal["summary"]
        out.append(f"<p>Calibration: {s.get('found', '?')} of {s.get('leaks', '?')} planted leaks found, "
                   f"{s.get('false_alarms', 0)} false alarm(s) in {s.get('twin_runs', '?')} fixed-twin runs: "
                   f"<b>{'pass' if s['pass'] else 'FAIL'}</b></p>")
    found = _findings_in(report, "leaks")
    out += [_finding(f) for f in found]
    if lc and not found:
        out.append("<p class='good'>No leaks.</p>")
    return "".join(out)


def _races(report: dict[str, Any]) -> str:
    found = _findings_in(report, "races")
    src = ("gort-race (race.json)" if report.get("race") else
           "ThreadSanitizer reports in the test logs" if "thread" in report["tests"] else "")
    if not src:
        return "<p class='muted'>No race sweep in this run (make race).</p>"
    head = f"<p>Source: {e(src)}. {len(found)} distinct race(s).</p>"
    return head + "".join(_finding(f) for f in found)


def _verdicts(report: dict[str, Any]) -> str:
    v = report.get("verdicts")
    if not v:
        return "<p class='muted'>The anti-pattern catalog was not graded in this run (make antipatterns-check).</p>"
    out = [f"<p>recall {_pct(v['recall'])}, {v['false_alarms']} false alarm(s), {v['runs']} run(s) each: "
           f"<b>{'pass' if v['pass'] else 'FAIL'}</b></p>",
           "<table><tr><th>entry</th><th>mistake</th><th>detector</th><th>bad: flagged</th><th>fixed: flagged</th>"
           "<th>recall</th></tr>"]
    for en in v["entries"]:
        bad, fixed = en["bad"], en["fixed"]
        cls = "" if (en["recall"] in (None, 1) and not en["false_alarms"]) else " class='bad'"
        out.append(f"<tr{cls}><td>{e(en['name'])}</td><td>{e(en['mistake'])}</td><td>{e(en['detector'] or 'demonstration')}</td>"
                   f"<td>{bad['flagged']}/{bad['runs']}</td><td>{fixed['flagged']}/{fixed['runs']}</td>"
                   f"<td>{_pct(en['recall'])}</td></tr>")
    out.append("</table>")
    out += [_finding(f) for f in _findings_in(report, "verdicts")]
    return "".join(out)


def _tests(report: dict[str, Any]) -> str:
    if not report["tests"]:
        return "<p class='bad'>No test run recorded.</p>"
    out = ["<table><tr><th>variant</th><th>binaries</th><th>passed</th><th>failed</th><th>not run</th>"
           "<th>skipped</th><th>seconds</th></tr>"]
    named = []
    for v, t in report["tests"].items():
        out.append(f"<tr><td>{e(v)}</td><td>{t['binaries']}</td><td>{t['passed']}</td><td>{t['failed']}</td>"
                   f"<td>{t['not_run']}</td><td>{t['skipped']}</td><td>{t['seconds']:.1f}</td></tr>")
        for r in t["records"]:
            for c in r["tests"]:
                if c["status"] != "passed":
                    # As JUnit says it: the detector's line, or what stopped the binary.
                    why = (excerpt.headline(c.get("message") or "failed") if c["status"] == "failed" else
                           junit.died(r).removeprefix("not run: ") if c["status"] == "not_run" else "")
                    named.append(f"<li>[{e(v)}] {e(r['binary'].rsplit('/', 1)[-1])}: {e(c['name'])} — "
                                 f"<b>{e(c['status'].replace('_', ' '))}</b>"
                                 + (f": <code>{e(why)}</code>" if why else "") + "</li>")
    out.append("</table>")
    if named:
        out.append("<p>Tests that did not pass:</p><ul>" + "".join(named) + "</ul>")
    out += [_finding(f) for f in _findings_in(report, "tests")]
    return "".join(out)


def render(report: dict[str, Any]) -> str:
    b = report.get("bench")
    body = {
        "summary": _summary(report), "seed": _seed(b), "sweeps": _sweeps(b), "micro": _micro(b),
        "compare": _compare(report), "leaks": _leaks(report), "races": _races(report),
        "verdicts": _verdicts(report), "tests": _tests(report),
    }
    titles = {"summary": "Summary", "seed": "Seed benchmark: naive spawn vs worker pool", "sweeps": "Sweeps",
              "micro": "Micro benchmarks: gort (threads, mn) vs Go", "compare": "Comparison with the base",
              "leaks": "Leaks", "races": "Races", "verdicts": "Anti-pattern verdicts", "tests": "Tests"}
    nav = " · ".join(f"<a href='#{s}'>{titles[s].split(':')[0]}</a>" for s in SECTIONS)
    parts = ["<!doctype html><html lang='en'><head><meta charset='utf-8'>",
             f"<title>gort report: {e(report['verdict'].upper())}</title><style>{CSS}</style></head><body>",
             f"<h1>gort report <span class='verdict {report['verdict']}'>{e(report['verdict'].upper())}</span></h1>",
             f"<p>{nav}</p>"]
    parts += [f"<section id='{s}'><h2>{titles[s]}</h2>{body[s]}</section>" for s in SECTIONS]
    parts.append("</body></html>\n")
    return "".join(parts)
