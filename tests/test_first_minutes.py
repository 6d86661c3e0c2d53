"""A new user's first ten minutes: init that asks again instead of failing at the end,
advice that can be followed, errors that point into the file the user wrote."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cifab.manifest.schema import value_problem

HAND_WRITTEN = "build:\n  script: make\n"


@pytest.mark.parametrize(("key", "answer", "fits"), [
    (("project",), "My App", False), (("project",), "my-app", True),
    (("go", "version"), "latest", False), (("go", "version"), "1.26", True),
    (("python", "version"), "three", False), (("generic", "image"), "alpine", False),
    (("generic", "image"), "alpine:3.22", True),
])
def test_each_answer_is_checked_against_the_schema(key: tuple[str, ...], answer: str, fits: bool) -> None:
    problem = value_problem(key, answer)
    assert (problem is None) == fits, problem
    if not fits:
        assert problem is not None and answer in problem and "expected" in problem


def test_a_bad_answer_is_asked_again_and_nothing_is_lost(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    import typer

    from cifab.cli import _prompt

    answers = iter(["My App", "my-app"])
    asked: list[str] = []

    def fake_prompt(question: str, default: object) -> str:
        asked.append(question)
        return next(answers)

    monkeypatch.setattr(typer, "prompt", fake_prompt)
    assert _prompt("Project name", "x", ("project",)) == "my-app"
    assert asked == ["Project name", "Project name"]
    assert "try again" in capsys.readouterr().err


def test_interactive_init_asks_with_the_keys_its_answers_become(go_repo: Path) -> None:
    from cifab.init import propose

    keys: list[tuple[str, ...]] = []

    def ask(question: str, default: object, key: tuple[str, ...] = (), check: object = None) -> object:
        keys.append(key)
        return default

    propose.init_repository(go_repo, None, False, ask)
    assert ("project",) in keys and ("go", "version") in keys


def test_without_a_terminal_init_says_once_that_defaults_were_taken(cli, go_repo: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("init", cwd=go_repo)
    assert result.exit_code == 0
    assert result.stderr.count("taking every default") == 1
    assert "taking every default" not in cli("init", "--yes", "--force", cwd=go_repo).stderr


def test_init_help_names_the_stacks(cli) -> None:  # type: ignore[no-untyped-def]
    text = " ".join(cli("init", "--help").stdout.replace("│", " ").split())
    assert "go, python, node, rust, docker, generic or monorepo" in text


# ------------------------------------------------------------------ a hand-written pipeline


def test_init_beside_a_hand_written_pipeline_says_how_to_adopt(cli, go_repo: Path) -> None:  # type: ignore[no-untyped-def]
    (go_repo / ".gitlab-ci.yml").write_text(HAND_WRITTEN)
    result = cli("init", "--yes", cwd=go_repo)
    assert result.exit_code == 0
    assert "was not written by cifab" in result.stdout
    assert "cifab generate --diff" in result.stdout and "cifab generate --force" in result.stdout


def test_the_advice_check_gives_on_a_hand_written_pipeline_can_be_followed(cli, go_repo: Path) -> None:  # type: ignore[no-untyped-def]
    (go_repo / ".gitlab-ci.yml").write_text(HAND_WRITTEN)
    cli("init", "--yes", cwd=go_repo)
    for args in (("check", "--no-shellcheck", "--no-remote"), ("generate", "--check")):
        result = cli(*args, cwd=go_repo)
        assert result.exit_code == 1
        assert "was not written by cifab" in result.output and "`cifab generate --force`" in result.output
    assert cli("generate", "--diff", cwd=go_repo).exit_code == 0  # the first step of the advice
    assert cli("generate", "--force", cwd=go_repo).exit_code == 0  # and the second
    assert cli("check", "--no-shellcheck", "--no-remote", cwd=go_repo).exit_code == 0


# ------------------------------------------------------------------ errors in the manifest's words


def test_extra_jobs_errors_point_into_the_manifest(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".git").mkdir()
    (tmp_path / "cifab.yml").write_text(
        "cifab: 1\nproject: hello\nstack: generic\ngeneric:\n  image: alpine:3.22\n  test:\n    script: [make]\n"
        "extra_jobs:\n  smoke:\n    stage: tset\n    script: [make smoke]\n    needs: [tets]\n"
        "jobs:\n  test:\n    stage: biuld\n")
    result = cli("generate", cwd=tmp_path)
    assert result.exit_code == 2
    assert ".gitlab-ci.yml:" not in result.stderr and not (tmp_path / ".gitlab-ci.yml").exists()
    lines = [line for line in result.stderr.splitlines() if line.startswith("cifab.yml:")]
    assert lines == [
        "cifab.yml:10:12: error stage-undefined extra_jobs.smoke.stage: smoke job: chosen stage tset does not "
        "exist; available stages are .pre, test, deploy, .post",
        "cifab.yml:12:13: error needs-undefined extra_jobs.smoke.needs[0]: smoke job: undefined need: tets",
        "cifab.yml:15:12: error stage-undefined jobs.test.stage: test job: chosen stage biuld does not exist; "
        "available stages are .pre, test, deploy, .post",
    ]
    assert "did you mean `test`?" in result.stderr


@pytest.mark.parametrize(("manifest", "expect"), [
    ("stack: golang\n", "did you mean 'go'?"),
    ("stack: nodejs\n", "did you mean 'node'?"),
    ("stack: go\ngo:\n  version: 1.20\n", 'quote it, as in "1.20": unquoted, YAML reads 1.20 as the number 1.2'),
    ("stack: go\nlint:\n  ignore: [needs-undefine]\n", "did you mean 'needs-undefined'?"),
])
def test_manifest_mistakes_get_a_hint(cli, tmp_path: Path, manifest: str, expect: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "cifab.yml").write_text("cifab: 1\nproject: x\n" + manifest)
    result = cli("generate", "--stdout", cwd=tmp_path)
    assert result.exit_code == 2 and expect in result.stderr, result.stderr


def test_a_pipeline_gitlab_will_not_find_gets_a_warning_naming_the_setting(cli, go_repo: Path) -> None:  # type: ignore[no-untyped-def]
    (go_repo / ".git").mkdir(exist_ok=True)
    cli("init", "--yes", cwd=go_repo)
    (go_repo / "ci").mkdir()
    result = cli("generate", "--output", "ci/.gitlab-ci.yml", cwd=go_repo)
    assert result.exit_code == 0
    assert "CI/CD configuration file to ci/.gitlab-ci.yml" in result.stderr
    assert "warning" not in cli("generate", cwd=go_repo).stderr


# ------------------------------------------------------------------ graph


def test_graph_piped_keeps_each_line_whole_and_says_what_rules_do(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    name = "build-" + "x" * 90
    (tmp_path / "ci.yml").write_text(yaml.safe_dump({
        "stages": ["build", "test"],
        name: {"stage": "build", "script": "make", "rules": [{"when": "always"}]},
        "test": {"stage": "test", "script": "make", "needs": [name],
                 "rules": [{"changes": {"paths": ["src/**/*"], "compare_to": "main"}},
                           {"if": "$CI_COMMIT_TAG", "when": "manual"}]},
    }))
    out = cli("graph", "ci.yml", cwd=tmp_path).stdout
    line = next(line for line in out.splitlines() if "test  " in line)
    assert f"needs: {name}" in line
    assert "rules: changes: src/**/* against main; $CI_COMMIT_TAG → manual" in line
    assert "rules: always\n" in out and "always → always" not in out

