"""What the manifest says against what the repository holds: a setting whose file is not
there would give a first pipeline that fails at once (an image build without a Dockerfile)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cifab import schemaerrors
from cifab.diagnostics import Finding
from cifab.manifest.rules import INVALID
from cifab.pipeline.yamlpos import YMap


def _images(data: YMap) -> list[tuple[tuple[str | int, ...], Any, str]]:
    """(where in the manifest, the image settings, the folder its Dockerfile is relative to)."""
    out: list[tuple[tuple[str | int, ...], Any, str]] = [(("image",), data.get("image"), ".")]
    components = data.get("components")
    for i, component in enumerate(components if isinstance(components, list) else []):
        if isinstance(component, dict):
            out.append((("components", i, "image"), component.get("image"), str(component.get("path") or ".")))
    return out


def _inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def missing_files(data: YMap, root: Path) -> list[Finding]:
    """image.build without the Dockerfile it builds, and a build context or Dockerfile
    outside the repository (BuildKit would send the runner's other files to the build), at
    the key's line."""
    out: list[Finding] = []
    for path, image, folder in _images(data):
        if not isinstance(image, dict) or image.get("build") is not True:
            continue
        builds = image.get("builds")
        if isinstance(builds, list) and builds:
            targets = [((*path, "builds", i), b) for i, b in enumerate(builds) if isinstance(b, dict)]
        else:
            targets = [(path, image)]
        for where, settings in targets:
            out.extend(_check(data, root, folder, where, settings))
    return out


def _check(data: YMap, root: Path, folder: str, where: tuple[str | int, ...], settings: Any) -> list[Finding]:
    out: list[Finding] = []
    dockerfile = str(settings.get("dockerfile") or "Dockerfile")
    context = str(settings.get("context") or ".")
    shown = dockerfile if folder in (".", "") else f"{folder}/{dockerfile}"
    for key, value in (("context", context), ("dockerfile", dockerfile)):
        if not _inside(root, root / folder / value):
            src, line, col = schemaerrors.locate(data, (*where, key)) or (data.src, 1, 1)
            out.append(INVALID.at(src, line, col, f"{schemaerrors.dotted((*where, key))}: {value} is outside the "
                                                  "repository", "give a path inside the repository"))
    if not out and not (root / folder / dockerfile).is_file():
        key = "dockerfile" if "dockerfile" in settings else "build"
        at = (*where, key) if key in settings else where
        src, line, col = schemaerrors.locate(data, at) or (data.src, 1, 1)
        out.append(INVALID.at(src, line, col, f"{schemaerrors.dotted(at)}: the image is built from {shown}, which "
                                              "does not exist",
                              "add the Dockerfile, set image.dockerfile to where it is, or set image.build: false"))
    return out
