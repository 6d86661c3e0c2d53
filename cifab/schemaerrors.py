"""Turn JSON Schema errors into the few that matter, with positions and hints.

Both the manifest loader and the GitLab schema rule use this: it picks the most relevant
branch of an `anyOf`/`oneOf`, resolves the sub-schema an error came from (for "did you
mean" hints), and finds where in the YAML the offending node is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from cifab.diagnostics import Mark
from cifab.pipeline.yamlpos import YList, YMap

JSON_TYPES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}

Path = tuple[str | int, ...]


class Leaf(NamedTuple):
    """One schema error after best-match selection."""

    path: Path
    kind: str  # jsonschema-rs kind name: Type, Enum, AdditionalProperties, ...
    detail: dict[str, Any]
    instance: Any
    subschema: dict[str, Any]  # the schema object that holds the failing keyword
    message: str
    # For a failed anyOf/oneOf whose branches all fail on type: the types it would take.
    expected_types: tuple[str, ...] = ()


def _kind_name(err: Any) -> str:
    return str(type(err.kind).__name__)


def resolve(schema: dict[str, Any], schema_path: Sequence[str | int]) -> dict[str, Any]:
    """The schema object holding the keyword at the end of schema_path."""
    node: Any = schema
    for part in list(schema_path)[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return {}
    return node if isinstance(node, dict) else {}


def schema_types(sub: dict[str, Any], root: dict[str, Any]) -> list[str]:
    if "$ref" in sub:
        ref = str(sub["$ref"])
        if ref.startswith("#/"):
            target: Any = root
            for part in ref[2:].split("/"):
                target = target.get(part, {}) if isinstance(target, dict) else {}
            return schema_types(target, root)
    t = sub.get("type")
    if isinstance(t, str):
        return [t]
    if isinstance(t, list):
        return [str(x) for x in t]
    out: list[str] = []
    for key in ("anyOf", "oneOf"):
        for branch in sub.get(key, []) or []:
            out.extend(x for x in schema_types(branch, root) if x not in out)
    return out


def _type_fail_at(errors: Sequence[Any], path: Path) -> bool:
    return any(_kind_name(e) in {"Type", "Constant", "Enum"} and tuple(e.instance_path) == path
               for e in errors)


def _best_branch(branches: Sequence[Sequence[Any]], path: Path) -> Sequence[Any] | None:
    """The branch the author most likely meant: its type matched and it went deepest."""
    candidates = [b for b in branches if b and not _type_fail_at(b, path)]
    if not candidates:
        return None

    def score(branch: Sequence[Any]) -> tuple[int, int, int]:
        depth = max(len(tuple(e.instance_path)) for e in branch)
        unexpected = sum(len(getattr(e.kind, "unexpected", ()) or ()) for e in branch)
        return (-depth, unexpected, len(branch))

    return min(candidates, key=score)


def leaves(errors: Iterable[Any], root: dict[str, Any]) -> list[Leaf]:
    out: list[Leaf] = []
    for err in errors:
        _collect(err, root, out)
    return out


def _collect(err: Any, root: dict[str, Any], out: list[Leaf]) -> None:
    kind = _kind_name(err)
    path: Path = tuple(err.instance_path)
    sub = resolve(root, list(err.schema_path))
    if kind in {"AnyOf", "OneOfNotValid"}:
        branches = err.kind.context
        best = _best_branch(branches, path)
        if best is not None:
            for child in best:
                _collect(child, root, out)
            return
        composite = sub.get("anyOf") or sub.get("oneOf") or []
        types: list[str] = []
        for branch in composite:
            types.extend(t for t in schema_types(branch, root) if t not in types)
        out.append(Leaf(path, "Type", {"types": types}, err.instance, sub, err.message, tuple(types)))
        return
    detail = err.kind.as_dict() if hasattr(err.kind, "as_dict") else {}
    out.append(Leaf(path, kind, detail, err.instance, sub, err.message))


def locate(doc: Any, path: Path, *, key: str | None = None) -> Mark | None:
    """Source file and position of the node at path (or of `key` inside it)."""
    node = doc
    parent: Any = None
    last: str | int | None = None
    for part in path:
        parent, last = node, part
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
    if key is not None and isinstance(node, YMap) and key in node.keymarks:
        return node.key_mark(key)
    if isinstance(parent, YMap) and last in parent:
        return parent.value_mark(last)
    if isinstance(parent, YList) and isinstance(last, int):
        return parent.item_mark(last)
    if isinstance(node, (YMap, YList)):
        return node.start
    return None


def type_words(types: Sequence[str]) -> str:
    words = [JSON_TYPES.get(t, t) for t in types]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


def dotted(path: Path) -> str:
    """A key path as users write it: go.binaries[0].name."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"
