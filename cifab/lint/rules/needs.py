"""needs-undefined, needs-duplicate, needs-cycle, needs-matrix-unknown and needs-absent: the
order in which jobs can run."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from cifab.diagnostics import Finding, Mark, Severity
from cifab.lint.rules.base import Context, Rule
from cifab.lint.scenarios import applies, scenarios
from cifab.pipeline.config import Job
from cifab.pipeline.needs import Need, instance_names, job_needs, matrix_unknown, parallel_jobs, target
from cifab.spelling import suggest


def check_matrix_expressions(ctx: Context) -> Iterable[Finding]:
    for job in ctx.pipeline.visible_jobs:
        for name in sorted(matrix_unknown(job)):
            yield MATRIX.finding(job.value_mark("needs"), f"{job.name} job: '{name}' does not exist in matrix "
                                                          "configuration")


def known_jobs(ctx: Context) -> dict[str, Job]:
    known = {j.name: j for j in ctx.pipeline.visible_jobs}
    for job in ctx.pipeline.visible_jobs:
        for name in instance_names(job):
            known.setdefault(name, job)
    return known


def order_problem(ctx: Context, job: Job, other: Job) -> bool:
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


def visible_names(ctx: Context) -> list[str]:
    return [j.name for j in ctx.pipeline.visible_jobs]


def check_needs(ctx: Context) -> Iterable[Finding]:
    known = known_jobs(ctx)
    parallel = parallel_jobs(ctx.pipeline.visible_jobs)
    names: list[str] | None = None
    for job in ctx.pipeline.visible_jobs:
        for group in job_needs(job):
            for need in group:
                name = target(need, parallel)
                other = known.get(name)
                if other is None:
                    if not need.optional and not ctx.incomplete:
                        names = visible_names(ctx) if names is None else names
                        near = suggest(name, names)
                        yield NEEDS.finding(need.mark, f"{job.name} job: undefined need: {name}",
                                            f"did you mean `{near}`?" if near else None)
                elif order_problem(ctx, job, other):
                    yield NEEDS.finding(need.mark, f"{job.name} job: need {name} is not defined "
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
    by_any_name = known_jobs(ctx)  # a need may name one instance of a parallel job
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


def _written(job: Job, name: str) -> Mark:
    """Where the job's need of this job (or of the parallel job it is an instance of) is written."""
    for group in job_needs(job):
        for need in group:
            if name in (need.name, need.job) or name.startswith((need.name + ": [", need.name + " ")):
                return need.mark
    return job.mark


def check_absent_needs(ctx: Context) -> Iterable[Finding]:
    if not applies(ctx):
        return
    jobs = {job.name: job for job in ctx.pipeline.visible_jobs}
    defined = set(jobs) | {name for job in ctx.pipeline.visible_jobs for name in instance_names(job)}
    reported: set[tuple[str, str]] = set()
    for scenario, sim in scenarios(ctx):
        if not sim.certain:
            continue  # whether GitLab creates this pipeline hinges on what cifab cannot know
        for planned in sim.jobs:
            job = jobs.get(planned.job)
            if job is None or planned.maybe or planned.uncertain:
                continue  # a job that may be left out raises nothing for sure
            for missing in planned.missing_needs:
                if missing not in defined or (job.name, missing) in reported:
                    continue
                reported.add((job.name, missing))
                yield ABSENT.finding(_written(job, missing),
                                     f"'{planned.name}' job needs '{missing}' job, but '{missing}' does not "
                                     f"exist in the pipeline for {scenario}",
                                     f"add `optional: true` to the need if {missing} may be left out")
            for missing in planned.missing_dependencies:
                if missing not in defined or (job.name, "dependency " + missing) in reported:
                    continue
                reported.add((job.name, "dependency " + missing))
                yield ABSENT.finding(job.value_mark("dependencies"),
                                     f"'{planned.name}' job depends on '{missing}' job, but '{missing}' does not "
                                     f"exist in the pipeline for {scenario}",
                                     f"give {job.name} the same rules as {missing}, or drop the dependency")


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


ABSENT = Rule(
    "needs-absent", Severity.ERROR, "a need must be in every pipeline that has the needing job",
    "GitLab refuses to create a pipeline in which a job needs (or depends on) a job that its rules left "
    "out. cifab "
    "simulates the common events (a merge request, pushes to the default and to a feature branch, a "
    "tag, a schedule) and names the one where this happens. `needs: [{job: X, optional: true}]` "
    "accepts a missing X.",
    bad="build:\n  stage: build\n  script: make\n  rules:\n    - if: $CI_COMMIT_TAG\n"
        "deploy:\n  stage: deploy\n  script: deploy\n  needs: [build]\n",
    good="build:\n  stage: build\n  script: make\n  rules:\n    - if: $CI_COMMIT_TAG\n"
         "deploy:\n  stage: deploy\n  script: deploy\n  needs:\n    - job: build\n      optional: true\n",
    check=check_absent_needs,
)
