"""Sanitizer reports found in a test binary's output (ThreadSanitizer,
AddressSanitizer, LeakSanitizer, UndefinedBehaviorSanitizer).

Each report is kept as the sanitizer printed it (that text is the finding's
message); its stacks are split into frames so that a finding has a site and
a fingerprint. Used when gort-race's JSON (gort.race/1) is not there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# ThreadSanitizer's exit status after it reported (its default exitcode):
# with halt_on_error=0 (make report's race sweep) the tests finish and the
# binary exits so. A binary that exited otherwise may still have printed
# reports of children it forked and expected to misbehave (test_badinput).
TSAN_EXITCODE = 66

# "#3 0x4011d6 in fn file.c:12:5" (ASan) or "#3 fn file.c:12 (bin+0x..)" (TSan).
_FRAME = re.compile(r"^\s*#(\d+)\s+(?:0x[0-9a-f]+\s+in\s+)?(\S+)\s+(\S+?)(?::(\d+))?(?::\d+)?(?:\s+\(.*\))?\s*$")
_HEAD = re.compile(r"^(?:==\d+==)?(WARNING|ERROR): (\w+Sanitizer): (.*?)(?: \(pid=\d+\))?$")
_SUMMARY = re.compile(r"^SUMMARY: (\w+Sanitizer): (.*)$")
_UBSAN = re.compile(r"^(\S+?):(\d+):\d+: runtime error: (.*)$")


@dataclass(frozen=True)
class Frame:
    function: str
    file: str
    line: int


@dataclass
class Report:
    tool: str  # ThreadSanitizer, AddressSanitizer, ...
    headline: str  # "data race", "heap-use-after-free ...", ...
    text: str
    stacks: list[list[Frame]] = field(default_factory=list)
    stack_titles: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "race" if self.tool == "ThreadSanitizer" else "memory-error"


def _stacks(lines: list[str]) -> tuple[list[list[Frame]], list[str]]:
    stacks: list[list[Frame]] = []
    titles: list[str] = []
    title = ""
    for line in lines:
        m = _FRAME.match(line)
        if not m:
            if line.strip():
                title = line.strip()
            continue
        if m.group(1) == "0":
            stacks.append([])
            titles.append(title)
        if stacks:
            stacks[-1].append(Frame(m.group(2), m.group(3), int(m.group(4) or 0)))
    return stacks, titles


def reports(log: str) -> list[Report]:
    """Every sanitizer report in log, in order."""
    out: list[Report] = []
    lines = log.splitlines()
    i = 0
    while i < len(lines):
        head = _HEAD.match(lines[i].strip())
        ub = _UBSAN.match(lines[i].strip())
        if head:
            j = i + 1
            while j < len(lines) and not _SUMMARY.match(lines[j].strip()):
                if _HEAD.match(lines[j].strip()):
                    break
                j += 1
            block = lines[i:min(j + 1, len(lines))]
            stacks, titles = _stacks(block[1:])
            out.append(Report(head.group(2), head.group(3), "\n".join(block).strip(), stacks, titles))
            i = j + 1
        elif ub:
            j = i + 1
            while j < len(lines) and (_FRAME.match(lines[j]) or not lines[j].strip()):
                j += 1
            block = lines[i:j]
            stacks, titles = _stacks(block[1:])
            if not stacks:
                stacks = [[Frame("", ub.group(1), int(ub.group(2)))]]
            out.append(Report("UndefinedBehaviorSanitizer", ub.group(3), "\n".join(block).strip(), stacks,
                              titles))
            i = j
        else:
            i += 1
    return out
