"""Stack detection for `cifab init`: what a repository is, read from its files.

Each stack's module knows its own marker files (cifab.stacks); this module tries them in
the registry's order, and finds the components of a monorepo.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cifab.stacks import MONOREPO, STACKS, docker
from cifab.stacks.base import Detection, safe_name

SKIP_DIRS = {"node_modules", "vendor", "target", "dist", "build", "venv", "testdata", "examples"}
IMAGE_ONLY = docker.STACK.name  # the stack of a folder whose only marker is its Dockerfile


def _detect_here(repo: Path) -> Detection:
    found = Detection(stack=None, name=safe_name(repo.resolve().name))
    found.dockerfile = (repo / "Dockerfile").is_file()
    for stack in STACKS:
        if stack.detect(repo, found):
            found.stack = stack.name
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
        name = safe_name(folder.name).lower().replace(".", "-")
        if name in names:
            name = safe_name(f"{folder.parent.name}-{folder.name}").lower().replace(".", "-")
        names.add(name)
        section = {k: v for k, v in found.settings.items() if k != "module" and v is not None}
        component: dict[str, Any] = {"name": name, "path": folder.relative_to(repo).as_posix(),
                                     "stack": found.stack}
        if section and found.stack != IMAGE_ONLY:
            component[str(found.stack)] = section
        if found.dockerfile and found.stack != IMAGE_ONLY:
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
            found.stack = MONOREPO
            found.settings = {"components": components}
            found.evidence.append("components: " + ", ".join(
                f"{c['path']} ({c['stack']})" for c in components))
    return found
