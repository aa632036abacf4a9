"""python3 -m gortreport.progress [--out DIR] [--output FILE]... [--only STEPS] STEP -- COMMAND...:
run one long step of make report, its output kept in DIR/logs/STEP.log.

On a terminal one status line shows the step, the elapsed time and its
counters (tests passed/failed, leakcheck passes), rewritten in place; in CI
(not a terminal) it prints one line when the step starts and one when it
ends. Lines that name a failure are always printed. Appends the step to
DIR/steps.jsonl (gort.steps/1), with the files (in DIR) the step must write
(--output): the report makes a step that failed, or left one of them
missing or unreadable, a finding. Exits with the command's status.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from . import jsonio, repo
from .errors import run_cli

_TESTS = re.compile(r"^(?!tests:)\S+: (\d+) passed, (\d+) failed$")  # per binary, not the total
_PASS = re.compile(r"^leakcheck: (\w+) pass\b")
_LOUD = re.compile(r"FAIL|ERROR|TIMEOUT|^warning|error:|^\w+Sanitizer: ")


def _status(step: str, start: float, counters: dict[str, int]) -> str:
    secs = int(time.monotonic() - start)
    parts = [f"{k} {v}" for k, v in counters.items()]
    return f"== {step} [{secs // 60}:{secs % 60:02d}]" + (": " + ", ".join(parts) if parts else "")


def _count(line: str, counters: dict[str, int]) -> None:
    m = _TESTS.match(line)
    if m:
        counters["binaries"] = counters.get("binaries", 0) + 1
        counters["passed"] = counters.get("passed", 0) + int(m.group(1))
        counters["failed"] = counters.get("failed", 0) + int(m.group(2))
    if _PASS.match(line):
        counters["leakcheck passes"] = counters.get("leakcheck passes", 0) + 1


def run(step: str, cmd: list[str], out: Path, tty: bool, outputs: list[str] | None = None) -> int:
    (out / "logs").mkdir(parents=True, exist_ok=True)
    log_path = out / "logs" / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', step)}.log"
    counters: dict[str, int] = {}
    start = time.monotonic()
    if not tty:
        print(f"== {step}: started", flush=True)
    lock = threading.Lock()
    done = threading.Event()

    def tick() -> None:  # the clock moves even while the step is silent
        while not done.wait(1.0):
            with lock:
                print("\r\033[K" + _status(step, start, counters), end="", flush=True)

    ticker = threading.Thread(target=tick, daemon=True)
    if tty:
        ticker.start()
    with open(log_path, "w") as log, subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
            close_fds=False) as p:  # make's jobserver fds pass through
        assert p.stdout is not None
        for line in p.stdout:
            log.write(line)
            log.flush()
            line = line.rstrip("\n")
            with lock:
                _count(line, counters)
                if _LOUD.search(line):
                    print(("\r\033[K" if tty else "") + line, flush=True)
        rc = p.wait()
    done.set()
    if tty:
        ticker.join()
    end = _status(step, start, counters)
    print(("\r\033[K" if tty else "") + f"{end} -> {'ok' if rc == 0 else f'exit {rc}'} (log {log_path})",
          flush=True)
    jsonio.append_line(out / "steps.jsonl", {
        "schema": "gort.steps/1", "step": step, "seconds": round(time.monotonic() - start, 1), "status": rc,
        "loadavg": repo.loadavg(), "counters": counters, "outputs": outputs or []})
    return rc


def _main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="gortreport.progress", description="Run one step of make report.")
    ap.add_argument("--out", default="reports/out")
    ap.add_argument("--output", action="append", default=[], metavar="FILE",
                    help="a file (in --out) the step must write; repeatable")
    ap.add_argument("--only", default="", metavar="STEPS",
                    help="run the step only if it is one of these (space-separated; make report's "
                         "REPORT_STEPS); a step left out is not run and not recorded")
    ap.add_argument("step")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        ap.error("no command")
    if a.only.split() and a.step not in a.only.split():
        print(f"== {a.step}: skipped (not in REPORT_STEPS)", flush=True)
        return 0
    tty = sys.stdout.isatty() and os.environ.get("CI") is None
    return run(a.step, cmd, Path(a.out), tty, a.output)


def main() -> None:
    run_cli("gortreport.progress", _main)


if __name__ == "__main__":
    main()
