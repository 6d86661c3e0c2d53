"""Stages, needs and dependencies: the order in which jobs can run."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from cifab.diagnostics import Finding, Severity
from cifab.lint.rules.base import Context, Rule
from cifab.pipeline.config import Job
from cifab.pipeline.needs import Need, instance_names, job_needs
from cifab.pipeline.yamlpos import YList
from cifab.spelling import suggest


def check_stage(ctx: Context) -> Iterable[Finding]:
    p = ctx.pipeline
    if p.incomplete and "stages" not in p.config:
        return  # an include we cannot read may declare the stages
    available = ", ".join(p.stages)
    for job in p.visible_jobs:
        if p.incomplete and "stage" not in (job.config if isinstance(job.config, dict) else {}):
            continue  # the stage may come from an include we cannot read
        stage = job.get("stage", "test")
        if isinstance(stage, str) and stage not in ctx.stage_index:
            near = suggest(stage, p.stages)
            yield STAGE.finding(job.value_mark("stage"),
                                f"{job.name} job: chosen stage {stage} does not exist; "
                                f"available stages are {available}",
                                f"did you mean `{near}`?" if near else "add it to `stages:`")


def check_matrix_expressions(ctx: Context) -> Iterable[Finding]:
    for job in ctx.pipeline.visible_jobs:
        unknown: set[str] = set()
        job_needs(job, unknown)
        for name in sorted(unknown):
            yield MATRIX.finding(job.value_mark("needs"), f"{job.name} job: '{name}' does not exist in matrix "
                                                          "configuration")


def _known(ctx: Context) -> dict[str, Job]:
    known = {j.name: j for j in ctx.pipeline.visible_jobs}
    for job in ctx.pipeline.visible_jobs:
        for name in instance_names(job):
            known.setdefault(name, job)
    return known


def _order_problem(ctx: Context, job: Job, other: Job) -> bool:
    if ctx.pipeline.stage_of(job) is None or ctx.pipeline.stage_of(other) is None:
        return False  # a stage an unread template may set is not known to be wrong
    mine = ctx.job_stage_index(job)
    theirs = ctx.job_stage_index(other)
    if mine is None:
        return False
    if theirs is None:
        # A stage missing from `stages:` may be declared in an include cifab could not read.
        return not ctx.incomplete
    return theirs > mine


def _visible_names(ctx: Context) -> list[str]:
    return [j.name for j in ctx.pipeline.visible_jobs]


def check_needs(ctx: Context) -> Iterable[Finding]:
    known = _known(ctx)
    names: list[str] | None = None
    for job in ctx.pipeline.visible_jobs:
        for group in job_needs(job):
            for need in group:
                other = known.get(need.name)
                if other is None:
                    if not need.optional and not ctx.incomplete:
                        names = _visible_names(ctx) if names is None else names
                        near = suggest(need.name, names)
                        yield NEEDS.finding(need.mark, f"{job.name} job: undefined need: {need.name}",
                                            f"did you mean `{near}`?" if near else None)
                elif _order_problem(ctx, job, other):
                    yield NEEDS.finding(need.mark, f"{job.name} job: need {need.name} is not defined "
                                                   "in current or prior stages")


def check_duplicate_needs(ctx: Context) -> Iterable[Finding]:
    for job in ctx.pipeline.visible_jobs:
        for group in job_needs(job):
            seen: set[str] = set()
            dups: list[Need] = []
            for need in group:
                if need.name in seen and need not in dups:
                    dups.append(need)
                seen.add(need.name)
            if dups:
                names = ", ".join(dict.fromkeys(d.name for d in dups))
                yield DUPLICATE.finding(dups[0].mark, f"{job.name} has the following needs duplicated: {names}.")


def check_dependencies(ctx: Context) -> Iterable[Finding]:
    known = _known(ctx)
    names: list[str] | None = None
    for job in ctx.pipeline.visible_jobs:
        deps = job.get("dependencies")
        if not isinstance(deps, list):
            continue
        needs = {n.name for n in job_needs(job)[0]}
        # Entry::Job checks `dependencies` against `needs` only when needs_value is present:
        # `needs: []` has none, so its dependencies are free.
        has_needs = isinstance(job.get("needs"), list) and bool(job.get("needs"))
        for i, name in enumerate(deps):
            if not isinstance(name, str):
                continue
            mark = deps.item_mark(i) if isinstance(deps, YList) else job.value_mark("dependencies")
            other = known.get(name)
            if other is None:
                if not ctx.incomplete:
                    names = _visible_names(ctx) if names is None else names
                    near = suggest(name, names)
                    yield DEPENDENCIES.finding(mark, f"{job.name} job: undefined dependency: {name}",
                                               f"did you mean `{near}`?" if near else None)
            elif _order_problem(ctx, job, other):
                yield DEPENDENCIES.finding(mark, f"{job.name} job: dependency {name} is not defined in "
                                                 "current or prior stages")
            elif has_needs and name not in needs:
                yield DEPENDENCIES.finding(mark, f"jobs:{job.name} dependencies the {name} should be part "
                                                 "of needs", f"add {name} to the job's needs")


def _cycles(order: list[str], edges: dict[str, list[str]]) -> Iterator[list[str]]:
    """Strongly connected components with more than one job, in Tarjan (and Ruby TSort) order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = 0
    for start in order:
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(edges.get(start, [])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges.get(child, []))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    yield list(reversed(component))


def check_cycles(ctx: Context) -> Iterable[Finding]:
    known = {j.name: j for j in ctx.pipeline.visible_jobs}
    by_any_name = _known(ctx)  # a need may name one instance of a parallel job
    edges: dict[str, list[str]] = {}
    for job in known.values():
        targets = [by_any_name[n.name].name for group in job_needs(job) for n in group
                   if n.name in by_any_name]
        if job.name in targets:
            yield CYCLES.finding(job.value_mark("needs"),
                                 f"The pipeline has circular dependencies: self-dependency: {job.name}")
        edges[job.name] = [t for t in dict.fromkeys(targets) if t != job.name]
    for component in _cycles(list(known), edges):
        first = known[component[0]]
        names = ", ".join(json.dumps(n) for n in component)
        yield CYCLES.finding(first.value_mark("needs"),
                             f"The pipeline has circular dependencies: topological sort failed: [{names}]")


STAGE = Rule(
    "stage-undefined", Severity.ERROR, "a job's stage must be declared in stages:",
    "Every job runs in a stage from `stages:` (or the defaults build, test, deploy, plus .pre "
    "and .post). A job in any other stage is rejected. Jobs without `stage:` run in `test`.",
    bad="stages: [build, test]\n\npublish:\n  stage: deploy\n  script: make publish\n",
    good="stages: [build, test, deploy]\n\npublish:\n  stage: deploy\n  script: make publish\n",
    check=check_stage,
)
NEEDS = Rule(
    "needs-undefined", Severity.ERROR, "needs must name existing jobs in the same or earlier stages",
    "A need names a visible job of this pipeline (add `optional: true` when the job may be "
    "missing), and that job must run in the same stage or an earlier one. `rules:needs` are "
    "checked too.",
    bad="build:\n  stage: build\n  script: make\n\ntest:\n  stage: test\n  script: make test\n"
        "  needs: [biuld]\n",
    good="build:\n  stage: build\n  script: make\n\ntest:\n  stage: test\n  script: make test\n"
         "  needs: [build]\n",
    check=check_needs,
)
DUPLICATE = Rule(
    "needs-duplicate", Severity.ERROR, "a job must not need the same job twice",
    "GitLab rejects a `needs` list that names a job twice, even with different options.",
    bad="build:\n  stage: build\n  script: make\n\ntest:\n  script: make test\n  needs: [build, build]\n",
    good="build:\n  stage: build\n  script: make\n\ntest:\n  script: make test\n  needs: [build]\n",
    check=check_duplicate_needs,
)
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
CYCLES = Rule(
    "needs-cycle", Severity.ERROR, "needs must not form a cycle",
    "Jobs that need each other, directly or through others, can never start.",
    bad="a:\n  script: make a\n  needs: [b]\n\nb:\n  script: make b\n  needs: [a]\n",
    good="a:\n  script: make a\n\nb:\n  script: make b\n  needs: [a]\n",
    check=check_cycles,
)

MATRIX = Rule(
    "needs-matrix-unknown", Severity.ERROR, "$[[ matrix.NAME ]] in needs must name the job's own matrix variable",
    "In `needs:parallel:matrix`, `$[[ matrix.NAME ]]` takes the value of NAME in the needing job's own "
    "`parallel:matrix`, so each instance needs its own counterpart. A NAME the job's matrix lacks is an error.",
    bad="build:\n  stage: build\n  script: make\n  parallel:\n    matrix:\n      - OS: [linux, mac]\n"
        "test:\n  script: make test\n  parallel:\n    matrix:\n      - OS: [linux, mac]\n  needs:\n"
        "    - job: build\n      parallel:\n        matrix:\n          - OS: $[[ matrix.PLATFORM ]]\n",
    good="build:\n  stage: build\n  script: make\n  parallel:\n    matrix:\n      - OS: [linux, mac]\n"
         "test:\n  script: make test\n  parallel:\n    matrix:\n      - OS: [linux, mac]\n  needs:\n"
         "    - job: build\n      parallel:\n        matrix:\n          - OS: $[[ matrix.OS ]]\n",
    check=check_matrix_expressions,
)

RULES = [STAGE, NEEDS, DUPLICATE, DEPENDENCIES, CYCLES, MATRIX]
