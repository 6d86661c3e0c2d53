"""The release job on tags: its notes script, run as the job runs it, and when it is there."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cifab.generate.plan import plan
from tests import pipeline_yaml
from tests.test_examples import EXAMPLES

CHANGELOG = """# Changelog

## [Unreleased]

- nothing yet

## [1.2.0] - 2026-11-30

### Added

- the `--frobnicate` flag

### Fixed

- a crash on empty input

## [1.1.0] - 2026-10-01

- older work, which must not be in 1.2.0's notes
"""


def _pipeline(tmp_path: Path, example: str = "go-service", extra: str = "") -> dict[str, Any]:
    repo = tmp_path / example
    shutil.copytree(EXAMPLES / example, repo)
    (repo / "cifab.yml").write_text((repo / "cifab.yml").read_text() + extra)
    return pipeline_yaml.load(plan(repo / "cifab.yml").files[0].text)  # type: ignore[no-any-return]


def _notes(tmp_path: Path, message: str, changelog: str | None) -> str:
    job = _pipeline(tmp_path)["release"]
    work = tmp_path / "checkout"
    work.mkdir()
    if changelog is not None:
        (work / "CHANGELOG.md").write_text(changelog)
    env = {"PATH": "/usr/bin:/bin", "CI_COMMIT_TAG": "v1.2.0", "CI_COMMIT_TAG_MESSAGE": message}
    for line in job["script"]:
        subprocess.run(["sh", "-ec", line], cwd=work, env=env, check=True)
    assert job["release"]["description"] == "release-notes.md"
    return (work / "release-notes.md").read_text()


def test_the_notes_are_the_tags_message(tmp_path: Path) -> None:
    assert _notes(tmp_path, "Frobnicate, at last.\n\nSee the docs.", CHANGELOG) == \
        "Frobnicate, at last.\n\nSee the docs.\n"


def test_else_the_changelog_section_of_the_version_with_its_subsections(tmp_path: Path) -> None:
    notes = _notes(tmp_path, "", CHANGELOG)
    assert "### Added" in notes and "--frobnicate" in notes and "a crash on empty input" in notes
    assert "older work" not in notes and "nothing yet" not in notes and "[1.2.0]" not in notes


def test_else_the_tags_name(tmp_path: Path) -> None:
    assert _notes(tmp_path, "", None) == "Release v1.2.0\n"
    assert _notes(tmp_path / "other", "", "# Changelog\n\n## 0.9.0\n\n- old\n") == "Release v1.2.0\n"


def test_the_release_runs_on_tags_after_every_check(tmp_path: Path) -> None:
    pipeline = _pipeline(tmp_path)
    job = pipeline["release"]
    assert job["rules"] == [{"if": "$CI_COMMIT_TAG"}] and job["stage"] == "deploy"
    assert "needs" not in job  # in the deploy stage without needs: after every earlier job
    assert job["release"]["tag_name"] == "$CI_COMMIT_TAG"
    assert "gitlab-org/cli:v" in job["image"]  # glab, pinned


@pytest.mark.parametrize(("example", "extra"), [
    ("go-service", "release: false\n"),
    ("go-everything", ""),  # GoReleaser makes the release
    ("go-service", 'gitlab_version: "17.11"\n'),  # the keyword runs release-cli before 18.0
])
def test_no_release_job_when_turned_off_or_when_goreleaser_makes_it(tmp_path: Path, example: str,
                                                                     extra: str) -> None:
    pipeline = _pipeline(tmp_path, example, extra)
    assert "release" not in pipeline
