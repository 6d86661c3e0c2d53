"""What a Python project already declares, read before the python stack's defaults: its task
runner's lint and test commands, its pre-commit hooks (versions, scopes, mypy's setup), its
existing CI (versions, system packages, services, variables, commands), its coverage
settings and a version read from git. Each decision goes to the manifest with its source."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cifab.declared import ci, precommit, runners
from cifab.declared.runners import Command
from cifab.stacks.base import read_text, table

# Task runners a command may need, with what installs them in a python image. make comes
# from Debian; the others from PyPI, at these pins.
TOOL_PINS = {"tox": "4.67.17", "nox": "2026.10.20", "hatch": "1.18.2", "pdm": "2.29.4", "just": "1.59.0"}
TOOLS = ("make", "just", "tox", "nox", "hatch", "pdm")
# Runners that make their own environments: the job does not install the project for them.
OWN_ENVIRONMENTS = ("tox", "nox", "hatch")
# Hooks whose versions and scopes the lint jobs take (ruff-check is ruff-pre-commit's newer id).
RUFF_HOOKS = ("ruff-check", "ruff")
# pre-commit's mypy mirror runs with these args when the hook sets none.
MYPY_HOOK_ARGS = ("--ignore-missing-imports", "--scroll-output")
# Packages the python images hold already, or that would replace their Python.
IMAGE_PACKAGES = re.compile(r"^(python3?(\.\d+)?(-[a-z]+)*|pip|libpython.*|build-essential|ca-certificates)$")


def tool_of(run: str) -> str:
    first = run.split()[0] if run.split() else ""
    return first if first in TOOLS else ""


def _as_setting(command: Command) -> dict[str, Any]:
    return {"run": [command.run], "from": command.source, "tool": command.needs or tool_of(command.run)}


def commands(repo: Path, pyproject: dict[str, Any], hooks: list[precommit.Hook], existing: ci.ExistingCI,
             evidence: list[str]) -> dict[str, Any]:
    """The lint and test commands the project already runs: its task runner's, then (for
    lint, when no pre-commit hook names a linter cifab runs) its existing CI's."""
    declared = runners.commands(repo, pyproject)
    out: dict[str, Any] = {}
    for role in ("lint", "test"):
        if role in declared:
            out[role] = _as_setting(declared[role])
        elif role == "lint" and precommit.find(hooks, *RUFF_HOOKS, "ruff-format", "black", "mypy"):
            continue  # the hooks say how to lint: the lint jobs follow them
        elif existing.commands.get(role):
            lines = existing.commands[role]
            out[role] = {"run": [c.run for c in lines], "from": lines[0].source,
                         "tool": next((t for c in lines if (t := tool_of(c.run))), "")}
        if role in out:
            evidence.append(f"{role}: {' && '.join(out[role]['run'])} (from {out[role]['from']})")
    if "test" in out:
        out["test"]["pytest"] = runs_pytest(repo, out["test"])
        if not out["test"]["pytest"]:
            evidence.append("test: no JUnit report (the test command does not visibly run pytest, so cifab "
                            "cannot ask it for one)")
    return out


def runs_pytest(repo: Path, command: dict[str, Any]) -> bool:
    """Whether the command runs pytest, read from the command or what it runs (the script, the
    Makefile recipe, tox.ini, the noxfile): then PYTEST_ADDOPTS can ask it for a JUnit report."""
    runs = " ".join(command["run"])
    if re.search(r"\bpytest\b", runs):
        return True
    source = str(command.get("from", ""))
    texts = []
    if source.startswith("scripts/"):
        texts.append(read_text(repo / source))
    for name, tool in (("Makefile", "make"), ("justfile", "just"), ("tox.ini", "tox"), ("noxfile.py", "nox"),
                       ("pyproject.toml", "hatch"), ("pyproject.toml", "pdm")):
        if command.get("tool") == tool:
            texts.append(read_text(repo / name))
    return any(re.search(r"\bpytest\b", text) for text in texts)


def coverage_configured(repo: Path, pyproject: dict[str, Any]) -> bool:
    """The project says what coverage measures ([tool.coverage.run] source or include, or a
    .coveragerc): `--cov=<package>` would override it, so tests take a bare --cov."""
    run = table(table(table(pyproject, "tool"), "coverage"), "run")
    if "source" in run or "include" in run or "source_pkgs" in run:
        return True
    if (repo / ".coveragerc").is_file():
        return True
    return any(re.search(r"^\[coverage:run\][^\[]*^\s*(source|include)\s*=", read_text(repo / name), re.M | re.S)
               for name in ("setup.cfg", "tox.ini"))


def scm_version(pyproject: dict[str, Any], repo: Path) -> str | None:
    """The tool that reads the version from git tags, if one does."""
    requires = " ".join(str(r) for r in table(pyproject, "build-system").get("requires", []) or [])
    tool = table(pyproject, "tool")
    if "setuptools_scm" in tool or "setuptools-scm" in tool or re.search(r"setuptools[-_]scm", requires):
        return "setuptools-scm"
    if table(table(tool, "hatch"), "version").get("source") == "vcs":
        return "hatch-vcs"
    if table(table(tool, "pdm"), "version").get("source") == "scm":
        return "pdm-backend's scm source"
    if "versioningit" in tool or "dunamai" in requires or "poetry-dynamic-versioning" in tool:
        return "a git-tag version plugin"
    if re.search(r"use_scm_version\s*=", read_text(repo / "setup.py")):
        return "setuptools-scm"
    return None


def apt_packages(existing: ci.ExistingCI) -> list[str]:
    return [p for p in existing.apt if not IMAGE_PACKAGES.match(p)]


def scope(hook: precommit.Hook | None, evidence: list[str], what: str) -> tuple[list[str], list[str]]:
    """(paths, exclusions) a hook's files and exclude regexes name; empty when it has none,
    or when they cannot be read as paths (said in the evidence)."""
    if hook is None:
        return [], []
    paths = precommit.paths(hook.files)
    excluded = precommit.excluded(hook)
    if paths is None or excluded is None:
        evidence.append(f"warning: {what}: the scope of {hook.source} ({hook.files or ' '.join(hook.exclude)!r}) is "
                        "not a list of folders; the job checks the whole project")
        return [], []
    return paths, excluded
