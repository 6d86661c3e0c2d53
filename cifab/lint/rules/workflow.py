"""workflow-rules-when: workflow:rules take when: always or never."""

from __future__ import annotations

from collections.abc import Iterable

from cifab.diagnostics import Finding, Severity
from cifab.lint.rules.base import Context, Rule
from cifab.pipeline.config import flat_rules
from cifab.pipeline.yamlpos import YMap


def check_workflow_when(ctx: Context) -> Iterable[Finding]:
    workflow = ctx.pipeline.config.get("workflow")
    for rule in flat_rules(workflow.get("rules") if isinstance(workflow, dict) else None):
        if isinstance(rule, YMap) and "when" in rule and rule["when"] not in ("always", "never"):
            yield WORKFLOW_WHEN.finding(rule.value_mark("when"),
                                        "workflow:rules:rule when should be always or never")


WORKFLOW_WHEN = Rule(
    "workflow-rules-when", Severity.ERROR, "workflow:rules may only use when: always or never",
    "Workflow rules decide whether a pipeline is created at all, so `when` can only be "
    "`always` or `never`.",
    bad="workflow:\n  rules:\n    - if: $CI_COMMIT_TAG\n      when: manual\n\ntest:\n  script: make test\n",
    good="workflow:\n  rules:\n    - if: $CI_COMMIT_TAG\n      when: always\n\ntest:\n  script: make test\n",
    check=check_workflow_when,
    entry_messages=True,
)
