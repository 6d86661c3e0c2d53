"""What every lint check sees: the resolved pipeline, with facts derived from it once."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from cifab.diagnostics import Rule
from cifab.lint.settings import LintSettings
from cifab.pipeline.config import Job, Pipeline


class Context:
    """What every check sees: the resolved pipeline and facts derived from it once."""

    def __init__(self, pipeline: Pipeline, settings: LintSettings | None = None, root: Path | None = None) -> None:
        self.pipeline = pipeline
        self.settings = settings or LintSettings()
        self.root = root  # the repository, for what GitLab reads from it (rules:exists)

    @cached_property
    def stage_index(self) -> dict[str, int]:
        return {stage: i for i, stage in enumerate(self.pipeline.stages)}

    def job_stage_index(self, job: Job) -> int | None:
        stage = self.pipeline.stage_of(job)
        return None if stage is None else self.stage_index.get(stage)

    @property
    def incomplete(self) -> bool:
        return self.pipeline.incomplete


__all__ = ["Context", "Rule"]
