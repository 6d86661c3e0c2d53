"""stage-undefined: every job's stage is declared."""

from __future__ import annotations

from collections.abc import Iterable

from cifab.diagnostics import Finding, Severity
from cifab.lint.rules.base import Context, Rule
from cifab.spelling import suggest


def check_stage(ctx: Context) -> Iterable[Finding]:
    p = ctx.pipeline
    if p.incomplete and "stages" not in p.config:
        return  # an include we cannot read may declare the stages
    available = ", ".join(p.stages)
    for job in p.visible_jobs:
        if p.incomplete and "stage" not in (job.config if isinstance(job.config, dict) else {}):
            continue  # the stage may come from an include we cannot read
        stage = job.get("stage", "test")
        if isinstance(stage, str) and stage not in ctx.stage_index:
            near = suggest(stage, p.stages)
            yield STAGE.finding(job.value_mark("stage"),
                                f"{job.name} job: chosen stage {stage} does not exist; "
                                f"available stages are {available}",
                                f"did you mean `{near}`?" if near else "add it to `stages:`")


STAGE = Rule(
    "stage-undefined", Severity.ERROR, "a job's stage must be declared in stages:",
    "Every job runs in a stage from `stages:` (or the defaults build, test, deploy, plus .pre "
    "and .post). A job in any other stage is rejected. Jobs without `stage:` run in `test`.",
    bad="stages: [build, test]\n\npublish:\n  stage: deploy\n  script: make publish\n",
    good="stages: [build, test, deploy]\n\npublish:\n  stage: deploy\n  script: make publish\n",
    check=check_stage,
)
