"""Where the repository is, paths relative to it, and facts about the run
(commit, gort's version, machine, compiler, load)."""

from __future__ import annotations

import functools
import os
import platform
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent



@functools.lru_cache(maxsize=None)
def _by_basename() -> dict[str, list[str]]:
    """The repository's tracked files by base name."""
    out: dict[str, list[str]] = {}
    for f in _git("ls-files", "--cached", "--others", "--exclude-standard").splitlines():
        out.setdefault(os.path.basename(f), []).append(f)
    return out


@functools.lru_cache(maxsize=4096)
def relpath(path: str) -> str:
    """path relative to the repository ("" when it lies outside it). A bare
    file name, as Valgrind and DWARF without a directory give, names the
    repository's file only when exactly one tracked file has that name."""
    if not path:
        return ""
    p = Path(path)
    if p.is_absolute():
        try:
            return p.resolve().relative_to(ROOT).as_posix()
        except ValueError:
            return ""
    if (ROOT / p).is_file():
        return p.as_posix()
    if "/" not in path:
        named = _by_basename().get(path, [])
        return named[0] if len(named) == 1 else ""
    return ""


def _git(*args: str) -> str:
    try:
        r = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return r.stdout.strip() if r.returncode == 0 else ""


def commit() -> str:
    """HEAD, with '+dirty' when the tree has uncommitted changes."""
    head = _git("rev-parse", "HEAD")
    if head and _git("status", "--porcelain", "--untracked-files=no"):
        head += "+dirty"
    return head or "unknown"


def version() -> str:
    """gort's version: GORT_VERSION_* in gort/version.h, else gort.pc.in."""
    header = ROOT / "runtime/include/gort/version.h"
    if header.exists():
        parts = dict(re.findall(r"#define\s+GORT_VERSION_(MAJOR|MINOR|PATCH)\s+(\d+)", header.read_text()))
        if len(parts) == 3:
            return f"{parts['MAJOR']}.{parts['MINOR']}.{parts['PATCH']}"
    pc = ROOT / "runtime/gort.pc.in"
    m = re.search(r"^Version:\s*(\S+)", pc.read_text(), re.M) if pc.exists() else None
    return m.group(1) if m else "0.0.0"


def machine() -> dict[str, object]:
    model = ""
    try:
        m = re.search(r"^model name\s*:\s*(.*)$", Path("/proc/cpuinfo").read_text(), re.M)
        model = m.group(1).strip() if m else ""
    except OSError:
        pass
    return {"cpus": os.cpu_count() or 0, "cpu_model": model, "kernel": platform.release(),
            "hostname": platform.node()}


def compiler(cc: str | None = None) -> str:
    name: str = cc or os.environ.get("CC") or "cc"
    try:
        r = subprocess.run([name, "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return name
    out: str = r.stdout
    return out.splitlines()[0] if out else name


def loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except (OSError, ValueError):
        return []


@functools.lru_cache(maxsize=None)
def _sources() -> list[tuple[str, list[str]]]:
    """The repository's C sources (where a test or benchmark is defined,
    when nothing symbolized it)."""
    out = []
    for names in _by_basename().values():
        for rel in names:
            if rel.endswith(".c"):
                try:
                    out.append((rel, (ROOT / rel).read_text(errors="replace").splitlines()))
                except OSError:
                    continue
    return sorted(out)


def locate(pattern: str, prefer: str = "") -> tuple[str, int]:
    """The first source line matching pattern (a regex): (relative path,
    line); in the file prefer first, when given."""
    rx = re.compile(pattern)
    sources = _sources()
    for path, lines in sorted(sources, key=lambda s: s[0] != prefer):
        for n, line in enumerate(lines, 1):
            if rx.search(line):
                return path, n
    return "", 0


def locate_test(name: str, prefer: str = "") -> tuple[str, int]:
    """Where a cmocka test function is defined (in prefer first)."""
    return locate(rf"^(?:static\s+)?void\s+{re.escape(name)}\s*\(", prefer)


def locate_benchmark(name: str) -> tuple[str, int]:
    """Where a benchmark is registered (bench/*.c)."""
    family = name.split("/")[0]
    return locate(rf'gort_bench_register\(\s*"{re.escape(family)}"')
