"""Every lint rule, in the order `cifab rules` lists them. A rule lives in the file named by
its id's family (its first word, or its last after a qualifier: empty-config in config.py,
no-visible-jobs in jobs.py); the rules the pipeline model reports live beside the code that
finds them, in cifab/pipeline/ (include-missing in include.py)."""

from __future__ import annotations

from cifab.lint.rules import (
    artifacts,
    config,
    dependencies,
    duration,
    environment,
    expression,
    gitlab,
    include,
    jobs,
    keyword,
    limits,
    needs,
    pipeline,
    rules,
    stage,
    variable,
    workflow,
)
from cifab.lint.rules.base import Context, Rule
from cifab.lint.rules.shellcheck import SHELLCHECK
from cifab.pipeline.config import FORMAT
from cifab.pipeline.extends import EXTENDS_CIRCULAR, EXTENDS_DEEP, EXTENDS_UNKNOWN
from cifab.pipeline.include import INCLUDE_INVALID, INCLUDE_LIMIT, INCLUDE_MISSING, INCLUDE_UNRESOLVED
from cifab.pipeline.inputs import INPUTS
from cifab.pipeline.reference import REFERENCE_CIRCULAR, REFERENCE_MISSING
from cifab.pipeline.yamlpos import DUPLICATE_KEY, SYNTAX

RULES: list[Rule] = [
    gitlab.RULE, keyword.RULE, variable.OPTIONS, artifacts.ARTIFACTS, config.EMPTY, jobs.VISIBLE, jobs.SCRIPT,
    jobs.NAMES, stage.STAGE, needs.NEEDS, needs.DUPLICATE, dependencies.DEPENDENCIES, needs.CYCLES, needs.MATRIX,
    rules.RULES_MIX, workflow.WORKFLOW_WHEN, jobs.JOB_WHEN_RULE, rules.RULES_BLANK, environment.ENVIRONMENT,
    duration.DURATION, limits.LIMITS, expression.RULE, rules.GLOB, include.UNPINNED,
    # Reported by the pipeline model while it reads the configuration.
    SYNTAX, FORMAT, INPUTS, INCLUDE_MISSING, INCLUDE_INVALID, INCLUDE_LIMIT, INCLUDE_UNRESOLVED, EXTENDS_UNKNOWN,
    EXTENDS_CIRCULAR, EXTENDS_DEEP, REFERENCE_MISSING, REFERENCE_CIRCULAR, DUPLICATE_KEY,
    rules.MULTIPLE_PIPELINES,
    # Creation-time rules: each standard event's pipeline is simulated (cifab.lint.scenarios).
    needs.ABSENT, pipeline.EMPTY, pipeline.DUPLICATE, jobs.NEVER,
]
# Opt-in: it runs an external program on every script.
OPTIONAL_RULES: list[Rule] = [SHELLCHECK]
ALL_RULES: list[Rule] = [*RULES, *OPTIONAL_RULES]
BY_ID: dict[str, Rule] = {rule.id: rule for rule in ALL_RULES}

__all__ = ["ALL_RULES", "BY_ID", "OPTIONAL_RULES", "RULES", "Context", "Rule"]
