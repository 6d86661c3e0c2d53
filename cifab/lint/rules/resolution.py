"""YAML-level warnings, and the rules the model records while it resolves the pipeline."""

from __future__ import annotations

from collections.abc import Iterable

from cifab.diagnostics import Finding, Rule, Severity
from cifab.lint.rules.base import Context
from cifab.pipeline.config import FORMAT, flat_rules
from cifab.pipeline.extends import EXTENDS_CIRCULAR, EXTENDS_DEEP, EXTENDS_UNKNOWN
from cifab.pipeline.include import INCLUDE_INVALID, INCLUDE_LIMIT, INCLUDE_MISSING, INCLUDE_UNRESOLVED
from cifab.pipeline.inputs import INPUTS
from cifab.pipeline.reference import REFERENCE_CIRCULAR, REFERENCE_MISSING
from cifab.pipeline.yamlpos import DUPLICATE_KEY, SYNTAX

# Processable#validate_against_warnings names this page (it moved from ci/troubleshooting.html).
DOCS_WARNINGS = ("https://docs.gitlab.com/ee/ci/jobs/job_troubleshooting.html"
                 "#job-may-allow-multiple-pipelines-to-run-for-a-single-action-warning")


def check_multiple_pipelines(ctx: Context) -> Iterable[Finding]:
    workflow = ctx.pipeline.config.get("workflow")
    if isinstance(workflow, dict) and workflow.get("rules") is not None:
        return
    for job in ctx.pipeline.visible_jobs:
        rules = flat_rules(job.get("rules"))
        if not rules:
            continue
        last = rules[-1]
        if isinstance(last, dict) and list(last) == ["when"] and last["when"] != "never":
            yield MULTIPLE_PIPELINES.finding(
                job.value_mark("rules"),
                f"jobs:{job.name} may allow multiple pipelines to run for a single action due to "
                f"`rules:when` clause with no `workflow:rules` - read more: {DOCS_WARNINGS}",
                "add workflow:rules that choose between branch and merge request pipelines")


MULTIPLE_PIPELINES = Rule(
    "rules-multiple-pipelines", Severity.WARNING,
    "a final rules:when without workflow:rules can run duplicate pipelines",
    "GitLab warns when a job's last rule has only `when` (other than never) and the "
    "configuration has no `workflow:rules`: the job then runs in both the branch pipeline and "
    "the merge request pipeline of one push.",
    bad="test:\n  script: make test\n  rules:\n    - when: always\n",
    good="workflow:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n"
         "    - if: $CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS\n      when: never\n"
         "    - if: $CI_COMMIT_BRANCH\n\ntest:\n  script: make test\n  rules:\n    - when: always\n",
    check=check_multiple_pipelines,
)

# Reported by the pipeline model while it reads the configuration, in the order `cifab rules` lists them.
RECORDED = [SYNTAX, FORMAT, INPUTS, INCLUDE_MISSING, INCLUDE_INVALID, INCLUDE_LIMIT, INCLUDE_UNRESOLVED,
            EXTENDS_UNKNOWN,
            EXTENDS_CIRCULAR, EXTENDS_DEEP, REFERENCE_MISSING, REFERENCE_CIRCULAR]
RULES = [*RECORDED, DUPLICATE_KEY, MULTIPLE_PIPELINES]
