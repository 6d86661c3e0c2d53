"""The commands a project's task runner already runs for linting, testing and building, in
the order cifab prefers them: `scripts/` (scripts/lint, scripts/check, scripts/test...),
Makefile and justfile targets, tox and nox environments, hatch and PDM scripts. (Node
projects' package.json scripts are the node stack's own.)

A command keeps the tool it needs besides the project's own (make, just, tox...), so that
the job can install it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cifab.files import Refused, read_limited

READ_LIMIT = 256 * 1024
ROLES = ("lint", "test", "build")
# The names each role goes by, best first. `check` lints in most projects that also have a
# `test` (httpx's scripts/check: ruff and mypy); a project whose only target is `check` may
# mean its tests by it, so it is a lint command there too, never a test one.
NAMES = {
    "lint": ("lint", "check", "style", "typecheck", "static"),
    "test": ("test", "tests", "unit", "unittest", "pytest"),
    "build": ("build", "dist", "package"),
}


@dataclass(frozen=True)
class Command:
    run: str  # one shell command
    source: str  # where it is written, for init's output and the manifest
    needs: str = ""  # the tool that runs it, when the project's own install does not bring it


def _text(path: Path) -> str:
    try:
        return read_limited(path, READ_LIMIT).decode("utf-8", "replace")
    except (OSError, Refused):
        return ""


def _scripts(repo: Path) -> dict[str, Command]:
    """scripts/NAME (or NAME.sh): executable files a project runs by hand and in CI."""
    folder = repo / "scripts"
    out: dict[str, Command] = {}
    if not folder.is_dir() or folder.is_symlink():
        return out
    for role, names in NAMES.items():
        for name in names:
            for file in (folder / name, folder / f"{name}.sh"):
                if file.is_file() and not file.is_symlink() and _text(file).startswith("#!"):
                    out.setdefault(role, Command(f"./scripts/{file.name}", f"scripts/{file.name}"))
    return out


_MAKE_TARGET = re.compile(r"^([A-Za-z][\w.-]*)\s*:(?!=)", re.M)


def _make(repo: Path) -> dict[str, Command]:
    for name in ("Makefile", "makefile", "GNUmakefile"):
        text = _text(repo / name)
        if text:
            targets = set(_MAKE_TARGET.findall(text))
            return _first({role: [Command(f"make {t}", f"{name} target {t}", "make") for t in names if t in targets]
                           for role, names in NAMES.items()})
    return {}


def _just(repo: Path) -> dict[str, Command]:
    for name in ("justfile", "Justfile", ".justfile"):
        text = _text(repo / name)
        if text:
            recipes = set(re.findall(r"^@?([A-Za-z][\w-]*)(?:\s+[^:=\n]*)?:(?!=)", text, re.M))
            return _first({role: [Command(f"just {r}", f"{name} recipe {r}", "just") for r in names if r in recipes]
                           for role, names in NAMES.items()})
    return {}


def _tox(repo: Path, pyproject: dict[str, Any]) -> dict[str, Command]:
    text = _text(repo / "tox.ini")
    envs = set(re.findall(r"^\[testenv:([\w.-]+)\]", text, re.M))
    legacy = _table(_table(pyproject, "tool"), "tox")
    envs |= set(_table(legacy, "env"))
    if not text and not legacy:
        return {}
    found = {role: [Command(f"tox -e {e}", f"tox environment {e}", "tox") for e in names if e in envs]
             for role, names in NAMES.items() if role != "test"}
    # The default environments (envlist, py3X) are the tests.
    found["test"] = [Command("tox", "tox (its default environments)", "tox")]
    return _first(found)


_NOX_SESSION = re.compile(r"@nox\.session(?P<args>\([^)]*\))?\s*\n\s*def\s+(?P<function>\w+)")


def _nox(repo: Path) -> dict[str, Command]:
    text = _text(repo / "noxfile.py")
    sessions = set()
    for match in _NOX_SESSION.finditer(text):
        named = re.search(r"name\s*=\s*['\"]([\w-]+)['\"]", match.group("args") or "")
        sessions.add(named.group(1) if named else match.group("function"))
    return _first({role: [Command(f"nox -s {s}", f"noxfile.py session {s}", "nox") for s in names if s in sessions]
                   for role, names in NAMES.items()})


def _hatch(pyproject: dict[str, Any]) -> dict[str, Command]:
    envs = _table(_table(_table(pyproject, "tool"), "hatch"), "envs")
    found: dict[str, list[Command]] = {role: [] for role in ROLES}
    for env, settings in envs.items():
        for script in _table(settings, "scripts"):
            prefix = "" if env == "default" else f"{env}:"
            for role, names in NAMES.items():
                if script in names or (role == "lint" and env == "lint" and script in ("all", "check", "style")):
                    found[role].append(Command(f"hatch run {prefix}{script}", f"hatch script {prefix}{script}",
                                               "hatch"))
    return _first(found)


def _pdm(pyproject: dict[str, Any]) -> dict[str, Command]:
    scripts = _table(_table(_table(pyproject, "tool"), "pdm"), "scripts")
    return _first({role: [Command(f"pdm run {s}", f"PDM script {s}", "pdm") for s in names if s in scripts]
                   for role, names in NAMES.items()})


def _table(data: Any, key: str) -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def _first(found: dict[str, list[Command]]) -> dict[str, Command]:
    return {role: commands[0] for role, commands in found.items() if commands}


def commands(repo: Path, pyproject: dict[str, Any] | None = None) -> dict[str, Command]:
    """For each role, the first command a task runner declares for it."""
    pyproject = pyproject or {}
    out: dict[str, Command] = {}
    for found in (_scripts(repo), _make(repo), _just(repo), _tox(repo, pyproject), _nox(repo), _hatch(pyproject),
                  _pdm(pyproject)):
        for role, command in found.items():
            out.setdefault(role, command)
    return out
