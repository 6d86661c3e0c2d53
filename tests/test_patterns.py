"""Globs and regexes from a pipeline, matched as GitLab matches them: File.fnmatch for
`rules:changes` and `rules:exists`, GitLab's own wildcards for `include:local`, RE2 for
regexes; and the comparison caps of Rules::Rule::Clause::Exists and ::Changes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from cifab.pipeline.patterns import fnmatch, glob, include_wildcard, untrusted

DATA = Path(__file__).parent / "data"
# Each row's answer is what Ruby 3.1's File.fnmatch?(glob, path, FNM_PATHNAME |
# FNM_DOTMATCH | FNM_EXTGLOB) gave, the call GitLab's changes and exists clauses make.
RUBY = json.loads((DATA / "fnmatch-ruby.json").read_text())


@pytest.mark.parametrize(("pattern", "path", "expected"), RUBY, ids=[f"{g!r}~{p!r}" for g, p, _ in RUBY])
def test_globs_match_as_ruby_fnmatch(pattern: str, path: str, expected: bool) -> None:
    assert fnmatch(pattern, path) is expected


@pytest.mark.parametrize(("pattern", "problem"), [
    ("src/[z-a].py", "reversed"), ("[abc", "never closes"), ("x/[]", "empty class"), ("{a,b", "never closes"),
    ("src/**/*.py", None), ("{a,b}/[!.]*", None),
])
def test_what_can_never_match_is_said(pattern: str, problem: str | None) -> None:
    found = glob(pattern).problem
    assert (found is None) if problem is None else (found is not None and problem in found)


@pytest.mark.parametrize(("pattern", "path", "expected"), [
    # GitLab's doc for include:local: `**.yml` is recursive, `**/*.yml` needs a subfolder.
    ("configs/**.yml", "configs/a.yml", True), ("configs/**.yml", "configs/x/a.yml", True),
    ("configs/**/*.yml", "configs/a.yml", False), ("configs/**/*.yml", "configs/x/a.yml", True),
    ("configs/*.yml", "configs/x/a.yml", False),
    # Only * is a wildcard there: ? [ { are the file's own characters.
    ("ci/a?.yml", "ci/ab.yml", False), ("ci/a?.yml", "ci/a?.yml", True), ("ci/[ab].yml", "ci/[ab].yml", True),
])
def test_include_wildcards_as_gitlab_expands_them(pattern: str, path: str, expected: bool) -> None:
    assert include_wildcard(pattern).fullmatch(path) is expected


def test_a_glob_of_many_stars_against_a_long_path_is_linear() -> None:
    assert not fnmatch("*a" * 200 + "*b", "a" * 50_000)
    assert not fnmatch("**/" * 100 + "b", "a/" * 20_000 + "c")


def test_a_brace_bomb_is_taken_to_match() -> None:
    bomb = "{a,b}" * 20  # a million alternatives once Ruby has expanded them
    assert glob(bomb).problem is not None and fnmatch(bomb, "zzz")


def test_regexes_are_re2() -> None:
    assert untrusted("(?!x)") is None and untrusted("(a)\\1") is None and untrusted("a{1001}") is None
    regexp = untrusted("^(a+)+$")
    assert regexp is not None and not regexp.search("a" * 100_000 + "b")


# ------------------------------------------------------------------ the clauses, through `cifab jobs`


def jobs(cli, repo: Path, *args: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    result = cli("jobs", "--format", "json", *args, cwd=repo)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


def _commit_files(repo: Path, names: list[str]) -> None:
    for name in names:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text("")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)


def test_exists_past_gitlabs_cap_holds(cli, repo: Path) -> None:  # type: ignore[no-untyped-def]
    """Exists#pattern_matches?: paths x pattern globs > MAX_PATTERN_COMPARISONS (10,000) holds."""
    _commit_files(repo, [f"src/f{i}.txt" for i in range(10_001)])
    (repo / ".gitlab-ci.yml").write_text(
        "capped:\n  script: x\n  rules:\n    - exists: ['nowhere/*.rs']\n"
        "exact:\n  script: x\n  rules:\n    - exists: ['nowhere/main.rs']\n"
        "suffix:\n  script: x\n  rules:\n    - exists: ['**/*.rs']\n")
    found = jobs(cli, repo)
    assert [j["name"] for j in found["jobs"]] == ["capped"]  # exact and **/*.ext globs are never capped
    assert any("10,000" in note for note in found["notes"])


def test_exists_under_the_cap_globs_every_file(cli, repo: Path) -> None:  # type: ignore[no-untyped-def]
    _commit_files(repo, ["Dockerfile", "svc/Dockerfile", "src/lib.rs", "docs/a.md"])
    (repo / ".gitlab-ci.yml").write_text(
        "top:\n  script: x\n  rules:\n    - exists: [Dockerfile]\n"
        "nested:\n  script: x\n  rules:\n    - exists: ['svc/Docker*']\n"
        "rust:\n  script: x\n  rules:\n    - exists: ['**/*.rs']\n"
        "toponly:\n  script: x\n  rules:\n    - exists: ['*.md']\n")  # top level only: docs/a.md is not seen
    assert [j["name"] for j in jobs(cli, repo)["jobs"]] == ["top", "nested", "rust"]


def test_changes_past_gitlabs_cap_holds(cli, repo: Path) -> None:  # type: ignore[no-untyped-def]
    """Changes#changes_match?: paths x globs > CHANGES_MAX_PATTERN_COMPARISONS (50,000) holds."""
    (repo / ".gitlab-ci.yml").write_text("docs:\n  script: x\n  rules:\n    - changes: ['docs/**/*', 'README.md']\n")
    few = [f"--changed=src/f{i}.py" for i in range(10)]
    assert jobs(cli, repo, *few)["jobs"] == []
    many = [f"--changed=src/f{i}.py" for i in range(25_001)]
    found = jobs(cli, repo, *many)
    assert [j["name"] for j in found["jobs"]] == ["docs"] and any("50,000" in n for n in found["notes"])


def test_a_bad_glob_class_is_a_positioned_warning(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "ci.yml").write_text("a:\n  script: x\n  rules:\n    - changes: ['src/[z-a]*', 'x/[]']\n"
                                     "    - exists:\n        paths: ['{a,b']\n")
    result = cli("lint", "--no-shellcheck", "ci.yml", "-f", "json", cwd=tmp_path)
    found = [(f["line"], f["column"], f["severity"]) for f in json.loads(result.stdout)["findings"]
             if f["rule"] == "rules-glob"]
    assert found == [(4, 17, "warning"), (4, 31, "warning"), (6, 17, "warning")]
