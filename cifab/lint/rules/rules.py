"""rules: rules-with-only-except, rules-blank, rules-glob and rules-multiple-pipelines."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from cifab.diagnostics import Finding, Mark, Severity
from cifab.lint.rules.base import Context, Rule
from cifab.pipeline.config import flat_rules
from cifab.pipeline.patterns import glob
from cifab.pipeline.yamlpos import YList, YMap


def check_rules_mix(ctx: Context) -> Iterable[Finding]:
    for job in ctx.pipeline.visible_jobs:
        if job.get("rules") is None:
            continue
        clash = [k for k in ("only", "except", "start_in") if k in job.config]
        if clash:
            yield RULES_MIX.finding(job.key_mark(clash[0]),
                                    f"jobs:{job.name} config key may not be used with `rules`: "
                                    f"{', '.join(clash)}", "express the condition as a rule instead")


def check_rules_blank(ctx: Context) -> Iterable[Finding]:
    """Entry::Rules validates `presence`: an empty list of rules is a blank config."""
    workflow = ctx.pipeline.config.get("workflow")
    if isinstance(workflow, YMap) and workflow.get("rules") == []:
        yield RULES_BLANK.finding(workflow.value_mark("rules"), "workflow:rules config can't be blank")
    for job in ctx.pipeline.visible_jobs:
        if job.get("rules") == []:
            yield RULES_BLANK.finding(job.value_mark("rules"), f"jobs:{job.name}:rules config can't be blank",
                                      "leave `rules:` out to run the job as `when:` says")


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


RULES_MIX = Rule(
    "rules-with-only-except", Severity.ERROR, "rules: cannot be combined with only, except or start_in",
    "`rules` replaces `only`/`except`; GitLab rejects a job that uses both. A job-level "
    "`start_in` must move into the rule that sets `when: delayed`.",
    bad="test:\n  script: make test\n  only: [main]\n  rules:\n    - if: $CI_COMMIT_TAG\n",
    good="test:\n  script: make test\n  rules:\n    - if: $CI_COMMIT_BRANCH == \"main\"\n    - if: $CI_COMMIT_TAG\n",
    check=check_rules_mix,
    entry_messages=True,
)


RULES_BLANK = Rule(
    "rules-blank", Severity.ERROR, "rules: must not be an empty list",
    "GitLab refuses `rules: []` (and `workflow: rules: []`) as a blank config. Leave the key out, "
    "or give it at least one rule.",
    bad="test:\n  script: make test\n  rules: []\n",
    good="test:\n  script: make test\n  rules:\n    - if: $CI_COMMIT_BRANCH\n",
    check=check_rules_blank,
    entry_messages=True,
)


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
