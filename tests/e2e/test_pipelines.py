"""Generated pipelines, run: every job of every fixture that can run here must pass. One
test per job, so that the workers share out the long ones."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e import runner, toolbox, verify
from tests.e2e.expectations import FIXTURES, REVIEWED, CannotRun, FindsProblems, Fixture, Passes

pytestmark = pytest.mark.e2e
RUN = (Passes, FindsProblems)
JOBS = [(fixture, job) for fixture in FIXTURES for job, expected in fixture.jobs.items() if isinstance(expected, RUN)]
_PROJECTS: dict[str, runner.Project] = {}
# Away from CI too, a tool the tier cannot get fails the run; only this says otherwise.
ALLOW_SKIP = os.environ.get("CIFAB_E2E_SKIP_MISSING") == "1"


@pytest.fixture
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> runner.Project:
    """The fixture initialised and generated once per worker."""
    fixture: Fixture = request.param
    if fixture.name not in _PROJECTS:
        _PROJECTS[fixture.name] = runner.prepare(fixture.folder, tmp_path_factory.mktemp(fixture.name),
                                                 fixture.manifest, fixture.init_args)
    return _PROJECTS[fixture.name]


@pytest.mark.parametrize("project", FIXTURES, ids=lambda f: f.name, indirect=True)
def test_the_table_lists_exactly_the_generated_jobs(project: runner.Project, request: pytest.FixtureRequest) -> None:
    fixture = next(f for f in FIXTURES if f.name == request.node.callspec.id)
    assert set(project.jobs()) == set(fixture.jobs)
    assert all(v == REVIEWED or isinstance(v, (Passes, FindsProblems, CannotRun)) for v in fixture.jobs.values())


PROOFS = [(fixture, job) for fixture in FIXTURES for job, expected in fixture.jobs.items()
          if isinstance(expected, CannotRun) and (expected.commands or expected.files or expected.variables)]


@pytest.mark.parametrize(("project", "job"), PROOFS, ids=[f"{f.name}:{j}" for f, j in PROOFS], indirect=["project"])
def test_what_cannot_run_has_its_command_line_and_files(project: runner.Project, job: str,
                                                        request: pytest.FixtureRequest) -> None:
    fixture = next(f for f in FIXTURES if f.name == request.node.callspec.id.split(":")[0])
    expected: CannotRun = fixture.jobs[job]
    resolved = project.resolved(job)
    script = [str(line) for key in ("before_script", "script") for line in resolved.get(key) or []]
    assert [c for c in expected.commands if c not in script] == [], script
    assert {k: v for k, v in expected.variables if (resolved.get("variables") or {}).get(k) != v} == {}
    assert [f for f in expected.files if not (project.root / f).is_file()] == []


def _run(project: runner.Project, name: str, tmp_path: Path) -> runner.JobResult:
    try:
        return runner.run_job(project, name, tmp_path)
    except toolbox.Missing as exc:
        if not ALLOW_SKIP:
            raise
        pytest.skip(f"{name} cannot run on this machine: {exc}")


@pytest.mark.parametrize(("project", "job"), [(f, j) for f, j in JOBS], ids=[f"{f.name}:{j}" for f, j in JOBS],
                         indirect=["project"])
def test_the_job_passes(project: runner.Project, job: str, tools: None, tmp_path: Path,
                        request: pytest.FixtureRequest) -> None:
    fixture = next(f for f in FIXTURES if f.name == request.node.callspec.id.split(":")[0])
    expected = fixture.jobs[job]
    failures = []
    for name, _ in project.instances(job):
        result = _run(project, name, tmp_path)
        if isinstance(expected, FindsProblems):
            failures += _found_problems(result)
            continue
        if not result.passed:
            failures.append(f"{name}: exit {result.exit_code}; {'; '.join(result.problems)}\n{result.log[-4000:]}")
        elif bool(result.skipped) != bool(expected.skipped):
            failures.append(f"{name}: the table must say which install step the tier stood in for: "
                            f"{'; '.join(result.skipped) or 'none'}")
    assert not failures, "\n\n".join(failures)


def _found_problems(result: runner.JobResult) -> list[str]:
    reports = result.reports.get("codequality") or []
    if result.exit_code == 0:
        return [f"{result.name}: passed, on a fixture seeded with problems"]
    if not reports:
        return [f"{result.name}: wrote no Code Quality report\n{result.log[-2000:]}"]
    problems = [p for report in reports if (p := verify.check_codequality(report))]
    if not any(verify.findings(report) for report in reports):
        problems.append(f"{result.name}: its Code Quality report is empty")
    return problems


SBOM_FIXTURE = next(f for f in FIXTURES if f.name == "py-precommit-scope")


@pytest.mark.parametrize("project", [SBOM_FIXTURE], ids=lambda f: f.name, indirect=True)
def test_the_sbom_lists_the_runtime_dependency_and_not_the_test_tools(project: runner.Project, tools: None,
                                                                      tmp_path: Path) -> None:
    """py-precommit-scope depends on pyyaml at run time and on pytest to test: its SBOM,
    valid CycloneDX (the job's own check), lists the first and not the second."""
    import json

    result = _run(project, "python-sbom", tmp_path)
    assert result.passed, result.log[-3000:]
    [sbom] = result.reports["cyclonedx"]
    names = {component["name"].lower() for component in json.loads(sbom.read_text()).get("components", [])}
    assert "pyyaml" in names and "pytest" not in names, names
