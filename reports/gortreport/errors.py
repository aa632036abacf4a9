"""Input errors: what a command-line entry point reports in one line, exit 2."""

from __future__ import annotations

import sys
from typing import Callable, NoReturn

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_INPUT = 2


class InputError(Exception):
    """A harness file is missing, unreadable, truncated or schema-invalid."""


def fail_input(prog: str, err: InputError) -> NoReturn:
    print(f"{prog}: error: {err}", file=sys.stderr)
    raise SystemExit(EXIT_INPUT)


def run_cli(prog: str, main: Callable[[list[str]], int], argv: list[str] | None = None) -> NoReturn:
    """Run main(argv); an InputError becomes one line on stderr and exit 2."""
    try:
        code = main(sys.argv[1:] if argv is None else argv)
    except InputError as err:
        fail_input(prog, err)
    raise SystemExit(code)
