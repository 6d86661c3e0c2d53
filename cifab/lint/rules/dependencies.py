"""dependencies-invalid: dependencies name earlier jobs, and are part of needs when both are set."""

from __future__ import annotations

from collections.abc import Iterable

from cifab.diagnostics import Finding, Severity
from cifab.lint.rules.base import Context, Rule
from cifab.lint.rules.needs import known_jobs, order_problem, visible_names
from cifab.pipeline.needs import job_needs
from cifab.pipeline.yamlpos import YList
from cifab.spelling import suggest


def check_dependencies(ctx: Context) -> Iterable[Finding]:
    known = known_jobs(ctx)
    names: list[str] | None = None
    for job in ctx.pipeline.visible_jobs:
        deps = job.get("dependencies")
        if not isinstance(deps, list):
            continue
        # Entry::Job compares dependencies with the needs as written, before parallel jobs
        # expand (`needs: [{job: build, parallel: ...}]` names build), and only when needs_value
        # is present: `needs: []` has none, so its dependencies are free.
        needs = {n.job for n in job_needs(job)[0]}
        has_needs = isinstance(job.get("needs"), list) and bool(job.get("needs"))
        outside: list[tuple[int, str]] = []
        for i, name in enumerate(deps):
            if not isinstance(name, str):
                continue
            mark = deps.item_mark(i) if isinstance(deps, YList) else job.value_mark("dependencies")
            other = known.get(name)
            if other is None:
                if not ctx.incomplete:
                    names = visible_names(ctx) if names is None else names
                    near = suggest(name, names)
                    yield DEPENDENCIES.finding(mark, f"{job.name} job: undefined dependency: {name}",
                                               f"did you mean `{near}`?" if near else None)
            elif order_problem(ctx, job, other):
                yield DEPENDENCIES.finding(mark, f"{job.name} job: dependency {name} is not defined in "
                                                 "current or prior stages")
            elif has_needs and name not in needs:
                outside.append((i, name))
        if outside:
            # One error naming them all: "the #{missing_needs.join(", ")} should be part of needs".
            i, _ = outside[0]
            listed = ", ".join(name for _, name in outside)
            mark = deps.item_mark(i) if isinstance(deps, YList) else job.value_mark("dependencies")
            yield DEPENDENCIES.finding(mark, f"jobs:{job.name} dependencies the {listed} should be part of needs",
                                       f"add {listed} to the job's needs")


DEPENDENCIES = Rule(
    "dependencies-invalid", Severity.ERROR,
    "dependencies must name earlier jobs, and be part of needs when both are set",
    "`dependencies` picks which jobs' artifacts to download. Each must be a visible job in the "
    "same or an earlier stage; when the job also has `needs`, each dependency must be among them.",
    bad="build:\n  stage: build\n  script: make\n\nlint:\n  stage: build\n  script: make lint\n\n"
        "test:\n  script: make test\n  needs: [lint]\n  dependencies: [build]\n",
    good="build:\n  stage: build\n  script: make\n\nlint:\n  stage: build\n  script: make lint\n\n"
         "test:\n  script: make test\n  needs: [lint, build]\n  dependencies: [build]\n",
    check=check_dependencies,
)
