"""Ecosystems cifab has no stack for (Maven, Gradle, Ruby, PHP, Elixir, .NET): how to
recognise them, and the image and commands a generic pipeline of them would run.

init names what it found instead of "could not detect the stack", and `--stack generic`
starts from these commands, or from the project's own task runner, never from a
placeholder job that fails by design.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cifab.declared import runners
from cifab.stacks.base import read_text


@dataclass(frozen=True)
class Suggestion:
    """A generic pipeline's starting point: an image and commands per role."""

    image: str
    commands: dict[str, list[str]]  # role (lint, test, build) -> commands
    source: str  # what the commands come from, for init's output


@dataclass(frozen=True)
class Ecosystem:
    kind: str  # "Maven project", as init names it
    stack: str  # the stack cifab would need: "java"
    markers: tuple[str, ...]  # file names or globs, any of which marks it
    suggest: Callable[[Path], Suggestion]


def _maven(repo: Path) -> Suggestion:
    mvn = "./mvnw" if (repo / "mvnw").is_file() else "mvn"
    return Suggestion("maven:3.9-eclipse-temurin-21", {"test": [f"{mvn} -B verify"]}, "pom.xml")


def _gradle(repo: Path) -> Suggestion:
    wrapper = (repo / "gradlew").is_file()
    gradle = "./gradlew" if wrapper else "gradle"
    # The wrapper downloads the Gradle the project pins, so a JDK is all the image needs.
    image = "eclipse-temurin:21" if wrapper else "gradle:jdk21"
    return Suggestion(image, {"test": [f"{gradle} check"], "build": [f"{gradle} assemble"]}, "build.gradle")


def _ruby(repo: Path) -> Suggestion:
    install = ["bundle install"]
    out: dict[str, list[str]] = {}
    if (repo / ".rubocop.yml").is_file():
        out["lint"] = [*install, "bundle exec rubocop"]
    if (repo / "spec").is_dir():
        out["test"] = [*install, "bundle exec rspec"]
    elif (repo / "Rakefile").is_file():
        out["test"] = [*install, "bundle exec rake"]
    return Suggestion("ruby:3.4", out, "Gemfile")


def _php(repo: Path) -> Suggestion:
    try:
        composer = json.loads(read_text(repo / "composer.json") or "{}")
    except json.JSONDecodeError:
        composer = {}
    scripts = composer.get("scripts") if isinstance(composer, dict) else None
    install = ["composer install --no-interaction --no-progress"]
    out: dict[str, list[str]] = {}
    if isinstance(scripts, dict) and "test" in scripts:
        out["test"] = [*install, "composer test"]
    elif (repo / "phpunit.xml").is_file() or (repo / "phpunit.xml.dist").is_file():
        out["test"] = [*install, "vendor/bin/phpunit"]
    return Suggestion("composer:2", out, "composer.json")


def _elixir(repo: Path) -> Suggestion:
    deps = ["mix local.hex --force", "mix deps.get"]
    return Suggestion("elixir:1.18", {"lint": ["mix format --check-formatted"], "test": [*deps, "mix test"]},
                      "mix.exs")


def _dotnet(repo: Path) -> Suggestion:
    return Suggestion("mcr.microsoft.com/dotnet/sdk:9.0", {"test": ["dotnet test"], "build": ["dotnet build"]},
                      "the .NET project files")


ECOSYSTEMS = (
    Ecosystem("Maven project", "java", ("pom.xml",), _maven),
    Ecosystem("Gradle project", "java", ("build.gradle", "build.gradle.kts", "settings.gradle",
                                         "settings.gradle.kts"), _gradle),
    Ecosystem("Ruby project", "ruby", ("Gemfile",), _ruby),
    Ecosystem("PHP project", "php", ("composer.json",), _php),
    Ecosystem("Elixir project", "elixir", ("mix.exs",), _elixir),
    Ecosystem(".NET project", "dotnet", ("*.csproj", "*.fsproj", "*.vbproj", "*.sln"), _dotnet),
)


def found(repo: Path) -> tuple[Ecosystem, str] | None:
    """The first ecosystem the repository's root marks, with the file that marks it."""
    for ecosystem in ECOSYSTEMS:
        for marker in ecosystem.markers:
            hits = sorted(repo.glob(marker)) if "*" in marker else [repo / marker]
            hit = next((h for h in hits if h.is_file()), None)
            if hit is not None:
                return ecosystem, hit.name
    return None


# The image a task runner's commands need when no ecosystem names one: make comes with
# buildpack-deps (and git, curl, a compiler); the Python runners are pip-installed.
MAKE_IMAGE = "buildpack-deps:bookworm"
PYTHON_IMAGE = "python:3.13-slim"


def _runner_setup(command: runners.Command) -> list[str]:
    from cifab.stacks.python_declared import TOOL_PINS

    if command.needs in ("", "make"):
        return []
    package = "rust-just" if command.needs == "just" else command.needs
    return [f"pip install --quiet {package}=={TOOL_PINS[command.needs]}"]


def suggestion(repo: Path) -> Suggestion | None:
    """The generic pipeline the repository suggests, None when it says nothing: its
    ecosystem's commands, and its task runner's (make test, scripts/test) for the rest. Without
    an ecosystem, the task runner's commands alone, in an image that has their tool."""
    declared = runners.commands(repo)
    ecosystem = found(repo)
    base = ecosystem[0].suggest(repo) if ecosystem else None
    commands = dict(base.commands) if base else {}
    sources = [base.source] if base and base.commands else []
    image = base.image if base else ""
    for role, command in declared.items():
        if role in commands or (base is not None and command.needs):
            continue  # the ecosystem's image need not have make or tox
        commands[role] = [*_runner_setup(command), command.run]
        sources.append(command.source)
        if not base and command.needs not in ("", "make"):
            image = PYTHON_IMAGE
    if not commands:
        return None
    return Suggestion(image or MAKE_IMAGE, commands, ", ".join(sources))
