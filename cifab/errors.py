"""Errors that end a command with a clear message instead of a traceback."""

from __future__ import annotations

from typing import NamedTuple


class Problem(NamedTuple):
    """One positioned problem in an input file (line and col 0 when unknown)."""

    src: str
    line: int
    col: int
    message: str
    key_path: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = f"{self.src}:{self.line}:{self.col}" if self.line else self.src
        text = f"{where}: {self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class CifabError(Exception):
    """A failure the user can act on; the CLI prints it and exits with `exit_code`."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class ProblemsError(CifabError):
    """Input that failed validation: one Problem per issue, exit code 2."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems), 2)
        self.problems = problems
