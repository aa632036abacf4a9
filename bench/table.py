#!/usr/bin/env python3
"""table.py - print gort's (and Go's) benchmark JSON as seed 003's table.

    table.py bench.json [bench-go.json]
    table.py --backends bench.json bench-mn.json bench-go.json

For each benchmark the figure is the true median over repetitions, read
by gortreport.gbench (the one Google Benchmark reader). First the seed's table for gort, in the seed's shape:

    | Benchmark | ops/sec | ns/op | allocs/op | B/op |

then, with Go's file, the same for Go, the rows side by side (gort / Go),
and the ratios the issue asks for: naive/pool for each side, WorkerPool /
ParallelFloor, NaiveSpawn / NaiveSpawnPthread, and WorkerPool's allocs/op
along numTasks. Targets are shown beside the ratios; nothing is asserted.

With --backends, one table of every benchmark the three files share: gort on
the thread backend, gort on the M:N backend and Go, each with its ratio to Go
(the files must say which backend they ran: context gort_backend).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reports"))
from gortreport import gbench  # noqa: E402  (the one Google Benchmark reader)
from gortreport.errors import InputError  # noqa: E402

SEED_ROWS = ["NaiveSpawn", "WorkerPool", "Serial", "ParallelFloor"]
SUFFIX = "/real_time"


def load(path):
    """(context, names in the file's order, name -> dict(ns, allocs, bytes[, error]))."""
    bf = gbench.read(path)
    rows = {}
    for name, b in bf.benchmarks.items():
        base = name[: -len(SUFFIX)] if name.endswith(SUFFIX) else name
        if b.errored:
            rows[base] = {"error": b.errors[0]}
        else:
            rows[base] = {"ns": b.median_real_ns(), "allocs": b.median_counter("allocs_per_op"),
                          "bytes": b.median_counter("bytes_per_op")}
    return bf.context, list(rows), rows


def num(v, digits=0):
    if v is None:
        return "-"
    if digits == 0:
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}"


def ops_per_sec(ns):
    return num(1e9 / ns) if ns else "-"


def seed_table(title, order, rows):
    print(f"\n{title}")
    print("| Benchmark | ops/sec | ns/op | allocs/op | B/op |")
    print("|---|---|---|---|---|")
    for name in order:
        r = rows.get(name)
        if r is None:
            continue
        if "error" in r:
            print(f"| {name} | error: {r['error']} | | | |")
            continue
        small = r["ns"] is not None and r["ns"] < 100
        print(f"| {name} | {ops_per_sec(r['ns'])} | {num(r['ns'], 1 if small else 0)} | "
              f"{num(r['allocs'], 1 if r['allocs'] and r['allocs'] < 100 else 0)} | "
              f"{num(r['bytes'])} |")


def ratio(rows, a, b):
    ra, rb = rows.get(a), rows.get(b)
    if not ra or not rb or "error" in ra or "error" in rb or not ra["ns"] or not rb["ns"]:
        return None
    return ra["ns"] / rb["ns"]


def fmt_ratio(x):
    return "-" if x is None else f"{x:.2f}"


def side_by_side(order, gort, go):
    print("\ngort vs Go (medians)")
    print("| Benchmark | gort ns/op | Go ns/op | gort/Go | gort allocs/op | Go allocs/op "
          "| gort B/op | Go B/op |")
    print("|---|---|---|---|---|---|---|---|")
    for name in order:
        g, o = gort.get(name), go.get(name)
        if not g or not o:
            continue
        if "error" in g or "error" in o:
            err = g.get("error") or o.get("error")
            print(f"| {name} | error: {err} | | | | | | |")
            continue
        r = g["ns"] / o["ns"] if g["ns"] and o["ns"] else None
        print(f"| {name} | {num(g['ns'], 1 if g['ns'] < 100 else 0)} | "
              f"{num(o['ns'], 1 if o['ns'] < 100 else 0)} | {fmt_ratio(r)} | "
              f"{num(g['allocs'], 1)} | {num(o['allocs'], 1)} | {num(g['bytes'])} | "
              f"{num(o['bytes'])} |")


def ratios(gort, go):
    rows = [
        ("NaiveSpawn / WorkerPool", "NaiveSpawn", "WorkerPool", "seed: ~6.3 (8 cores)"),
        ("WorkerPool / ParallelFloor", "WorkerPool", "ParallelFloor", "<= 1.10"),
        ("WorkerPoolCores / ParallelFloor", "WorkerPoolCores", "ParallelFloor", ""),
        ("NaiveSpawn / NaiveSpawnPthread", "NaiveSpawn", "NaiveSpawnPthread", "<= 1.15"),
        ("Serial / ParallelFloor", "Serial", "ParallelFloor", "(the machine's speed-up)"),
    ]
    lines = []
    for label, a, b, target in rows:
        ga = ratio(gort, a, b)
        oa = ratio(go, a, b) if go else None
        if ga is None and oa is None:
            continue
        lines.append(f"| {label} | {fmt_ratio(ga)} | {fmt_ratio(oa)} | {target} |")
    if lines:
        print("\nratios (medians; targets are measured, never asserted)")
        print("| ratio | gort | Go | target (gort) |")
        print("|---|---|---|---|")
        print("\n".join(lines))
    sweep = [n for n in gort if n.startswith("WorkerPoolSweep/") and n.endswith("/load:1000")]
    sweep.sort(key=lambda n: int(n.split("/")[1].split(":")[1]))
    if sweep:
        print("\nallocs/op along numTasks (load 1000): WorkerPool should stay constant, "
              "NaiveSpawn grow")
        print("| tasks | gort pool | gort naive | Go pool | Go naive |")
        print("|---|---|---|---|---|")
        for name in sweep:
            tasks = name.split("/")[1]
            naive = name.replace("WorkerPoolSweep", "NaiveSpawnSweep")
            cells = []
            for side in (gort, go or {}):
                for n in (name, naive):
                    r = side.get(n)
                    cells.append("-" if not r else ("error" if "error" in r else num(r["allocs"], 1)))
            print(f"| {tasks} | " + " | ".join(cells) + " |")


def ns_cell(r):
    if r is None:
        return "-"
    if "error" in r:
        return "error"
    return num(r["ns"], 1 if r["ns"] is not None and r["ns"] < 100 else 0)


def row_order(name):
    """The seed's rows, then single benchmarks by name, then each sweep by
    its numeric arguments (a file written with random interleaving is in no
    useful order)."""
    if name in SEED_ROWS:
        return (0, SEED_ROWS.index(name), name, ())
    family, _, args = name.partition("/")
    nums = tuple(int(a.split(":")[1]) for a in args.split("/") if a.split(":")[-1].isdigit())
    return (1 if not args else 2, 0, family, nums)


def backends(paths):
    """gort-threads, gort-mn and Go side by side, with each gort's ratio to Go."""
    (tctx, order, thread), (mctx, _, mn), (_, _, go) = (load(p) for p in paths)
    for ctx, want, path in ((tctx, "thread", paths[0]), (mctx, "mn", paths[1])):
        if ctx.get("gort_backend") != want:
            raise InputError(f"{path}: gort_backend is {ctx.get('gort_backend')!r}, "
                             f"expected {want!r}")
    print("\ngort (thread backend), gort (mn backend) and Go: medians, ns/op")
    print("| Benchmark | gort-threads | gort-mn | Go | threads/Go | mn/Go |")
    print("|---|---|---|---|---|---|")
    for name in sorted(order, key=row_order):
        if name not in mn or name not in go:
            continue
        t, m, o = thread[name], mn[name], go[name]
        cells = [ns_cell(t), ns_cell(m), ns_cell(o)]
        for r in (t, m):
            cells.append(fmt_ratio(None if "error" in r or "error" in o or not o["ns"]
                                   else r["ns"] / o["ns"]))
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("\n| ratio | gort-threads | gort-mn | Go | target |")
    print("|---|---|---|---|---|")
    for label, a, b, target in (("NaiveSpawn / WorkerPool", "NaiveSpawn", "WorkerPool", ""),
                                ("WorkerPool / ParallelFloor", "WorkerPool", "ParallelFloor",
                                 "<= 1.10")):
        print(f"| {label} | " + " | ".join(fmt_ratio(ratio(side, a, b)) for side in (thread, mn, go))
              + f" | {target} |")
    return 0


def main(argv):
    if len(argv) == 5 and argv[1] == "--backends":
        return backends(argv[2:])
    if len(argv) not in (2, 3):
        sys.exit("usage: table.py bench.json [bench-go.json]\n"
                 "       table.py --backends bench.json bench-mn.json bench-go.json")
    ctx, order, gort = load(argv[1])
    seed_first = [n for n in SEED_ROWS if n in gort] + [n for n in order if n not in SEED_ROWS]
    backend = ctx.get("gort_backend", "?")
    seed_table(f"gort ({backend} backend, {ctx.get('num_cpus', '?')} CPUs), "
               f"medians of {argv[1]}", seed_first, gort)
    loadavg = ctx.get("load_avg")
    cpus = ctx.get("num_cpus") or 1
    if loadavg and loadavg[0] > cpus:
        print(f"\nnote: the machine was busy when gort's run ended (load {loadavg[0]:.1f} on "
              f"{cpus} CPUs): wall times include the neighbours; process_cpu_ns_per_op in "
              f"the JSON is steadier")
    go = None
    if len(argv) == 3:
        gctx, gorder, go = load(argv[2])
        gfirst = [n for n in SEED_ROWS if n in go] + [n for n in gorder if n not in SEED_ROWS]
        seed_table(f"Go ({gctx.get('go_version', 'go')}, GOMAXPROCS={gctx.get('gomaxprocs', '?')}),"
                   f" medians of {argv[2]}", gfirst, go)
        side_by_side(seed_first, gort, go)
    ratios(gort, go)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except InputError as err:
        print(f"table.py: error: {err}", file=sys.stderr)
        sys.exit(2)
