"""python3 -m gortreport.generate [OUT_DIR]: the harness files in OUT_DIR
(default reports/out) become report.json, summary.md, index.html, junit.xml
and findings.sarif. Exit 0 pass, 1 findings or incomplete, 2 bad input."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from . import build, html, jsonio, junit, markdown, sarif
from .errors import EXIT_FINDINGS, EXIT_OK, run_cli

OUTPUTS = ("report.json", "summary.md", "index.html", "junit.xml", "findings.sarif")


def write_all(out_dir: str) -> dict[str, object]:
    out = Path(out_dir)
    report = build.build(out)
    jsonio.write(out / "report.json", report, build.SCHEMA)
    (out / "summary.md").write_text(markdown.render(report))
    (out / "index.html").write_text(html.render(report))
    junit.write(report, str(out / "junit.xml"))
    (out / "findings.sarif").write_text(json.dumps(sarif.render(report), indent=1) + "\n")
    return report


def _main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="gortreport.generate", description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", default="reports/out")
    a = ap.parse_args(argv)
    if not Path(a.out).is_dir():
        from .errors import InputError
        raise InputError(f"{a.out}: no such directory (run make report)")
    report = write_all(a.out)
    findings = report["findings"]
    assert isinstance(findings, list)
    print(f"report: {str(report['verdict']).upper()}, {len(findings)} finding(s); wrote "
          f"{a.out}/{{{','.join(OUTPUTS)}}}")
    return EXIT_OK if report["verdict"] == "pass" else EXIT_FINDINGS


def main() -> None:
    run_cli("gortreport.generate", _main)


if __name__ == "__main__":
    main()
