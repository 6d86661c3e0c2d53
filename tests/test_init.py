"""`cifab init`: detection, questions, defaults and the written manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cifab.errors import CifabError
from cifab.init import detect
from cifab.init import propose as init_project
from cifab.manifest import load as manifest


def test_init_yes_writes_a_valid_manifest_and_says_what_next(cli, go_repo: Path) -> None:
    result = cli("init", "--yes", cwd=go_repo)
    assert result.exit_code == 0, result.output
    assert ("detected go.mod: module github.com/acme/hello; go 1.26 in go.mod is a minimum: Go 1.27, "
            "the newest release") in result.stdout
    assert "detected version stamp: -X main.version" in result.stdout
    assert result.stdout.rstrip().endswith("next: cifab generate")
    data = manifest.load(go_repo / "cifab.yml").data
    assert data["project"] == "hello"
    assert data["go"]["version"] == "1.27"
    assert data["image"]["build"] is True
    assert data["deploy"]["environments"] == []  # no deploy until one is configured


def test_manifest_text_quotes_versions_and_has_a_header(cli, go_repo: Path) -> None:
    cli("init", "--yes", cwd=go_repo)
    text = (go_repo / "cifab.yml").read_text()
    assert text.startswith("# cifab manifest")
    assert 'version: "1.27"' in text


def test_init_without_dockerfile_has_no_image_and_no_deploy(cli, tmp_path: Path) -> None:
    from tests.conftest import write_go_repo

    repo = write_go_repo(tmp_path / "cli", dockerfile=False)
    assert cli("init", "--yes", cwd=repo).exit_code == 0
    data = manifest.load(repo / "cifab.yml").data
    assert data["image"]["build"] is False
    assert data["deploy"]["environments"] == []


def test_init_never_overwrites_without_force(cli, go_repo: Path) -> None:
    (go_repo / "cifab.yml").write_text("# mine\n")
    result = cli("init", "--yes", cwd=go_repo)
    assert result.exit_code == 2
    assert "already exists" in result.stderr and "--force" in result.stderr
    assert (go_repo / "cifab.yml").read_text() == "# mine\n"
    assert cli("init", "--yes", "--force", cwd=go_repo).exit_code == 0
    assert (go_repo / "cifab.yml").read_text().startswith("# cifab manifest")


def test_init_in_another_directory_names_the_manifest_in_the_next_step(cli, go_repo: Path, tmp_path: Path) -> None:
    result = cli("init", "--yes", str(go_repo), cwd=tmp_path)
    assert result.exit_code == 0
    assert f"next: cifab generate --manifest {go_repo / 'cifab.yml'}" in result.stdout


def test_stack_flag_overrides_detection(cli, tmp_path: Path) -> None:
    result = cli("init", "--yes", "--stack", "go", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert manifest.load(tmp_path / "cifab.yml").stack == "go"


def test_no_stack_detected_is_a_clear_error(cli, tmp_path: Path) -> None:
    result = cli("init", "--yes", cwd=tmp_path)
    assert result.exit_code == 2
    assert "could not detect the stack" in result.stderr and "--stack" in result.stderr
    assert not (tmp_path / "cifab.yml").exists()


def test_unsupported_stack_is_refused(cli, tmp_path: Path) -> None:
    result = cli("init", "--yes", "--stack", "cobol", cwd=tmp_path)
    assert result.exit_code == 2 and "'cobol' is not one of" in result.stderr and "'monorepo'" in result.stderr


def test_missing_directory(cli, tmp_path: Path) -> None:
    result = cli("init", "--yes", str(tmp_path / "nope"))
    assert result.exit_code == 2 and "not a directory" in result.stderr


def test_answers_change_the_proposal(go_repo: Path) -> None:
    answers = {
        "Project name": "shop",
        "Go version": "1.25",
        "Run tests with the race detector?": False,
        "Build a container image from the Dockerfile?": False,
        "Staging deploy command, run from the default branch (empty: no staging deploy)": "./deploy.sh staging",
        "Production deploy command, run by hand on tags (empty: no production deploy)": "",
    }
    asked: list[str] = []

    def ask(question: str, default: Any, key: tuple[str, ...] = (), check: Any = None) -> Any:
        asked.append(question)
        return answers[question]

    data = init_project.propose(detect.detect(go_repo), None, ask)
    assert asked == list(answers)
    assert data["project"] == "shop" and data["go"]["version"] == "1.25"
    assert data["go"]["race"] is False and data["image"] == {"build": False}
    assert data["deploy"]["environments"] == [{"name": "staging", "when": "default_branch", "manual": False,
                                               "script": ["./deploy.sh staging"]}]


def test_a_bad_answer_is_caught_before_writing(go_repo: Path) -> None:
    data = init_project.propose(detect.detect(go_repo), None,
                                lambda q, d, k=(), c=None: "not a version" if q == "Go version" else d)
    with pytest.raises(CifabError, match=r"go\.version"):
        init_project.write_manifest(go_repo / "cifab.yml", data, force=False)
    assert not (go_repo / "cifab.yml").exists()


def test_init_yes_adds_no_deploy_that_would_fail_by_design(go_repo: Path) -> None:
    # docker-nginx: a placeholder deploy ending `exit 1` made the first default-branch pipeline red.
    data = init_project.propose(detect.detect(go_repo), None)
    assert "deploy" not in data


def test_proposals_never_share_the_cached_schema_defaults() -> None:
    """init once handed out references into the cached schema: changing one proposal's
    targets changed every later default."""
    from cifab.manifest.schema import section_defaults

    first = section_defaults("go")
    first["targets"].append("plan9/386")
    assert "plan9/386" not in section_defaults("go")["targets"]
    data = init_project.propose(detect.Detection(stack="go", name="x"), None)
    data["go"]["targets"].append("plan9/386")
    assert "plan9/386" not in init_project.propose(detect.Detection(stack="go", name="x"), None)["go"]["targets"]


def test_answers_are_checked_against_the_repository(go_repo: Path, tmp_path: Path) -> None:
    # `Go version [1.26]: 1.2.6` below go.mod's `go 1.25` was taken, and the first pipeline broke.
    from cifab.stacks.go import version_problem

    problem = version_problem("1.2.6", "1.26")
    assert problem is not None and "go.mod says go 1.26" in problem and "1.26, 1.27" in problem
    assert version_problem("1.27", "1.26") is None
    asked: list[str | None] = []

    def ask(question: str, default: Any, key: tuple[str, ...] = (), check: Any = None) -> Any:
        if question == "Go version":
            asked.append(check("1.2.6") if check else None)
        return default

    init_project.propose(detect.detect(go_repo), None, ask)
    assert asked and asked[0] is not None and "too old" in asked[0]


def test_yes_or_no_names_the_valid_answers() -> None:
    from cifab.init.answers import yes_no

    assert [yes_no(a, False) for a in ("y", "YES", "n", "No", "", "yse")] == [True, True, False, False, False, None]


def test_no_dockerfile_means_no_dockerfile_question(tmp_path: Path) -> None:
    # "Build a container image from the Dockerfile? [y/N]" was asked in repositories without one.
    (tmp_path / "go.mod").write_text("module example.com/x\n\ngo 1.26\n")
    (tmp_path / "main.go").write_text("package main\n\nfunc main() {}\n")
    asked: list[str] = []

    def ask(question: str, default: Any, key: tuple[str, ...] = (), check: Any = None) -> Any:
        asked.append(question)
        return True if "Dockerfile" in question else default

    data = init_project.propose(detect.detect(tmp_path), None, ask)
    assert not any("Dockerfile" in q for q in asked) and asked  # other questions were asked
    assert data["image"] == {"build": False}


@pytest.mark.parametrize(("files", "said", "command"), [
    ({"pom.xml": "<project/>"}, "Maven project (pom.xml): cifab has no java stack yet", "test: mvn -B verify"),
    ({"pom.xml": "<project/>", "mvnw": "#!/bin/sh\n"}, "Maven project", "test: ./mvnw -B verify"),
    ({"build.gradle.kts": "", "gradlew": "#!/bin/sh\n"}, "Gradle project (build.gradle.kts)",
     "test: ./gradlew check; build: ./gradlew assemble"),
    ({"Gemfile": "", "Rakefile": ""}, "Ruby project (Gemfile): cifab has no ruby stack yet",
     "test: bundle install && bundle exec rake"),
    ({"composer.json": '{"scripts": {"test": "phpunit"}}'}, "PHP project (composer.json)", "composer test"),
    ({"mix.exs": ""}, "Elixir project (mix.exs)", "mix test"),
    ({"src/App.csproj": "", "App.sln": ""}, ".NET project (App.sln): cifab has no dotnet stack yet",
     "test: dotnet test"),
])
def test_an_unsupported_ecosystem_is_named_with_its_commands(cli, tmp_path: Path, files: dict[str, str],
                                                             said: str, command: str) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / ".git").mkdir()
    result = cli("init", "--yes", cwd=tmp_path)
    assert result.exit_code == 2
    assert said in result.stderr and command in result.stderr and "--stack generic" in result.stderr
    assert "repository root" not in result.stderr  # it runs there already
    taken = cli("init", "--yes", "--stack", "generic", cwd=tmp_path)
    assert taken.exit_code == 0
    # What generic starts from is said as it is taken, with its image.
    assert any(line.startswith("detected ") and command in line and "image " in line
               for line in taken.stdout.splitlines()), taken.stdout
    assert "exit 1" not in (tmp_path / "cifab.yml").read_text()


def test_the_repository_root_is_named_only_below_it(cli, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "docs" / "guide").mkdir(parents=True)
    result = cli("init", "--yes", cwd=tmp_path / "docs" / "guide")
    assert result.exit_code == 2 and "run cifab init in the repository root (../..)" in result.stderr


def test_generic_asks_for_each_command_offering_what_it_sees(tmp_path: Path) -> None:
    (tmp_path / "pom.xml").write_text("<project/>")
    answers = {"Image the jobs run in": "maven:3.9-eclipse-temurin-17", "Lint command (empty: no lint job)": "",
               "Test command (empty: no test job)": "mvn -B verify",
               "Build command (empty: no build job)": "mvn -B package -DskipTests"}
    offered: dict[str, Any] = {}

    def ask(question: str, default: Any, key: tuple[str, ...] = (), check: Any = None) -> Any:
        offered[question] = default
        return answers.get(question, default)

    data = init_project.propose(detect.detect(tmp_path), "generic", ask)
    assert offered["Image the jobs run in"] == "maven:3.9-eclipse-temurin-21"
    assert offered["Test command (empty: no test job)"] == "mvn -B verify"
    assert data["generic"] == {"image": "maven:3.9-eclipse-temurin-17", "test": {"script": ["mvn -B verify"]},
                               "build": {"script": ["mvn -B package -DskipTests"]}}
