"""Keyword rules GitLab enforces beyond its JSON schema."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from cifab.diagnostics import Finding, Mark, Severity
from cifab.gitlab import (
    ENVIRONMENT_ACTIONS,
    MAX_CACHE_KEY_FILES,
    MAX_CACHE_KEY_FILES_COMMITS,
    MAX_JOB_TIMEOUT_SECONDS,
    MAX_NEEDS,
    MAX_PARALLEL,
    MAX_RETRY,
    MAX_START_IN_SECONDS,
)
from cifab.lint.rules.base import Context, Rule
from cifab.pipeline.config import Job, flat_rules
from cifab.pipeline.needs import instance_names, job_needs, matrix_size
from cifab.pipeline.yamlpos import YMap

_UNITS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "wk": 604800, "wks": 604800, "week": 604800, "weeks": 604800,
    "mo": 2592000, "mos": 2592000, "month": 2592000, "months": 2592000,
    "y": 31536000, "yr": 31536000, "yrs": 31536000, "year": 31536000, "years": 31536000,
}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)")


def duration_seconds(text: Any) -> float | None:
    """Seconds in a GitLab duration ("1h 30m", "3 days", "90"), or None when it is not one."""
    if isinstance(text, bool):
        return None
    if isinstance(text, (int, float)):
        return float(text)
    if not isinstance(text, str):
        return None
    cleaned = text.strip().lower().replace(",", " ").replace(" and ", " ")
    if re.fullmatch(r"\d+(:\d{1,2}){1,2}", cleaned):  # 1:30 or 1:30:00
        parts = [int(p) for p in cleaned.split(":")]
        return float(sum(p * 60 ** i for i, p in enumerate(reversed(parts))))
    total = 0.0
    pos = 0
    found = False
    for match in _PART.finditer(cleaned):
        if cleaned[pos:match.start()].strip():
            return None
        number, unit = match.groups()
        if unit and unit not in _UNITS:
            return None
        total += float(number) * _UNITS.get(unit, 1)
        pos = match.end()
        found = True
    if not found or cleaned[pos:].strip():
        return None
    return total


def check_rules_mix(ctx: Context) -> Iterable[Finding]:
    for job in ctx.pipeline.visible_jobs:
        if job.get("rules") is None:
            continue
        clash = [k for k in ("only", "except", "start_in") if k in job.config]
        if clash:
            yield RULES_MIX.finding(job.key_mark(clash[0]),
                                    f"jobs:{job.name} config key may not be used with `rules`: "
                                    f"{', '.join(clash)}", "express the condition as a rule instead")


def check_workflow_when(ctx: Context) -> Iterable[Finding]:
    workflow = ctx.pipeline.config.get("workflow")
    for rule in flat_rules(workflow.get("rules") if isinstance(workflow, dict) else None):
        if isinstance(rule, YMap) and "when" in rule and rule["when"] not in ("always", "never"):
            yield WORKFLOW_WHEN.finding(rule.value_mark("when"),
                                        "workflow:rules:rule when should be always or never")


# Entry::Job::ALLOWED_WHEN and Entry::Bridge::ALLOWED_WHEN: `never` belongs to rules only.
JOB_WHEN = ("on_success", "on_failure", "always", "manual", "delayed")
TRIGGER_WHEN = ("on_success", "on_failure", "always", "manual")


def check_job_when(ctx: Context) -> Iterable[Finding]:
    for job in ctx.pipeline.visible_jobs:
        when = job.get("when")
        if not isinstance(when, str):
            continue  # other types: the schema says so
        allowed = TRIGGER_WHEN if "trigger" in job.config else JOB_WHEN
        if when not in allowed:
            hint = "`when: never` belongs in a rule: `rules: [{when: never}]`" if when == "never" else None
            yield JOB_WHEN_RULE.finding(job.value_mark("when"),
                                        f"jobs:{job.name} when should be one of: {', '.join(allowed)}", hint)


def check_rules_blank(ctx: Context) -> Iterable[Finding]:
    """Entry::Rules validates `presence`: an empty list of rules is a blank config."""
    workflow = ctx.pipeline.config.get("workflow")
    if isinstance(workflow, YMap) and workflow.get("rules") == []:
        yield RULES_BLANK.finding(workflow.value_mark("rules"), "workflow:rules config can't be blank")
    for job in ctx.pipeline.visible_jobs:
        if job.get("rules") == []:
            yield RULES_BLANK.finding(job.value_mark("rules"), f"jobs:{job.name}:rules config can't be blank",
                                      "leave `rules:` out to run the job as `when:` says")


def _environment(job: Job) -> dict[str, Any] | None:
    env = job.get("environment")
    if isinstance(env, str):
        return {"name": env}
    return env if isinstance(env, dict) else None


def check_environment(ctx: Context) -> Iterable[Finding]:
    jobs = ctx.pipeline.jobs
    for job in ctx.pipeline.visible_jobs:
        env = _environment(job)
        if env is None:
            continue
        raw = job.get("environment")

        def at(key: str, raw: Any = raw, job: Job = job) -> Mark:
            return raw.value_mark(key) if isinstance(raw, YMap) else job.value_mark("environment")

        action = env.get("action")
        if action is not None and action not in ENVIRONMENT_ACTIONS:
            yield ENVIRONMENT.finding(at("action"), f"jobs:{job.name}:environment action should be "
                                                    f"{', '.join(ENVIRONMENT_ACTIONS[:-1])}, or access")
        stop = env.get("on_stop")
        if not isinstance(stop, str):
            continue
        target = jobs.get(stop)
        if target is None or target.hidden:
            if not ctx.incomplete:
                yield ENVIRONMENT.finding(at("on_stop"), f"{job.name} job: on_stop job {stop} is not defined")
            continue
        target_env = _environment(target)
        if target_env is None:
            yield ENVIRONMENT.finding(at("on_stop"),
                                      f"{job.name} job: on_stop job {stop} does not have environment defined")
        elif target_env.get("name") != env.get("name"):
            yield ENVIRONMENT.finding(at("on_stop"),
                                      f"{job.name} job: on_stop job {stop} have different environment name")
        elif target_env.get("action") != "stop":
            yield ENVIRONMENT.finding(at("on_stop"),
                                      f"{job.name} job: on_stop job {stop} needs to have action stop defined")


WRITE_A_DURATION = 'write it like "30 minutes" or "1h 30m"'
NOT_A_DURATION = "should be a duration"


def _durations(job: Job) -> Iterator[tuple[Any, Any, str, float | None, str | None]]:
    """(mark, value, where, longest in seconds or None, hint when too long) for each duration
    the job sets."""
    if "timeout" in job.config:
        yield (job.value_mark("timeout"), job.config["timeout"], f"jobs:{job.name}:timeout config",
               MAX_JOB_TIMEOUT_SECONDS, "a job runs for at most a month")
    artifacts = job.get("artifacts")
    if isinstance(artifacts, YMap) and "expire_in" in artifacts and artifacts["expire_in"] != "never":
        yield (artifacts.value_mark("expire_in"), artifacts["expire_in"], f"jobs:{job.name}:artifacts expire in",
               None, None)


def _duration_problem(value: Any, longest: float | None) -> str | None:
    """DurationValidator's complaint about a value, if it has one."""
    seconds = duration_seconds(value)
    if seconds is None:
        return NOT_A_DURATION
    if longest is not None and seconds > longest:
        return "should not exceed the limit"
    return None


def check_durations(ctx: Context) -> Iterable[Finding]:
    for job in ctx.pipeline.visible_jobs:
        if not isinstance(job.config, dict):
            continue
        for mark, value, where, longest, too_long in _durations(job):
            if isinstance(value, str) and value.startswith("$"):
                continue  # a variable: its value is known only when the pipeline runs
            problem = _duration_problem(value, longest)
            if problem is not None:
                yield DURATION.finding(mark, f"{where} {problem}",
                                       WRITE_A_DURATION if problem == NOT_A_DURATION else too_long)
        when = job.get("when")
        start_in = job.get("start_in")
        if when == "delayed":
            problem = _duration_problem(start_in, MAX_START_IN_SECONDS)
            if problem == NOT_A_DURATION:
                yield DURATION.finding(job.value_mark("start_in") if start_in is not None else job.value_mark("when"),
                                       f"jobs:{job.name} start in {problem}",
                                       "`when: delayed` needs `start_in`, such as `start_in: 30 minutes`")
            elif problem is not None:
                yield DURATION.finding(job.value_mark("start_in"), f"jobs:{job.name} start in {problem}")
        elif start_in is not None and job.get("rules") is None:
            yield DURATION.finding(job.value_mark("start_in"), f"jobs:{job.name} start in must be blank",
                                   "`start_in` only works with `when: delayed`")
        yield from _rule_delays(job)


def _rule_delays(job: Job) -> Iterator[Finding]:
    """Rules::Rule: start_in belongs to a rule with `when: delayed`, which needs one of at most
    a week."""
    loc = f"jobs:{job.name}:rules:rule"
    for rule in flat_rules(job.get("rules")):
        if not isinstance(rule, YMap):
            continue
        start_in = rule.get("start_in")
        if rule.get("when") != "delayed":
            if "start_in" in rule:
                yield DURATION.finding(rule.key_mark("start_in"), f"{loc} config contains disallowed keys: start_in",
                                       "`start_in` only works with `when: delayed`")
            continue
        if start_in is None or start_in == "":
            yield DURATION.finding(rule.value_mark("when"), f"{loc} start in can't be blank",
                                   "`when: delayed` needs `start_in`, such as `start_in: 30 minutes`")
            continue
        if isinstance(start_in, str) and start_in.startswith("$"):
            continue
        problem = _duration_problem(start_in, MAX_START_IN_SECONDS)
        if problem is not None:
            yield DURATION.finding(rule.value_mark("start_in"), f"{loc} start in {problem}",
                                   WRITE_A_DURATION if problem == NOT_A_DURATION
                                   else "a delayed job starts within a week")


def check_limits(ctx: Context) -> Iterable[Finding]:
    parallel_sizes = {j.name: len(instance_names(j)) or 1 for j in ctx.pipeline.visible_jobs}
    for job in ctx.pipeline.visible_jobs:
        parallel = job.get("parallel")
        if isinstance(parallel, YMap) and isinstance(parallel.get("matrix"), list):
            size = matrix_size(parallel["matrix"])
            if size > MAX_PARALLEL:
                yield LIMITS.finding(parallel.value_mark("matrix"),
                                     f"jobs:{job.name}:parallel:matrix config generates too many jobs "
                                     f"(maximum is {MAX_PARALLEL})")
        elif isinstance(parallel, int) and not isinstance(parallel, bool) and not 1 <= parallel <= MAX_PARALLEL:
            yield LIMITS.finding(job.value_mark("parallel"),
                                 f"jobs:{job.name}:parallel config must be less than or equal to {MAX_PARALLEL}")
        retry = job.get("retry")
        count = retry.get("max") if isinstance(retry, dict) else retry
        if isinstance(count, int) and not isinstance(count, bool) and not 0 <= count <= MAX_RETRY:
            mark = retry.value_mark("max") if isinstance(retry, YMap) else job.value_mark("retry")
            yield LIMITS.finding(mark, f"jobs:{job.name}:retry max must be less than or equal to {MAX_RETRY}")
        yield from _cache_limits(job)
        yield from _needs_limit(job, parallel_sizes)


def _needs_limit(job: Job, parallel_sizes: dict[str, int]) -> Iterator[Finding]:
    """Seed::Build#needs_errors, at pipeline creation: the job's needs, or the needs of a
    rule that replaces them, with a need on a parallel job counted once per instance."""
    for group in job_needs(job):
        count = sum(parallel_sizes.get(need.name, 1) for need in group)  # an instance's name is no job's
        if count > MAX_NEEDS:
            yield LIMITS.finding(group[0].mark, f"{job.name}: one job can only need {MAX_NEEDS} others, but you "
                                                f"have listed {count}. See needs keyword documentation for more "
                                                "details")
            return


def _cache_limits(job: Job) -> Iterator[Finding]:
    caches = job.get("cache")
    for cache in caches if isinstance(caches, list) else [caches]:
        key = cache.get("key") if isinstance(cache, dict) else None
        if not isinstance(key, YMap):
            continue
        for field, limit in (("files", MAX_CACHE_KEY_FILES), ("files_commits", MAX_CACHE_KEY_FILES_COMMITS)):
            files = key.get(field)
            if isinstance(files, list) and len(files) > limit:
                yield LIMITS.finding(key.value_mark(field),
                                     f"jobs:{job.name}:cache:key:{field} config has too many entries "
                                     f"(maximum {limit})")


RULES_MIX = Rule(
    "rules-with-only-except", Severity.ERROR, "rules: cannot be combined with only, except or start_in",
    "`rules` replaces `only`/`except`; GitLab rejects a job that uses both. A job-level "
    "`start_in` must move into the rule that sets `when: delayed`.",
    bad="test:\n  script: make test\n  only: [main]\n  rules:\n    - if: $CI_COMMIT_TAG\n",
    good="test:\n  script: make test\n  rules:\n    - if: $CI_COMMIT_BRANCH == \"main\"\n    - if: $CI_COMMIT_TAG\n",
    check=check_rules_mix,
    entry_messages=True,
)
WORKFLOW_WHEN = Rule(
    "workflow-rules-when", Severity.ERROR, "workflow:rules may only use when: always or never",
    "Workflow rules decide whether a pipeline is created at all, so `when` can only be "
    "`always` or `never`.",
    bad="workflow:\n  rules:\n    - if: $CI_COMMIT_TAG\n      when: manual\n\ntest:\n  script: make test\n",
    good="workflow:\n  rules:\n    - if: $CI_COMMIT_TAG\n      when: always\n\ntest:\n  script: make test\n",
    check=check_workflow_when,
    entry_messages=True,
)
ENVIRONMENT = Rule(
    "environment-invalid", Severity.ERROR, "environment:action and on_stop must be consistent",
    "`environment:action` is one of start, prepare, stop, verify or access. A job named by "
    "`on_stop` must exist, deploy to the same environment, and have `action: stop`.",
    bad="review:\n  script: deploy\n  environment:\n    name: review/$CI_COMMIT_REF_SLUG\n"
        "    on_stop: stop-review\n\nstop-review:\n  script: teardown\n  when: manual\n"
        "  environment:\n    name: review/$CI_COMMIT_REF_SLUG\n",
    good="review:\n  script: deploy\n  environment:\n    name: review/$CI_COMMIT_REF_SLUG\n"
         "    on_stop: stop-review\n\nstop-review:\n  script: teardown\n  when: manual\n"
         "  environment:\n    name: review/$CI_COMMIT_REF_SLUG\n    action: stop\n",
    check=check_environment,
)
DURATION = Rule(
    "duration-invalid", Severity.ERROR, "timeout, expire_in and start_in must be durations",
    "GitLab parses durations such as `90`, `30 minutes` or `1h 30m`. A job's `timeout` is at most "
    "a month. `when: delayed`, in a job or in a rule, needs a `start_in` of at most a week, and "
    "`start_in` means nothing without it.",
    bad="test:\n  script: make test\n  timeout: soon\n",
    good="test:\n  script: make test\n  timeout: 30 minutes\n",
    check=check_durations,
    entry_messages=True,
)
LIMITS = Rule(
    "limits-exceeded", Severity.ERROR, "parallel, retry, needs and cache key files stay within GitLab's limits",
    "`parallel` (or the jobs a `parallel:matrix` expands to) is at most 200, `retry` at most 2, "
    "`cache:key:files` at most 10 files and `cache:key:files_commits` at most 2. A job needs at "
    "most 50 jobs (GitLab's default `ci_needs_size_limit`), a need on a parallel job counting "
    "once per instance; GitLab refuses the pipeline when it creates it.",
    bad="test:\n  script: make test\n  parallel:\n    matrix:\n"
        "      - A: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]\n"
        "        B: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]\n",
    good="test:\n  script: make test\n  parallel:\n    matrix:\n"
         "      - A: [1, 2, 3, 4, 5]\n        B: [1, 2, 3, 4, 5]\n",
    check=check_limits,
)

JOB_WHEN_RULE = Rule(
    "job-when-invalid", Severity.ERROR, "a job's when is on_success, on_failure, always, manual or delayed",
    "`when: never` is valid only inside `rules:`; a job's own `when:` takes on_success, on_failure, "
    "always, manual or delayed (a trigger job: not delayed).",
    bad="cleanup:\n  script: make clean\n  when: never\n",
    good="cleanup:\n  script: make clean\n  rules:\n    - when: never\n",
    check=check_job_when,
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

RULES = [RULES_MIX, WORKFLOW_WHEN, JOB_WHEN_RULE, RULES_BLANK, ENVIRONMENT, DURATION, LIMITS]
