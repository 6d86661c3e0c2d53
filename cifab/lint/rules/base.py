"""What a rule is: data (id, severity, summary, doc, examples) plus one check function."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cached_property
from typing import NamedTuple

from cifab.lint.findings import Finding, Severity
from cifab.lint.model import Job, Pipeline
from cifab.yamlpos import Mark


class Context:
    """What every check sees: the resolved pipeline and facts derived from it once."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    @cached_property
    def stage_index(self) -> dict[str, int]:
        return {stage: i for i, stage in enumerate(self.pipeline.stages)}

    def job_stage_index(self, job: Job) -> int | None:
        return self.stage_index.get(self.pipeline.stage_of(job))

    @property
    def incomplete(self) -> bool:
        return self.pipeline.incomplete


class Rule(NamedTuple):
    id: str
    severity: Severity
    summary: str
    doc: str
    bad: str  # a configuration this rule flags
    good: str  # the same configuration, fixed
    check: Callable[[Context], Iterable[Finding]]

    def finding(self, mark: Mark, message: str, hint: str | None = None,
                severity: Severity | None = None) -> Finding:
        src, line, col = mark
        return Finding(src, line, col, self.id, severity if severity is not None else self.severity,
                       message, hint)


def from_model(rule_id: str) -> Callable[[Context], Iterable[Finding]]:
    """The check of a rule whose findings the model records while resolving the pipeline."""

    def check(ctx: Context) -> Iterable[Finding]:
        return [f for f in ctx.pipeline.findings if f.rule_id == rule_id]

    check.__name__ = f"check_{rule_id.replace('-', '_')}"
    return check
