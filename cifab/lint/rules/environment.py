"""environment-invalid: environment:action and on_stop, as Entry::Environment checks them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cifab.diagnostics import Finding, Mark, Severity
from cifab.gitlab import (
    ENVIRONMENT_ACTIONS,
)
from cifab.lint.rules.base import Context, Rule
from cifab.pipeline.config import Job
from cifab.pipeline.yamlpos import YMap


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
