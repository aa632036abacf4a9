"""Valgrind's own XML (--xml=yes, protocol 4) read into gort.valgrind/2.

Any tool works (memcheck, helgrind, drd): each <error> keeps Valgrind's kind,
its text and its stacks, symbolized by Valgrind. A file cut short (the binary
was killed) is read up to the last complete error and marked incomplete.
"""

from __future__ import annotations

import argparse
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import jsonio
from .errors import InputError, run_cli

SCHEMA = "gort.valgrind/2"


@dataclass
class Frame:
    fn: str = ""
    file: str = ""
    dir: str = ""
    line: int = 0
    obj: str = ""
    ip: str = ""

    def render(self) -> str:
        where = f"{self.file}:{self.line}" if self.file else (self.obj or "???")
        return f"{self.ip}: {self.fn or '???'} ({where})"


@dataclass
class VgError:
    binary: str
    tool: str
    kind: str
    what: str
    auxwhat: list[str] = field(default_factory=list)
    stacks: list[list[Frame]] = field(default_factory=list)

    def text(self) -> str:
        """The record as Valgrind prints it: what, stack, then each aux text
        with its stack."""
        lines = [self.what]
        for i, stack in enumerate(self.stacks):
            if i > 0 and i - 1 < len(self.auxwhat):
                lines.append(self.auxwhat[i - 1])
            lines += [("   at " if j == 0 else "   by ") + f.render() for j, f in enumerate(stack)]
        lines += self.auxwhat[max(len(self.stacks) - 1, 0):]
        return "\n".join(lines)


@dataclass
class VgFile:
    path: str
    binary: str
    tool: str
    errors: list[VgError]
    complete: bool
    exit_code: int | None = None  # from <xml minus .xml>.rc, which ci/valgrind.sh writes


def _text(el: ET.Element | None) -> str:
    return (el.text or "").strip() if el is not None else ""


def _frame(el: ET.Element) -> Frame:
    line = _text(el.find("line"))
    return Frame(_text(el.find("fn")), _text(el.find("file")), _text(el.find("dir")),
                 int(line) if line.isdigit() else 0, _text(el.find("obj")), _text(el.find("ip")))


def _error(el: ET.Element, binary: str, tool: str) -> VgError:
    what = _text(el.find("what")) or _text(el.find("xwhat/text"))
    aux = [_text(a) for a in el.findall("auxwhat")] + [_text(a.find("text")) for a in el.findall("xauxwhat")]
    stacks = [[_frame(f) for f in s.findall("frame")] for s in el.findall("stack")]
    return VgError(binary, tool, _text(el.find("kind")), what, [a for a in aux if a], stacks)


def parse(path: str | os.PathLike[str]) -> VgFile:
    """Read one Valgrind XML file (InputError unless it is Valgrind's)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror}") from err
    parser = ET.XMLPullParser(events=("end",))
    binary, tool, errors, seen_root = "", "", [], False
    # Parse errors are queued and raised by read_events, after every event
    # before them: a file cut short keeps its complete errors.
    parser.feed(data)
    try:
        parser.close()
    except ET.ParseError:
        pass
    try:
        for _, el in parser.read_events():
            if el.tag == "valgrindoutput":
                seen_root = True
            elif el.tag == "tool" and not tool:
                tool = _text(el)
            elif el.tag == "args" and not binary:
                binary = _text(el.find("argv/exe"))
            elif el.tag == "error":
                errors.append(el)
    except ET.ParseError:
        pass  # cut short, or a forked child's lines after the end: seen_root tells
    complete = seen_root
    rc_file = Path(str(path)).with_suffix(".rc")
    rc_text = rc_file.read_text().strip() if rc_file.exists() else ""
    exit_code = int(rc_text) if rc_text.lstrip("-").isdigit() else None
    if not tool:
        raise InputError(f"{path}: not Valgrind XML output (no <tool>; empty or truncated?)")
    return VgFile(str(path), binary, tool, [_error(e, binary, tool) for e in errors], complete, exit_code)


def to_json(files: list[VgFile]) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "binaries": [{"binary": f.binary, "tool": f.tool, "xml": f.path, "errors": len(f.errors),
                      "complete": f.complete, **({} if f.exit_code is None else {"exit_code": f.exit_code})}
                     for f in files],
        "errors": [{"binary": e.binary, "tool": e.tool, "kind": e.kind, "what": e.what,
                    "auxwhat": e.auxwhat,
                    "stacks": [[{k: v for k, v in vars(fr).items() if v} for fr in s] for s in e.stacks],
                    "text": e.text()} for f in files for e in f.errors],
    }


def read(path: str | os.PathLike[str]) -> tuple[list[dict[str, Any]], list[VgError]]:
    """valgrind.json: the binaries and their errors."""
    doc = jsonio.read(path, SCHEMA)
    errs = [VgError(e["binary"], e["tool"], e["kind"], e["what"], e.get("auxwhat", []),
                    [[Frame(**fr) for fr in s] for s in e["stacks"]]) for e in doc["errors"]]
    return list(doc["binaries"]), errs


def _main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="gortreport.valgrind",
                                 description="Merge Valgrind XML files into gort.valgrind/2 JSON.")
    ap.add_argument("--out", required=True)
    ap.add_argument("xml", nargs="*")
    a = ap.parse_args(argv)
    files = [parse(p) for p in a.xml]
    jsonio.write(a.out, to_json(files), SCHEMA)
    bad = [f for f in files if f.errors or not f.complete or f.exit_code not in (None, 0)]
    for f in bad:
        why = (f"{len(f.errors)} error(s)" + ("" if f.complete else ", output cut short")
               + ("" if f.exit_code in (None, 0) else f", exit status {f.exit_code}"))
        print(f"valgrind: FAIL {os.path.basename(f.binary)} [{f.tool}]: {why}")
    return 1 if bad else 0


def main() -> None:
    run_cli("gortreport.valgrind", _main)


if __name__ == "__main__":
    main()
