"""`cifab diff`: what a change does to the pipelines, per event, between two revisions."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

BASE = ("include:\n  - local: ci/test.yml\n"
        "build:\n  stage: build\n  script: make\n")
TEST_BASE = "test:\n  stage: test\n  script: make test\n  needs: [build]\n"
TEST_HEAD = "test:\n  stage: test\n  script: make test\n"
RELEASE = "release:\n  stage: deploy\n  script: make release\n  rules:\n    - if: $CI_COMMIT_TAG\n"


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "ci").mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "dev")
    (root / ".gitlab-ci.yml").write_text(BASE)
    (root / "ci" / "test.yml").write_text(TEST_BASE)
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "feature")
    # The change: the include drops a need, the root file adds a tag-only job.
    (root / "ci" / "test.yml").write_text(TEST_HEAD)
    (root / ".gitlab-ci.yml").write_text(BASE + RELEASE)
    return root


def test_the_working_tree_against_the_merge_base(cli, repo: Path) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(cli("diff", "--format", "json", cwd=repo).stdout)
    assert doc["format"] == "cifab-diff/1" and doc["head"] == "the working tree"
    by_name = {s["name"]: s for s in doc["scenarios"]}
    tag = by_name["a tag"]
    assert tag["added"] == ["release"] and tag["edges_removed"] == [["build", "test"]]
    assert tag["changed"] == {"test": ["needs"]}  # read through the include, at each revision
    assert by_name["a push to main"]["added"] == []
    assert by_name["a merge request into main"]["pipeline"] == {"base": False, "head": False}


def test_two_revisions_and_markdown(cli, repo: Path) -> None:  # type: ignore[no-untyped-def]
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "change")
    out = cli("diff", "main", "feature", "--format", "markdown", cwd=repo).stdout
    assert "### a tag\n- + `release`\n- ~ `test`: needs changed\n- - edge `build` → `test`\n" in out
    assert "### a push to main\n- ~ `test`: needs changed\n" in out
    same = cli("diff", "feature", "feature", cwd=repo).stdout
    assert same.count("no change") == 6


def test_outside_git_is_a_usage_error(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("diff", cwd=tmp_path)
    assert result.exit_code == 2 and "inside a git checkout" in result.stderr


def test_an_unknown_revision_is_named(cli, repo: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("diff", "no-such-rev", cwd=repo)
    assert result.exit_code == 2 and "git rev-parse" in result.stderr


HOSTILE_NAMES = ["x\n/approve @all", "\x1b]0;owned\x07\u202eevil", "`tick`"]


def test_hostile_names_are_shown_never_sent(cli, repo: Path) -> None:  # type: ignore[no-untyped-def]
    import yaml

    jobs = {name: {"stage": "test", "script": ["x"]} for name in HOSTILE_NAMES}
    (repo / ".gitlab-ci.yml").write_text(BASE + yaml.safe_dump(jobs))
    text = cli("diff", cwd=repo).stdout
    assert "x\\n/approve @all" in text and "\\x1b]0;owned\\x07\\u202eevil" in text
    markdown = cli("diff", "--format", "markdown", cwd=repo).stdout
    assert "+ `x\\n/approve @all`" in markdown and "+ `` `tick` ``" in markdown
    raw = cli("diff", "--format", "json", cwd=repo).stdout
    doc = json.loads(raw)
    assert set(HOSTILE_NAMES) <= set(doc["scenarios"][1]["added"])
    for out in (text, markdown, raw):
        assert not any(c in out for c in "\x1b\x07\u202e")
        assert not any(line.startswith("/") for line in out.splitlines())


def test_export_ignore_does_not_hide_a_changed_include(cli, repo: Path) -> None:  # type: ignore[no-untyped-def]
    (repo / ".gitattributes").write_text("ci/ export-ignore\n.gitattributes export-ignore\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "change")
    doc = json.loads(cli("diff", "main", "feature", "--format", "json", cwd=repo).stdout)
    tag = {s["name"]: s for s in doc["scenarios"]}["a tag"]
    assert tag["changed"] == {"test": ["needs"]} and tag["edges_removed"] == [["build", "test"]]


def test_a_linked_pipeline_file_is_followed_inside_the_tree(cli, repo: Path) -> None:  # type: ignore[no-untyped-def]
    git(repo, "checkout", "-q", ".")
    git(repo, "checkout", "-q", "main")
    (repo / "ci" / "main.yml").write_text(BASE)
    (repo / ".gitlab-ci.yml").unlink()
    (repo / ".gitlab-ci.yml").symlink_to("ci/main.yml")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "linked")
    (repo / "ci" / "main.yml").write_text(BASE + RELEASE)
    git(repo, "commit", "-qam", "release")
    doc = json.loads(cli("diff", "HEAD~1", "HEAD", "--format", "json", cwd=repo).stdout)
    assert {s["name"]: s for s in doc["scenarios"]}["a tag"]["added"] == ["release"]
    assert json.loads(cli("diff", "HEAD~1", "--format", "json", cwd=repo).stdout) == {**doc, "head": "the working tree"}


def test_a_link_out_of_the_tree_is_not_followed(cli, repo: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    secret = tmp_path / "secret.yml"
    secret.write_text("stolen:\n  script: cat /etc/shadow\n")
    git(repo, "checkout", "-q", ".")
    (repo / ".gitlab-ci.yml").unlink()
    (repo / ".gitlab-ci.yml").symlink_to(secret)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "out")
    doc = json.loads(cli("diff", "main", "feature", "--format", "json", cwd=repo).stdout)
    assert all("stolen" not in s["added"] for s in doc["scenarios"])
    result = cli("diff", "main", cwd=repo)  # the working tree's link is refused too
    assert result.exit_code == 2 and "stolen" not in result.output


def test_a_revision_of_too_much_yaml_is_refused(cli, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from cifab.simulate import revision

    monkeypatch.setattr(revision, "MAX_REVISION_BYTES", 50)  # the base revision holds about 120
    result = cli("diff", "main", "feature", cwd=repo)
    assert result.exit_code == 2 and "bytes of YAML files" in result.stderr
