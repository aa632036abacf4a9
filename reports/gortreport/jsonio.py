"""Reading and writing harness JSON, validated against reports/schemas/.

Every harness file names its format in a `schema` field ("gort.<name>/<n>");
Google Benchmark files carry it in `context.schema`. The schema file for
"gort.<name>/<n>" is reports/schemas/gort.<name>-<n>.schema.json.
"""

from __future__ import annotations

import json
import math
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from .errors import InputError

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"

JSON = dict[str, Any]


def schema_path(schema_id: str) -> Path:
    name, _, version = schema_id.partition("/")
    return SCHEMA_DIR / f"{name}-{version}.schema.json"


@lru_cache(maxsize=None)
def _validator(schema_id: str) -> jsonschema.protocols.Validator:
    path = schema_path(schema_id)
    try:
        schema = json.loads(path.read_text())
    except OSError as err:
        raise InputError(f"no schema file for {schema_id} ({path}): {err.strerror}") from err
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)  # type: ignore[no-any-return]


def validate(doc: Any, schema_id: str, where: str = "document") -> None:
    """Raise InputError (one line) unless doc is valid for schema_id."""
    error = jsonschema.exceptions.best_match(_validator(schema_id).iter_errors(doc))
    if error is not None:
        at = "/".join(str(p) for p in error.absolute_path) or "(top)"
        raise InputError(f"{where}: not a valid {schema_id} file at {at}: {error.message}")


def _reject_constant(name: str) -> float:
    # Google Benchmark writes NaN for a cv whose mean is 0; read it as NaN
    # instead of failing, but never accept it where a schema wants a number.
    if name == "NaN":
        return math.nan
    raise ValueError(f"invalid JSON constant {name}")


def read(path: str | os.PathLike[str], schema_id: str | None = None) -> JSON:
    """Read a JSON object from path; validate it when schema_id is given.

    Missing, unreadable, truncated or invalid files raise InputError with a
    one-line message that names the file.
    """
    p = Path(path)
    try:
        text = p.read_text()
    except FileNotFoundError as err:
        raise InputError(f"{p}: no such file") from err
    except OSError as err:
        raise InputError(f"{p}: cannot read: {err.strerror}") from err
    if not text.strip():
        raise InputError(f"{p}: empty file")
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except (json.JSONDecodeError, ValueError) as err:
        raise InputError(f"{p}: not valid JSON (truncated?): {err}") from err
    if not isinstance(doc, dict):
        raise InputError(f"{p}: expected a JSON object, found {type(doc).__name__}")
    if schema_id is not None:
        validate(doc, schema_id, str(p))
    return doc


def read_lines(path: str | os.PathLike[str], schema_id: str) -> list[JSON]:
    """Read a JSON Lines file, each record validated against schema_id."""
    p = Path(path)
    try:
        lines = p.read_text().splitlines()
    except OSError as err:
        raise InputError(f"{p}: cannot read: {err.strerror}") from err
    records = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line, parse_constant=_reject_constant)
        except (json.JSONDecodeError, ValueError) as err:
            raise InputError(f"{p}:{n}: not valid JSON: {err}") from err
        validate(doc, schema_id, f"{p}:{n}")
        records.append(doc)
    return records


def write(path: str | os.PathLike[str], doc: JSON, schema_id: str | None = None) -> None:
    """Validate (when schema_id is given) and write doc atomically."""
    if schema_id is not None:
        validate(doc, schema_id, str(path))
    p = Path(path)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")
    tmp.replace(p)


def append_line(path: str | os.PathLike[str], doc: JSON) -> None:
    """Append doc as one JSON Lines record (one write, so lines never mix)."""
    with open(path, "a") as f:
        f.write(json.dumps(doc, allow_nan=False) + "\n")
