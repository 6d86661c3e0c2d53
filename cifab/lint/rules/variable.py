"""variable-options: variables written as mappings, as GitLab's Variable entries check them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from cifab.diagnostics import Finding, Severity
from cifab.lint.rules.base import Context, Rule
from cifab.lint.rules.keyword import RULE as KEYWORD
from cifab.pipeline.yamlpos import YMap

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
            yield KEYWORD.finding(data.key_mark(extra[0]), f"{where} config uses invalid data keys: {', '.join(extra)}",
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
