"""Stack detection for `cifab init`: what a repository is, read from its files.

Each stack's module knows its own marker files (cifab.stacks); this module tries them in
the registry's order, and finds the components of a monorepo.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from cifab.declared import compose as compose_file
from cifab.declared import formatters
from cifab.declared.compose import Compose
from cifab.files import repository_root
from cifab.init import from_compose
from cifab.stacks import BY_NAME, MONOREPO, STACKS, docker, ecosystems
from cifab.stacks.base import Detection, read_text, safe_name

SKIP_DIRS = {"node_modules", "vendor", "target", "dist", "build", "venv", "testdata", "examples"}
IMAGE_ONLY = docker.STACK.name  # the stack of a folder whose only marker is its Dockerfile


def _detect_here(repo: Path, uv_workspace: Path | None = None) -> Detection:
    found = Detection(stack=None, name=safe_name(repo.resolve().name), uv_workspace=uv_workspace)
    found.dockerfile = (repo / "Dockerfile").is_file()
    for stack in STACKS:
        if stack.detect(repo, found):
            found.stack = stack.name
            break
    return found


def workspace_folders(repo: Path) -> tuple[list[Path], list[str]]:
    """Folders the repository's workspace manifests list (pnpm-workspace.yaml, package.json
    workspaces, go.work), and which manifests said so."""
    patterns: list[str] = []
    sources: list[str] = []
    pnpm = read_text(repo / "pnpm-workspace.yaml")
    section = pnpm.split("packages:", 1)[1] if "packages:" in pnpm else ""
    listed = re.findall(r"^\s*-\s*['\"]?([^'\"\s#]+)", section, re.M)
    if listed:
        patterns += listed
        sources.append("pnpm-workspace.yaml")
    try:
        package = json.loads(read_text(repo / "package.json") or "{}")
    except json.JSONDecodeError:
        package = {}
    workspaces = package.get("workspaces") if isinstance(package, dict) else None
    if isinstance(workspaces, dict):
        workspaces = workspaces.get("packages")
    if isinstance(workspaces, list):
        patterns += [w for w in workspaces if isinstance(w, str)]
        sources.append("package.json workspaces")
    members = uv_members(repo)
    if members:
        patterns += members
        sources.append("the uv workspace in pyproject.toml")
    gowork = read_text(repo / "go.work")
    uses = re.findall(r"^\s*(?:use\s+)?(\./[^\s)]+|\.)\s*$", gowork, re.M) if gowork else []
    if uses:
        patterns += uses
        sources.append("go.work")
    folders: list[Path] = []
    for pattern in patterns:
        pattern = pattern.strip().rstrip("/")
        if pattern.startswith("!") or ".." in pattern or pattern.startswith("/"):
            continue
        for match in sorted(repo.glob(pattern.removeprefix("./"))) if pattern not in (".", "./") else []:
            if match.is_dir() and match.resolve() != repo.resolve() and match not in folders:
                folders.append(match)
    return folders, sources


def uv_members(repo: Path) -> list[str]:
    """The member globs of a uv workspace rooted here ([tool.uv.workspace] members)."""
    try:
        pyproject = tomllib.loads(read_text(repo / "pyproject.toml"))
    except tomllib.TOMLDecodeError:
        return []
    tool = pyproject.get("tool")
    uv = tool.get("uv") if isinstance(tool, dict) else None
    workspace = uv.get("workspace") if isinstance(uv, dict) else None
    members = workspace.get("members") if isinstance(workspace, dict) else None
    return [m for m in members if isinstance(m, str)] if isinstance(members, list) else []


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


# A component's path as the manifest takes it: the generated jobs use it unquoted in
# `cd`, rules:changes and artifact paths.
COMPONENT_PATH = re.compile(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*")


def _component_line(path: str, line: str) -> str:
    """A component's decision, as init prints it: its folder first, a warning kept a warning."""
    for kind in ("warning: ", "note: "):
        if line.startswith(kind):
            return f"{kind}{path}: {line.removeprefix(kind)}"
    return f"{path}: {line}"


def detect_components(repo: Path, folders: list[Path] | None = None, skipped: list[str] | None = None,
                      evidence: list[str] | None = None) -> list[dict[str, Any]]:
    """Folders that each look like a project of one stack: those given (a workspace
    manifest's), and those two levels down at most. A folder whose name cannot be a
    component path is left out, and named in `skipped`. Each component's decisions go to
    `evidence`, its folder first."""
    components: list[dict[str, Any]] = []
    names: set[str] = set()
    members = {p.resolve() for pattern in uv_members(repo) if pattern.strip(" /") and ".." not in pattern
               and not pattern.startswith("/") for p in repo.glob(pattern.strip().rstrip("/"))}
    candidates = [f for f in folders or [] if _detect_here(f).stack is not None]
    candidates += [f for f in _component_dirs(repo) if f not in candidates]
    for folder in candidates:
        relative = folder.relative_to(repo).as_posix()
        if not COMPONENT_PATH.fullmatch(relative):
            if skipped is not None:
                skipped.append(f"warning: {relative!r} left out: a component folder's name may hold letters, "
                               "digits, '.', '_' and '-' only; rename it to include it")
            continue
        found = _detect_here(folder, repo if folder.resolve() in members else None)
        if evidence is not None:
            evidence.extend(_component_line(relative, line) for line in found.evidence)
        name = safe_name(folder.name).lower().replace(".", "-")
        if name in names:
            name = safe_name(f"{folder.parent.name}-{folder.name}").lower().replace(".", "-")
        names.add(name)
        components.append(_component(found, name, relative))
    return components


def _component(found: Detection, name: str, path: str) -> dict[str, Any]:
    """A component's manifest entry from what detection found in its folder."""
    component: dict[str, Any] = {"name": name, "path": path, "stack": found.stack}
    # Keys starting with _ are what detection knows for asking, not manifest keys.
    section = {k: v for k, v in found.settings.items() if k != "module" and v is not None and not k.startswith("_")}
    if section and found.stack != IMAGE_ONLY:
        component[str(found.stack)] = section
    if found.dockerfile and found.stack != IMAGE_ONLY and found.image.get("build", True):
        component["image"] = {"build": True}
    return component


def _generic(repo: Path, found: Detection) -> None:
    """What `--stack generic` would start from, and the ecosystem cifab has no stack for."""
    suggestion = ecosystems.suggestion(repo)
    if suggestion is not None:
        found.suggested = {"image": suggestion.image, **suggestion.commands, "_source": suggestion.source}
    ecosystem = ecosystems.found(repo)
    if ecosystem is not None:
        found.unsupported = f"{ecosystem[0].kind} ({ecosystem[1]}): cifab has no {ecosystem[0].stack} stack yet"
    if suggestion is not None:
        # What `--stack generic` takes, said before it is taken (or before init stops).
        what = ecosystem[0].kind if ecosystem is not None else "commands"
        roles = "; ".join(f"{role}: {' && '.join(cmds)}" for role, cmds in suggestion.commands.items())
        found.evidence.append(f"{what} from {suggestion.source}: image {suggestion.image}; {roles}")
    root = repository_root(repo.resolve())
    if root is not None and root != repo.resolve():
        found.root = os.path.relpath(root, repo.resolve())


def _compose_here(compose: Compose, found: Detection) -> None:
    """A single project's image builds and test services from its compose file."""
    evidence = found.evidence
    if found.stack in BY_NAME and BY_NAME[found.stack].takes_services:
        from_compose.apply(compose, found.settings, ".", evidence)
    if len(compose.builds) > 1:
        found.image = {"builds": from_compose.builds(compose, evidence)}
        found.dockerfile = True
    elif compose.builds:
        build = compose.builds[0]
        found.dockerfile = True
        if (build.dockerfile, build.context) != ("Dockerfile", "."):
            found.image = {"dockerfile": build.dockerfile, "context": build.context}
            evidence.append(f"image: {build.dockerfile}, context {build.context} (from {compose.source})")
    else:
        evidence.append(f"{compose.source}: no service builds an image; it is not used for the image build")


def _compose_components(compose: Compose, components: list[dict[str, Any]], evidence: list[str]) -> None:
    """Each component's build context and test services from the root's compose file."""
    for component in components:
        path = component["path"]
        build = from_compose.build_for(compose, path)
        if build is not None and "image" in component:
            dockerfile, context = from_compose.relative(build.dockerfile, path), from_compose.relative(build.context,
                                                                                                        path)
            if (dockerfile, context) != ("Dockerfile", "."):
                component["image"] = {"build": True, "dockerfile": dockerfile, "context": context}
                evidence.append(f"{component['name']} image: {build.dockerfile} with context {build.context} "
                                f"(from {compose.source})")
        stack = component["stack"]
        if BY_NAME[stack].takes_services:
            section = component.setdefault(stack, {})
            from_compose.apply(compose, section, path, evidence)


def detect(repo: Path) -> Detection:
    found = _detect_here(repo)
    _generic(repo, found)
    compose = compose_file.read(repo)
    if compose is not None:
        found.evidence.extend(f"warning: {compose.source}: {why}; not built" for why in compose.skipped)
    evidence = found.evidence
    found.evidence = (["Dockerfile: container image build"] if found.dockerfile and found.image.get("build", True)
                      else []) + evidence
    quotes = formatters.yaml_quotes(repo)
    if quotes is not None:
        found.quotes = quotes[0]
        found.evidence.append(f"YAML quotes: {quotes[0]}, as prettier writes them (from {quotes[1]})")
    width = formatters.yaml_width(repo)
    if width is not None:
        found.line_length = width[0]
        found.evidence.append(f"YAML lines: at most {width[0]} characters, as yamllint wants (from {width[1]})")
    listed, sources = workspace_folders(repo)
    single = _single(repo, found, listed, sources)
    if single:
        if compose is not None:
            _compose_here(compose, found)
        return found
    components = found.settings["components"]
    if compose is not None:
        _compose_components(compose, components, found.evidence)
    return found


def _single(repo: Path, found: Detection, listed: list[Path], sources: list[str]) -> bool:
    """Whether the repository is one project; when not, found becomes the monorepo of its
    components."""
    if found.stack not in (None, IMAGE_ONLY) and not listed:
        return True
    skipped: list[str] = []
    decisions: list[str] = []
    components = detect_components(repo, listed, skipped, decisions)
    found.evidence.extend(skipped)
    workspace_only = bool(found.settings.get("_workspace_only"))
    others = [c for c in components if c["stack"] != found.stack]
    if found.stack not in (None, IMAGE_ONLY) and not others and not workspace_only:
        return True  # a workspace of the root's own stack: one project
    if not components:
        return True
    found.evidence.extend(decisions)
    if found.stack is not None and not workspace_only:
        # The root holds files of its own (a Dockerfile, go.mod): a component too, at ".".
        root = _component(found, found.name.lower().replace(".", "-"), ".")
        names = {c["name"] for c in components}
        if root["name"] in names:
            root["name"] = f"{root['name']}-root"
        components.insert(0, root)
    found.stack = MONOREPO
    found.settings = {"components": components}
    if sources:
        found.evidence.append(f"components listed by {', '.join(sources)}")
    found.evidence.append("components: " + ", ".join(f"{c['path']} ({c['stack']})" for c in components))
    return False
