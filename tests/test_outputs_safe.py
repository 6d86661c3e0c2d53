"""Reports never replace what a command read, writes keep links and devices as they are,
and no input can drive the terminal or break a report's XML."""

from __future__ import annotations

import os
import xml.dom.minidom
from pathlib import Path

import pytest

from cifab import files

PIPELINE = "test:\n  script: make\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / ".gitlab-ci.yml").write_text(PIPELINE)
    return tmp_path


def test_lint_will_not_write_its_report_over_its_input(cli, repo: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("lint", "--no-shellcheck", "-o", ".gitlab-ci.yml", ".gitlab-ci.yml", cwd=repo)
    assert result.exit_code == 2 and "is one of this command's inputs" in result.stderr
    assert (repo / ".gitlab-ci.yml").read_text() == PIPELINE


def test_check_will_not_write_its_report_over_the_manifest(cli, go_repo: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("init", "--yes", cwd=go_repo).exit_code == 0 and cli("generate", cwd=go_repo).exit_code == 0
    before = (go_repo / "cifab.yml").read_text()
    result = cli("check", "--no-shellcheck", "--codequality", "cifab.yml", cwd=go_repo)
    assert result.exit_code == 2 and "is one of this command's inputs" in result.stderr
    assert (go_repo / "cifab.yml").read_text() == before


def test_a_report_is_not_written_over_a_generated_file(cli, go_repo: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("init", "--yes", cwd=go_repo).exit_code == 0 and cli("generate", cwd=go_repo).exit_code == 0
    other = tmp_path / "elsewhere.yml"
    other.write_text(PIPELINE)
    result = cli("lint", "--no-shellcheck", str(other), "-o", str(go_repo / ".gitlab-ci.yml"), cwd=go_repo)
    assert result.exit_code == 2 and "a file cifab generated" in result.stderr


def test_a_symlinked_target_stays_a_link(tmp_path: Path) -> None:
    target = tmp_path / "real.json"
    target.write_text("old")
    os.chmod(target, 0o600)
    link = tmp_path / "report.json"
    link.symlink_to(target)
    files.atomic_write(link, "new")
    assert link.is_symlink() and target.read_text() == "new"
    assert (target.stat().st_mode & 0o777) == 0o600


def test_a_fifo_is_written_as_a_stream_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        files.atomic_write(fifo, "through the pipe")
        assert os.read(reader, 100) == b"through the pipe"
    finally:
        os.close(reader)
    assert fifo.is_fifo()


HOSTILE = 'test:\n  script: make\n  "\\e[2J\\e]0;owned\\x07hidden": 1\n'


def test_escape_sequences_in_a_file_are_shown_not_sent(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "ci.yml").write_text(HOSTILE)
    result = cli("lint", "--no-shellcheck", "ci.yml", cwd=tmp_path)
    assert result.exit_code == 1
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    # GitLab lowercases the message (so does cifab); either way the key is shown, escaped.
    assert "\\x1b[2j\\x1b]0;owned\\x07hidden" in result.stdout


SHOWN = "jobs:test config contains unknown keys: \x1b[2j\x1b]0;owned\x07hidden"  # GitLab lowercases it


@pytest.mark.parametrize("fmt", ["junit", "sarif", "json", "codequality"])
def test_every_report_stays_well_formed_and_carries_the_finding(cli, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    import json

    (tmp_path / "ci.yml").write_text(HOSTILE)
    result = cli("lint", "--no-shellcheck", "-f", fmt, "ci.yml", cwd=tmp_path)
    assert result.exit_code == 1, result.output
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout  # never raw, in any format
    if fmt == "junit":
        document = xml.dom.minidom.parseString(result.stdout)
        [failure] = document.getElementsByTagName("failure")
        # XML 1.0 cannot carry ESC or BEL even escaped: they are shown as \x1b and \x07.
        assert failure.getAttribute("message") == SHOWN.replace("\x1b", "\\x1b").replace("\x07", "\\x07")
        assert failure.getAttribute("type") == "error"
        return
    doc = json.loads(result.stdout)
    if fmt == "json":
        [finding] = doc["findings"]
        assert (finding["rule"], finding["line"], finding["column"], finding["message"]) == \
            ("gitlab-schema", 3, 3, SHOWN)
    elif fmt == "codequality":
        [issue] = doc
        assert (issue["check_name"], issue["description"], issue["location"]["lines"]["begin"]) == \
            ("gitlab-schema", SHOWN, 3)
    else:
        [found] = doc["runs"][0]["results"]
        assert (found["ruleId"], found["message"]["text"]) == ("gitlab-schema", SHOWN)


def test_a_full_disk_is_named_with_the_file(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    (tmp_path / "ci.yml").write_text("test:\n  script: make\n")
    result = cli("lint", "--no-shellcheck", "ci.yml", "-o", "/dev/full", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr == "cifab: cannot write /dev/full: No space left on device\n"


def test_generate_keeps_a_symlinked_pipeline_a_link(cli, go_repo: Path) -> None:  # type: ignore[no-untyped-def]
    cli("init", "--yes", cwd=go_repo)
    (go_repo / "ci").mkdir()
    (go_repo / ".gitlab-ci.yml").symlink_to("ci/pipeline.yml")
    assert cli("generate", cwd=go_repo).exit_code == 0
    assert (go_repo / ".gitlab-ci.yml").is_symlink() and "go-test" in (go_repo / "ci" / "pipeline.yml").read_text()
