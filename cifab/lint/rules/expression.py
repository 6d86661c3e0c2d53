"""expression-syntax: CI/CD variable expressions (`rules:if`, `only:variables`) and the patterns
GitLab compiles with RE2 (`only`/`except` refs, `coverage`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from cifab.diagnostics import Finding, Mark, Severity
from cifab.lint.rules.base import Context, Rule
from cifab.pipeline.config import flat_rules
from cifab.pipeline.expression import parses
from cifab.pipeline.patterns import RUBY_SYNTAX, ruby_syntax
from cifab.pipeline.yamlpos import YList, YMap


def valid_expression(expression: str) -> bool:
    """Whether GitLab's expression parser accepts it (cifab.expression holds the language)."""
    return parses(expression)


def valid_ref_pattern(ref: str) -> bool:
    """ArrayOfStringsOrRegexpsValidator: an entry that reads as /regex/flags must compile in RE2."""
    return RUBY_SYNTAX.match(ref) is None or ruby_syntax(ref) is not None


def valid_coverage(value: str) -> bool:
    """Entry::Coverage's RegexpValidator: a /regex/ (flags allowed) that RE2 compiles."""
    return RUBY_SYNTAX.match(value) is not None and ruby_syntax(value) is not None


def _rule_ifs(rules: Any, where: str) -> Iterator[tuple[Mark, str, str]]:
    # Only the invalid ones: a large pipeline has thousands of valid conditions.
    for rule in flat_rules(rules):  # a rule a reference brings in is checked where it lands
        if isinstance(rule, YMap):
            expression = rule.get("if")
            if isinstance(expression, str) and not valid_expression(expression):
                yield rule.value_mark("if"), "", f"{where}:rules:rule if invalid expression syntax"


def _only_except(job: Any, name: str) -> Iterator[tuple[Mark, str, str]]:
    for key in ("only", "except"):
        value = job.get(key)
        loc = f"jobs:{name}:{key}"
        refs = value.get("refs") if isinstance(value, YMap) else value
        if isinstance(refs, YList):
            for i, ref in enumerate(refs):
                if isinstance(ref, str) and not valid_ref_pattern(ref):
                    yield (refs.item_mark(i), "",
                           f"{loc} config should be an array of strings or regular expressions using re2 syntax")
        variables = value.get("variables") if isinstance(value, YMap) else None
        if isinstance(variables, YList):
            for i, expression in enumerate(variables):
                if isinstance(expression, str):
                    yield variables.item_mark(i), expression, f"{loc} variables invalid expression syntax"


def check(ctx: Context) -> Iterable[Finding]:
    config = ctx.pipeline.config
    candidates: list[tuple[Mark, str, str]] = []
    workflow = config.get("workflow")
    if isinstance(workflow, YMap):
        candidates.extend(_rule_ifs(workflow.get("rules"), "workflow"))
    for job in ctx.pipeline.visible_jobs:
        if isinstance(job.config, YMap):
            if "rules" in job.config:
                candidates.extend(_rule_ifs(job.config["rules"], f"jobs:{job.name}"))
            candidates.extend(_only_except(job.config, job.name))
            coverage = job.config.get("coverage")
            if isinstance(coverage, str) and not valid_coverage(coverage):
                candidates.append((job.value_mark("coverage"), "",
                                   f"jobs:{job.name}:coverage config must be a regular expression with re2 syntax"))
    seen: set[Mark] = set()
    for mark, expression, message in candidates:
        if mark in seen:
            continue
        seen.add(mark)
        if expression == "" or not valid_expression(expression):
            yield RULE.finding(mark, message)


RULE = Rule(
    "expression-syntax", Severity.ERROR, "rules:if and only/except conditions must parse",
    "`rules:if`, `workflow:rules:if` and `only:variables` take GitLab's expression language: "
    "variables, quoted strings, /regex/ patterns and null, compared with == != =~ !~ and joined "
    "with && || and parentheses. `only`/`except` refs written as /regex/, and `coverage`, must be "
    "valid RE2 patterns.",
    bad="test:\n  script: make test\n  rules:\n    - if: $CI_COMMIT_BRANCH = \"main\"\n",
    good="test:\n  script: make test\n  rules:\n    - if: $CI_COMMIT_BRANCH == \"main\"\n",
    check=check,
    entry_messages=True,
)
