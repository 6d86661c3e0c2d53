"""Every example runs in merge request pipelines what it runs on the default branch: the
same jobs, except those gated to the default branch or tags on purpose (deploys, releases,
and the signing of images, which are pushed only there), and a push to a branch with an open
merge request starts no second pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from cifab.pipeline.load import load_pipeline
from cifab.simulate.event import Event
from cifab.simulate.pipeline import Simulation, simulate
from tests.test_examples import EXAMPLE_DIRS

# Rules that gate a job on purpose name the default branch or a tag and nothing else.
GATED_STAGES = {"deploy"}
SIGNS_IMAGES = "sign-image"  # cifab.stacks.base.SIGN_IMAGE_JOB, prefixed in a monorepo


def _files(root: Path) -> tuple[str, ...]:
    return tuple(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _run(example: Path, event: Event) -> Simulation:
    pipeline, _ = load_pipeline(str(example / ".gitlab-ci.yml"), example)
    return simulate(pipeline, event, None)


@pytest.mark.parametrize("example", EXAMPLE_DIRS, ids=lambda p: p.name)
def test_a_merge_request_runs_what_the_default_branch_runs(example: Path) -> None:
    changed = _files(example)  # every component changed: a monorepo's change rules hold
    mr = _run(example, Event("merge_request_event", "feature", target="main", changed=changed))
    main = _run(example, Event("push", "main", changed=changed))
    assert mr.created and main.created
    in_mr = {job.name for job in mr.jobs if not job.maybe}
    on_main = {job.name for job in main.jobs if not job.maybe}
    assert in_mr, "a merge request pipeline with no jobs"
    only_on_main = {job.name: job.stage for job in main.jobs if job.name in on_main - in_mr
                    and not job.name.endswith(SIGNS_IMAGES)}
    assert set(only_on_main.values()) <= GATED_STAGES, only_on_main
    assert in_mr <= on_main


@pytest.mark.parametrize("example", EXAMPLE_DIRS, ids=lambda p: p.name)
def test_a_push_with_an_open_merge_request_starts_no_second_pipeline(example: Path) -> None:
    push = _run(example, Event("push", "feature", extra={"CI_OPEN_MERGE_REQUESTS": "acme/app!1"}))
    assert not push.created and push.certain
    alone = _run(example, Event("push", "feature", changed=_files(example)))
    assert alone.created and alone.jobs  # without one, the branch pipeline runs


def test_the_default_branch_runs_even_with_a_merge_request_from_it() -> None:
    """A merge request whose source is the default branch must not stop its deploys."""
    example = next(p for p in EXAMPLE_DIRS if p.name == "go-service")
    push = _run(example, Event("push", "main", extra={"CI_OPEN_MERGE_REQUESTS": "acme/app!1"}))
    assert push.created and any(job.stage == "deploy" for job in push.jobs)
