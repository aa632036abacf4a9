"""ThreadSanitizer's report files (TSAN_OPTIONS log_path=...), parsed.

A log file holds zero or more reports, each between two lines of '=' and
opened by 'WARNING: ThreadSanitizer: <kind> (pid=N)'. A report is a list of
stacks, each a heading ('Write of size 4 at 0x... by thread T1:') followed by
frames ('#0 func file:line:col (module+0xoff)'), and a SUMMARY line. clang's
and gcc's runtimes write the same shape (gcc has no column).

The signature that deduplicates reports is the kind plus the top frames of
the stacks that describe the conflict (the accesses, or the mutex
acquisitions of a lock-order inversion), each frame as function and
file:line, the stacks sorted so that A-vs-B and B-vs-A are one race. Thread
creation and location stacks are left out: where a thread was created does
not change which race it is. Unsymbolized frames key on module+offset, which
is stable across runs under ASLR.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from typing import Any

SIGNATURE_FRAMES = 3

_WARNING = re.compile(r"^WARNING: ThreadSanitizer: (.+?)(?: \(pid=\d+\))?\s*$")
_FRAME = re.compile(r"^\s*#\d+\s+(.*?)\s*(?:\(BuildId: [0-9a-f]+\))?\s*$")
_MODULE = re.compile(r"\s\(([^()]*)\+(0x[0-9a-fA-F]+)\)$")
_LOCATION = re.compile(r"^(.*?):(\d+)(?::\d+)?$")
# Headings of stacks that are context, not the conflict itself.
_CONTEXT = re.compile(r"^(Thread T\d+|Location is|Mutex M\d+ \(.*\) created at|Mutex M\d+ created at)")
FATAL_MARKERS = ("FATAL: ThreadSanitizer", "ThreadSanitizer: CHECK failed")


@dataclass
class Frame:
    function: str
    file: str | None = None
    line: int | None = None
    module: str | None = None
    offset: str | None = None

    def key(self) -> str:
        if self.file and self.line is not None:
            return f"{self.function} {os.path.basename(self.file)}:{self.line}"
        if self.module:
            return f"{self.function} {os.path.basename(self.module)}+{self.offset}"
        return self.function

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"function": self.function}
        for name in ("file", "line", "module", "offset"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


@dataclass
class Stack:
    title: str
    frames: list[Frame] = field(default_factory=list)

    @property
    def is_context(self) -> bool:
        return bool(_CONTEXT.match(self.title))

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "frames": [f.to_json() for f in self.frames]}


@dataclass
class Report:
    kind: str
    summary: str = ""
    stacks: list[Stack] = field(default_factory=list)

    def signature(self) -> list[str]:
        conflict = [s for s in self.stacks if not s.is_context and s.frames] or self.stacks
        parts = sorted(" | ".join(f.key() for f in s.frames[:SIGNATURE_FRAMES]) for s in conflict)
        return [self.kind] + parts

    def signature_id(self) -> str:
        return hashlib.sha256("\n".join(self.signature()).encode()).hexdigest()[:16]


def parse_frame(line: str) -> Frame | None:
    m = _FRAME.match(line)
    if not m:
        return None
    body = m.group(1)
    module = offset = None
    mm = _MODULE.search(body)
    if mm:
        module, offset = mm.group(1), mm.group(2)
        body = body[: mm.start()]
    function, _, where = body.rpartition(" ")
    if not function:  # only one word: a function without location
        return Frame(body.strip() or "??", module=module, offset=offset)
    loc = _LOCATION.match(where)
    if loc:
        return Frame(function.strip(), loc.group(1), int(loc.group(2)), module, offset)
    # '<null>' or a location without a line: keep the function alone.
    return Frame(function.strip(), module=module, offset=offset)


def parse(text: str) -> list[Report]:
    """Every report in one log file's text, in order."""
    reports: list[Report] = []
    cur: Report | None = None
    stack: Stack | None = None
    for raw in text.splitlines():
        line = raw.rstrip()
        w = _WARNING.match(line)
        if w:
            cur = Report(w.group(1))
            reports.append(cur)
            stack = None
            continue
        if cur is None:
            continue
        if line.startswith("SUMMARY: ThreadSanitizer:"):
            cur.summary = line[len("SUMMARY: ThreadSanitizer:"):].strip()
            cur = stack = None
        elif line.lstrip().startswith("#"):
            frame = parse_frame(line)
            if frame is not None and stack is not None:
                stack.frames.append(frame)
        elif line.startswith("  ") and not line.startswith("    ") and line.strip():
            # Stack headings are indented by two spaces, frames by four.
            stack = Stack(line.strip())
            cur.stacks.append(stack)
    return reports


def fatal_line(text: str) -> str | None:
    """The first line saying TSan itself failed (it then checked nothing)."""
    for line in text.splitlines():
        if any(marker in line for marker in FATAL_MARKERS):
            return line.strip()
    return None
