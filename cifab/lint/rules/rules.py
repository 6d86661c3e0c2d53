"""The paths of `rules:changes` and `rules:exists` (and of only/except `changes`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from cifab.diagnostics import Finding, Mark, Severity
from cifab.lint.rules.base import Context, Rule
from cifab.pipeline.config import flat_rules
from cifab.pipeline.patterns import glob
from cifab.pipeline.yamlpos import YList, YMap


def _paths(value: Any, fallback: Mark) -> Iterator[tuple[str, Mark]]:
    """Each glob of a changes: or exists: clause with where it is written."""
    if isinstance(value, YMap):
        yield from _paths(value.get("paths"), value.value_mark("paths"))
    elif isinstance(value, YList):
        for i, item in enumerate(value):
            if isinstance(item, str):
                yield item, value.item_mark(i)
    elif isinstance(value, str):
        yield value, fallback


def _clauses(ctx: Context) -> Iterator[tuple[str, Any, Mark]]:
    """(keyword, clause, where) for every changes: and exists: in the pipeline."""
    workflow = ctx.pipeline.config.get("workflow")
    owners: list[Any] = [workflow] if isinstance(workflow, YMap) else []
    owners += [job.config for job in ctx.pipeline.visible_jobs if isinstance(job.config, YMap)]
    for owner in owners:
        for rule in flat_rules(owner.get("rules")):
            if isinstance(rule, YMap):
                for key in ("changes", "exists"):
                    if key in rule:
                        yield key, rule[key], rule.value_mark(key)
        for policy in ("only", "except"):
            value = owner.get(policy)
            if isinstance(value, YMap) and "changes" in value:
                yield "changes", value["changes"], value.value_mark("changes")


def check(ctx: Context) -> Iterable[Finding]:
    seen: set[Mark] = set()
    for key, clause, where in _clauses(ctx):
        for text, mark in _paths(clause, where):
            problem = glob(text).problem
            if problem and "$" not in text and mark not in seen:
                seen.add(mark)
                yield GLOB.finding(mark, f"{key} glob `{text}`: {problem}",
                                   "GitLab matches these globs with Ruby's File.fnmatch: `[a-z]` is a class, "
                                   "`{a,b}` either name, `\\[` a literal bracket")


GLOB = Rule(
    "rules-glob", Severity.WARNING, "a changes: or exists: glob should be able to match",
    "GitLab matches `rules:changes`, `rules:exists` and only/except `changes` paths with Ruby's "
    "File.fnmatch (FNM_PATHNAME, FNM_DOTMATCH, FNM_EXTGLOB). Some globs it accepts can never "
    "match: a `[` class or a `{` brace that never closes, an empty class `[]`. A reversed range "
    "such as `[z-a]` matches only its two ends. GitLab does not refuse these, so the job is "
    "silently left out (or kept) where the glob was meant to decide.",
    bad="test:\n  script: make test\n  rules:\n    - changes: [\"src/[z-a]*.py\", \"docs/{a,b.md\"]\n",
    good="test:\n  script: make test\n  rules:\n    - changes: [\"src/[a-z]*.py\", \"docs/{a,b}.md\"]\n",
    check=check,
)

RULES = [GLOB]
