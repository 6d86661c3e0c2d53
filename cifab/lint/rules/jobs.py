"""Jobs: no-visible-jobs, job-script-required, job-name-reserved, job-when-invalid and
job-never-runs."""

from __future__ import annotations

from collections.abc import Iterable

from cifab.diagnostics import Finding, Severity
from cifab.gitlab import (
    JOB_MARKERS,
    MAX_JOB_NAME_LENGTH,
    RESERVED_JOB_NAMES,
    RUNNABLE_KEYS,
    TOP_LEVEL_WORDS,
    keys_together,
)
from cifab.lint.rules.base import Context, Rule
from cifab.lint.scenarios import applies, scenarios
from cifab.pipeline.config import Job
from cifab.pipeline.yamlpos import YMap
from cifab.spelling import suggest


def check_visible(ctx: Context) -> Iterable[Finding]:
    p = ctx.pipeline
    if isinstance(p.root.data, dict) and not p.visible_jobs and not p.incomplete:
        yield VISIBLE.finding(p.config.start, "jobs config should contain at least one visible job",
                              "job names that start with a dot are hidden templates")


def check_runnable(ctx: Context) -> Iterable[Finding]:
    if ctx.incomplete:
        return  # an include we cannot read may define the script of a job named here
    for job in ctx.pipeline.visible_jobs:
        if not isinstance(job.config, dict) or not any(k in job.config for k in RUNNABLE_KEYS):
            near = suggest(job.name, TOP_LEVEL_WORDS) if not isinstance(job.config, dict) else None
            yield SCRIPT.finding(job.mark, f"jobs {job.name} config should implement the script:, run:, "
                                           "or trigger: keyword",
                                 f"did you mean the `{near}` keyword? `{job.name}` is read as a job" if near else None)


def check_script_shape(ctx: Context) -> Iterable[Finding]:
    """Entry::Job: script and run exclude each other; a job without run needs a script
    that is not blank; publish belongs to pages jobs."""
    for job in ctx.pipeline.visible_jobs:
        config = job.config
        if not isinstance(config, YMap) or "trigger" in config:
            continue
        together = keys_together(config, ("script", "run"))
        if together is not None:
            yield SCRIPT.finding(config.key_mark("run"), f"jobs:{job.name} {together}",
                                 "a job runs commands (script) or steps (run), not both")
        elif "script" in config and config["script"] in ("", [], None) and not job.uncertain:
            # A script that is a reference into an unread include is unknown, not blank.
            yield SCRIPT.finding(job.value_mark("script"), f"jobs:{job.name} script can't be blank")
        if "publish" in config and not _pages_job(job):
            yield SCRIPT.finding(config.key_mark("publish"),
                                 f"jobs:{job.name} publish can only be used within a `pages` job",
                                 "use `pages: {publish: ...}`, or name the job pages")


def check_job_body(ctx: Context) -> Iterable[Finding]:
    yield from check_runnable(ctx)
    yield from check_script_shape(ctx)


def _pages_job(job: Job) -> bool:
    """Entry::Job#pages_job?: `pages:` set, or the legacy job name `pages` unless `pages: false`."""
    pages = job.get("pages")
    return bool(pages) or (job.name == "pages" and pages is not False)


def check_names(ctx: Context) -> Iterable[Finding]:
    config = ctx.pipeline.config
    for name in RESERVED_JOB_NAMES:
        value = config.get(name)
        if isinstance(value, dict) and any(k in value for k in JOB_MARKERS):
            yield NAMES.finding(config.key_mark(name),
                                f"`{name}` cannot be a job name: GitLab reads it as the global keyword",
                                f"rename the job, for example to `{name}-job`")
    pages = config.get("pages:deploy")
    if isinstance(pages, YMap) and pages.get("stage") == "deploy":
        yield NAMES.finding(config.key_mark("pages:deploy"),
                            "`pages:deploy` cannot be a job name in the deploy stage: GitLab reserves it")
    for job in ctx.pipeline.jobs.values():
        if not job.name.strip():
            yield NAMES.finding(job.mark, "jobs:job name can't be blank")
        elif len(job.name) > MAX_JOB_NAME_LENGTH:
            yield NAMES.finding(job.mark, f"jobs:job name is too long (maximum is {MAX_JOB_NAME_LENGTH} characters)")


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


def check_never(ctx: Context) -> Iterable[Finding]:
    if not applies(ctx):
        return
    # A job that may run (its rules hinge on a variable cifab cannot see) is no finding.
    ran = {planned.job for _, sim in scenarios(ctx) for planned in sim.jobs}
    for job in ctx.pipeline.visible_jobs:
        if job.name not in ran:
            yield NEVER.finding(job.mark, f"{job.name} runs in none of the standard pipelines (merge request, "
                                          "default branch, feature branch, tag, schedule)",
                                "`cifab jobs --source web` and friends show other events")


VISIBLE = Rule(
    "no-visible-jobs", Severity.ERROR, "at least one job must not be hidden",
    "Jobs whose names start with a dot are templates. A configuration with only hidden jobs "
    "creates no pipeline.",
    bad=".template:\n  script: make test\n",
    good=".template:\n  script: make test\n\ntest:\n  extends: .template\n",
    check=check_visible,
)


SCRIPT = Rule(
    "job-script-required", Severity.ERROR, "every job needs script:, run: or trigger:",
    "A job runs commands (`script`), steps (`run`) or a downstream pipeline (`trigger`). "
    "A job with none of them, or a job written as a plain string, is rejected; so is a job with "
    "both `script` and `run`, a blank `script`, or `publish` outside a pages job.",
    bad="test:\n  stage: test\n",
    good="test:\n  stage: test\n  script: make test\n",
    check=check_job_body,
    entry_messages=True,
)


NAMES = Rule(
    "job-name-reserved", Severity.ERROR, "job names must not be global keywords or blank",
    "GitLab reads `image`, `services`, `stages`, `before_script`, `after_script`, "
    "`variables`, `cache` and `include` at the top level as global keywords, so a job with "
    f"one of those names never exists. Job names must also not be blank, nor longer than {MAX_JOB_NAME_LENGTH} "
    "characters.",
    bad="variables:\n  stage: test\n  script: env\n",
    good="print-variables:\n  stage: test\n  script: env\n",
    check=check_names,
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


NEVER = Rule(
    "job-never-runs", Severity.INFO, "a job should run in some pipeline",
    "A job that none of the common events adds (a merge request, pushes, a tag, a schedule) may be "
    "meant for a web, API or trigger pipeline, or may be dead. A job whose rules hinge on what cifab "
    "cannot see (a project variable, the changed files) may run, and is not reported.",
    bad="build:\n  script: make\n  rules:\n"
        "    - if: $CI_PIPELINE_SOURCE == \"push\" && $CI_PIPELINE_SOURCE == \"web\"\n",
    good="build:\n  script: make\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"push\"\n",
    check=check_never,
)
