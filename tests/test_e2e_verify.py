"""The e2e tier's judgement, tested on its own: a job passes only with its reports in
order and its coverage regex matching its real log."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e import expectations, verify
from tests.e2e.runner import Project

JOB = {"coverage": "/^TOTAL.*\\s(\\d+(?:\\.\\d+)?)%$/",
       "artifacts": {"reports": {"junit": "report.xml", "codequality": "gl-code-quality-report.json",
                                 "coverage_report": {"coverage_format": "cobertura", "path": "coverage.xml"}}}}


def test_reports_that_exist_and_parse_pass(tmp_path: Path) -> None:
    (tmp_path / "report.xml").write_text('<testsuites><testsuite><testcase name="a"/></testsuite></testsuites>')
    (tmp_path / "gl-code-quality-report.json").write_text("[]")
    (tmp_path / "coverage.xml").write_text('<coverage line-rate="0.5"></coverage>')
    assert verify.reports(JOB, tmp_path, {}) == []


def test_missing_empty_or_malformed_reports_fail(tmp_path: Path) -> None:
    (tmp_path / "report.xml").write_text("<testsuites><testsuite/></testsuites>")
    (tmp_path / "gl-code-quality-report.json").write_text('{"not": "an array"}')
    problems = verify.reports(JOB, tmp_path, {})
    assert "report.xml: JUnit without a single test case" in problems
    assert "gl-code-quality-report.json: Code Quality must be a JSON array" in problems
    assert "coverage_report report coverage.xml was not written" in problems


def test_code_quality_items_need_every_field_gitlab_reads(tmp_path: Path) -> None:
    import json

    item = {"description": "F401", "check_name": "F401", "fingerprint": "x", "severity": "major",
            "location": {"path": "a.py", "lines": {"begin": 1}}}
    report = tmp_path / "cq.json"
    report.write_text(json.dumps([item]))
    assert verify.check_codequality(report) is None and len(verify.findings(report)) == 1
    for broken, problem in ((dict(item, severity="warning"), "severity 'warning'"),
                            ({k: v for k, v in item.items() if k != "check_name"}, "lacks check_name"),
                            (dict(item, location={"path": "a.py"}), "lacks a path or a line")):
        report.write_text(json.dumps([broken]))
        assert problem in (verify.check_codequality(report) or "")


def test_every_artifacts_path_must_match_a_file(tmp_path: Path) -> None:
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "a.whl").write_text("x")
    job = {"artifacts": {"paths": ["dist/", "out/"]}}
    assert verify.artifacts(job, tmp_path, {}) == ["artifacts path out/ matched no file"]


def test_report_paths_expand_the_jobs_variables(tmp_path: Path) -> None:
    (tmp_path / "junit-3.12.xml").write_text("<testsuite><testcase name='x'/></testsuite>")
    job = {"artifacts": {"reports": {"junit": "junit-$PYTHON_VERSION.xml"}}}
    assert verify.reports(job, tmp_path, {"PYTHON_VERSION": "3.12"}) == []


def test_the_coverage_regex_must_match_a_log_line() -> None:
    assert verify.coverage(JOB, "collected 3 items\nTOTAL     5    0   100%\n") is None
    assert verify.coverage(JOB, "collected 3 items\n3 passed\n") is not None


def test_matrix_instances_are_named_as_gitlab_ci_local_names_them(tmp_path: Path) -> None:
    pipeline = {"b": {"parallel": {"matrix": [{"GOOS": "linux", "GOARCH": ["amd64", "arm64"]}]}, "script": "x"}}
    project = Project(tmp_path, "", pipeline)
    assert [n for n, _ in project.instances("b")] == ["b: [linux,amd64]", "b: [linux,arm64]"]


def test_the_readme_table_is_the_tiers_table() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert expectations.markdown() in readme


@pytest.mark.parametrize("fixture", expectations.FIXTURES, ids=lambda f: f.name)
def test_init_says_what_it_detected_and_why_for_every_fixture(cli, tmp_path: Path, fixture) -> None:  # type: ignore[no-untyped-def]
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(Path(__file__).parent / "e2e" / "fixtures" / fixture.folder, repo)
    result = cli("init", "--yes", *fixture.init_args, cwd=repo)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("detected ")]
    assert lines, result.stdout
    versions = {"go": "go.mod", "py": "python version", "node": "node "}
    for prefix, needle in versions.items():
        if fixture.name.startswith(prefix):
            assert any(needle in line for line in lines), lines
