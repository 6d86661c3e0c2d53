"""Lint settings a repository keeps in cifab.yml (`lint.ignore`)."""

from __future__ import annotations

from pathlib import Path

from cifab.files import Refused, read_limited
from cifab.gitlab import MAX_FILE_BYTES
from cifab.yamlpos import YamlError, load_bytes


def ignored_rules(manifest_path: Path) -> frozenset[str]:
    """Rule ids from the manifest's lint.ignore. Lint reads only this section, leniently:
    a manifest problem elsewhere is `cifab generate`'s to report, not lint's."""
    try:
        raw = read_limited(manifest_path, MAX_FILE_BYTES)
        data = load_bytes(raw, str(manifest_path)).data
    except (OSError, Refused, YamlError):
        return frozenset()
    section = data.get("lint") if isinstance(data, dict) else None
    ignore = section.get("ignore") if isinstance(section, dict) else None
    if not isinstance(ignore, list):
        return frozenset()
    return frozenset(i for i in ignore if isinstance(i, str))
