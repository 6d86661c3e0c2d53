"""Generated pipelines, run: every job of every fixture that can run here must pass. One
test per job, so that the workers share out the long ones."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e import runner, toolbox
from tests.e2e.expectations import FIXTURES, PASSED, REVIEWED, CannotRun, Fixture

pytestmark = pytest.mark.e2e
JOBS = [(fixture, job) for fixture in FIXTURES for job, expected in fixture.jobs.items() if expected == PASSED]
_PROJECTS: dict[str, runner.Project] = {}


@pytest.fixture
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> runner.Project:
    """The fixture initialised and generated once per worker."""
    fixture: Fixture = request.param
    if fixture.name not in _PROJECTS:
        _PROJECTS[fixture.name] = runner.prepare(fixture.folder, tmp_path_factory.mktemp(fixture.name),
                                                 fixture.manifest)
    return _PROJECTS[fixture.name]


@pytest.mark.parametrize("project", FIXTURES, ids=lambda f: f.name, indirect=True)
def test_the_table_lists_exactly_the_generated_jobs(project: runner.Project, request: pytest.FixtureRequest) -> None:
    fixture = next(f for f in FIXTURES if f.name == request.node.callspec.id)
    assert set(project.jobs()) == set(fixture.jobs)
    assert all(v in (PASSED, REVIEWED) or isinstance(v, CannotRun) for v in fixture.jobs.values())


@pytest.mark.parametrize(("project", "job"), [(f, j) for f, j in JOBS], ids=[f"{f.name}:{j}" for f, j in JOBS],
                         indirect=["project"])
def test_the_job_passes(project: runner.Project, job: str, tools: None, tmp_path: Path) -> None:
    failures = []
    for name, _ in project.instances(job):
        try:
            result = runner.run_job(project, name, tmp_path)
        except toolbox.Missing as exc:
            if os.environ.get("CI") == "true":
                raise
            pytest.skip(f"{name} cannot run on this machine: {exc}")
        if not result.passed:
            failures.append(f"{name}: exit {result.exit_code}; {'; '.join(result.problems)}\n{result.log[-4000:]}")
    assert not failures, "\n\n".join(failures)
