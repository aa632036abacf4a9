"""The one reader of Google Benchmark JSON (gort's bench.json and the Go
side converted by bench/go2json.py): schema gort.bench/1 in `context.schema`.

Times are converted to nanoseconds from each run's `time_unit`; medians are
true medians (statistics.median: the mean of the two middle values for an
even count). Aggregate rows (mean, median, stddev, cv) that Google Benchmark
adds are ignored: every statistic is computed from the repetitions.
"""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass, field
from typing import Any

from . import jsonio
from .errors import InputError

SCHEMA = "gort.bench/1"

_UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}

# Fields of a run that are not user counters.
_STANDARD = {
    "name", "family_index", "per_family_instance_index", "run_name", "run_type",
    "repetitions", "repetition_index", "threads", "iterations", "real_time",
    "cpu_time", "time_unit", "error_occurred", "error_message", "aggregate_name",
    "aggregate_unit", "label",
}


@dataclass(frozen=True)
class Run:
    """One repetition of one benchmark."""

    name: str  # run_name: the benchmark without aggregate suffixes
    real_ns: float
    cpu_ns: float
    iterations: int
    counters: dict[str, float]


@dataclass
class Benchmark:
    """Every repetition of one benchmark, and whether any errored."""

    name: str
    runs: list[Run] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def real_ns(self) -> list[float]:
        return [r.real_ns for r in self.runs]

    @property
    def cpu_ns(self) -> list[float]:
        return [r.cpu_ns for r in self.runs]

    @property
    def errored(self) -> bool:
        return bool(self.errors)

    def median_real_ns(self) -> float | None:
        return statistics.median(self.real_ns) if self.runs else None

    def median_cpu_ns(self) -> float | None:
        return statistics.median(self.cpu_ns) if self.runs else None

    def median_counter(self, key: str) -> float | None:
        vals = [r.counters[key] for r in self.runs if key in r.counters]
        return statistics.median(vals) if vals else None

    def cv(self) -> float | None:
        """Coefficient of variation of real time (None under 2 runs)."""
        xs = self.real_ns
        if len(xs) < 2:
            return None
        mean = statistics.fmean(xs)
        return statistics.stdev(xs) / mean if mean else None


@dataclass
class BenchFile:
    path: str
    context: dict[str, Any]
    benchmarks: dict[str, Benchmark]  # in first-seen order

    def names(self) -> list[str]:
        return list(self.benchmarks)


def parse(doc: dict[str, Any], path: str = "bench.json") -> BenchFile:
    """Build a BenchFile from an already validated document."""
    benches: dict[str, Benchmark] = {}
    for row in doc.get("benchmarks", []):
        if row.get("run_type") == "aggregate":
            continue
        name = row.get("run_name") or row["name"]
        b = benches.setdefault(name, Benchmark(name))
        if row.get("error_occurred"):
            b.errors.append(str(row.get("error_message") or "error_occurred"))
            continue
        unit = _UNIT_NS[row.get("time_unit", "ns")]
        counters = {
            k: float(v) for k, v in row.items()
            if k not in _STANDARD and isinstance(v, (int, float)) and not isinstance(v, bool)
        }
        b.runs.append(Run(name, float(row["real_time"]) * unit, float(row["cpu_time"]) * unit,
                          int(row.get("iterations", 0)), counters))
    return BenchFile(str(path), dict(doc.get("context", {})), benches)


def read(path: str | os.PathLike[str]) -> BenchFile:
    """Read and validate a Google Benchmark JSON file (InputError if bad)."""
    return parse(jsonio.read(path, SCHEMA), str(path))


def backend(bf: BenchFile, expected: str) -> tuple[str, str]:
    """The backend gort ran on for this file (the bench binary's context
    key gort_backend, gort_backend_name(): "thread" or "mn", as GORT_BACKEND
    chose it), and where that was read:
    ("mn", "context") from the context's gort_backend; a file written
    before the bench binary wrote that key is taken to be what its name
    says (expected, "file name"). A file whose context names another
    backend than expected is mislabelled: InputError."""
    said = bf.context.get("gort_backend")
    if said is None:
        return expected, "file name"
    if said != expected:
        raise InputError(f"{bf.path}: gort_backend is {said!r}, expected {expected!r} "
                         f"(make bench writes bench.json with GORT_BACKEND=thread, bench-mn.json with mn)")
    return expected, "context"
