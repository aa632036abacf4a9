#!/usr/bin/env python3
"""reports/generate.py - turn the harness's JSON into the report.

Reads only schema-versioned harness files from reports/out/ (each optional):
  tests-<variant>.jsonl    gort.tests/1 records, one per test binary
                           (variant: default, thread, address, ...)
  bench.json, bench-go.json  Google Benchmark JSON (gort, and Go converted)
  leakcheck.json           gort.leakcheck/1
  leakcheck-calibration.json
  valgrind.json            gort.valgrind/1
Writes reports/out/: report.json (gort.report/1), summary.md, index.html (+ SVG
plots drawn by gnuplot when present), junit.xml, findings.sarif.
"""
import datetime
import glob
import html
import json
import os
import platform
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

OUT = sys.argv[1] if len(sys.argv) > 1 else "reports/out"
SCHEMA = "gort.report/1"


def load_json(name):
    path = os.path.join(OUT, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def newest(*names):
    """The most recently written of several harness files (make bench and
    make bench-quick write Go's figures to different files)."""
    present = [n for n in names if os.path.exists(os.path.join(OUT, n))]
    return max(present, key=lambda n: os.path.getmtime(os.path.join(OUT, n))) if present else names[0]


def load_tests():
    variants = {}
    for path in sorted(glob.glob(os.path.join(OUT, "tests-*.jsonl"))):
        variant = os.path.basename(path)[len("tests-"):-len(".jsonl")]
        records = []
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    records.append(json.loads(line))
        variants[variant] = records
    return variants


def classify_failure(variant, record):
    tail = record.get("log_tail", "")
    if "ThreadSanitizer" in tail:
        return "race"
    if "AddressSanitizer" in tail or "LeakSanitizer" in tail or "runtime error:" in tail:
        return "memory-error"
    if record.get("status") == "timeout":
        return "timeout"
    return "test-failure"


def test_section(variants, findings):
    out = {}
    for variant, records in variants.items():
        counts = {"passed": 0, "failed": 0, "skipped": 0, "crashed": 0}
        for r in records:
            for t in r.get("tests", []):
                counts[t["status"]] = counts.get(t["status"], 0) + 1
            failed_tests = [t for t in r.get("tests", []) if t["status"] in ("failed", "crashed")]
            if r["status"] != "passed":
                kind = classify_failure(variant, r)
                names = ", ".join(t["name"] for t in failed_tests) or "(outside any test)"
                findings.append({
                    "kind": kind,
                    "id": f"{variant}:{os.path.basename(r['binary'])}",
                    "message": f"{os.path.basename(r['binary'])} [{variant}] {r['status']}: {names}",
                    "location": r["binary"],
                    "detail": "\n".join(t.get("message", "") for t in failed_tests)
                    or r.get("log_tail", "")[-1500:],
                })
        out[variant] = {"binaries": len(records), **counts}
    return out


def bench_rows(data):
    """Median rows from Google Benchmark JSON: name -> figures."""
    if not data:
        return {}
    rows = {}
    for b in data.get("benchmarks", []):
        name = b.get("run_name") or b["name"]
        agg = b.get("aggregate_name")
        row = rows.setdefault(name, {"name": name, "samples": []})
        unit = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}.get(b.get("time_unit", "ns"), 1)
        t = b.get("real_time", 0) * unit
        if b.get("error_occurred"):
            row["error"] = b.get("error_message", "error")
            continue
        if agg:
            if agg in ("median", "mean", "stddev", "cv"):
                row[agg] = t if agg != "cv" else b.get("real_time")
            if agg == "median":
                for k in ("allocs_per_op", "bytes_per_op", "peak_tasks", "peak_rss_kib"):
                    if k in b:
                        row[k] = b[k]
        else:
            row["samples"].append(t)
            for k in ("allocs_per_op", "bytes_per_op", "peak_tasks", "peak_rss_kib"):
                if k in b and k not in row:
                    row[k] = b[k]
    for row in rows.values():
        if "median" not in row and row["samples"]:
            s = sorted(row["samples"])
            row["median"] = s[len(s) // 2]
    return rows


def bench_section(gort, go):
    g, o = bench_rows(gort), bench_rows(go)
    sec = {"gort": list(g.values()), "go": list(o.values()), "context": (gort or {}).get("context", {})}
    ratios = {}
    for lang, rows in (("gort", g), ("go", o)):
        naive, pool = rows.get("NaiveSpawn/real_time"), rows.get("WorkerPool/real_time")
        floor = rows.get("ParallelFloor/real_time")
        r = {}
        if naive and pool and pool.get("median"):
            r["naive_over_pool"] = naive["median"] / pool["median"]
        if pool and floor and floor.get("median"):
            r["pool_over_floor"] = pool["median"] / floor["median"]
        ratios[lang] = r
    sec["ratios"] = ratios
    return sec


def leak_section(data, findings):
    """gort.leakcheck/1: findings[] (kind, site, identity, state, message) and
    runs[] (each with a verdict: clean, leaks, or a failure of the run)."""
    if not data:
        return None
    for f in data.get("findings", []):
        site = f.get("site") or {}
        ident = f.get("identity") or {}
        where = f"{site.get('file', '')}:{site.get('line', '')}" if site.get("file") else ""
        who = ident.get("name") or (f"task {ident['task_id']}" if ident.get("task_id") else
                                    f"tid {ident.get('tid', '?')}")
        findings.append({
            "kind": "leak-" + f.get("kind", "unknown"),
            "id": f"{f.get('binary', '')}:{f.get('test', '')}:{f.get('kind')}:{who}",
            "message": f"leaked {f.get('kind')} ({who}) in {f.get('test') or f.get('binary', '?')}"
                       + (f", created at {site.get('function', '?')}" if site else ""),
            "location": where,
            "detail": f.get("message", ""),
        })
    for r in data.get("runs", []):
        if r.get("verdict") not in ("clean", "leaks"):
            findings.append({
                "kind": "leakcheck-run",
                "id": f"{r.get('mode')}:{r.get('binary')}",
                "message": f"{r.get('binary')} [{r.get('mode')}] did not finish cleanly under leakcheck: "
                           f"{r.get('verdict')} (exit {r.get('exit_status')})",
                "location": r.get("binary", ""),
                "detail": "",
            })
    return data.get("summary", {"findings": len(data.get("findings", []))})


def calibration_findings(cal, findings):
    """gort.leakcheck-calibration/1: every planted leak found, no false alarm."""
    if not cal:
        return
    for c in cal.get("cases", []):
        twin = c.get("twin") or {}
        missed = c.get("verdict") != "found"
        false_alarms = twin.get("false_alarms", 0)
        if missed or false_alarms:
            findings.append({
                "kind": "calibration",
                "id": "calibration:" + str(c.get("name")),
                "message": f"leakcheck calibration {c.get('name')} [{c.get('mode')}]: "
                           + ("leak not found" if missed else f"{false_alarms} false alarm(s) in the fixed twin"),
                "location": "leakcheck/calibration",
                "detail": json.dumps(c.get("expected", {})),
            })


def valgrind_section(data, findings):
    if not data:
        return None
    for f in data.get("findings", []):
        findings.append({"kind": "valgrind", "id": f.get("binary", "") + ":" + f.get("kind", ""),
                         "message": f.get("message", ""), "location": f.get("binary", ""),
                         "detail": f.get("detail", "")})
    return {"binaries": data.get("binaries"), "findings": len(data.get("findings", []))}


def machine():
    cc = os.environ.get("CC", "cc")
    try:
        ccv = subprocess.run([cc, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    except Exception:
        ccv = cc
    return {"cpus": os.cpu_count(), "kernel": platform.release(), "compiler": ccv,
            "python": platform.python_version()}


# ---------------------------------------------------------------- writers

def write_junit(variants):
    suites = ET.Element("testsuites", name="gort")
    for variant, records in variants.items():
        for r in records:
            name = f"{variant}.{os.path.basename(r['binary'])}"
            tests = r.get("tests", [])
            s = ET.SubElement(suites, "testsuite", name=name, tests=str(len(tests)),
                              failures=str(sum(t["status"] == "failed" for t in tests)),
                              errors=str(sum(t["status"] == "crashed" for t in tests) + (r["status"] != "passed" and not tests)),
                              time=str(r.get("seconds", 0)))
            for t in tests:
                c = ET.SubElement(s, "testcase", classname=name, name=t["name"])
                if t["status"] == "failed":
                    ET.SubElement(c, "failure", message=t.get("message", "")[:500]).text = t.get("message", "")
                elif t["status"] == "crashed":
                    ET.SubElement(c, "error", message="crashed or timed out").text = r.get("log_tail", "")
                elif t["status"] == "skipped":
                    ET.SubElement(c, "skipped")
            if r["status"] != "passed" and not any(t["status"] in ("failed", "crashed") for t in tests):
                c = ET.SubElement(s, "testcase", classname=name, name="(binary)")
                ET.SubElement(c, "error", message=f"exit status {r['exit_code']}").text = r.get("log_tail", "")
    ET.ElementTree(suites).write(os.path.join(OUT, "junit.xml"), encoding="utf-8", xml_declaration=True)


def write_sarif(findings):
    rules = sorted({f["kind"] for f in findings})
    sarif = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "gort", "informationUri": "https://example.invalid/gort",
                                "rules": [{"id": "gort." + k, "shortDescription": {"text": k}} for k in rules]}},
            "results": [{
                "ruleId": "gort." + f["kind"],
                "level": "error",
                "message": {"text": f["message"] + ("\n" + f["detail"] if f.get("detail") else "")},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": loc_uri(f.get("location", ""))},
                                                    **loc_region(f.get("location", ""))}}],
                "partialFingerprints": {"gortFindingId": f["id"]},
            } for f in findings],
        }],
    }
    with open(os.path.join(OUT, "findings.sarif"), "w") as fh:
        json.dump(sarif, fh, indent=1)


def loc_uri(loc):
    return loc.split(":")[0] if loc else "."


def loc_region(loc):
    parts = loc.split(":")
    if len(parts) >= 2 and parts[1].isdigit():
        return {"region": {"startLine": int(parts[1])}}
    return {}


def fmt_ns(v):
    if v is None:
        return "-"
    return f"{v:,.0f}"


def fmt_num(v, digits=0):
    if v is None:
        return "-"
    return f"{v:,.{digits}f}"


SEED_NAMES = [n + "/real_time" for n in
              ("NaiveSpawn", "WorkerPool", "Serial", "ParallelFloor", "NaiveSpawnPthread")]


def bench_table_md(sec):
    g = {r["name"]: r for r in sec["gort"]}
    o = {r["name"]: r for r in sec["go"]}
    names = [n for n in SEED_NAMES if n in g or n in o]
    names += sorted(n for n in g if n not in names)
    lines = ["| benchmark | gort ns/op | gort allocs/op | gort B/op | Go ns/op | Go allocs/op | Go B/op |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for n in names:
        a, b = g.get(n, {}), o.get(n, {})
        lines.append(f"| {n} | {fmt_ns(a.get('median'))} | {fmt_num(a.get('allocs_per_op'), 1)} | "
                     f"{fmt_num(a.get('bytes_per_op'))} | {fmt_ns(b.get('median'))} | "
                     f"{fmt_num(b.get('allocs_per_op'), 1)} | {fmt_num(b.get('bytes_per_op'))} |")
    return lines


def write_summary(report):
    L = [f"# gort report — {report['verdict'].upper()}", "",
         f"Generated {report['generated_at']} on {report['machine']['cpus']} CPUs, "
         f"kernel {report['machine']['kernel']}, {report['machine']['compiler']}.", ""]
    L += ["## Tests", ""]
    if report["tests"]:
        L += ["| variant | binaries | passed | failed | skipped |", "|---|---:|---:|---:|---:|"]
        for v, t in report["tests"].items():
            L.append(f"| {v} | {t['binaries']} | {t['passed']} | {t['failed'] + t.get('crashed', 0)} | {t['skipped']} |")
    else:
        L.append("not run")
    L += ["", "## Benchmarks (medians)", ""]
    if report["bench"] and (report["bench"]["gort"] or report["bench"]["go"]):
        L += bench_table_md(report["bench"])
        for lang, r in report["bench"]["ratios"].items():
            if r:
                L.append("")
                L.append(f"{lang}: " + ", ".join(f"{k.replace('_', ' ')} = {v:.2f}x" for k, v in r.items()))
    else:
        L.append("not run")
    L += ["", "## Leaks", ""]
    L.append(f"{report['leakcheck']['findings']} finding(s)" if report["leakcheck"] else "not run")
    if report.get("calibration"):
        c = report["calibration"]
        L.append(f"calibration: {json.dumps(c.get('summary', c))[:300]}")
    L += ["", "## Findings", ""]
    if report["findings"]:
        for f in report["findings"]:
            L.append(f"- **{f['kind']}** {f['message']}")
    else:
        L.append("none")
    with open(os.path.join(OUT, "summary.md"), "w") as fh:
        fh.write("\n".join(L) + "\n")


def plot_seed_pair(sec):
    """SVG bar chart of the seed's benchmarks, gort vs Go (gnuplot)."""
    if not shutil.which("gnuplot"):
        return None
    g = {r["name"]: r for r in sec["gort"]}
    o = {r["name"]: r for r in sec["go"]}
    names = [n for n in SEED_NAMES if (n in g and g[n].get("median")) or (n in o and o[n].get("median"))]
    if not names:
        return None
    dat = os.path.join(OUT, "seed.dat")
    with open(dat, "w") as fh:
        for n in names:
            label = n.split("/")[0]
            fh.write(f"{label} {g.get(n, {}).get('median', 0) / 1e6:.4f} {o.get(n, {}).get('median', 0) / 1e6:.4f}\n")
    svg = os.path.join(OUT, "seed.svg")
    script = f"""set terminal svg size 720,360 dynamic font 'sans,11'
set output '{svg}'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel 'ms/op (median)'
set title 'Seed benchmark: gort vs Go'
set key top right
set grid ytics
plot '{dat}' using 2:xtic(1) title 'gort', '' using 3 title 'Go'
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=False)
    os.remove(dat)
    return "seed.svg" if os.path.exists(svg) else None


def plot_sweep(sec):
    """ns/op vs numTasks for naive and pool at each workLoad, if the sweep ran."""
    if not shutil.which("gnuplot"):
        return None
    series = {}
    for r in sec["gort"]:
        parts = r["name"].split("/")
        if len(parts) >= 3 and parts[0] in ("NaiveSpawnSweep", "WorkerPoolSweep") and r.get("median"):
            try:
                tasks = int(parts[1].split(":")[-1])
                load = parts[2].split(":")[-1]
                series.setdefault((parts[0], load), []).append((tasks, r["median"]))
            except ValueError:
                pass
    if not series:
        return None
    plots, files = [], []
    for (kind, load), pts in sorted(series.items()):
        dat = os.path.join(OUT, f"sweep-{kind}-{load}.dat")
        files.append(dat)
        with open(dat, "w") as fh:
            for n, t in sorted(pts):
                fh.write(f"{n} {t / 1e6:.5f}\n")
        plots.append(f"'{dat}' using 1:2 with linespoints title '{kind.replace('Sweep', '')} load={load}'")
    svg = os.path.join(OUT, "sweep.svg")
    script = f"""set terminal svg size 720,420 dynamic font 'sans,11'
set output '{svg}'
set logscale xy
set xlabel 'numTasks'
set ylabel 'ms/op (median)'
set title 'Naive spawn vs worker pool'
set key outside right
set grid
plot {', '.join(plots)}
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=False)
    for f in files:
        os.remove(f)
    return "sweep.svg" if os.path.exists(svg) else None


def write_html(report):
    e = html.escape
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>gort report</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
             "td:first-child,th:first-child{text-align:left}.pass{color:#080}.fail{color:#b00}"
             "pre{background:#f6f6f6;padding:8px;overflow-x:auto}</style></head><body>"]
    cls = "pass" if report["verdict"] == "pass" else "fail"  # incomplete shows as a failure
    parts.append(f"<h1>gort report: <span class='{cls}'>{e(report['verdict'].upper())}</span></h1>")
    m = report["machine"]
    parts.append(f"<p>{e(report['generated_at'])} &middot; {m['cpus']} CPUs &middot; kernel {e(m['kernel'])} "
                 f"&middot; {e(m['compiler'])}</p>")
    parts.append("<h2>Tests</h2>")
    if report["tests"]:
        parts.append("<table><tr><th>variant</th><th>binaries</th><th>passed</th><th>failed</th><th>skipped</th></tr>")
        for v, t in report["tests"].items():
            parts.append(f"<tr><td>{e(v)}</td><td>{t['binaries']}</td><td>{t['passed']}</td>"
                         f"<td>{t['failed'] + t.get('crashed', 0)}</td><td>{t['skipped']}</td></tr>")
        parts.append("</table>")
    else:
        parts.append("<p>not run</p>")
    parts.append("<h2>Benchmarks</h2>")
    b = report["bench"]
    if b and (b["gort"] or b["go"]):
        md = bench_table_md(b)
        parts.append("<table>")
        for i, line in enumerate(md):
            if i == 1:
                continue
            cells = [c.strip() for c in line.strip("|").split("|")]
            tag = "th" if i == 0 else "td"
            parts.append("<tr>" + "".join(f"<{tag}>{e(c)}</{tag}>" for c in cells) + "</tr>")
        parts.append("</table>")
        for lang, r in b["ratios"].items():
            if r:
                parts.append(f"<p>{e(lang)}: " + ", ".join(f"{e(k.replace('_', ' '))} = {v:.2f}x" for k, v in r.items()) + "</p>")
        for svg in report.get("plots", []):
            parts.append(f"<p><img src='{e(svg)}' alt='{e(svg)}'></p>")
    else:
        parts.append("<p>not run</p>")
    parts.append("<h2>Findings</h2>")
    if report["findings"]:
        parts.append("<ul>")
        for f in report["findings"]:
            parts.append(f"<li><b>{e(f['kind'])}</b> {e(f['message'])}"
                         + (f"<pre>{e(f['detail'][:3000])}</pre>" if f.get("detail") else "") + "</li>")
        parts.append("</ul>")
    else:
        parts.append("<p class='pass'>none</p>")
    parts.append("</body></html>")
    with open(os.path.join(OUT, "index.html"), "w") as fh:
        fh.write("\n".join(parts))


def main():
    os.makedirs(OUT, exist_ok=True)
    findings = []
    variants = load_tests()
    report = {
        "schema": SCHEMA,
        "generated_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "tests": test_section(variants, findings),
        "bench": bench_section(load_json("bench.json"), load_json(newest("bench-go.json", "bench-go-quick.json"))),
        "leakcheck": leak_section(load_json("leakcheck.json"), findings),
        "calibration": load_json("leakcheck-calibration.json"),
        "valgrind": valgrind_section(load_json("valgrind.json"), findings),
    }
    calibration_findings(report["calibration"], findings)
    report["findings"] = findings
    report["plots"] = [p for p in (plot_seed_pair(report["bench"]), plot_sweep(report["bench"])) if p]
    # No tests recorded means nothing was proven: never call that a pass.
    report["verdict"] = "fail" if findings else ("pass" if variants else "incomplete")
    with open(os.path.join(OUT, "report.json"), "w") as fh:
        json.dump(report, fh, indent=1)
    write_summary(report)
    write_html(report)
    write_junit(variants)
    write_sarif(findings)
    print(f"report: {report['verdict']}, {len(findings)} finding(s); wrote {OUT}/"
          "{report.json,summary.md,index.html,junit.xml,findings.sarif}")


if __name__ == "__main__":
    main()
