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


def missing_files(data: YMap, root: Path) -> list[Finding]:
    """image.build without the Dockerfile it builds, at the build key's line."""
    out: list[Finding] = []
    for path, image, folder in _images(data):
        if not isinstance(image, dict) or image.get("build") is not True:
            continue
        dockerfile = str(image.get("dockerfile") or "Dockerfile")
        if (root / folder / dockerfile).is_file():
            continue
        src, line, col = schemaerrors.locate(data, (*path, "build")) or (data.src, 1, 1)
        shown = dockerfile if folder in (".", "") else f"{folder}/{dockerfile}"
        out.append(INVALID.at(src, line, col, f"{schemaerrors.dotted((*path, 'build'))}: the image is built from "
                                              f"{shown}, which does not exist",
                              "add the Dockerfile, set image.dockerfile to where it is, or set image.build: false"))
    return out
