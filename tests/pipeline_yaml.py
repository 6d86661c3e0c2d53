"""Generated pipelines as data, `!reference` tags resolved as GitLab resolves them.

PyYAML's safe loader refuses GitLab's `!reference` tag; generated jobs take their rules
from a hidden job through one, and tests read the rules a job really has."""

from __future__ import annotations

from typing import Any

import yaml


class _Reference(list):  # type: ignore[type-arg]
    pass


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!reference", lambda loader, node: _Reference(loader.construct_sequence(node)))


def load(text: str | bytes) -> Any:
    doc = yaml.load(text, Loader=_Loader)
    return _resolve(doc, doc)


def _resolve(node: Any, doc: Any) -> Any:
    if isinstance(node, _Reference):
        target = doc
        for key in node:
            target = target[key]
        return _resolve(target, doc)
    if isinstance(node, dict):
        return {k: _resolve(v, doc) for k, v in node.items()}
    if isinstance(node, list):
        # A reference inside a list (`- !reference [...]`) is spliced in, one level deep.
        out: list[Any] = []
        for item in node:
            resolved = _resolve(item, doc)
            if isinstance(item, _Reference) and isinstance(resolved, list):
                out.extend(resolved)
            else:
                out.append(resolved)
        return out
    return node


def load_all(text: str) -> list[Any]:
    """Every document of a multi-document stream (generate --stdout with child pipelines)."""
    return [_resolve(doc, doc) for doc in yaml.load_all(text, Loader=_Loader)]


# check-jsonschema against GitLab's schema, reading the !reference tag as GitLab does.
CHECK_JSONSCHEMA_ARGS = ("--builtin-schema", "vendor.gitlab-ci", "--data-transform", "gitlab-ci")
