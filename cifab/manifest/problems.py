"""Schema errors in cifab.yml as positioned problems, with "did you mean" hints."""

from __future__ import annotations

import json
from typing import Any

from cifab import schemaerrors
from cifab.diagnostics import Finding
from cifab.manifest.rules import INVALID
from cifab.pipeline.yamlpos import YMap
from cifab.spelling import suggest


def problems_for(leaf: schemaerrors.Leaf, doc: YMap, root: dict[str, Any]) -> list[Finding]:
    """Manifest-style problems for one schema error; root is the schema it came from."""
    where = schemaerrors.dotted(leaf.path)
    sub = leaf.subschema
    if leaf.kind == "AdditionalProperties":
        out = []
        allowed = list(sub.get("properties", {}))
        for key in leaf.detail.get("unexpected", []):
            src, line, col = schemaerrors.locate(doc, leaf.path, key=key) or (doc.src, 1, 1)
            hint = suggest(key, allowed)
            msg = f"{where}: unknown key '{key}'" if leaf.path else f"unknown key '{key}'"
            out.append(INVALID.at(src, line, col, msg,
                               hint=f"did you mean '{hint}'?" if hint else
                               f"allowed keys: {', '.join(allowed)}"))
        return out
    if isinstance(leaf.instance, dict) and leaf.kind == "PropertyNames":
        return _bad_names(leaf, doc, where)
    src, line, col = schemaerrors.locate(doc, leaf.path) or (doc.src, 1, 1)
    if leaf.kind == "Required":
        prop = leaf.detail.get("property")
        return [INVALID.at(src, line, col, f"{where}: missing required key '{prop}'")]
    value = _show(leaf.instance)
    if leaf.kind == "Type":
        types = [t for t in leaf.expected_types or schemaerrors.schema_types(sub, root) if t != "null"]
        msg = f"{where}: expected {schemaerrors.type_words(types)}, got {value}"
        if types == ["string"] and isinstance(leaf.instance, (int, float)) and not isinstance(leaf.instance, bool):
            # go.version: 1.20 is the number 1.2 to YAML: the version the user meant is gone.
            written = _as_written(src, line, col) or str(leaf.instance)
            return [INVALID.at(src, line, col, msg, hint=f"quote it, as in \"{written}\": unquoted, YAML reads "
                                                         f"{written} as the number {leaf.instance}")]
    elif leaf.kind == "Enum":
        options = ", ".join(str(o) for o in leaf.detail.get("options", []))
        msg = f"{where}: {value} is not one of: {options}"
        hint = suggest(str(leaf.instance), [str(o) for o in leaf.detail.get("options", [])])
        if hint is None and leaf.path and leaf.path[-1] == "stack":
            from cifab.stacks import ALIASES

            hint = ALIASES.get(str(leaf.instance).lower())
        if hint:
            return [INVALID.at(src, line, col, msg, hint=f"did you mean '{hint}'?")]
    elif "x-expect" in sub:
        msg = f"{where}: {value} is not valid; expected {sub['x-expect']}"
    elif leaf.kind == "UniqueItems":
        msg = f"{where}: items must not repeat"
    elif leaf.kind in {"MinItems", "MinLength"}:
        msg = f"{where}: must not be empty"
    else:
        msg = f"{where}: {leaf.message}"
    return [INVALID.at(src, line, col, msg)]


def _bad_names(leaf: schemaerrors.Leaf, doc: YMap, where: str) -> list[Finding]:
    """A `propertyNames` error: jsonschema reports the mapping; name the keys at fault."""
    import re

    sub = leaf.subschema
    pattern, longest = sub.get("pattern"), sub.get("maxLength")
    out = []
    for key in leaf.instance:
        name = str(key)
        if (pattern and not re.search(pattern, name)) or (longest is not None and len(name) > longest):
            src, line, col = schemaerrors.locate(doc, leaf.path, key=name) or (doc.src, 1, 1)
            shown = json.dumps(name if len(name) <= 40 else name[:40] + "…", ensure_ascii=False)
            out.append(INVALID.at(src, line, col, f"{where}: the name {shown} is not valid; expected "
                                                  f"{sub.get('x-expect', leaf.message)}"))
    return out or [INVALID.at(doc.src, 1, 1, f"{where}: {leaf.message}")]


def _as_written(src: str, line: int, col: int) -> str | None:
    """The scalar at line:col of the manifest as its author typed it (1.20, not 1.2)."""
    import re

    try:
        with open(src, encoding="utf-8", errors="replace") as fh:
            for number, text in enumerate(fh, 1):
                if number == line:
                    found = re.match(r"[^\s,\]}#]+", text[col - 1:])
                    return found.group(0) if found else None
    except OSError:
        return None
    return None


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return json.dumps(value)


