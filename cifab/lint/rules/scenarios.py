"""Errors GitLab finds only when it creates a pipeline: the standard events are simulated
(cifab.simulate) and what would fail or surprise in one of them is reported, naming it."""

from __future__ import annotations

from collections.abc import Iterable
from weakref import WeakKeyDictionary

from cifab.diagnostics import Finding, Severity
from cifab.lint.rules.base import Context, Rule
from cifab.pipeline.needs import Need, instance_names, job_needs
from cifab.pipeline.yamlpos import YMap
from cifab.simulate.event import Event, event_for, git_default_branch, standard_events
from cifab.simulate.pipeline import RepositoryFiles, Simulation, Simulator, repository_files

_RESULTS: WeakKeyDictionary[Context, list[tuple[str, Simulation]]] = WeakKeyDictionary()


def _applies(ctx: Context) -> bool:
    return ctx.settings.scenarios is not False and not ctx.incomplete


def _events(ctx: Context, default: str) -> list[tuple[str, Event]]:
    configured = ctx.settings.scenarios
    if not isinstance(configured, tuple):
        return standard_events(default)
    out = []
    for item in configured:
        merge_request = item.get("merge_request")
        event = event_for(default, branch=item.get("branch"), tag=item.get("tag"),
                          merge_request=str(merge_request) if merge_request is not None else None,
                          source=str(item.get("source", "push")),
                          variables={str(k): str(v) for k, v in (item.get("variables") or {}).items()})
        out.append((str(item["name"]), event))
    return out


def _scenarios(ctx: Context) -> list[tuple[str, Simulation]]:
    """Each standard event's simulated pipeline, computed once per linted file."""
    found = _RESULTS.get(ctx)
    if found is None:
        pipeline = ctx.pipeline
        uses_exists = any("exists" in text for _, text in pipeline.texts())
        files = RepositoryFiles(repository_files(ctx.root) if uses_exists else [])
        needs: dict[str, list[list[Need]]] = {}
        found = _RESULTS[ctx] = [(name, Simulator(pipeline, event, files, needs).run())
                                 for name, event in _events(ctx, git_default_branch(ctx.root))]
    return found


def check_absent_needs(ctx: Context) -> Iterable[Finding]:
    if not _applies(ctx):
        return
    jobs = {job.name: job for job in ctx.pipeline.visible_jobs}
    defined = set(jobs) | {name for job in ctx.pipeline.visible_jobs for name in instance_names(job)}
    reported: set[tuple[str, str]] = set()
    for scenario, sim in _scenarios(ctx):
        for planned in sim.jobs:
            job = jobs.get(planned.name) or jobs.get(planned.name.split(":")[0].rsplit(" ", 1)[0])
            for missing in planned.missing_needs:
                if job is None or missing not in defined or (job.name, missing) in reported:
                    continue
                reported.add((job.name, missing))
                mark = next((n.mark for group in job_needs(job) for n in group if n.name == missing), job.mark)
                yield ABSENT.finding(mark, f"'{job.name}' job needs '{missing}' job, but '{missing}' does not "
                                           f"exist in the pipeline for {scenario}",
                                     f"add `optional: true` to the need if {missing} may be left out")
            for missing in planned.missing_dependencies:
                if job is None or missing not in defined or (job.name, "dependency " + missing) in reported:
                    continue
                reported.add((job.name, "dependency " + missing))
                yield ABSENT.finding(job.value_mark("dependencies"),
                                     f"'{job.name}' job depends on '{missing}' job, but '{missing}' does not exist "
                                     f"in the pipeline for {scenario}",
                                     f"give {job.name} the same rules as {missing}, or drop the dependency")


def check_empty(ctx: Context) -> Iterable[Finding]:
    if not _applies(ctx):
        return
    checked = _scenarios(ctx) if isinstance(ctx.settings.scenarios, tuple) else _scenarios(ctx)[:2]
    for scenario, sim in checked:  # the merge request and the default branch, or the configured ones
        # Only where workflow:rules asked for the pipeline: without them, GitLab creates a
        # merge request pipeline only for jobs that ask for one, and that is no mistake.
        if not sim.created and sim.reason.startswith("no job was added") and sim.decided_by is not None:
            yield EMPTY.finding((ctx.pipeline.root.src, 1, 1),
                                f"{scenario} creates no pipeline: the rules configuration prevented any jobs "
                                "from being added to the pipeline",
                                "give the jobs that should run there a rule that matches it")


def check_duplicates(ctx: Context) -> Iterable[Finding]:
    if not _applies(ctx):
        return
    if isinstance(ctx.settings.scenarios, tuple):
        return  # which pushes pair up is known for the standard pipelines only
    results = dict(_scenarios(ctx))
    mr = next(sim for name, sim in results.items() if name.startswith("a merge request"))
    branch = results["a push to a feature branch with an open merge request"]
    if mr.created and branch.created:
        workflow = ctx.pipeline.config.get("workflow")
        mark = workflow.key_mark("rules") if isinstance(workflow, YMap) and "rules" in workflow \
            else (ctx.pipeline.root.src, 1, 1)
        yield DUPLICATE.finding(mark, "one push to a branch with an open merge request starts two pipelines: a "
                                      "branch pipeline and a merge request pipeline",
                                "add `- if: $CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS` with `when: never` to "
                                "workflow:rules, or run branch pipelines only")


def check_never(ctx: Context) -> Iterable[Finding]:
    if not _applies(ctx):
        return
    ran = {planned.name for _, sim in _scenarios(ctx) for planned in sim.jobs}
    ran |= {name.split(":")[0].rsplit(" ", 1)[0] for name in ran}
    for job in ctx.pipeline.visible_jobs:
        if job.name not in ran:
            yield NEVER.finding(job.mark, f"{job.name} runs in none of the standard pipelines (merge request, "
                                          "default branch, feature branch, tag, schedule)",
                                "`cifab jobs --source web` and friends show other events")


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
EMPTY = Rule(
    "pipeline-empty", Severity.WARNING, "merge requests and the default branch should get jobs",
    "When workflow:rules let a pipeline be created but every job's rules leave it out, GitLab "
    "creates nothing and says the rules prevented any jobs from being added. A job without "
    "`rules` is never added to a merge request pipeline.",
    bad="workflow:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n    - if: $CI_COMMIT_BRANCH\n"
        "test:\n  script: make test\n",
    good="workflow:\n  rules:\n    - if: $CI_COMMIT_BRANCH\ntest:\n  script: make test\n",
    check=check_empty,
)
DUPLICATE = Rule(
    "pipelines-duplicate", Severity.WARNING, "one push should start one pipeline",
    "A branch with an open merge request gets a branch pipeline and a merge request pipeline for "
    "the same push when both are allowed: twice the runners, and two statuses.",
    bad="workflow:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n    - if: $CI_COMMIT_BRANCH\n"
        "test:\n  script: make test\n  rules:\n    - when: on_success\n",
    good="workflow:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n"
         "    - if: $CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS\n      when: never\n    - if: $CI_COMMIT_BRANCH\n"
         "test:\n  script: make test\n  rules:\n    - when: on_success\n",
    check=check_duplicates,
)
NEVER = Rule(
    "job-never-runs", Severity.INFO, "a job should run in some pipeline",
    "A job that none of the common events adds (a merge request, pushes, a tag, a schedule) may be "
    "meant for a web, API or trigger pipeline, or may be dead.",
    bad="build:\n  script: make\n  rules:\n"
        "    - if: $CI_PIPELINE_SOURCE == \"push\" && $CI_PIPELINE_SOURCE == \"web\"\n",
    good="build:\n  script: make\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"push\"\n",
    check=check_never,
)

RULES = [ABSENT, EMPTY, DUPLICATE, NEVER]
