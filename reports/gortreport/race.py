"""gort-race: the race sweep for any ThreadSanitizer-built program.

usage: gort-race [--runs N] [--json FILE] [--seed S] [--timeout SEC]
                 [--require-success] [--keep-logs DIR] [-v] -- ./prog args...
       gort-race [options] --each PROG...      (each PROG run without arguments)

Runs the program N times (default 20) under varied conditions: pinned to one
CPU (sched_setaffinity) on even runs and free on all CPUs on odd ones; for a
program linked with gort's runtime, two runs in three also get a seeded
schedule perturbation (GORT_CHAOS=<seed>: the runtime yields and sleeps
briefly at park, ready and lock points, deterministically per seed).
ThreadSanitizer's reports are collected from the files TSAN_OPTIONS log_path
names (never from the program's output), deduplicated by their symbolized
stack signature (see tsanlog.py) and printed once each, with the run, CPUs and
seed that found them and a command that reproduces those conditions.

Exit status: 0 clean, 1 races (or, with --require-success, a run that failed:
non-zero exit without a race report, a signal, a timeout), 2 could not check
(missing program, not a TSan build, TSan could not start, bad usage): one line
saying why, and the fix.

--json FILE writes the gort.race/1 document (reports/schemas/).
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, Sequence

from elftools.common.exceptions import ELFError  # type: ignore[import]
from elftools.elf.elffile import ELFFile  # type: ignore[import]
from elftools.elf.sections import SymbolTableSection  # type: ignore[import]

from . import __version__, jsonio, tsanlog
from .errors import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, InputError, run_cli

SCHEMA = "gort.race/1"
PROG = "gort-race"
DEFAULT_RUNS = 20
# A hung run first gets SIGQUIT (a gort program prints its task dump), then
# SIGKILL this many seconds later.
KILL_GRACE_S = 10


class Unchecked(Exception):
    """The program cannot be checked; the message says why and the fix."""


@dataclass(frozen=True)
class Binary:
    path: str
    gort: bool  # links gort's runtime (any gort_ symbol): GORT_CHAOS applies


@dataclass(frozen=True)
class Conditions:
    index: int  # 1-based
    cpus: tuple[int, ...]
    seed: int | None

    def reproduce(self, argv: Sequence[str]) -> str:
        env = f"GORT_CHAOS={self.seed} " if self.seed is not None else ""
        pin = f"taskset -c {','.join(map(str, self.cpus))} "
        return env + pin + shlex.join(argv)


@dataclass
class RunResult:
    cond: Conditions
    exit_code: int | None
    signal: int | None
    timed_out: bool
    seconds: float
    reports: list[tuple[tsanlog.Report, str]]  # with the log file it came from
    fatal: str | None
    output: Path | None

    @property
    def failed(self) -> bool:
        """Ended badly without a race report to explain it."""
        if self.timed_out or self.signal is not None:
            return True
        return self.exit_code != 0 and not self.reports

    def to_json(self) -> dict[str, Any]:
        return {"index": self.cond.index, "cpus": list(self.cond.cpus),
                "chaos_seed": self.cond.seed, "exit_code": self.exit_code,
                "signal": self.signal, "timed_out": self.timed_out,
                "seconds": round(self.seconds, 3), "reports": len(self.reports)}


@dataclass
class Found:
    """One distinct race and where it was seen."""

    report: tsanlog.Report
    first: Conditions
    log: str
    occurrences: int = 0
    runs: list[int] = field(default_factory=list)

    def to_json(self, keep_logs: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.report.signature_id(), "kind": self.report.kind,
            "summary": self.report.summary, "signature": self.report.signature(),
            "stacks": [s.to_json() for s in self.report.stacks],
            "occurrences": self.occurrences, "runs_found": self.runs,
            "first_run": self.first.index, "first_seed": self.first.seed,
            "first_cpus": list(self.first.cpus),
        }
        if keep_logs:
            out["log"] = self.log
        return out


# ---- the program ---------------------------------------------------------------

def resolve(argv0: str) -> str:
    """The executable argv0 names, as the shell would find it."""
    path = argv0 if "/" in argv0 else shutil.which(argv0)
    if path is None or not os.path.exists(path):
        raise Unchecked(f"{argv0}: no such program (give its path, e.g. ./{argv0})")
    if os.path.isdir(path) or not os.access(path, os.X_OK):
        raise Unchecked(f"{argv0}: not an executable file")
    return os.path.abspath(path)


def probe(path: str) -> Binary:
    """Is path a ThreadSanitizer build (it references __tsan_init: clang
    defines it in the binary, gcc imports it from libtsan), and does it link
    gort's runtime?"""
    tsan = gort = False
    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            for section in elf.iter_sections():
                if not isinstance(section, SymbolTableSection):
                    continue
                for sym in section.iter_symbols():
                    tsan = tsan or sym.name == "__tsan_init"
                    gort = gort or sym.name.startswith("gort_")
    except ELFError:
        raise Unchecked(f"{path}: not an ELF executable (run gort-race on the program itself, "
                        "not a wrapper script)") from None
    except OSError as err:
        raise Unchecked(f"{path}: cannot read: {err.strerror}") from None
    if not tsan:
        raise Unchecked(f"{path}: not built with ThreadSanitizer (no __tsan_init); rebuild with "
                        "-fsanitize=thread -g (compile and link), e.g. "
                        "cc -fsanitize=thread -g -O1 prog.c -o prog")
    return Binary(path, gort)


def plan(index: int, binary: Binary, base_seed: int) -> Conditions:
    """Run index's conditions: one CPU on even runs (rotating over the CPUs we
    may use), all CPUs on odd runs; chaos on two runs in three."""
    allowed = tuple(sorted(os.sched_getaffinity(0)))
    if index % 2 == 0 or len(allowed) == 1:
        cpus: tuple[int, ...] = (allowed[(index // 2) % len(allowed)],)
    else:
        cpus = allowed
    seed = (base_seed + index) % 2**31 if binary.gort and index % 3 != 1 else None
    return Conditions(index, cpus, seed)


# ---- one run ---------------------------------------------------------------------

def run_env(logdir: Path, seed: int | None) -> dict[str, str]:
    env = dict(os.environ)
    # Ours last: TSan reads options left to right, the last one wins.
    env["TSAN_OPTIONS"] = f"{env.get('TSAN_OPTIONS', '')} log_path={logdir}/tsan".strip()
    if seed is None:
        env.pop("GORT_CHAOS", None)
    else:
        env["GORT_CHAOS"] = str(seed)
    return env


def wait_bounded(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait for proc; after timeout, SIGQUIT then SIGKILL. True if it timed out."""
    try:
        proc.wait(timeout=timeout)
        return False
    except subprocess.TimeoutExpired:
        pass
    proc.send_signal(signal.SIGQUIT)
    try:
        proc.wait(timeout=KILL_GRACE_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return True


def run_once(argv: Sequence[str], binary: Binary, cond: Conditions, workdir: Path,
             timeout: float, verbose: bool) -> RunResult:
    logdir = workdir / f"run{cond.index}"
    logdir.mkdir()
    output = None if verbose else logdir / "output.txt"
    start = time.monotonic()
    with open(output if output else os.devnull, "wb") as out:
        sink = None if verbose else out
        proc = subprocess.Popen([binary.path, *argv[1:]], stdin=subprocess.DEVNULL, stdout=sink,
                                stderr=sink, env=run_env(logdir, cond.seed),
                                preexec_fn=lambda: os.sched_setaffinity(0, cond.cpus))
        timed_out = wait_bounded(proc, timeout)
    seconds = time.monotonic() - start
    reports: list[tuple[tsanlog.Report, str]] = []
    fatal = None
    for log in sorted(logdir.glob("tsan.*")):
        text = log.read_text(errors="replace")
        fatal = fatal or tsanlog.fatal_line(text)
        reports += [(r, str(log)) for r in tsanlog.parse(text)]
    rc = proc.returncode
    return RunResult(cond, rc if rc >= 0 else None, -rc if rc < 0 else None, timed_out, seconds,
                     reports, fatal, output)


# ---- one program -------------------------------------------------------------------

@dataclass
class Options:
    runs: int
    seed: int
    timeout: float
    require_success: bool
    keep_logs: Path | None
    verbose: bool


def print_race(argv: Sequence[str], found: Found, runs: int) -> None:
    c = found.first
    seed = f", GORT_CHAOS={c.seed}" if c.seed is not None else ""
    print(f"{PROG}: {found.report.kind.upper()} in {shlex.join(argv)} "
          f"(run {c.index} of {runs}, cpus {','.join(map(str, c.cpus))}{seed})")
    for stack in found.report.stacks:
        print(f"  {stack.title}")
        for frame in stack.frames[:6]:
            print(f"    {frame.key()}")
    print(f"  SUMMARY: {found.report.summary}")
    print(f"  reproduce: {c.reproduce(argv)}")


def print_failure(argv: Sequence[str], run: RunResult) -> None:
    how = ("timed out" if run.timed_out else f"killed by signal {run.signal}"
           if run.signal is not None else f"exit status {run.exit_code}")
    print(f"{PROG}: run {run.cond.index} of {shlex.join(argv)} failed ({how}, no race report); "
          f"reproduce: {run.cond.reproduce(argv)}")
    if run.output is not None:
        lines = run.output.read_text(errors="replace").splitlines()[-20:]
        for line in lines:
            print(f"  | {line}")


def check_program(argv: Sequence[str], opts: Options, workdir: Path) -> dict[str, Any]:
    doc: dict[str, Any] = {"argv": list(argv), "status": "unchecked",
                           "runs_requested": opts.runs, "runs": 0, "runs_with_reports": 0,
                           "failed_runs": 0, "races": [], "run_log": []}
    try:
        binary = probe(resolve(argv[0]))
    except Unchecked as why:
        doc["reason"] = str(why)
        print(f"{PROG}: cannot check: {why}")
        return doc
    doc.update(binary=binary.path, gort=binary.gort)
    found: dict[str, Found] = {}
    fatal = None
    for index in range(1, opts.runs + 1):
        run = run_once(argv, binary, plan(index, binary, opts.seed), workdir, opts.timeout,
                       opts.verbose)
        doc["runs"] += 1
        doc["run_log"].append(run.to_json())
        doc["runs_with_reports"] += bool(run.reports)
        fatal = fatal or run.fatal
        if run.failed and not run.fatal:
            doc["failed_runs"] += 1
            if opts.require_success:
                print_failure(argv, run)
        for report, log in run.reports:
            f = found.get(report.signature_id())
            if f is None:
                f = found[report.signature_id()] = Found(report, run.cond, log)
                print_race(argv, f, opts.runs)
            f.occurrences += 1
            if index not in f.runs:
                f.runs.append(index)
    doc["races"] = [f.to_json(opts.keep_logs is not None) for f in found.values()]
    doc["status"], reason = verdict(doc, fatal, opts.require_success)
    if reason:
        doc["reason"] = reason
    print(closing_line(doc))
    return doc


def verdict(doc: dict[str, Any], fatal: str | None, require_success: bool) -> tuple[str, str]:
    if doc["races"]:
        return "races", ""
    if fatal:
        return "unchecked", (f"ThreadSanitizer could not run: {fatal} (on Linux with high "
                             "mmap_rnd_bits: sysctl vm.mmap_rnd_bits=28, or a newer compiler)")
    if require_success and doc["failed_runs"]:
        return "failed", f"{doc['failed_runs']} of {doc['runs']} runs failed without a race report"
    return "clean", ""


def closing_line(doc: dict[str, Any]) -> str:
    name = shlex.join(doc["argv"])
    if doc["status"] == "unchecked":
        return f"{PROG}: {name}: unchecked: {doc.get('reason', '')}"
    races = len(doc["races"])
    fails = f", {doc['failed_runs']} failed runs" if doc["failed_runs"] else ""
    if races:
        return (f"{PROG}: {name}: {races} race{'s' * (races != 1)} "
                f"(reports in {doc['runs_with_reports']} of {doc['runs']} runs){fails}")
    return f"{PROG}: {name}: {doc['status']}, 0 races in {doc['runs']} runs{fails}"


# ---- the whole sweep ------------------------------------------------------------------

def summarize(programs: list[dict[str, Any]]) -> dict[str, int]:
    def count(status: str) -> int:
        return sum(p["status"] == status for p in programs)
    return {"programs": len(programs), "clean": count("clean"), "with_races": count("races"),
            "failed": count("failed"), "unchecked": count("unchecked"),
            "races": sum(len(p["races"]) for p in programs),
            "runs": sum(p["runs"] for p in programs)}


def exit_code(summary: dict[str, int]) -> int:
    if summary["with_races"] or summary["failed"]:
        return EXIT_FINDINGS
    return EXIT_INPUT if summary["unchecked"] else EXIT_OK


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise InputError(f"{message} (usage: {PROG} [--runs N] [--json FILE] -- ./prog args)")


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = _Parser(prog=PROG, description="Run a ThreadSanitizer-built program N times and "
                "report each distinct race once.")
    p.add_argument("--runs", type=int, default=DEFAULT_RUNS, help="runs per program (20)")
    p.add_argument("--json", type=Path, help="write the gort.race/1 document here")
    p.add_argument("--seed", type=int, help="base GORT_CHAOS seed (default: random)")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per run (600)")
    p.add_argument("--require-success", action="store_true",
                   help="a run that fails without a race report is a finding too")
    p.add_argument("--keep-logs", type=Path, help="keep TSan logs and output in this directory")
    p.add_argument("--each", action="store_true",
                   help="the arguments are programs, each run without arguments")
    p.add_argument("-v", "--verbose", action="store_true", help="show the program's output")
    p.add_argument("command", nargs=argparse.REMAINDER)
    args = p.parse_args(argv)
    if args.command[:1] == ["--"]:
        args.command = args.command[1:]
    if not args.command:
        p.error("no program given")
    if args.runs < 1:
        p.error("--runs must be at least 1")
    if args.timeout <= 0:
        p.error("--timeout must be positive")
    if args.json is not None and not args.json.resolve().parent.is_dir():
        p.error(f"--json {args.json}: no such directory")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little") % 2**31
    opts = Options(args.runs, seed, args.timeout, args.require_success, args.keep_logs,
                   args.verbose)
    commands = [[prog] for prog in args.command] if args.each else [args.command]
    if opts.keep_logs is not None:
        opts.keep_logs.mkdir(parents=True, exist_ok=True)
    programs = []
    for i, command in enumerate(commands):
        if opts.keep_logs is not None:
            workdir = opts.keep_logs / f"{i + 1}-{os.path.basename(command[0])}"
            shutil.rmtree(workdir, ignore_errors=True)
            workdir.mkdir()
            programs.append(check_program(command, opts, workdir))
        else:
            with tempfile.TemporaryDirectory(prefix="gort-race-") as tmp:
                programs.append(check_program(command, opts, Path(tmp)))
    summary = summarize(programs)
    if len(programs) > 1:
        print(f"{PROG}: {summary['clean']} clean, {summary['with_races']} with races, "
              f"{summary['failed']} failed, {summary['unchecked']} unchecked "
              f"({summary['races']} distinct races, {summary['runs']} runs)")
    if args.json is not None:
        doc = {"schema": SCHEMA, "tool": {"name": PROG, "version": __version__},
               "summary": summary, "programs": programs}
        jsonio.write(args.json, doc, SCHEMA)
    return exit_code(summary)


def cli() -> NoReturn:
    try:
        run_cli(PROG, main)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        raise SystemExit(EXIT_INPUT) from None
