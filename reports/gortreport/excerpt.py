"""Excerpts of what the detectors printed: the one line a JUnit failure's
message attribute carries (the detector's own first line(s), with the site
they name), the detector that stopped a binary, and caps on long texts that
say how much they cut.

The headline of each shape of text, all in the detector's words:

  leakcheck  "leakcheck: found unexpected tasks: Task 2 in state [chan receive,
             434 ms], with stuck on top of the stack, created by f in task 1 at
             file.c:27" (the first leak of the report; "(+N more)" after it)
  sanitizer  "ThreadSanitizer: data race: Read of size 8 at 0x.. by thread T3
             in writer (file.c:33); Previous write of size 8 ... in f
             (file.c:38)" (the report's first line, then its first two stacks,
             each by its title and its first frame inside the repository)
  Valgrind   "16,384 bytes in 4 blocks are definitely lost in loss record 1 of
             1, allocated at f (file.c:13)" (what, then the site)
  cmocka     "0x2 != 0x3 (file.c:14)" (the assertion, then where it failed)
  other      the first line that is not blank
"""

from __future__ import annotations

import re

from . import repo, sanitizer

MESSAGE_CHARS = 500  # a JUnit message attribute: one line, at most this long

# leakcheck's report headers (leakcheck/src/lc_report.c, `headers`), by kind.
LEAK_HEADERS = {
    "task": "found unexpected tasks:",
    "thread": "found unexpected threads:",
    "fd": "found unexpected file descriptors:",
    "heap": "found heap leaks:",
    "timer": "found pending timers:",
}

# The first line of one leak in a leakcheck report (lc_report.c, text_*).
_LEAK_ITEM = re.compile(r"^(?:Task \d+|Thread \d+|fd \d+ -> |Timer \d+ \[|[A-Za-z ]+: \d+ byte\(s\) in \d+ object\(s\))")
_LOCATION = re.compile(r"^\t(\S+:\d+)$")  # leakcheck's "\tfile:line" under a function
_CMOCKA_AT = re.compile(r"^(\S+?:\d+): error: (.*)$")
_VG_FRAME = re.compile(r"^\s+(?:at|by) (?:0x[0-9A-Fa-f]+: )?(\S+) \(([^():]+):(\d+)\)$")
# What stops a binary besides a sanitizer: gort's misuse abort, its deadlock
# detector (runtime/src/err.c, deadlock.c), the runner's watchdog.
_GORT_FATAL = re.compile(r"^(?:panic: |fatal error: |\[ TIMEOUT  \] ).*")


# Control characters (XML 1.0 cannot carry most; terminal escapes are noise).
_CONTROL = {c: None for c in range(32) if c not in (9, 10, 13)}


def one_line(text: str, limit: int = MESSAGE_CHARS) -> str:
    """text on one line (runs of white space as one space, no control
    characters), at most limit characters (cut with an ellipsis)."""
    flat = " ".join(text.translate(_CONTROL).split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def keep_tail(text: str, limit: int) -> str:
    """The last limit characters of text, opened by a line saying how many
    bytes were cut before them."""
    if len(text) <= limit:
        return text
    cut = text[:-limit]
    return f"[... {len(cut.encode())} bytes elided ...]\n{text[-limit:]}"


def keep_head(text: str, limit: int) -> str:
    """The first limit characters of text, closed by a line saying how many
    bytes were cut after them."""
    if len(text) <= limit:
        return text
    cut = text[limit:]
    return f"{text[:limit]}\n[... {len(cut.encode())} bytes elided ...]"


def _lines(text: str) -> list[str]:
    return [ln.rstrip() for ln in text.splitlines() if ln.strip()]


def _leak(lines: list[str]) -> str:
    """leakcheck's header and its first leak: the leak's first line and the
    site it names (created by / started at, with the file:line under it)."""
    head = lines[0]
    items = [i for i, ln in enumerate(lines) if _LEAK_ITEM.match(ln)]
    if not items:
        return head
    start = items[0]
    end = items[1] if len(items) > 1 else len(lines)
    item = lines[start:end]
    out = item[0].rstrip(":")
    at = _LOCATION.match(item[1]) if len(item) > 1 else None
    if at:  # Timer N [...], created by f / fd: the site is the next line
        out += f" at {at.group(1)}"
    for i, ln in enumerate(item[1:], 1):
        if ln.startswith(("created by ", "started at ")):
            out += f", {ln}"
            loc = _LOCATION.match(item[i + 1]) if i + 1 < len(item) else None
            if loc:
                out += f" at {loc.group(1)}"
            break
    more = f" (+{len(items) - 1} more)" if len(items) > 1 else ""
    return f"{head} {out}{more}"


def _frame_site(frames: list[sanitizer.Frame]) -> str:
    """A stack's first frame inside the repository (else its first frame)."""
    if not frames:
        return ""
    fr = next((f for f in frames if repo.relpath(f.file)), frames[0])
    where = f"{repo.relpath(fr.file) or fr.file}:{fr.line}" if fr.line else (fr.file or "?")
    return f" in {fr.function} ({where})"


def sanitizer_headline(rep: sanitizer.Report) -> str:
    """A sanitizer report's first line, then its first two stacks (the two
    accesses of a race; the access and the free of a use after free)."""
    if rep.tool == "UndefinedBehaviorSanitizer":
        return rep.text.splitlines()[0].strip()
    parts = [f"{rep.tool}: {rep.headline}"]
    for title, frames in list(zip(rep.stack_titles, rep.stacks))[:2]:
        title = re.sub(r"(?:\s+(?:here|from))?:?$", "", title.strip())
        parts.append(f"{title}{_frame_site(frames)}")
    return parts[0] + (": " + "; ".join(parts[1:]) if len(parts) > 1 else "")


def _valgrind(lines: list[str], site: tuple[str, str, int] | None) -> str:
    what = lines[0]
    how = ", allocated at" if " lost in loss record " in what else " at"
    if site and site[1]:
        fn, file, line = site
        return f"{what}{how} {fn or '?'} ({file}:{line})" if line else f"{what}{how} {fn or '?'} ({file})"
    for ln in lines[1:]:
        m = _VG_FRAME.match(ln)
        if m and not m.group(2).startswith("vg_replace_"):
            return f"{what}{how} {m.group(1)} ({m.group(2)}:{m.group(3)})"
    return what


def headline(text: str, site: tuple[str, str, int] | None = None, limit: int = MESSAGE_CHARS) -> str:
    """The detector's own first line(s) of text, on one line: what a JUnit
    failure's message attribute carries. site (function, relative file,
    line) is the finding's, used where the detector printed no usable path
    (Valgrind prints base names)."""
    lines = _lines(text)
    if not lines:
        return "failed"
    first = lines[0].strip()
    if first.startswith("leakcheck: found "):
        return one_line(_leak(lines), limit)
    reps = sanitizer.reports(text)
    if reps and reps[0].text.splitlines()[0].strip() == first:
        return one_line(sanitizer_headline(reps[0]), limit)
    if len(lines) > 1 and re.match(r"^\s+at ", lines[1]):
        return one_line(_valgrind(lines, site), limit)
    m = _CMOCKA_AT.match(first)
    if m:
        return one_line(first, limit)
    at = next((_CMOCKA_AT.match(ln.strip()) for ln in lines[1:] if _CMOCKA_AT.match(ln.strip())), None)
    if at and not at.group(1).startswith("leakcheck/src/"):
        return one_line(f"{first} ({at.group(1)})", limit)
    return one_line(first, limit)


def stopped_by(log: str) -> str:
    """What stopped a binary, in the detector's words: the first sanitizer
    report's headline, else gort's panic or fatal error line or the
    watchdog's, else ""."""
    reps = sanitizer.reports(log)
    if reps:
        return sanitizer_headline(reps[0])
    m = next((_GORT_FATAL.match(ln.strip()) for ln in log.splitlines() if _GORT_FATAL.match(ln.strip())), None)
    return m.group(0) if m else ""
