"""empty-config: a configuration with no content."""

from __future__ import annotations

from collections.abc import Iterable

from cifab.diagnostics import Finding, Severity
from cifab.lint.rules.base import Context, Rule


def check_empty(ctx: Context) -> Iterable[Finding]:
    root = ctx.pipeline.root
    if root.data is None:
        yield EMPTY.finding((root.src, 1, 1), "Please provide content of .gitlab-ci.yml")


EMPTY = Rule(
    "empty-config", Severity.ERROR, "the configuration must not be empty",
    "GitLab refuses an empty `.gitlab-ci.yml` (or one holding only comments).",
    bad="# nothing here yet\n",
    good="test:\n  script: make test\n",
    check=check_empty,
)
