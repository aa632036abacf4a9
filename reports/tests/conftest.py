"""Shared helpers: the fixture directories and running the package's
commands as a user would (a subprocess, exit status and stderr)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
REPORTS = HERE.parent
FIXTURES = HERE / "fixtures"
sys.path.insert(0, str(REPORTS))


def run_module(module: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPORTS))
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300)


def copy_fixture(name: str, tmp: Path) -> Path:
    dst = tmp / name
    shutil.copytree(FIXTURES / name, dst)
    return dst


def junit_counts(path: Path) -> dict[str, int]:
    root = ET.parse(path).getroot()
    return {"tests": len(root.findall(".//testcase")),
            "failures": len(root.findall(".//testcase/failure")),
            "errors": len(root.findall(".//testcase/error"))}


def load(path: Path) -> Any:
    return json.loads(path.read_text())


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    return tmp_path
