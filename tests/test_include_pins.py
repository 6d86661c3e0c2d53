"""include-unpinned: which includes can change upstream without a commit here."""

from __future__ import annotations

import pytest

from tests.lint_helpers import lint, of

JOB = "test:\n  script: make\n"


@pytest.mark.parametrize(("entry", "message"), [
    ("- component: gitlab.com/acme/ci/lint@main", "component gitlab.com/acme/ci/lint@main is not pinned (version main"),
    ("- component: gitlab.com/acme/ci/lint@~latest", "(version ~latest moves)"),
    ("- component: gitlab.com/acme/ci/lint@1.4", "(version 1.4 moves)"),  # the newest 1.4.x
    ("- project: acme/ci\n    file: /go.yml", "project acme/ci is not pinned (no ref: it follows the default branch)"),
    ("- project: acme/ci\n    ref: main\n    file: /go.yml", "(ref main moves)"),
    ("- remote: https://example.com/ci.yml", "remote file https://example.com/ci.yml is not pinned (no integrity"),
    ("- https://example.com/ci.yml", "(the short form carries no integrity hash)"),
])
def test_moving_includes_are_reported_where_they_are_named(entry: str, message: str) -> None:
    [found] = of(lint(f"include:\n  {entry}\n{JOB}"), "include-unpinned")
    assert message in found.message and found.line == 2 and found.col == 5


@pytest.mark.parametrize("entry", [
    "- component: gitlab.com/acme/ci/lint@1.4.2",
    "- component: gitlab.com/acme/ci/lint@v2.0.0-rc.1",
    "- component: $CI_SERVER_FQDN/acme/ci/lint@0123456789abcdef0123456789abcdef01234567",
    "- component: $CI_SERVER_FQDN/$CI_PROJECT_PATH/lint@$CI_COMMIT_SHA",
    "- project: acme/ci\n    ref: v3.2.0\n    file: /go.yml",
    "- remote: https://example.com/ci.yml\n    integrity: sha256-L3/GAoKaw0Arw6hDCKeKQlV1QPEgHYxGBHsH4zG1IY8=",
    "- remote: https://gitlab.com/acme/ci/-/raw/0123456789abcdef0123456789abcdef01234567/ci.yml",
    "- template: Jobs/SAST.gitlab-ci.yml",
    "- local: ci/lint.yml",
])
def test_releases_commits_and_local_files_are_pinned(entry: str) -> None:
    assert of(lint(f"include:\n  {entry}\n{JOB}"), "include-unpinned") == []
