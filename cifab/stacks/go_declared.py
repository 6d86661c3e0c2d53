"""What a Go project already declares for its tools and releases: the `tool` directives of
go.mod (Go 1.24) or of a tools/go.mod, and its GoReleaser config (its version, and whether
it builds container images)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from cifab.declared import yamlfile
from cifab.stacks.base import read_text

# The tools cifab's jobs run, by the package a `tool` directive names.
TOOL_PACKAGES = {
    "github.com/golangci/golangci-lint/v2/cmd/golangci-lint": "golangci-lint",
    "github.com/golangci/golangci-lint/cmd/golangci-lint": "golangci-lint-v1",
    "gotest.tools/gotestsum": "gotestsum",
    "github.com/boumenot/gocover-cobertura": "gocover-cobertura",
}
TOOL_FILES = ("go.mod", "tools/go.mod")
_TOOL_LINE = re.compile(r"^tool\s+(\S+)\s*$", re.M)
_TOOL_BLOCK = re.compile(r"^tool\s*\(\s*\n(.*?)^\)", re.M | re.S)

GORELEASER_FILES = (".goreleaser.yaml", ".goreleaser.yml", "goreleaser.yaml", "goreleaser.yml")
# Config sections that build or push container images: they need a Docker daemon (ko only
# the registry login), which the release job then gets.
IMAGE_SECTIONS = ("dockers", "docker_manifests", "dockers_v2", "kos")
# The last GoReleaser v1 release: a config without `version: 2` is a v1 one, which v2 refuses.
GORELEASER_V1 = "v1.26.2"


@dataclass
class Release:
    file: str
    v2: bool
    images: list[str] = field(default_factory=list)  # the image sections it has


def tools(repo: Path) -> tuple[str, list[str]]:
    """(the go.mod file that declares them, the cifab tools it declares with `tool`)."""
    for file in TOOL_FILES:
        text = read_text(repo / file)
        if not text:
            continue
        packages = _TOOL_LINE.findall(text)
        for block in _TOOL_BLOCK.findall(text):
            packages += [line.split("//")[0].strip() for line in block.splitlines() if line.split("//")[0].strip()]
        names = sorted({TOOL_PACKAGES[p] for p in packages if p in TOOL_PACKAGES})
        if names:
            return file, names
    return "", []


def release(repo: Path) -> Release | None:
    for file in GORELEASER_FILES:
        if not (repo / file).is_file():
            continue
        config = yamlfile.mapping(yamlfile.load(repo / file))
        version = config.get("version")
        return Release(file, v2=version == 2 or version == "2",
                       images=[s for s in IMAGE_SECTIONS if config.get(s)])
    return None
