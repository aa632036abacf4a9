"""findings.sarif: SARIF 2.1.0 for code scanning. One result per distinct
finding (its occurrences' modes listed in the message and properties), a
stable partialFingerprint (the finding's id), repository-relative locations
with line numbers, one rule per kind with help text, gort's real version."""

from __future__ import annotations

from typing import Any

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


def render(report: dict[str, Any]) -> dict[str, Any]:
    kinds = sorted({f["kind"] for f in report["findings"]})
    index = {k: i for i, k in enumerate(kinds)}
    results = []
    for f in report["findings"]:
        modes = ", ".join(f["modes"])
        text = f"{f['message']} (seen in: {modes})\n\n{f['text']}"
        result: dict[str, Any] = {
            "ruleId": f["kind"], "ruleIndex": index[f["kind"]], "level": "error",
            "message": {"text": text[:_MAX_TEXT]},
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
            "results": results,
            "columnKind": "utf16CodeUnits",
        }],
    }
