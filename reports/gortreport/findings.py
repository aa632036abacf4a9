"""Findings: what the detectors found, each once, with every place (mode,
variant) it was seen.

A finding's id is its fingerprint: kind + symbolized site + a hash of the
stack's functions (only frames inside the repository, so that the same leak
seen natively, under ASan and under Valgrind, whose stacks differ in the
allocator and sanitizer frames, is one finding) + what it is about (binary
and test, for findings tied to one). Every occurrence becomes a failing
JUnit testcase; every finding one SARIF result and one entry in the HTML.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Iterable

from . import repo

# kind -> (short description, help text). The rules of the SARIF file.
RULES: dict[str, tuple[str, str]] = {
    "test-failure": ("A test failed",
                     "A cmocka test failed an assertion. The message is cmocka's, followed by the report of "
                     "the detector that failed it, if any. Run the binary alone to reproduce."),
    "crash": ("A test binary died",
              "The binary exited on a signal or a non-zero status outside cmocka's accounting; the tests it "
              "had not run yet are errors. The log tail shows what it printed last."),
    "timeout": ("A test binary hung",
                "The runner's timeout killed the binary (SIGQUIT first, so gort printed its task dump: look "
                "for the tasks parked forever)."),
    "race": ("Data race",
             "ThreadSanitizer (or Helgrind) saw two accesses to the same memory from different threads, at "
             "least one a write, with no happens-before edge. Both stacks are in the message: add the "
             "missing synchronization (channel, mutex, atomic)."),
    "memory-error": ("Memory error",
                     "A sanitizer or Valgrind memcheck reported an invalid access, use after free, "
                     "uninitialised value or undefined behaviour. The detector's record is the message."),
    "leak-task": ("Leaked task",
                  "A task (goroutine) was still alive after the test: blocked forever on a channel, select, "
                  "timer or context. The goleak-shaped report shows where it was created and where it waits."),
    "leak-thread": ("Leaked thread", "An OS thread started during the test was still running after it."),
    "leak-fd": ("Leaked file descriptor", "A file descriptor opened during the test was still open after it."),
    "leak-timer": ("Leaked timer",
                   "A timer, ticker or context deadline created during the test was still pending after it "
                   "(time.After in a loop, a context never cancelled, a ticker never stopped); the report "
                   "names its kind and the function that created it."),
    "leak-heap": ("Leaked memory",
                  "Heap blocks no longer referenced at exit (LeakSanitizer or Valgrind's leak check); the "
                  "stack is where they were allocated."),
    "leakcheck-run": ("Leakcheck could not check a binary",
                      "The binary failed, crashed or timed out under leakcheck, so its leaks are unknown."),
    "calibration": ("Leakcheck calibration failed",
                    "A planted leak was not found, found at the wrong site, or a fixed twin raised an alarm: "
                    "the detector itself cannot be trusted until this is fixed."),
    "bench-regression": ("Benchmark regression",
                         "The benchmark is slower than the baseline by more than the threshold, and the "
                         "difference is significant (see compare.json for the test and interval)."),
    "step-failed": ("A step of make report failed",
                    "The step exited non-zero without a finding of its own to say why (a build that failed, "
                    "a runner or tool that crashed), or left a file it must write missing or unreadable: what "
                    "it should have checked is unknown. The message ends with the step's log "
                    "(reports/out/logs/<step>.log); the location is the step in reports/reports.mk."),
    "catalog-verdict": ("Anti-pattern catalog misgraded",
                        "make antipatterns-check: the entry's detector missed its bad program, raised an alarm "
                        "on its fixed twin, or could not judge a run (verdicts.json has every run)."),
    "bench-missing": ("Benchmark missing", "The benchmark ran in the base but not in the current tree."),
    "bench-errored": ("Benchmark errored", "The benchmark reported an error in the current tree."),
    "bench-icount-regression": ("Instruction count regression",
                                "The deterministic benchmark body executes more instructions per op than in "
                                "the base, beyond the threshold (callgrind, immune to machine noise)."),
    "bench-icount-missing": ("Instruction count missing", "Counted in the base, missing from the current tree."),
    "bench-icount-errored": ("Instruction count failed", "The instructions of the body could not be counted."),
}


@dataclass
class Occurrence:
    """One sighting: becomes one failing (or erroring) JUnit testcase."""

    mode: str  # e.g. "native", "asan", "valgrind", "tests:default", "thread"
    suite: str  # JUnit testsuite
    case: str  # JUnit testcase name
    text: str  # the detector's own text
    seconds: float = 0.0
    error: bool = False  # an error (could not run) rather than a failure


@dataclass
class Finding:
    kind: str
    title: str
    text: str
    subject: str = ""  # what it is about: "binary test" or a benchmark
    function: str = ""
    file: str = ""  # relative to the repository
    line: int = 0
    stack: list[str] = field(default_factory=list)  # "function file:line", innermost first
    occurrences: list[Occurrence] = field(default_factory=list)
    extra_key: str = ""

    @property
    def id(self) -> str:
        funcs = "|".join(s.split(" ")[0] for s in own_frames(self.stack))
        stack_hash = hashlib.sha256(funcs.encode()).hexdigest()[:16]
        key = "\n".join([self.kind, self.subject, f"{self.function}@{self.file}:{self.line}", stack_hash,
                         self.extra_key])
        return f"{self.kind}:{hashlib.sha256(key.encode()).hexdigest()[:20]}"

    @property
    def modes(self) -> list[str]:
        return sorted({o.mode for o in self.occurrences})

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "message": self.title, "text": self.text,
            "subject": self.subject, "function": self.function, "file": self.file, "line": self.line,
            "stack": self.stack, "modes": self.modes,
            "occurrences": [vars(o) for o in self.occurrences],
        }


# The test harness: the frames that called a test (cmocka's runner wrapped by
# leakcheck and the watchdog, then main). How deep a detector unwinds through
# them differs (LSan's fast unwinder stops at libcmocka, Valgrind does not).
HARNESS = ("leakcheck/src/lc_cmocka.c", "runtime/tests/support/")


def own_frames(stack: list[str]) -> list[str]:
    """The stack up to the first harness frame below the first: what the
    fingerprint hashes, so that one leak unwound to different depths by
    different detectors is one finding."""
    for i, entry in enumerate(stack[1:], 1):
        where = entry.partition(" ")[2]
        if where.startswith(HARNESS):
            return stack[:i]
    return stack


def from_json(doc: dict[str, Any]) -> Finding:
    f = Finding(doc["kind"], doc["message"], doc["text"], doc.get("subject", ""), doc.get("function", ""),
                doc.get("file", ""), doc.get("line", 0), list(doc.get("stack", [])),
                [Occurrence(**o) for o in doc.get("occurrences", [])])
    return f


def site(frames: Iterable[tuple[str, str, int]]) -> tuple[str, str, int, list[str]]:
    """The first frame inside the repository (function, relative file, line)
    and the in-repository stack, from (function, file, line) frames."""
    stack = []
    first: tuple[str, str, int] | None = None
    for fn, file, line in frames:
        rel = repo.relpath(file)
        if not rel:
            continue
        stack.append(f"{fn} {rel}:{line}")
        if first is None:
            first = (fn, rel, line)
    if first is None:
        return "", "", 0, stack
    return first[0], first[1], first[2], stack


Frames = list[tuple[str, str, int]]


def conflict_site(stacks: list[Frames]) -> tuple[str, str, int, list[str]]:
    """Site and stack of a race from its two access stacks, independent of
    which access the detector saw first (that order changes from run to
    run): the in-repository parts of both stacks above the test harness,
    sorted."""
    parts = sorted((own_frames(site(s)[3]) for s in stacks[:2]), key=lambda st: (not st, st))
    stack = [entry for part in parts for entry in part]
    if not stack:
        return "", "", 0, []
    fn, _, where = stack[0].partition(" ")
    file, _, line = where.rpartition(":")
    return fn, file, int(line) if line.isdigit() else 0, stack


def merge(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per id, with the occurrences of every copy, in first-seen order."""
    out: dict[str, Finding] = {}
    for f in findings:
        have = out.get(f.id)
        if have is None:
            out[f.id] = f
        else:
            have.occurrences += f.occurrences
    return list(out.values())
