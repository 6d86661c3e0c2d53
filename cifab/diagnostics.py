"""One positioned diagnostic for everything cifab reports (lint findings, manifest
problems, drift, GitLab's answers), and the Rule type that every reported id belongs to.

The registry of every rule is cifab.registry; a rule here is data (id, severity, summary,
doc, a failing and a passing example) plus, for lint rules, one check function.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

REPORT_FORMATS = ("text", "json", "codequality", "junit", "sarif")


class Severity(enum.IntEnum):
    INFO = 0
    WARNING = 1
    ERROR = 2

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.upper()]


SEVERITY_NAMES = tuple(str(s) for s in sorted(Severity, reverse=True))
Mark = tuple[str, int, int]  # source file, 1-based line and column (0 when unknown)


class Finding(NamedTuple):
    """One problem at one place. A NamedTuple: it sorts by position and is cheap to define
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

    def __str__(self) -> str:
        text = f"{self.location()}: {self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text


# Where a rule's examples are proven: "lint" examples are pipelines that `cifab lint`
# flags and passes; "manifest" examples are cifab.yml files that load or fail; "check"
# and "remote" rules come from `cifab check` and GitLab, proven by their own tests.
KINDS = ("lint", "manifest", "check", "remote")


class Rule(NamedTuple):
    id: str
    severity: Severity
    summary: str
    doc: str
    bad: str  # an input this rule flags
    good: str  # the same input, fixed
    # The function that finds it; None for a rule the pipeline model reports while it reads
    # the configuration (cifab.pipeline), which no check could find again afterwards.
    check: Callable[[Any], Iterable[Finding]] | None = None
    kind: str = "lint"
    # Its messages are GitLab's configuration-entry errors, which GitLab gives lowercased whole.
    entry_messages: bool = False

    def finding(self, mark: Mark, message: str, hint: str | None = None,
                severity: Severity | None = None) -> Finding:
        src, line, col = mark
        if self.entry_messages:
            from cifab.gitlab import entry_message

            message = entry_message(message)
        return Finding(src, line, col, self.id, severity if severity is not None else self.severity,
                       message, hint)

    def at(self, src: str, line: int, col: int, message: str, hint: str | None = None) -> Finding:
        return self.finding((src, line, col), message, hint)
