"""What a lint rule reports."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(enum.IntEnum):
    INFO = 0
    WARNING = 1
    ERROR = 2

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.upper()]


@dataclass(frozen=True, order=True)
class Finding:
    src: str
    line: int
    col: int
    rule_id: str
    severity: Severity
    message: str
    hint: str | None = None

    def location(self) -> str:
        return f"{self.src}:{self.line}:{self.col}" if self.line else self.src
