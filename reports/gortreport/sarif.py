"""findings.sarif: SARIF 2.1.0 for code scanning. One result per distinct
finding (its occurrences' modes listed in the message and properties), a
stable partialFingerprint (the finding's id), repository-relative locations
with line numbers, one rule per kind with help text, gort's real version.

What could not be checked is no result (it is no finding, and JUnit only
skips it) but is not silent either: the run's invocation carries a
toolExecutionNotification for it, as JUnit's skipped "(exit)" testcase and
the HTML's leaks section say it: a warning for each leakcheck run whose exit
was not judged because the run failed (its heap unchecked), a note for each
layer leakcheck could not check in a mode (leakcheck's `unchecked`, e.g. the
heap of the native runs), listing the binaries."""

from __future__ import annotations

import os
from typing import Any

from . import excerpt, junit
from .findings import RULES

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT = "gortFinding/v1"
_MAX_TEXT = 20000


def _rule(kind: str) -> dict[str, Any]:
    short, help_text = RULES[kind]
    return {"id": kind, "name": "".join(w.capitalize() for w in kind.split("-")),
            "shortDescription": {"text": short}, "fullDescription": {"text": help_text},
            "help": {"text": help_text, "markdown": f"**{short}.** {help_text}"},
            "defaultConfiguration": {"level": "error"}}


def _location(f: dict[str, Any]) -> list[dict[str, Any]]:
    if not f["file"]:
        return []
    region = {"startLine": f["line"]} if f["line"] > 0 else {}
    loc: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": f["file"], "uriBaseId": "SRCROOT"},
                                                **({"region": region} if region else {})}}
    if f.get("function"):
        loc["logicalLocations"] = [{"name": f["function"], "kind": "function"}]
    return [loc]


def _stack(f: dict[str, Any]) -> list[dict[str, Any]]:
    frames = []
    for entry in f.get("stack", []):
        fn, _, where = entry.partition(" ")
        path, _, line = where.rpartition(":")
        phys: dict[str, Any] = {"artifactLocation": {"uri": path, "uriBaseId": "SRCROOT"}}
        if line.isdigit() and int(line) > 0:
            phys["region"] = {"startLine": int(line)}
        frames.append({"location": {"physicalLocation": phys, "logicalLocations": [{"name": fn}]}})
    return [{"frames": frames}] if frames else []


def _notifications(report: dict[str, Any]) -> list[dict[str, Any]]:
    """What leakcheck could not check, as the invocation's notifications."""
    leak = report.get("leakcheck") or {}
    out: list[dict[str, Any]] = [
        {"level": "warning", "descriptor": {"id": "leakcheck-exit-not-checked"},
         "message": {"text": junit.exit_not_checked(r)},
         "properties": {"binary": r["binary"], "mode": r["mode"]}}
        for r in junit.unchecked_exits(leak)]
    layers: dict[tuple[str, str, str, str], list[str]] = {}
    for r in leak.get("runs", []):
        for u in r.get("unchecked", []):
            layers.setdefault((r["mode"], u["layer"], u["why"], u["fix"]), []).append(os.path.basename(r["binary"]))
    for (mode, layer, why, fix), bins in sorted(layers.items()):
        out.append({
            "level": "note", "descriptor": {"id": "leakcheck-layer-not-checked"},
            "message": {"text": f"leakcheck [{mode}]: {layer} layer not checked in {len(bins)} binary(ies) "
                                f"({', '.join(sorted(bins))}): {why}; fix: {fix}"},
            "properties": {"mode": mode, "layer": layer, "binaries": sorted(bins)}})
    return out


def render(report: dict[str, Any]) -> dict[str, Any]:
    kinds = sorted({f["kind"] for f in report["findings"]})
    index = {k: i for i, k in enumerate(kinds)}
    results = []
    for f in report["findings"]:
        modes = ", ".join(f["modes"])
        text = f"{f['message']} (seen in: {modes})\n\n{f['text']}"
        result: dict[str, Any] = {
            "ruleId": f["kind"], "ruleIndex": index[f["kind"]], "level": "error",
            "message": {"text": excerpt.keep_head(text, _MAX_TEXT)},
            "locations": _location(f),
            "partialFingerprints": {FINGERPRINT: f["id"]},
            "properties": {"modes": f["modes"], "occurrences": len(f["occurrences"]),
                           "subject": f.get("subject", "")},
        }
        stacks = _stack(f)
        if stacks:
            result["stacks"] = stacks
        results.append(result)
    version = report["meta"]["gort_version"]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "gort", "version": version, "semanticVersion": version,
                                "rules": [_rule(k) for k in kinds]}},
            "automationDetails": {"id": f"gort/report/{report['meta']['commit']}"},
            "invocations": [{"executionSuccessful": report["verdict"] != "incomplete",
                             "toolExecutionNotifications": _notifications(report)}],
            "results": results,
            "columnKind": "utf16CodeUnits",
        }],
    }
