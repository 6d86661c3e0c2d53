"""The repository boundary: a committed symlink never carries a write or a template read out
of the checkout, --force never replaces what cifab generates from, and a manifest cannot
name a folder outside the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import write_go_repo


@pytest.fixture
def repo(cli, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    root = write_go_repo(tmp_path / "repo")
    (root / ".git").mkdir()
    assert cli("init", "--yes", cwd=root).exit_code == 0
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    return folder


def _untouched(outside: Path) -> None:
    assert sorted(p.name for p in outside.iterdir()) == ["kept.txt"]
    assert (outside / "kept.txt").read_text() == "precious\n"


@pytest.mark.parametrize("command", [
    ("lint", "--no-shellcheck", "-o", "report.json", "-f", "json"),
    ("check", "--no-shellcheck", "--no-remote", "--codequality", "report.json"),
])
@pytest.mark.parametrize("target", ["kept.txt", "new.json"])
def test_a_report_link_out_of_the_repository_is_refused(cli, repo: Path, outside: Path,  # type: ignore[no-untyped-def]
                                                        command: tuple[str, ...], target: str) -> None:
    (outside / "kept.txt").write_text("precious\n")
    assert cli("generate", cwd=repo).exit_code == 0
    (repo / "report.json").symlink_to(outside / target)
    result = cli(*command, cwd=repo)
    assert result.exit_code == 2, result.output
    assert "outside the repository" in result.stderr and str(outside / target) in result.stderr
    _untouched(outside)


@pytest.mark.parametrize("target", ["kept.txt", "new.yml"])
def test_generate_will_not_follow_a_pipeline_link_out_of_the_repository(cli, repo: Path, outside: Path,  # type: ignore[no-untyped-def]
                                                                       target: str) -> None:
    (outside / "kept.txt").write_text("precious\n")
    (repo / ".gitlab-ci.yml").symlink_to(outside / target)  # dangling when the target is new.yml
    for flags in ((), ("--force",)):
        result = cli("generate", *flags, cwd=repo)
        assert result.exit_code == 2, result.output
        assert "outside the repository" in result.stderr
    _untouched(outside)


def test_a_link_inside_the_repository_is_followed(cli, repo: Path) -> None:  # type: ignore[no-untyped-def]
    (repo / "ci").mkdir()
    (repo / ".gitlab-ci.yml").symlink_to("ci/pipeline.yml")
    assert cli("generate", cwd=repo).exit_code == 0
    assert (repo / ".gitlab-ci.yml").is_symlink() and "go-test" in (repo / "ci" / "pipeline.yml").read_text()


def test_a_report_the_user_names_outside_any_repository_is_written(cli, repo: Path, outside: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("generate", cwd=repo).exit_code == 0
    result = cli("lint", "--no-shellcheck", "-f", "json", "-o", str(outside / "report.json"), cwd=repo)
    assert result.exit_code == 0, result.output
    assert (outside / "report.json").read_text().startswith("{")


@pytest.mark.parametrize("output", ["cifab.yml", ".git/config", ".git/hooks/pre-commit", "tpl/extra.yml.j2"])
def test_force_never_replaces_the_manifest_a_template_or_git(cli, repo: Path, output: str) -> None:  # type: ignore[no-untyped-def]
    (repo / "tpl").mkdir()
    (repo / "tpl" / "extra.yml.j2").write_text("{# mine #}\n")
    (repo / ".git" / "hooks").mkdir()
    (repo / ".git" / "config").write_text("[core]\n")
    manifest = repo / "cifab.yml"
    manifest.write_text(manifest.read_text() + "templates_dir: tpl\n")
    before = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()}
    result = cli("generate", "--force", "-o", output, cwd=repo)
    assert result.exit_code == 2, result.output
    assert "never writes" in result.stderr
    assert {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()} == before


def test_templates_dir_outside_the_repository_is_refused(cli, repo: Path, outside: Path) -> None:  # type: ignore[no-untyped-def]
    manifest = repo / "cifab.yml"
    manifest.write_text(manifest.read_text() + "templates_dir: ../outside\n")
    result = cli("generate", "--stdout", cwd=repo)
    assert result.exit_code == 2 and "outside the repository" in result.stderr, result.output
    (repo / "tpl").symlink_to(outside)
    manifest.write_text(manifest.read_text().replace("../outside", "tpl"))
    result = cli("generate", "--stdout", cwd=repo)
    assert result.exit_code == 2 and "outside the repository" in result.stderr, result.output


@pytest.mark.parametrize("command", [("generate", "--diff"), ("generate", "--stdout"), ("check", "--no-remote"),
                                     ("templates", "show", "base/stages.yml.j2")])
def test_a_template_linked_out_of_its_folder_is_never_read(cli, repo: Path, command: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    secret = "glpat-SECRET-FROM-THE-ENVIRONMENT"
    (repo / "tpl" / "base").mkdir(parents=True)
    (repo / "tpl" / "base" / "stages.yml.j2").symlink_to("/proc/self/environ")
    manifest = repo / "cifab.yml"
    manifest.write_text(manifest.read_text() + "templates_dir: tpl\n")
    assert cli("generate", "--force", cwd=repo, env={"GITLAB_TOKEN": secret}).exit_code == 2
    result = cli(*command, cwd=repo, env={"GITLAB_TOKEN": secret})
    assert result.exit_code == 2, result.output
    assert "outside templates_dir" in result.stderr
    assert secret not in result.output and "GITLAB_TOKEN" not in result.output


def test_a_template_that_is_not_a_regular_file_is_refused(cli, repo: Path) -> None:  # type: ignore[no-untyped-def]
    (repo / "tpl" / "base").mkdir(parents=True)
    os.mkfifo(repo / "tpl" / "base" / "stages.yml.j2")
    manifest = repo / "cifab.yml"
    manifest.write_text(manifest.read_text() + "templates_dir: tpl\n")
    result = cli("generate", "--stdout", cwd=repo)
    assert result.exit_code == 2 and "not a regular file" in result.stderr, result.output


@pytest.mark.parametrize("path", ["../../outside", "services/../../x", "..", "./api", "api/."])
def test_a_component_path_outside_the_repository_is_refused_at_its_line(cli, tmp_path: Path, path: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "cifab.yml").write_text(
        "stack: monorepo\ncomponents:\n  - name: api\n    path: services/api\n    stack: go\n"
        f"  - name: evil\n    path: {path}\n    stack: go\n")
    result = cli("generate", "--stdout", cwd=tmp_path)
    assert result.exit_code == 2, result.output
    assert "cifab.yml:7:" in result.stderr and "without . or .." in result.stderr
