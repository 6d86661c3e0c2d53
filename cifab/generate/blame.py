"""Findings in a rendered pipeline traced back to the cifab.yml escape hatch that put the
offending value there. A user who writes `extra_jobs: {smoke: {stage: tset}}` should hear
about cifab.yml's line, which they can edit, not a line of a .gitlab-ci.yml that was never
written."""

from __future__ import annotations

from typing import Any

from cifab.diagnostics import Finding, Mark
from cifab.pipeline.yamlpos import YamlError, YList, YMap, load_text
from cifab.schemaerrors import dotted

HATCHES = ("extra_jobs", "jobs")

Path = tuple[str | int, ...]


def to_manifest(findings: list[Finding], text: str, src: str, source: YMap | None) -> tuple[list[Finding],
                                                                                             list[Finding]]:
    """(the findings that came from cifab.yml, moved there; the rest, as they were)."""
    if source is None or not any(h in source for h in HATCHES):
        return [], findings
    try:
        rendered = load_text(text, src).data
    except YamlError:
        return [], findings
    where: dict[tuple[int, int], Path] = {}
    _index(rendered, (), where)
    moved, kept = [], []
    for finding in findings:
        path = where.get((finding.line, finding.col))
        found = _origin(source, path) if path else None
        if found is None:
            kept.append(finding)
            continue
        hatch, (msrc, line, col) = found
        moved.append(finding._replace(src=msrc, line=line, col=col,
                                      message=f"{dotted((hatch, *path))}: {finding.message}"))  # type: ignore[misc]
    return moved, kept


def _index(node: Any, path: Path, where: dict[tuple[int, int], Path]) -> None:
    if isinstance(node, YMap):
        for key, value in node.items():
            child = (*path, key)
            for _, line, col in (node.key_mark(key), node.value_mark(key)):
                where.setdefault((line, col), child)
            _index(value, child, where)
    elif isinstance(node, YList):
        for i, item in enumerate(node):
            _, line, col = node.item_mark(i)
            where.setdefault((line, col), (*path, i))
            _index(item, (*path, i), where)


def _has(node: Any, part: str | int) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _origin(source: YMap, path: Path) -> tuple[str, Mark] | None:
    """The hatch and position in cifab.yml that wrote the value at path, if one did."""
    for hatch in HATCHES:
        node: Any = source.get(hatch)
        parent: Any = None
        for part in path:
            if not _has(node, part):
                parent = None
                break
            parent, node = node, node[part]
        if parent is None:
            continue
        last = path[-1]
        if isinstance(parent, YMap):
            return hatch, parent.value_mark(last)
        if isinstance(parent, YList) and isinstance(last, int):
            return hatch, parent.item_mark(last)
    return None
