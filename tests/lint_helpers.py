"""Helpers for lint tests: lint a snippet and look at findings by rule."""

from __future__ import annotations

from pathlib import Path

from cifab.diagnostics import Finding, Severity
from cifab.lint.engine import Options, lint_text


def lint(text: str, root: Path | None = None, **options: object) -> list[Finding]:
    return lint_text(text, ".gitlab-ci.yml", Options(root=root, **options))  # type: ignore[arg-type]


def of(findings: list[Finding], rule_id: str) -> list[Finding]:
    return [f for f in findings if f.rule_id == rule_id]


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity is Severity.ERROR]


def messages(findings: list[Finding]) -> list[str]:
    return [f.message for f in findings]
