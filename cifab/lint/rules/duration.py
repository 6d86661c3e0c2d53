"""duration-invalid: timeout, expire_in and start_in, as GitLab reads durations."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from cifab.diagnostics import Finding, Severity
from cifab.gitlab import (
    MAX_JOB_TIMEOUT_SECONDS,
    MAX_START_IN_SECONDS,
)
from cifab.lint.rules.base import Context, Rule
from cifab.pipeline.config import Job, flat_rules
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
    return _text_seconds(text)


@lru_cache(maxsize=4096)
def _text_seconds(text: str) -> float | None:
    # Kept per text: thousands of jobs share a few durations (`expire_in: 1 week`).
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
