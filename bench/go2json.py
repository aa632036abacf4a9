#!/usr/bin/env python3
"""go2json.py - turn `go test -bench . -benchmem -count N` output into the
JSON shape Google Benchmark writes (--benchmark_format=json), so Go's rows
and gort's can be read by the same tools and joined by name.

    go2json.py [--context key=value ...] go-bench.txt > bench-go.json

Mapping, per result line `BenchmarkX/sub-P  iters  T ns/op  B B/op  A allocs/op`:
  name        "X/sub/real_time": the "Benchmark" prefix and the GOMAXPROCS
              suffix "-P" go; "/real_time" is added because Go's ns/op is
              wall-clock time, which is what gort's runs measure and how
              Google Benchmark names such runs. gort's names are the same.
  run_type    "iteration", one per line, repetition_index in line order;
  real_time = cpu_time = ns/op (Go measures no CPU time), time_unit "ns";
  allocs_per_op, bytes_per_op: -benchmem's allocs/op and B/op; other
              metrics (b.ReportMetric) are kept under their unit's name.
After the iterations of each benchmark come the aggregates Google Benchmark
computes for repetitions: mean, median, stddev (n-1) and cv (stddev/mean,
aggregate_unit "percentage"), over every numeric field.
`--- FAIL`/`--- SKIP` lines become entries with error_occurred and the
message that followed, as Google Benchmark reports skip-with-error.
"""
import json
import os
import re
import socket
import statistics
import sys
import time

LINE = re.compile(r"^Benchmark(?P<name>\S+?)(?:-(?P<procs>\d+))?\s+(?P<iters>\d+)\s+(?P<rest>.*)$")
FAIL = re.compile(r"^\s*--- (?P<kind>FAIL|SKIP): Benchmark(?P<name>\S+?)(?:-(?P<procs>\d+))?(?:\s|$)")
HEADER = re.compile(r"^(goos|goarch|pkg|cpu): (.*)$")
METRIC_NAMES = {"ns/op": "real_time", "B/op": "bytes_per_op", "allocs/op": "allocs_per_op"}
AGGREGATES = ("mean", "median", "stddev", "cv")


def parse_metrics(rest):
    """'322.6 ns/op  0 B/op  0 allocs/op' -> {'real_time': 322.6, ...}"""
    out = {}
    fields = rest.split()
    for value, unit in zip(fields[0::2], fields[1::2]):
        try:
            v = float(value)
        except ValueError:
            continue
        key = METRIC_NAMES.get(unit, re.sub(r"[^A-Za-z0-9]+", "_", unit).strip("_"))
        out[key] = v
    return out


def aggregate(values, how):
    if how == "mean":
        return statistics.fmean(values)
    if how == "median":
        return statistics.median(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    if how == "stddev":
        return sd
    mean = statistics.fmean(values)
    return sd / mean if mean else float("nan")


def convert(lines, extra_context):
    context = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host_name": socket.gethostname(),
        "executable": "go test -bench",
        "num_cpus": os.cpu_count(),
        "library_build_type": "release",
        "harness": "go testing (bench/go, converted by bench/go2json.py)",
    }
    order = []      # run names in first-seen order
    runs = {}       # run name -> list of metric dicts
    errors = {}     # run name -> message
    procs = None
    pending_fail = None
    for raw in lines:
        line = raw.rstrip("\n")
        m = HEADER.match(line)
        if m:
            context["go_" + m.group(1)] = m.group(2)
            continue
        m = LINE.match(line)
        if m:
            pending_fail = None
            name = m.group("name") + "/real_time"
            if m.group("procs"):
                procs = int(m.group("procs"))
            metrics = parse_metrics(m.group("rest"))
            metrics["iterations"] = int(m.group("iters"))
            if name not in runs:
                order.append(name)
                runs[name] = []
            runs[name].append(metrics)
            continue
        m = FAIL.match(line)
        if m:
            name = m.group("name") + "/real_time"
            pending_fail = name
            errors.setdefault(name, m.group("kind"))
            if name not in runs:
                order.append(name)
                runs[name] = []
            continue
        if pending_fail and line.startswith(" "):
            msg = line.strip()
            if errors[pending_fail] in ("FAIL", "SKIP"):
                errors[pending_fail] = msg
            continue
        pending_fail = None
    context["gomaxprocs"] = procs or 1
    try:
        with open("/proc/loadavg") as f:
            context["load_avg_at_conversion"] = [float(x) for x in f.read().split()[:3]]
    except OSError:
        pass
    context.update(extra_context)

    benchmarks = []
    for family, name in enumerate(order):
        reps = runs[name]
        common = {"family_index": family, "per_family_instance_index": 0, "run_name": name,
                  "threads": 1, "repetitions": len(reps)}
        if not reps:
            benchmarks.append(dict(name=name, run_type="iteration", repetition_index=0,
                                   error_occurred=True, error_message=errors.get(name, ""),
                                   **common))
            continue
        for i, metrics in enumerate(reps):
            entry = dict(name=name, run_type="iteration", repetition_index=i, **common)
            entry.update(iterations=metrics["iterations"], real_time=metrics.get("real_time"),
                         cpu_time=metrics.get("real_time"), time_unit="ns")
            entry.update({k: v for k, v in metrics.items()
                          if k not in ("iterations", "real_time")})
            benchmarks.append(entry)
        if len(reps) < 2:
            continue
        keys = [k for k in reps[0] if k != "iterations" and all(k in r for r in reps)]
        for how in AGGREGATES:
            entry = dict(name=f"{name}_{how}", run_type="aggregate", aggregate_name=how,
                         aggregate_unit="percentage" if how == "cv" else "time",
                         iterations=len(reps), **common)
            values = {k: aggregate([r[k] for r in reps], how) for k in keys}
            entry.update(real_time=values.get("real_time"), cpu_time=values.get("real_time"),
                         time_unit="ns")
            entry.update({k: v for k, v in values.items() if k != "real_time"})
            benchmarks.append(entry)
    context.setdefault("schema", "gort.bench/1")
    return {"context": context, "benchmarks": benchmarks}


def main(argv):
    extra = {}
    paths = []
    args = iter(argv[1:])
    for a in args:
        if a == "--context":
            key, _, value = next(args).partition("=")
            extra[key] = value
        else:
            paths.append(a)
    if len(paths) > 1:
        sys.exit("usage: go2json.py [--context key=value ...] [go-bench.txt]")
    if paths:
        with open(paths[0]) as f:
            lines = f.readlines()
    else:
        lines = sys.stdin.readlines()
    out = convert(lines, extra)
    if not out["benchmarks"]:
        sys.exit("go2json: no benchmark results in the input")
    # Google Benchmark writes NaN for an undefined cv; so do we (Python reads it).
    json.dump(out, sys.stdout, indent=2, allow_nan=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
