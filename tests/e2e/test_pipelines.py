"""Generated pipelines, run: every job of every fixture that can run here must pass."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e import runner, toolbox
from tests.e2e.expectations import FIXTURES, PASSED, REVIEWED, CannotRun, Fixture

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.name)
def test_generated_pipeline_runs(fixture: Fixture, tools: None, workdir: Path) -> None:
    project = runner.prepare(fixture.folder, workdir, fixture.manifest)
    assert set(project.jobs()) == set(fixture.jobs), "the table must list exactly the generated jobs"
    failures = []
    for job, expected in fixture.jobs.items():
        if expected != PASSED:
            assert expected == REVIEWED or isinstance(expected, CannotRun)
            continue
        for name, _ in project.instances(job):
            try:
                result = runner.run_job(project, name, workdir / "jobs")
            except toolbox.Missing as exc:
                if os.environ.get("CI") == "true":
                    raise
                pytest.skip(f"{name} cannot run on this machine: {exc}")
            if not result.passed:
                failures.append(f"{name}: exit {result.exit_code}; {'; '.join(result.problems)}\n"
                                f"{result.log[-4000:]}")
    assert not failures, "\n\n".join(failures)
