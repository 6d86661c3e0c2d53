"""`cifab lint` as users run it: exit codes, formats, suppressions, stdin, hostile input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cifab import report
from cifab.diagnostics import Finding, Severity

BAD = "stages: [build, test]\n\nbuild:\n  stage: build\n  script: make\n\ntest:\n  stage: tests\n  script: make test\n"
GOOD = "build:\n  stage: build\n  script: make\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitlab-ci.yml").write_text(BAD)
    return tmp_path


def test_text_report_with_position_code_frame_and_hint(cli, project: Path) -> None:
    result = cli("lint", cwd=project)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (".gitlab-ci.yml:8:10: error stage-undefined test job: chosen stage tests does not exist; "
                        "available stages are .pre, build, test, .post")
    assert lines[2] == "8 |   stage: tests"
    assert lines[3] == "  |          ^"
    assert lines[4] == "  = hint: did you mean `test`?"
    assert lines[-1] == "1 error in 1 file"
    assert "\x1b[" not in result.stdout


def test_clean_file_exits_0(cli, tmp_path: Path) -> None:
    (tmp_path / "ci.yml").write_text(GOOD)
    result = cli("lint", "ci.yml", cwd=tmp_path)
    assert result.exit_code == 0 and result.stdout == "no problems in 1 file\n"


def test_fail_on_warning(cli, tmp_path: Path) -> None:
    (tmp_path / "ci.yml").write_text("rspec:\n  script: x\n  rules:\n    - when: always\n")
    assert cli("lint", "ci.yml", cwd=tmp_path).exit_code == 0
    assert cli("lint", "ci.yml", "--fail-on", "warning", cwd=tmp_path).exit_code == 1
    result = cli("lint", "ci.yml", "--fail-on", "bogus", cwd=tmp_path)
    assert result.exit_code == 2 and "--fail-on" in result.stderr


def test_yaml_syntax_error_is_a_finding_and_exit_2(cli, tmp_path: Path) -> None:
    (tmp_path / "ci.yml").write_text("job:\n  script: a: b\n")
    result = cli("lint", "ci.yml", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stdout.startswith("ci.yml:2:12: error yaml-syntax YAML syntax error: mapping values")


def test_missing_file_and_directory_are_usage_errors(cli, tmp_path: Path) -> None:
    result = cli("lint", "nope.yml", cwd=tmp_path)
    assert result.exit_code == 2 and "nope.yml: no such file" in result.stderr
    result = cli("lint", ".", cwd=tmp_path)
    assert result.exit_code == 2 and "is a directory" in result.stderr


def test_unknown_format(cli, project: Path) -> None:
    result = cli("lint", "--format", "xml", cwd=project)
    assert result.exit_code == 2 and "'xml' is not one of 'text', 'json'" in result.stderr


def test_stdin(cli, tmp_path: Path) -> None:
    result = cli("lint", "-", input=BAD, cwd=tmp_path)
    assert result.exit_code == 1 and result.stdout.startswith("<stdin>:8:10: error stage-undefined")


def test_several_files(cli, project: Path) -> None:
    (project / "other.yml").write_text(GOOD)
    result = cli("lint", ".gitlab-ci.yml", "other.yml", cwd=project)
    assert result.exit_code == 1 and result.stdout.endswith("1 error in 2 files\n")


def test_json_report(cli, project: Path) -> None:
    doc = json.loads(cli("lint", "--format", "json", cwd=project).stdout)
    assert doc["summary"] == {"files": 1, "errors": 1, "warnings": 0, "info": 0}
    [f] = doc["findings"]
    assert f["path"] == ".gitlab-ci.yml" and (f["line"], f["column"]) == (8, 10)
    assert f["rule"] == "stage-undefined" and f["severity"] == "error" and f["hint"] == "did you mean `test`?"


def test_codequality_report_is_gitlab_shaped(cli, project: Path) -> None:
    result = cli("lint", "--format", "codequality", "--output", "gl-code-quality-report.json", cwd=project)
    assert result.exit_code == 1 and "1 error in 1 file" in result.stderr
    raw = (project / "gl-code-quality-report.json").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    [item] = json.loads(raw)
    assert set(item) == {"description", "check_name", "fingerprint", "severity", "location"}
    assert item["severity"] == "critical" and item["check_name"] == "stage-undefined"
    assert item["location"] == {"path": ".gitlab-ci.yml", "lines": {"begin": 8}}


def test_codequality_fingerprints_survive_line_shifts(cli, project: Path) -> None:
    first = json.loads(cli("lint", "-f", "codequality", cwd=project).stdout)
    (project / ".gitlab-ci.yml").write_text("# a new comment\n\n" + BAD)
    second = json.loads(cli("lint", "-f", "codequality", cwd=project).stdout)
    assert first[0]["location"]["lines"]["begin"] + 2 == second[0]["location"]["lines"]["begin"]
    assert first[0]["fingerprint"] == second[0]["fingerprint"]


def test_fingerprints_differ_for_repeated_findings() -> None:
    same = [Finding("a.yml", n, 1, "r", Severity.ERROR, "m") for n in (1, 2)]
    prints = report.fingerprints(same)
    assert len(set(prints)) == 2


def test_junit_report(cli, project: Path) -> None:
    import xml.etree.ElementTree as ET

    root = ET.fromstring(cli("lint", "-f", "junit", cwd=project).stdout)
    suite = root.find("testsuite")
    assert suite is not None and suite.get("failures") == "1"
    [case] = suite.findall("testcase")
    failure = case.find("failure")
    assert failure is not None and "chosen stage tests" in (failure.get("message") or "")


def test_junit_for_a_clean_file_has_a_passing_case(cli, tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    (tmp_path / "ci.yml").write_text(GOOD)
    root = ET.fromstring(cli("lint", "ci.yml", "-f", "junit", cwd=tmp_path).stdout)
    assert root.get("failures") == "0" and len(root.iter("testcase").__next__().attrib) >= 2


def test_sarif_report(cli, project: Path) -> None:
    doc = json.loads(cli("lint", "-f", "sarif", cwd=project).stdout)
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    assert run["tool"]["driver"]["name"] == "cifab"
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["stage-undefined"]
    [result] = run["results"]
    assert result["level"] == "error"
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 8, "startColumn": 10}


def test_colour_only_when_asked_and_never_with_no_color(cli, project: Path) -> None:
    assert "\x1b[" in cli("lint", cwd=project, env={"FORCE_COLOR": "1"}).stdout
    assert "\x1b[" not in cli("lint", cwd=project, env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout


def test_inline_ignore_on_the_line_and_above(cli, tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("test:\n  stage: tests  # cifab: ignore[stage-undefined]\n  script: x\n")
    (tmp_path / "b.yml").write_text("test:\n  # cifab: ignore[stage-undefined]\n  stage: tests\n  script: x\n")
    (tmp_path / "c.yml").write_text("test:\n  stage: tests  # cifab: ignore[needs-cycle]\n  script: x\n")
    assert cli("lint", "a.yml", "b.yml", cwd=tmp_path).exit_code == 0
    assert cli("lint", "c.yml", cwd=tmp_path).exit_code == 1


def test_manifest_lint_ignore(cli, project: Path) -> None:
    (project / "cifab.yml").write_text("cifab: 1\nproject: x\nstack: go\nlint:\n  ignore: [stage-undefined]\n")
    assert cli("lint", cwd=project).exit_code == 0


def _cpu_cap() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CPU, (20, 21))


@pytest.mark.parametrize(("name", "content"), [
    ("bomb.yml", ("a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(9))).encode()),
    ("deep.yml", ("a: " + "[" * 5000 + "]" * 5000 + "\n").encode()),
    ("huge.yml", b"a: b\n" * 500_000),
    ("binary.yml", b"\x7fELF\x02\x01\x01\x00\x00\x00"),
    ("latin1.yml", "job:\n  script: caf\xe9\n".encode("latin-1")),
    ("tabs.yml", b"job:\n\tscript: x\n"),
    ("empty.yml", b""),
])
def test_hostile_input_ends_with_a_message_in_seconds(name: str, content: bytes, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    # Bounded by CPU time (a loaded machine slows wall time only); the timeout guards a hang.
    proc = subprocess.run([sys.executable, "-m", "cifab", "lint", str(path)], capture_output=True, text=True,
                          timeout=300, check=False, env={**os.environ, "NO_COLOR": "1"}, preexec_fn=_cpu_cap)
    assert proc.returncode in (1, 2), proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"{name}:" in proc.stdout
