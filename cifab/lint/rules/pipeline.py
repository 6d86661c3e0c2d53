"""pipeline-empty and pipelines-duplicate: the pipelines the standard events create."""

from __future__ import annotations

from collections.abc import Iterable

from cifab.diagnostics import Finding, Severity
from cifab.lint.rules.base import Context, Rule
from cifab.lint.scenarios import applies, scenarios
from cifab.pipeline.yamlpos import YMap
from cifab.simulate.event import child_pipeline


def check_empty(ctx: Context) -> Iterable[Finding]:
    if not applies(ctx):
        return
    checked = scenarios(ctx) if isinstance(ctx.settings.scenarios, tuple) else scenarios(ctx)[:2]
    for scenario, sim in checked:  # the merge request and the default branch, or the configured ones
        # Only where workflow:rules asked for the pipeline: without them, GitLab creates a
        # merge request pipeline only for jobs that ask for one, and that is no mistake.
        if not sim.created and sim.certain and sim.reason.startswith("no job was added") \
                and sim.decided_by is not None:
            yield EMPTY.finding((ctx.pipeline.root.src, 1, 1),
                                f"{scenario} creates no pipeline: the rules configuration prevented any jobs "
                                "from being added to the pipeline",
                                "give the jobs that should run there a rule that matches it")


def check_duplicates(ctx: Context) -> Iterable[Finding]:
    if not applies(ctx):
        return
    if isinstance(ctx.settings.scenarios, tuple) or child_pipeline(ctx.pipeline.config):
        return  # which pushes pair up is known for the standard pipelines only, not their children
    results = dict(scenarios(ctx))
    mr = next(sim for name, sim in results.items() if name.startswith("a merge request"))
    branch = results["a push to a feature branch with an open merge request"]
    if mr.created and branch.created and mr.certain and branch.certain:
        workflow = ctx.pipeline.config.get("workflow")
        mark = workflow.key_mark("rules") if isinstance(workflow, YMap) and "rules" in workflow \
            else (ctx.pipeline.root.src, 1, 1)
        yield DUPLICATE.finding(mark, "one push to a branch with an open merge request starts two pipelines: a "
                                      "branch pipeline and a merge request pipeline",
                                "add `- if: $CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS` with `when: never` to "
                                "workflow:rules, or run branch pipelines only")


EMPTY = Rule(
    "pipeline-empty", Severity.WARNING, "merge requests and the default branch should get jobs",
    "When workflow:rules let a pipeline be created but every job's rules leave it out, GitLab "
    "creates nothing and says the rules prevented any jobs from being added. A job whose rules ask for "
    "`$CI_COMMIT_BRANCH`, or with `only: [branches]`, is never added to a merge request pipeline.",
    bad="workflow:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n    - if: $CI_COMMIT_BRANCH\n"
        "test:\n  script: make test\n  rules:\n    - if: $CI_COMMIT_BRANCH\n",
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
