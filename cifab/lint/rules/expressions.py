"""CI/CD variable expressions (`rules:if`, `only:variables`) and ref patterns (`only`/`except`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from cifab.diagnostics import Finding, Severity
from cifab.lint.rules.base import Context, Rule
from cifab.yamlpos import Mark, YList, YMap

# The lexemes of GitLab's pipeline expression language, tried in this order. A variable
# is `$` and word characters (lib/gitlab/ci/pipeline/expression/lexeme/variable.rb):
# `${VAR}` is shell syntax the lexer does not know, and GitLab refuses the expression.
_TOKENS = [
    ("space", re.compile(r"\s+")),
    ("operand", re.compile(r"\$\w+")),
    ("operand", re.compile(r'"(?:[^"\\]|\\.)*"' + r"|'(?:[^'\\]|\\.)*'")),
    ("operand", re.compile(r"/(?:[^/\\]|\\.)*/[a-z]*")),
    ("operand", re.compile(r"null\b")),
    ("compare", re.compile(r"==|!=|=~|!~")),
    ("logic", re.compile(r"&&|\|\|")),
    ("open", re.compile(r"\(")),
    ("close", re.compile(r"\)")),
]


def tokens(expression: str) -> list[str] | None:
    out: list[str] = []
    pos = 0
    while pos < len(expression):
        for kind, pattern in _TOKENS:
            match = pattern.match(expression, pos)
            if match:
                if kind != "space":
                    out.append(kind)
                pos = match.end()
                break
        else:
            return None
    return out


def valid_expression(expression: str) -> bool:
    """expr := term (logic term)*; term := '(' expr ')' | operand [compare operand]."""
    toks = tokens(expression)
    if not toks:
        return False
    pos = 0

    def term() -> bool:
        nonlocal pos
        if pos < len(toks) and toks[pos] == "open":
            pos += 1
            if not expr() or pos >= len(toks) or toks[pos] != "close":
                return False
            pos += 1
            return True
        if pos >= len(toks) or toks[pos] != "operand":
            return False
        pos += 1
        if pos < len(toks) and toks[pos] == "compare":
            pos += 1
            if pos >= len(toks) or toks[pos] != "operand":
                return False
            pos += 1
        return True

    def expr() -> bool:
        nonlocal pos
        if not term():
            return False
        while pos < len(toks) and toks[pos] == "logic":
            pos += 1
            if not term():
                return False
        return True

    return expr() and pos == len(toks)


def valid_ref_pattern(ref: str) -> bool:
    """A `/regex/` entry of only/except must compile (Python's re stands in for RE2)."""
    if not (len(ref) >= 2 and ref.startswith("/") and ref.rstrip("i").endswith("/")):
        return True
    try:
        re.compile(ref[1:].rstrip("i")[:-1])
    except re.error:
        return False
    return True


def _rule_ifs(rules: Any, where: str) -> Iterator[tuple[Mark, str, str]]:
    if not isinstance(rules, YList):
        return
    for rule in rules:
        if isinstance(rule, YMap) and isinstance(rule.get("if"), str):
            yield rule.value_mark("if"), rule["if"], f"{where}:rules:rule if invalid expression syntax"


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
            candidates.extend(_rule_ifs(job.config.get("rules"), f"jobs:{job.name}"))
            candidates.extend(_only_except(job.config, job.name))
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
    "with && || and parentheses. `only`/`except` refs written as /regex/ must be valid patterns.",
    bad="test:\n  script: make test\n  rules:\n    - if: $CI_COMMIT_BRANCH = \"main\"\n",
    good="test:\n  script: make test\n  rules:\n    - if: $CI_COMMIT_BRANCH == \"main\"\n",
    check=check,
)
