"""Every lint rule, in the order `cifab rules` lists them."""

from __future__ import annotations

from cifab.lint.rules import entries, expressions, graph, jobs, keywords, resolution, rules, scenarios, schema
from cifab.lint.rules.base import Context, Rule
from cifab.lint.rules.shellcheck import SHELLCHECK

RULES: list[Rule] = [schema.RULE, *entries.RULES, *jobs.RULES, *graph.RULES, *keywords.RULES,
                     expressions.RULE, *rules.RULES, *resolution.RULES, *scenarios.RULES]
# Opt-in: it runs an external program on every script.
OPTIONAL_RULES: list[Rule] = [SHELLCHECK]
ALL_RULES: list[Rule] = [*RULES, *OPTIONAL_RULES]
BY_ID: dict[str, Rule] = {rule.id: rule for rule in ALL_RULES}

__all__ = ["ALL_RULES", "BY_ID", "OPTIONAL_RULES", "RULES", "Context", "Rule"]
