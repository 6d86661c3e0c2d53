"""keyword-unknown: where GitLab's configuration entries are stricter than its published JSON
schema: the keys workflow, cache and trigger jobs take, and cache key names."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import unquote

from cifab.diagnostics import Finding, Severity
from cifab.gitlab import (
    BRIDGE_KEYS,
    MAX_CACHES,
    keys_together,
)
from cifab.lint.rules.base import Context, Rule
from cifab.pipeline.config import Job
from cifab.pipeline.yamlpos import YList, YMap
from cifab.spelling import suggest

WORKFLOW_KEYS = ("name", "rules", "auto_cancel")


CACHE_KEYS = ("key", "paths", "untracked", "unprotect", "when", "policy", "fallback_keys")


CACHE_KEY_KEYS = ("files", "files_commits", "prefix")


def _unknown(entry: YMap, allowed: tuple[str, ...], loc: str) -> Iterator[Finding]:

    for key in entry:
        if key not in allowed:
            near = suggest(str(key), allowed)
            yield RULE.finding(entry.key_mark(key), f"{loc} config contains unknown keys: {key}",
                               f"did you mean `{near}`?" if near else f"allowed: {', '.join(allowed)}")


def _caches(value: Any, loc: str) -> Iterator[Finding]:
    if isinstance(value, YList) and len(value) > MAX_CACHES:
        yield RULE.finding(value.start, f"{loc} config no more than {MAX_CACHES} caches can be created",
                           "merge caches that share a key, or move some paths into one cache")
    for cache in value if isinstance(value, list) else [value]:
        if not isinstance(cache, YMap):
            continue
        yield from _unknown(cache, CACHE_KEYS, loc)
        key = cache.get("key")
        if isinstance(key, str):
            # KeyValidator: the key names a folder, so no "/" (URL-encoded or not), and not . or ..
            plain_key = unquote(key)
            if "/" in plain_key:
                yield RULE.finding(cache.value_mark("key"), f'{loc}:key config cannot contain the "/" character')
            elif plain_key in (".", ".."):
                yield RULE.finding(cache.value_mark("key"), f'{loc}:key config cannot be "." or ".."')
        if isinstance(key, YMap):
            yield from _unknown(key, CACHE_KEY_KEYS, f"{loc}:key")
            if "files" not in key and "files_commits" not in key:
                yield RULE.finding(cache.value_mark("key"), f"{loc}:key config missing required keys: files")


def _trigger_job(job: Job) -> Iterator[Finding]:
    config = job.config
    if not isinstance(config, YMap) or "trigger" not in config:
        return
    loc = f"jobs:{job.name}"
    if "script" in config or "run" in config:
        # Entry::Jobs tries Job before Bridge, so a job with a script is a Job, which has no trigger;
        # Processable refuses the two together as well, and GitLab reports both.
        runs = "script" if "script" in config else "run"
        yield RULE.finding(config.key_mark(runs), f"{loc} {keys_together(config, (runs, 'trigger'))}",
                           "a trigger job runs no script: give the script a job of its own")
        yield RULE.finding(config.key_mark("trigger"), f"{loc} config contains unknown keys: trigger")
        return
    unknown = [str(k) for k in config if k not in BRIDGE_KEYS]
    if unknown:
        yield RULE.finding(config.key_mark(unknown[0]), f"{loc} config contains unknown keys: {', '.join(unknown)}",
                           f"a trigger job takes only: {', '.join(BRIDGE_KEYS)}")


def check(ctx: Context) -> Iterable[Finding]:
    config = ctx.pipeline.config
    seen: set[Any] = set()
    found: list[Finding] = []
    workflow = config.get("workflow")
    if isinstance(workflow, YMap):
        found.extend(_unknown(workflow, WORKFLOW_KEYS, "workflow"))
    found.extend(_caches(config.get("cache"), "cache"))
    default = config.get("default")
    if isinstance(default, YMap):
        found.extend(_caches(default.get("cache"), "default:cache"))
    for job in ctx.pipeline.visible_jobs:
        found.extend(_trigger_job(job))
    for job in ctx.pipeline.jobs.values():
        if isinstance(job.config, dict) and "cache" in job.config and job.config["cache"] is not (
                default.get("cache") if isinstance(default, YMap) else None):
            found.extend(_caches(job.config["cache"], f"jobs:{job.name}:cache"))
    for finding in found:
        # A cache shared through default: or extends is reported once, where it is written.
        if (finding.src, finding.line, finding.col) not in seen:
            seen.add((finding.src, finding.line, finding.col))
            yield finding


RULE = Rule(
    "keyword-unknown", Severity.ERROR, "workflow, cache and trigger jobs take only the keys GitLab knows",
    "GitLab rejects unknown keys in `workflow` (name, rules, auto_cancel) and in `cache` "
    "(key, paths, untracked, unprotect, when, policy, fallback_keys), where its published "
    "schema lets them through. A `cache:key` mapping needs `files` (or `files_commits`); a "
    "`cache:key` string names a folder, so it holds no \"/\" and is not \".\" or \"..\". "
    "A trigger job takes only " + ", ".join(BRIDGE_KEYS) + " (after `extends` is merged; it "
    "inherits nothing else from `default:`), and a job with both `script` and `trigger` is read "
    "as a job with a script, which knows no `trigger`.",
    bad="workflow:\n  rules:\n    - if: $CI_COMMIT_BRANCH\n  variables:\n    DEBUG: \"1\"\n\n"
        "test:\n  script: make test\n",
    good="variables:\n  DEBUG: \"1\"\n\nworkflow:\n  rules:\n    - if: $CI_COMMIT_BRANCH\n\n"
         "test:\n  script: make test\n",
    check=check,
    entry_messages=True,
)
