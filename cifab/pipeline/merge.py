"""GitLab's deep merge (extends, include, default:) on position-carrying mappings: every
key keeps the place it was written, wherever a merge brings it."""

from __future__ import annotations

from typing import Any

from cifab.gitlab import deep_merge
from cifab.pipeline.yamlpos import YMap


def merge(base: Any, over: Any) -> Any:
    """GitLab's deep merge, keeping every key's position."""
    return deep_merge(base, over, new=new_map, keep=copy_marks)


def new_map(base: Any, over: Any) -> YMap:
    return copy_map(over if isinstance(over, YMap) else base)


def copy_map(like: Any) -> YMap:
    if isinstance(like, YMap):
        return YMap(like.src, like.start)
    return YMap("<merged>", ("<merged>", 0, 0))


def copy_marks(out: YMap, source: Any, key: Any) -> None:
    if isinstance(source, YMap) and key in source.keymarks:
        out.keymarks[key] = source.keymarks[key]
        out.valmarks[key] = source.value_mark(key)
