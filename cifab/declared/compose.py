"""What a project's compose file says: the images its services build (each with its build
context and Dockerfile), and the images they run beside them (a database the tests need).

Only what can be taken as it is: a build whose context is a URL, lies outside the
repository or whose Dockerfile is inline is named in `skipped`, never guessed at.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cifab.declared import yamlfile

FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
MAX_SERVICES = 50  # a bound on what init reads from one file


@dataclass(frozen=True)
class Build:
    service: str
    context: str  # relative to the repository root, normalised ("." for the root)
    dockerfile: str  # relative to the repository root


@dataclass(frozen=True)
class Runs:
    """A service that runs a published image (postgres:17), with its plain environment."""

    service: str
    image: str
    environment: dict[str, str]


@dataclass
class Compose:
    source: str
    builds: list[Build] = field(default_factory=list)
    runs: list[Runs] = field(default_factory=list)
    environment: dict[str, dict[str, str]] = field(default_factory=dict)  # service -> its plain variables
    depends_on: dict[str, list[str]] = field(default_factory=dict)  # service -> the services it needs
    skipped: list[str] = field(default_factory=list)


def _inside(path: str) -> str | None:
    """A relative path normalised, or None when it is absolute, a URL or leaves the repository."""
    if not path or path.startswith("/") or "://" in path or path.startswith("git@"):
        return None
    normal = posixpath.normpath(path)
    return None if normal == ".." or normal.startswith("../") else normal


_INTERPOLATED = re.compile(r"\$\{?\w")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def environment(value: Any) -> dict[str, str]:
    """A service's environment, list or mapping form, without interpolated values (${X}
    comes from the developer's .env, which CI has not got)."""
    pairs: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, list):
        pairs = [tuple(item.split("=", 1)) for item in value if isinstance(item, str) and "=" in item]  # type: ignore[misc]
    out: dict[str, str] = {}
    for name, raw in pairs:
        if not isinstance(name, str) or not _VARIABLE.fullmatch(name) or isinstance(raw, (dict, list)) \
                or raw is None:
            continue
        text = str(raw).lower() if isinstance(raw, bool) else str(raw)
        if not _INTERPOLATED.search(text):
            out[name] = text
    return out


def _build(name: str, build: Any, compose: Compose) -> None:
    if isinstance(build, str):
        build = {"context": build}
    if not isinstance(build, dict):
        return
    if "dockerfile_inline" in build:
        compose.skipped.append(f"{name}: an inline Dockerfile")
        return
    context = _inside(str(build.get("context") or "."))
    dockerfile = build.get("dockerfile") or "Dockerfile"
    if context is None or not isinstance(dockerfile, str):
        compose.skipped.append(f"{name}: its build context {build.get('context')!r} is not a folder of the "
                               "repository")
        return
    path = _inside(posixpath.join(context, dockerfile))
    if path is None:
        compose.skipped.append(f"{name}: its Dockerfile {dockerfile!r} is outside the repository")
        return
    compose.builds.append(Build(name, context, path))


def read(repo: Path) -> Compose | None:
    """The first compose file of the repository's root, read; None when there is none."""
    for file in FILES:
        if not (repo / file).is_file():
            continue
        services = yamlfile.mapping(yamlfile.mapping(yamlfile.load(repo / file)).get("services"))
        compose = Compose(file)
        for name, service in list(services.items())[:MAX_SERVICES]:
            if not isinstance(name, str) or not isinstance(service, dict):
                continue
            compose.environment[name] = environment(service.get("environment"))
            needs = service.get("depends_on")
            compose.depends_on[name] = [str(n) for n in (needs if isinstance(needs, (list, dict)) else [])]
            if "build" in service:
                _build(name, service["build"], compose)
            elif isinstance(service.get("image"), str):
                compose.runs.append(Runs(name, service["image"], compose.environment[name]))
        for build in compose.builds:
            if not (repo / build.dockerfile).is_file():
                compose.skipped.append(f"{build.service}: {build.dockerfile} does not exist")
        compose.builds = [b for b in compose.builds if (repo / b.dockerfile).is_file()]
        return compose
    return None
