"""Stack detection for `cifab init`: what a repository is, read from its files.

Each stack has one function that looks for its marker files and proposes that stack's
manifest settings; `detect` tries them in order.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_MODULE = re.compile(r"^module\s+(\S+)", re.MULTILINE)
_GO = re.compile(r"^go\s+(\d+\.\d+(?:\.\d+)?)", re.MULTILINE)
_TOOLCHAIN = re.compile(r"^toolchain\s+go(\d+\.\d+(?:\.\d+)?)", re.MULTILINE)
_PACKAGE_MAIN = re.compile(r"^package\s+main\b", re.MULTILINE)
_VALID_NAME = re.compile(r"[^A-Za-z0-9._-]+")
PYTHON_VERSIONS = ("3.10", "3.11", "3.12", "3.13", "3.14")


@dataclass
class Detection:
    stack: str | None
    name: str
    settings: dict[str, Any] = field(default_factory=dict)  # the stack's manifest section
    dockerfile: bool = False
    evidence: list[str] = field(default_factory=list)


def _safe_name(text: str) -> str:
    cleaned = _VALID_NAME.sub("-", text).strip("-._")
    return cleaned or "app"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def module_name(module: str) -> str:
    """The last element of a module path, without a /vN major-version suffix."""
    parts = module.rstrip("/").split("/")
    if len(parts) > 1 and re.fullmatch(r"v\d+", parts[-1]):
        parts.pop()
    return parts[-1]


def _is_main_package(directory: Path) -> bool:
    for path in sorted(directory.glob("*.go")):
        if not path.name.endswith("_test.go") and _PACKAGE_MAIN.search(_read(path)[:4096]):
            return True
    return False


def go_binaries(repo: Path, project: str) -> list[dict[str, str]]:
    """One binary per cmd/<name> main package; else the root main package; else none."""
    cmd = repo / "cmd"
    found = []
    if cmd.is_dir():
        for sub in sorted(p for p in cmd.iterdir() if p.is_dir()):
            if _is_main_package(sub):
                found.append({"name": _safe_name(sub.name), "main": f"./cmd/{sub.name}"})
    if not found and _is_main_package(repo):
        found.append({"name": project, "main": "."})
    return found


def detect_go(repo: Path, found: Detection) -> bool:
    gomod = repo / "go.mod"
    if not gomod.is_file():
        return False
    text = _read(gomod)
    module = _MODULE.search(text)
    if module:
        found.name = _safe_name(module_name(module.group(1)))
    version = _TOOLCHAIN.search(text) or _GO.search(text)
    binaries = go_binaries(repo, found.name)
    found.settings = {"module": module.group(1) if module else None,
                      "version": version.group(1) if version else None, "binaries": binaries}
    found.evidence.append(f"go.mod: module {found.settings['module'] or '?'}, "
                          f"Go {found.settings['version'] or '(default)'}")
    found.evidence.append(f"main packages: {', '.join(b['name'] for b in binaries)}" if binaries
                          else "no main package: a library")
    return True


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(_read(path))
    except tomllib.TOMLDecodeError:
        return {}


def _python_versions(requires: str | None) -> list[str]:
    """Supported versions from requires-python's lower bound (>=3.11 gives 3.11 to 3.14)."""
    match = re.search(r">=\s*3\.(\d+)", requires or "")
    if not match:
        return []
    lowest = int(match.group(1))
    return [v for v in PYTHON_VERSIONS if int(v.split(".")[1]) >= lowest]


def detect_python(repo: Path, found: Detection) -> bool:
    markers = ["pyproject.toml", "setup.py", "uv.lock", "poetry.lock"]
    requirements = sorted(p.name for p in repo.glob("requirements*.txt"))
    present = [m for m in markers if (repo / m).is_file()] + requirements
    if not present:
        return False
    pyproject = _toml(repo / "pyproject.toml")
    project = pyproject.get("project", {})
    if isinstance(project.get("name"), str):
        found.name = _safe_name(project["name"])
    uv = (repo / "uv.lock").is_file()
    versions = _python_versions(project.get("requires-python"))
    pinned = _read(repo / ".python-version").strip()
    version = pinned if re.fullmatch(r"3\.\d+", pinned) else (versions[-1] if versions else None)
    extras = [e for e in ("test", "tests", "dev") if e in project.get("optional-dependencies", {})][:1]
    mypy = "mypy" in pyproject.get("tool", {}) or (repo / "mypy.ini").is_file() or (repo / ".mypy.ini").is_file()
    settings: dict[str, Any] = {"package_manager": "uv" if uv else "pip",
                                "package": bool(project) or (repo / "setup.py").is_file(), "mypy": mypy}
    if version:
        settings["version"] = version
    if len(versions) > 1:
        settings["versions"] = versions
    if not uv:
        settings["extras"] = extras
        settings["requirements"] = requirements
    found.settings = settings
    found.evidence.append(f"{', '.join(present)}: python with {settings['package_manager']}")
    return True


def detect_node(repo: Path, found: Detection) -> bool:
    path = repo / "package.json"
    if not path.is_file():
        return False
    try:
        package = json.loads(_read(path))
    except json.JSONDecodeError:
        package = {}
    if isinstance(package.get("name"), str):
        found.name = _safe_name(package["name"].split("/")[-1])
    scripts = package.get("scripts") if isinstance(package.get("scripts"), dict) else {}
    deps = {**package.get("dependencies", {}), **package.get("devDependencies", {})}
    manager = "pnpm" if (repo / "pnpm-lock.yaml").is_file() else "yarn" if (repo / "yarn.lock").is_file() else "npm"
    test_script = str(scripts.get("test", ""))
    runner = ("vitest" if "vitest" in deps else "jest" if "jest" in deps
              else "node" if "node --test" in test_script else "other")
    settings: dict[str, Any] = {"package_manager": manager, "lint": "lint" in scripts,
                                "test": "test" in scripts, "build": "build" in scripts, "test_runner": runner}
    version = (re.match(r"v?(\d+)", _read(repo / ".nvmrc").strip())
               or re.search(r"(\d+)", str(package.get("engines", {}).get("node", ""))))
    if version:
        settings["version"] = version.group(1)
    found.settings = settings
    scripts_found = ", ".join(s for s in ("lint", "test", "build") if s in scripts) or "none"
    found.evidence.append(f"package.json: node with {manager}; scripts: {scripts_found}")
    return True


def detect_rust(repo: Path, found: Detection) -> bool:
    path = repo / "Cargo.toml"
    if not path.is_file():
        return False
    cargo = _toml(path)
    package = cargo.get("package", {})
    if isinstance(package.get("name"), str):
        found.name = _safe_name(package["name"])
    bins = [b["name"] for b in cargo.get("bin", []) if isinstance(b, dict) and "name" in b]
    if not bins and (repo / "src" / "main.rs").is_file() and package.get("name"):
        bins = [str(package["name"])]
    settings: dict[str, Any] = {"binaries": bins}
    channel = str(_toml(repo / "rust-toolchain.toml").get("toolchain", {}).get("channel", ""))
    if re.fullmatch(r"\d+\.\d+(\.\d+)?", channel):
        settings["version"] = channel
    found.settings = settings
    found.evidence.append(f"Cargo.toml: rust; binaries: {', '.join(bins) or 'none (a library)'}")
    return True


def detect_docker(repo: Path, found: Detection) -> bool:
    if not found.dockerfile:
        return False
    found.settings = {}
    found.evidence.append("only a Dockerfile: the docker stack")
    return True


DETECTORS: list[tuple[str, Callable[[Path, Detection], bool]]] = [
    ("go", detect_go), ("python", detect_python), ("node", detect_node), ("rust", detect_rust),
    ("docker", detect_docker),
]


SKIP_DIRS = {"node_modules", "vendor", "target", "dist", "build", "venv", "testdata", "examples"}


def _detect_here(repo: Path) -> Detection:
    found = Detection(stack=None, name=_safe_name(repo.resolve().name))
    found.dockerfile = (repo / "Dockerfile").is_file()
    for stack, detector in DETECTORS:
        if detector(repo, found):
            found.stack = stack
            break
    return found


def _component_dirs(repo: Path, depth: int = 2) -> list[Path]:
    out: list[Path] = []
    for child in sorted(p for p in repo.iterdir() if p.is_dir()):
        if child.name.startswith(".") or child.name in SKIP_DIRS:
            continue
        if _detect_here(child).stack is not None:
            out.append(child)
        elif depth > 1:
            out.extend(_component_dirs(child, depth - 1))
    return out


def detect_components(repo: Path) -> list[dict[str, Any]]:
    """Folders (two levels down at most) that each look like a project of one stack."""
    components: list[dict[str, Any]] = []
    names: set[str] = set()
    for folder in _component_dirs(repo):
        found = _detect_here(folder)
        name = _safe_name(folder.name).lower().replace(".", "-")
        if name in names:
            name = _safe_name(f"{folder.parent.name}-{folder.name}").lower().replace(".", "-")
        names.add(name)
        section = {k: v for k, v in found.settings.items() if k != "module" and v is not None}
        component: dict[str, Any] = {"name": name, "path": folder.relative_to(repo).as_posix(),
                                     "stack": found.stack}
        if section and found.stack != "docker":
            component[str(found.stack)] = section
        if found.dockerfile and found.stack != "docker":
            component["image"] = {"build": True}
        components.append(component)
    return components


def detect(repo: Path) -> Detection:
    found = _detect_here(repo)
    evidence = found.evidence
    found.evidence = (["Dockerfile: container image build"] if found.dockerfile else []) + evidence
    if found.stack is None:
        components = detect_components(repo)
        if components:
            found.stack = "monorepo"
            found.settings = {"components": components}
            found.evidence.append("components: " + ", ".join(
                f"{c['path']} ({c['stack']})" for c in components))
    return found
