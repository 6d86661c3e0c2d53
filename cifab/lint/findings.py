"""What a lint rule reports."""

from __future__ import annotations

import enum
from typing import NamedTuple


class Severity(enum.IntEnum):
    INFO = 0
    WARNING = 1
    ERROR = 2

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.upper()]


class Finding(NamedTuple):
    """One problem a rule found. A NamedTuple: it sorts by position and is cheap to define
    (start-up matters for a linter run on every commit)."""

    src: str
    line: int
    col: int
    rule_id: str
    severity: Severity
    message: str
    hint: str | None = None

    def location(self) -> str:
        return f"{self.src}:{self.line}:{self.col}" if self.line else self.src
