"""The Valgrind sweep (ci/valgrind.sh, what `make valgrind` runs) must catch
a data race and a lock-order inversion with Helgrind, on plain pthread
programs that never heard of gort, and pass their fixed twins. Run by
`make test`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import cast

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "reports"))

from gortreport import jsonio  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind not installed")

CASES = {
    # program: (source, define for the fixed twin, the Helgrind error kind)
    "race_flag": ("race_flag.c", "RACE_FIXED", "Race"),
    "lock_order": ("lock_order.c", "LOCK_ORDER_FIXED", "LockOrder"),
}


def build(tmp: Path, name: str, fixed: bool) -> Path:
    src, define, _ = CASES[name]
    exe = tmp / (name + ("_fixed" if fixed else ""))
    # DWARF 4: Valgrind 3.19 cannot read the DWARF 5 of newer compilers.
    flags = ["-g", "-gdwarf-4", "-O0", "-pthread"] + ([f"-D{define}"] if fixed else [])
    subprocess.run(["cc", *flags, str(ROOT / "ci" / "tests" / src), "-o", str(exe)], check=True)
    return exe


def sweep(tmp: Path, *bins: Path, drd: str = "") -> tuple[subprocess.CompletedProcess[str],
                                                           dict[str, object]]:
    out = tmp / "out"
    env = dict(os.environ, REPORT_DIR=str(out), TEST_TIMEOUT="300", DRD_BINS=drd)
    done = subprocess.run([str(ROOT / "ci" / "valgrind.sh"), *map(str, bins)], env=env,
                          capture_output=True, text=True, timeout=900)
    return done, jsonio.read(out / "valgrind.json", "gort.valgrind/2")


@pytest.mark.parametrize("name", sorted(CASES))
def test_helgrind_catches_the_bug(tmp_path: Path, name: str) -> None:
    done, doc = sweep(tmp_path, build(tmp_path, name, fixed=False))
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"FAIL helgrind {name}" in done.stdout and f"ok   memcheck {name}" in done.stdout
    kinds = {e["kind"] for e in doc["errors"] if e["tool"] == "helgrind"}  # type: ignore[index]
    assert CASES[name][2] in kinds
    runs = {(b["tool"], b["errors"] > 0) for b in doc["binaries"]}  # type: ignore[index]
    assert runs == {("memcheck", False), ("helgrind", True)}
    assert done.stdout.rstrip().endswith("valgrind: 1 passed, 1 failed")


def test_fixed_twins_are_clean(tmp_path: Path) -> None:
    bins = [build(tmp_path, name, fixed=True) for name in sorted(CASES)]
    done, doc = sweep(tmp_path, *bins)
    assert done.returncode == 0, done.stdout + done.stderr
    assert doc["errors"] == []
    assert len(doc["binaries"]) == 4  # type: ignore[arg-type]
    assert done.stdout.rstrip().endswith("valgrind: 4 passed, 0 failed")


def test_drd_second_opinion_on_drd_bins_only(tmp_path: Path) -> None:
    """DRD runs on the binaries DRD_BINS names: it flags the racy flag
    (ConflictingAccess) and passes its fixed twin; lock_order, not named,
    gets no DRD run."""
    racy = build(tmp_path, "race_flag", fixed=False)
    fixed = build(tmp_path, "race_flag", fixed=True)
    other = build(tmp_path, "lock_order", fixed=True)
    done, doc = sweep(tmp_path, racy, fixed, other, drd="race_flag race_flag_fixed")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAIL drd race_flag " in done.stdout and "ok   drd race_flag_fixed" in done.stdout
    errors = cast(list[dict[str, str]], doc["errors"])
    kinds = {e["kind"] for e in errors if e["tool"] == "drd" and Path(e["binary"]).name == "race_flag"}
    assert kinds == {"ConflictingAccess"}
    runs = {(Path(b["binary"]).name, b["tool"]) for b in cast(list[dict[str, str]], doc["binaries"])}
    assert ("lock_order_fixed", "drd") not in runs
    assert ("race_flag_fixed", "drd") in runs
