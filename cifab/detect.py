"""Stack detection for `cifab init`: what a repository is, read from its files."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_MODULE = re.compile(r"^module\s+(\S+)", re.MULTILINE)
_GO = re.compile(r"^go\s+(\d+\.\d+(?:\.\d+)?)", re.MULTILINE)
_TOOLCHAIN = re.compile(r"^toolchain\s+go(\d+\.\d+(?:\.\d+)?)", re.MULTILINE)
_PACKAGE_MAIN = re.compile(r"^package\s+main\b", re.MULTILINE)
_VALID_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class Detection:
    stack: str | None
    name: str
    go_module: str | None = None
    go_version: str | None = None
    binaries: list[dict[str, str]] = field(default_factory=list)
    dockerfile: bool = False
    evidence: list[str] = field(default_factory=list)


def _safe_name(text: str) -> str:
    cleaned = _VALID_NAME.sub("-", text).strip("-._")
    return cleaned or "app"


def module_name(module: str) -> str:
    """The last element of a module path, without a /vN major-version suffix."""
    parts = module.rstrip("/").split("/")
    if len(parts) > 1 and re.fullmatch(r"v\d+", parts[-1]):
        parts.pop()
    return parts[-1]


def _is_main_package(directory: Path) -> bool:
    for path in sorted(directory.glob("*.go")):
        if path.name.endswith("_test.go"):
            continue
        try:
            head = path.read_text(encoding="utf-8", errors="replace")[:4096]
        except OSError:
            continue
        if _PACKAGE_MAIN.search(head):
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


def detect(repo: Path) -> Detection:
    detection = Detection(stack=None, name=_safe_name(repo.resolve().name))
    detection.dockerfile = (repo / "Dockerfile").is_file()
    if detection.dockerfile:
        detection.evidence.append("Dockerfile: container image build")
    gomod = repo / "go.mod"
    if gomod.is_file():
        text = gomod.read_text(encoding="utf-8", errors="replace")
        detection.stack = "go"
        module = _MODULE.search(text)
        if module:
            detection.go_module = module.group(1)
            detection.name = _safe_name(module_name(module.group(1)))
        version = _TOOLCHAIN.search(text) or _GO.search(text)
        if version:
            detection.go_version = version.group(1)
        detection.binaries = go_binaries(repo, detection.name)
        detection.evidence.append(
            f"go.mod: module {detection.go_module or '?'}, Go {detection.go_version or '(default)'}")
        if detection.binaries:
            names = ", ".join(b["name"] for b in detection.binaries)
            detection.evidence.append(f"main packages: {names}")
        else:
            detection.evidence.append("no main package: a library")
    return detection
