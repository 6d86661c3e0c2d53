"""Where GitLab's configuration entries are stricter than its published JSON schema: the keys
workflow, cache and trigger jobs take, cache key names, variables written as mappings, and
artifacts:expose_as."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import unquote

from cifab.diagnostics import Finding, Severity
from cifab.gitlab import BRIDGE_KEYS, MAX_CACHES, keys_together
from cifab.lint.rules.base import Context, Rule
from cifab.pipeline.config import Job
from cifab.pipeline.yamlpos import YList, YMap

WORKFLOW_KEYS = ("name", "rules", "auto_cancel")
CACHE_KEYS = ("key", "paths", "untracked", "unprotect", "when", "policy", "fallback_keys")
CACHE_KEY_KEYS = ("files", "files_commits", "prefix")


def _unknown(entry: YMap, allowed: tuple[str, ...], loc: str) -> Iterator[Finding]:
    from cifab.spelling import suggest

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


# ComplexVariable's allowed_value_data: what a variable written as a mapping may say.
VARIABLE_DATA = ("value", "description", "expand", "options")
JOB_VARIABLE_DATA = ("value", "expand")


def _variables(value: Any, loc: str, allowed: tuple[str, ...]) -> Iterator[Finding]:
    """GitLab's Validator lowercases its whole message, the variable's name with it."""
    if not isinstance(value, YMap):
        return
    for name, data in value.items():
        if not isinstance(data, YMap):
            continue
        where = f"{loc}:{name}".lower()
        extra = [str(k) for k in data if k not in allowed]
        if extra:
            yield RULE.finding(data.key_mark(extra[0]), f"{where} config uses invalid data keys: {', '.join(extra)}",
                               f"a variable takes {', '.join(allowed)}" + (
                                   "" if "description" in allowed else "; description and options belong to "
                                                                        "the top-level variables"))
        options = data.get("options")
        if isinstance(options, list) and options and data.get("value") not in options:
            mark = data.value_mark("value") if "value" in data else data.key_mark("options")
            yield OPTIONS.finding(mark, f"{where} config value must be present in options",
                                  "the value is the option a pipeline gets when nobody picks one")


def check_variables(ctx: Context) -> Iterable[Finding]:
    yield from _variables(ctx.pipeline.config.get("variables"), "variables", VARIABLE_DATA)
    for job in ctx.pipeline.visible_jobs:
        own = job.config.get("variables") if isinstance(job.config, YMap) else None
        yield from _variables(own, f"jobs:{job.name}:variables", JOB_VARIABLE_DATA)


# Entry::Artifacts, when expose_as is set (the merge request widget links to the paths).
EXPOSE_AS = re.compile(r"\A\w[-\w ]*\Z", re.ASCII)  # Ruby's \w is ASCII
MAX_EXPOSE_AS = 100


def _expose_as(artifacts: YMap, loc: str) -> Iterator[Finding]:
    name = artifacts.get("expose_as")
    if name is None:
        return
    paths = artifacts.get("paths")
    if not paths:
        yield ARTIFACTS.finding(artifacts.key_mark("expose_as"), f"{loc} paths can't be blank",
                                "expose_as names the paths the merge request links to")
    elif isinstance(paths, YList):
        for i, path in enumerate(paths):
            if isinstance(path, str) and "*" in path:
                yield ARTIFACTS.finding(paths.item_mark(i), f"{loc} paths can't contain '*' when used with 'expose_as'",
                                        "name the files, or drop expose_as")
                break
    if isinstance(name, str):
        if len(name) > MAX_EXPOSE_AS:
            yield ARTIFACTS.finding(artifacts.value_mark("expose_as"),
                                    f"{loc} expose as is too long (maximum is {MAX_EXPOSE_AS} characters)")
        if not EXPOSE_AS.match(name):
            yield ARTIFACTS.finding(artifacts.value_mark("expose_as"),
                                    f"{loc} expose as can contain only letters, digits, '-', '_' and spaces")


def check_artifacts(ctx: Context) -> Iterable[Finding]:
    default = ctx.pipeline.config.get("default")
    seen: set[int] = set()
    places: list[tuple[Any, str]] = []
    if isinstance(default, YMap):
        places.append((default.get("artifacts"), "default:artifacts"))
    places += [(job.get("artifacts"), f"jobs:{job.name}:artifacts") for job in ctx.pipeline.visible_jobs]
    for artifacts, loc in places:
        # One artifacts mapping shared through default: or extends is reported once.
        if isinstance(artifacts, YMap) and id(artifacts) not in seen:
            seen.add(id(artifacts))
            yield from _expose_as(artifacts, loc)


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
OPTIONS = Rule(
    "variable-options", Severity.ERROR, "a variable with options must have one of them as its value",
    "A top-level variable with `options` is offered as a choice when a pipeline is run by hand; "
    "its `value` is the option it gets when nobody picks one, so it must be among the options. "
    "GitLab also refuses data keys a variable does not take: description and options belong to "
    "top-level variables only, and a job's variable takes value and expand.",
    bad="variables:\n  DEPLOY_ENVIRONMENT:\n    value: \"prod\"\n    options: [production, staging]\n\n"
        "deploy:\n  script: ./deploy \"$DEPLOY_ENVIRONMENT\"\n",
    good="variables:\n  DEPLOY_ENVIRONMENT:\n    value: \"staging\"\n    options: [production, staging]\n\n"
         "deploy:\n  script: ./deploy \"$DEPLOY_ENVIRONMENT\"\n",
    check=check_variables,
    entry_messages=True,
)
ARTIFACTS = Rule(
    "artifacts-expose-as", Severity.ERROR, "artifacts:expose_as needs paths without wildcards and a plain name",
    "`expose_as` shows a job's artifacts in the merge request. GitLab then wants `paths`, none "
    "of them with a `*`, and a name of at most 100 letters, digits, '-', '_' and spaces that "
    "starts with a letter or digit.",
    bad="test:\n  script: make coverage\n  artifacts:\n    expose_as: \"coverage report\"\n"
        "    paths: [\"coverage/*.html\"]\n",
    good="test:\n  script: make coverage\n  artifacts:\n    expose_as: \"coverage report\"\n"
         "    paths: [coverage/index.html]\n",
    check=check_artifacts,
    entry_messages=True,
)
RULES = [RULE, OPTIONS, ARTIFACTS]
