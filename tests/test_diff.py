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
    assert doc["format"] == "cifab-diff/2" and doc["head"] == "the working tree"
    by_name = {s["name"]: s for s in doc["scenarios"]}
    tag = by_name["a tag"]
    assert tag["added"] == ["release"] and tag["edges_removed"] == [["build", "test"]]
    # read through the include, at each revision; old and new values both
    assert tag["changed"] == {"test": {"needs": {"before": ["build"], "after": []}}}
    assert by_name["a push to main"]["added"] == [] and not by_name["a push to main"]["unchanged"]
    assert by_name["a merge request into main"]["pipeline"] == {"base": False, "head": False}
    assert by_name["a merge request into main"]["unchanged"] is True


def test_two_revisions_and_markdown(cli, repo: Path) -> None:  # type: ignore[no-untyped-def]
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "change")
    out = cli("diff", "main", "feature", "--format", "markdown", cwd=repo).stdout
    # Events the change alters alike share a heading; events it leaves alone share a line.
    assert out == ("### a push to main, a push to a feature branch, a push to a feature branch with an open "
                   "merge request, a schedule on main\n"
                   "- `test`: needs `build` → (none)\n- removed edge `build` → `test`\n"
                   "### a tag\n- added `release`\n- `test`: needs `build` → (none)\n"
                   "- removed edge `build` → `test`\n"
                   "No change: a merge request into main.\n")
    # No bullet of a Markdown list starts with + or -, which would nest an empty list.
    assert not any(line.startswith(("- -", "- +")) for line in out.splitlines())
    same = cli("diff", "feature", "feature", cwd=repo).stdout
    assert same == ("no change in any pipeline: a merge request into main, a push to main, a push to a feature "
                    "branch, a push to a feature branch with an open merge request, a tag, a schedule on main\n")


def test_old_and_new_values_are_shown(cli, repo: Path) -> None:  # type: ignore[no-untyped-def]
    (repo / ".gitlab-ci.yml").write_text(
        BASE.replace("script: make\n", "image: alpine:3.21\n  when: manual\n  variables:\n    A: '2'\n"
                     "  script:\n    - make all\n    - make check\n"))
    git(repo, "checkout", "-q", "main", "--", "ci/test.yml")
    out = cli("diff", cwd=repo).stdout
    assert ("  ~ build: when on_success → manual\n  ~ build: allow_failure false → true\n"
            "  ~ build: image (unset) → alpine:3.21\n  ~ build: script lines - make + make all + make check\n"
            "  ~ build: variable A (unset) → 2\n") in out
    doc = json.loads(cli("diff", "--format", "json", cwd=repo).stdout)
    changed = doc["scenarios"][1]["changed"]["build"]
    assert changed["script"] == {"before": "make", "after": ["make all", "make check"]}
    assert changed["variables"] == {"before": None, "after": {"A": "2"}}


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
    assert "added `x\\n/approve @all`" in markdown and "added `` `tick` ``" in markdown
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
    assert tag["changed"] == {"test": {"needs": {"before": ["build"], "after": []}}}
    assert tag["edges_removed"] == [["build", "test"]]


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
