"""Every job of every example as GitLab would run it (after extends and default:): a
timeout sized to its kind, retries for runner and infrastructure failures only, and one
writer per cache key."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from cifab.generate import plan as generate
from cifab.generate.context import TIMEOUTS
from cifab.pipeline import known_templates
from cifab.pipeline.load import load_pipeline
from cifab.simulate.event import Event, child_pipeline
from cifab.simulate.pipeline import PlannedJob, simulate
from tests.test_examples import EXAMPLE_DIRS

INFRASTRUCTURE = ["runner_system_failure", "stuck_or_timeout_failure", "scheduler_failure", "api_failure"]


def _jobs(example: Path) -> list[tuple[Path, PlannedJob]]:
    """Each job of each file the example generates, in a merge request and on the default
    branch, and for a tag (releases): every job some pipeline has."""
    files = tuple(p.relative_to(example).as_posix() for p in example.rglob("*") if p.is_file())
    events = [Event("merge_request_event", "feature", target="main", changed=files),
              Event("push", "main", changed=files), Event("push", "v1.0.0", tag=True)]
    out: dict[tuple[Path, str], tuple[Path, PlannedJob]] = {}
    for planned in generate.plan(example / "cifab.yml").files:
        pipeline, _ = load_pipeline(str(planned.path), example)
        child = child_pipeline(pipeline.config)
        for event in events:
            # A monorepo's child pipelines run as their parent's children.
            for job in simulate(pipeline, replace(event, source="parent_pipeline") if child else event, None).jobs:
                out.setdefault((planned.path, job.job or job.name), (planned.path, job))
    return list(out.values())


def _runs_a_script(job: PlannedJob) -> bool:
    """A job of cifab's that runs a script: not a trigger job, and not one GitLab's security
    templates define (their timeouts are GitLab's; cifab's overrides, such as
    container_scanning, have their own)."""
    return "trigger" not in job.config and ((job.job or job.name) not in known_templates.jobs()
                                            or "timeout" in job.config)


@pytest.mark.parametrize("example", EXAMPLE_DIRS, ids=lambda p: p.name)
def test_every_job_has_a_timeout_of_its_kind_and_retries_infrastructure_only(example: Path) -> None:
    jobs = [(path, job) for path, job in _jobs(example) if _runs_a_script(job)]
    assert jobs
    allowed = set(TIMEOUTS.values()) | {"40 minutes"}  # rust's lint
    for path, job in jobs:
        assert job.config.get("timeout") in allowed, (path, job.name, job.config.get("timeout"))
        assert job.config.get("retry") == {"max": 2, "when": INFRASTRUCTURE}, (path, job.name)


@pytest.mark.parametrize("example", EXAMPLE_DIRS, ids=lambda p: p.name)
def test_one_job_writes_each_cache(example: Path) -> None:
    writers: dict[str, set[str]] = defaultdict(set)
    readers: dict[str, set[str]] = defaultdict(set)
    for path, job in _jobs(example):
        caches: Any = job.config.get("cache")
        for cache in caches if isinstance(caches, list) else [caches] if caches else []:
            key = json.dumps([str(path), cache.get("key"), cache.get("paths")], sort_keys=True)
            (writers if cache.get("policy", "pull-push") == "pull-push" else readers)[key].add(job.job or job.name)
    for key in {*writers, *readers}:
        assert len(writers[key]) == 1, (key, writers[key], readers[key])


@pytest.mark.parametrize("example", EXAMPLE_DIRS, ids=lambda p: p.name)
def test_jobs_that_keep_build_output_record_its_provenance(example: Path) -> None:
    """Every job whose artifacts are build output (not only reports) asks the runner for
    its SLSA provenance statement, and every image build asks BuildKit for one."""
    for path, job in _jobs(example):
        artifacts = job.config.get("artifacts") or {}
        if artifacts.get("paths") and job.config.get("stage") == "build":
            assert (job.config.get("variables") or {}).get("RUNNER_GENERATE_ARTIFACTS_METADATA") == "true", \
                (path, job.name)
        script = "\n".join(str(line) for line in job.config.get("script") or [])
        if "buildctl-daemonless.sh build" in script:
            assert "--opt attest:provenance=mode=max" in script, (path, job.name)
