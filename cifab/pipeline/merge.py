"""GitLab's deep merge (extends, include, default:) on position-carrying mappings: every
key keeps the place it was written, wherever a merge brings it."""

from __future__ import annotations

from typing import Any

from cifab.gitlab import deep_merge
from cifab.pipeline.yamlpos import YMap


def merge(base: Any, over: Any) -> Any:
    """GitLab's deep merge (cifab.gitlab.deep_merge), keeping every key's position. Written
    out for YMaps, with positions copied a mapping at a time: a large pipeline merges tens of
    thousands of keys through extends."""
    if not (isinstance(base, dict) and isinstance(over, dict)):
        return over
    if not (isinstance(base, YMap) and isinstance(over, YMap)):
        return deep_merge(base, over, new=new_map, keep=copy_marks)
    out = YMap(over.src, over._start)
    out.update(base)
    _copy_all(out, base)
    for key, value in over.items():
        out[key] = merge(base[key], value) if key in base else value
    _copy_all(out, over)
    return out


def _copy_all(out: YMap, source: YMap) -> None:
    """copy_marks for every key of source."""
    if source.src == out.src:
        out.keymarks.update(source.keymarks)
        out.valmarks.update(source.valmarks)
        for key in source.keymarks.keys() - source.valmarks.keys():
            out.valmarks[key] = source.keymarks[key]
    else:
        for key in source.keymarks:
            out.keymarks[key] = source.key_mark(key)
            out.valmarks[key] = source.value_mark(key)


def new_map(base: Any, over: Any) -> YMap:
    return copy_map(over if isinstance(over, YMap) else base)


def copy_map(like: Any) -> YMap:
    if isinstance(like, YMap):
        return YMap(like.src, like.start)
    return YMap("<merged>", ("<merged>", 0, 0))


def copy_marks(out: YMap, source: Any, key: Any) -> None:
    if isinstance(source, YMap) and key in source.keymarks:
        if source.src == out.src:  # the positions as stored: most are never read
            out.keymarks[key] = source.keymarks[key]
            out.valmarks[key] = source.valmarks.get(key, source.keymarks[key])
        else:
            out.keymarks[key] = source.key_mark(key)
            out.valmarks[key] = source.value_mark(key)
