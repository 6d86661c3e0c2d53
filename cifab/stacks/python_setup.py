"""What a setuptools project declares in setup.py and setup.cfg: its name, python_requires
and extras, read as pyproject.toml's [project] table would give them.

setup.py is a program; it is parsed, never run (running a repository's code at init would
hand it the user's machine). Only literal values count: a string, a list of strings, a
dict of them, or a module-level name bound once to such a literal.
"""

from __future__ import annotations

import ast
import configparser
from pathlib import Path
from typing import Any

from cifab.stacks.base import read_text

KEYWORDS = ("name", "python_requires", "extras_require")


def _literal(node: ast.AST, names: dict[str, ast.AST]) -> Any:
    if isinstance(node, ast.Name) and node.id in names:
        node = names[node.id]
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _setup_call(tree: ast.Module) -> ast.Call | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if called == "setup":
                return node
    return None


def from_setup_py(text: str) -> dict[str, Any]:
    """The [project]-shaped table setup.py's setup() call gives, from literals only."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return {}
    # Module-level NAME = literal, for setup(extras_require=EXTRAS); a name bound twice is unknown.
    names: dict[str, ast.AST] = {}
    twice: set[str] = set()
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                and isinstance(statement.targets[0], ast.Name):
            name = statement.targets[0].id
            (twice.add(name) if name in names else names.__setitem__(name, statement.value))
    for name in twice:
        names.pop(name, None)
    call = _setup_call(tree)
    if call is None:
        return {}
    found = {k.arg: _literal(k.value, names) for k in call.keywords if k.arg in KEYWORDS}
    return _project(found.get("name"), found.get("python_requires"), found.get("extras_require"))


def from_setup_cfg(text: str) -> dict[str, Any]:
    """The [project]-shaped table setup.cfg's [metadata] and [options] give."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return {}
    extras: dict[str, list[str]] = {}
    if parser.has_section("options.extras_require"):
        for extra, value in parser.items("options.extras_require"):
            extras[extra] = [line.strip() for line in value.splitlines() if line.strip()
                             and not line.strip().startswith("#")]
    return _project(parser.get("metadata", "name", fallback=None),
                    parser.get("options", "python_requires", fallback=None), extras)


def _project(name: Any, requires: Any, extras: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(name, str) and name.strip():
        out["name"] = name.strip()
    if isinstance(requires, str) and requires.strip():
        out["requires-python"] = requires.strip()
    if isinstance(extras, dict):
        out["optional-dependencies"] = {
            str(k): [v] if isinstance(v, str) else [r for r in v if isinstance(r, str)]
            for k, v in extras.items() if isinstance(k, str) and isinstance(v, (str, list, tuple))}
    return out


def declared(repo: Path) -> tuple[dict[str, Any], list[str]]:
    """setup.cfg's then setup.py's declarations (setup.py's arguments win, as setuptools
    has them), and which files said anything."""
    project: dict[str, Any] = {}
    sources: list[str] = []
    for file, read in (("setup.cfg", from_setup_cfg), ("setup.py", from_setup_py)):
        if not (repo / file).is_file():
            continue
        found = read(read_text(repo / file))
        if found:
            sources.append(file)
        extras = {**project.get("optional-dependencies", {}), **found.pop("optional-dependencies", {})}
        project.update(found)
        if extras:
            project["optional-dependencies"] = extras
    return project, sources
