"""cifab.yml: load, validate against the shipped schema, fill defaults.

Every problem carries file:line:col, the key path and, for misspelled keys, a hint.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cifab import schemaerrors
from cifab.errors import Problem, ProblemsError
from cifab.yamlpos import YamlError, YMap, load_bytes

MANIFEST_NAME = "cifab.yml"
SCHEMA_PATH = Path(__file__).parent / "schema" / "manifest.schema.json"


@dataclass
class Manifest:
    path: Path
    data: dict[str, Any]  # validated, defaults filled
    source: YMap | None = None  # as written, with positions, for problems found later

    @property
    def stack(self) -> str:
        return str(self.data["stack"])


@cache
def schema() -> dict[str, Any]:
    with SCHEMA_PATH.open(encoding="utf-8") as fh:
        loaded: dict[str, Any] = json.load(fh)
    return loaded


def schema_text() -> str:
    return SCHEMA_PATH.read_text(encoding="utf-8")


@cache
def _validator() -> Any:
    import jsonschema_rs

    return jsonschema_rs.validator_for(schema())


def load(path: Path) -> Manifest:
    """Read and validate a manifest; raises ProblemsError listing every problem."""
    src = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ProblemsError([Problem(src, 0, 0, "not found; run `cifab init` to create it")]) from None
    except OSError as exc:
        raise ProblemsError([Problem(src, 0, 0, f"cannot read it: {exc.strerror}")]) from None
    return parse(raw, src, path)


def parse(raw: bytes, src: str, path: Path | None = None) -> Manifest:
    try:
        loaded = load_bytes(raw, src)
    except YamlError as exc:
        raise ProblemsError([Problem(src, exc.line, exc.col, exc.message)]) from None
    data = loaded.data
    if data is None:
        raise ProblemsError([Problem(src, 1, 1, "the manifest is empty; run `cifab init` to write one")])
    if not isinstance(data, YMap):
        what = "a list" if isinstance(data, list) else f"a {type(data).__name__}"
        raise ProblemsError([Problem(src, 1, 1, f"the manifest must be a mapping of keys, not {what}")])
    problems = validate(data)
    problems.extend(Problem(src, line, col, f"key '{key}' is given twice; the last one wins")
                    for key, (src, line, col) in loaded.duplicates)
    problems.sort(key=lambda p: (p.line, p.col))
    if problems:
        raise ProblemsError(problems)
    filled = fill_defaults(schema(), plain(data))
    return Manifest(path=path or Path(src), data=filled, source=data)


def validate(data: YMap) -> list[Problem]:
    root = schema()
    problems: list[Problem] = []
    for leaf in schemaerrors.leaves(_validator().iter_errors(data), root):
        problems.extend(problems_for(leaf, data, root))
    if not problems:
        from cifab import hatches  # GitLab's schema for jobs:, extra_jobs: and include:

        problems.extend(hatches.validate(data))
    return problems


def problems_for(leaf: schemaerrors.Leaf, doc: YMap, root: dict[str, Any]) -> list[Problem]:
    """Manifest-style problems for one schema error; root is the schema it came from."""
    where = schemaerrors.dotted(leaf.path)
    sub = leaf.subschema
    if leaf.kind == "AdditionalProperties":
        out = []
        allowed = list(sub.get("properties", {}))
        for key in leaf.detail.get("unexpected", []):
            src, line, col = schemaerrors.locate(doc, leaf.path, key=key) or (doc.src, 1, 1)
            hint = schemaerrors.suggest(key, allowed)
            msg = f"{where}: unknown key '{key}'" if leaf.path else f"unknown key '{key}'"
            out.append(Problem(src, line, col, msg, key_path=_join(leaf.path, key),
                               hint=f"did you mean '{hint}'?" if hint else
                               f"allowed keys: {', '.join(allowed)}"))
        return out
    src, line, col = schemaerrors.locate(doc, leaf.path) or (doc.src, 1, 1)
    if leaf.kind == "Required":
        prop = leaf.detail.get("property")
        return [Problem(src, line, col, f"{where}: missing required key '{prop}'",
                        key_path=schemaerrors.dotted(leaf.path))]
    value = _show(leaf.instance)
    if leaf.kind == "Type":
        types = [t for t in leaf.expected_types or schemaerrors.schema_types(sub, root) if t != "null"]
        msg = f"{where}: expected {schemaerrors.type_words(types)}, got {value}"
    elif leaf.kind == "Enum":
        options = ", ".join(str(o) for o in leaf.detail.get("options", []))
        msg = f"{where}: {value} is not one of: {options}"
        hint = schemaerrors.suggest(str(leaf.instance), [str(o) for o in leaf.detail.get("options", [])])
        if hint:
            return [Problem(src, line, col, msg, key_path=where, hint=f"did you mean '{hint}'?")]
    elif "x-expect" in sub:
        msg = f"{where}: {value} is not valid; expected {sub['x-expect']}"
    elif leaf.kind == "UniqueItems":
        msg = f"{where}: items must not repeat"
    elif leaf.kind in {"MinItems", "MinLength"}:
        msg = f"{where}: must not be empty"
    else:
        msg = f"{where}: {leaf.message}"
    return [Problem(src, line, col, msg, key_path=where)]


def _join(path: schemaerrors.Path, key: str) -> str:
    return schemaerrors.dotted((*path, key))


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return json.dumps(value)


def plain(node: Any) -> Any:
    """Position-carrying (or ruamel) containers to plain dicts and lists."""
    if isinstance(node, dict):
        return {k: plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    return node


def fill_defaults(sch: dict[str, Any], data: Any, root: dict[str, Any] | None = None) -> Any:
    """Apply the schema's `default`s to every object the data (or a default) creates."""
    root = root or sch
    if "$ref" in sch:
        target: Any = root
        for part in str(sch["$ref"]).removeprefix("#/").split("/"):
            target = target[part]
        sch = target
    if isinstance(data, dict) and sch.get("type") == "object":
        for key, prop in sch.get("properties", {}).items():
            if key not in data and "default" in prop:
                data[key] = copy.deepcopy(prop["default"])
            if key in data:
                data[key] = fill_defaults(prop, data[key], root)
    elif isinstance(data, list) and isinstance(sch.get("items"), dict):
        return [fill_defaults(sch["items"], item, root) for item in data]
    return data


def dump(data: dict[str, Any]) -> str:
    """A manifest as YAML text, in the order given, for `cifab init`."""
    import yaml

    class Dumper(yaml.SafeDumper):
        # Indent list items under their key, as people write YAML by hand.
        def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
            super().increase_indent(flow, False)

    def quote_numeric(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        # "1.26.1" reads back as a string either way, but a user who edits it to 1.27
        # keeps the quotes and so keeps a string.
        style = '"' if value.replace(".", "").isdigit() else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, quote_numeric)
    return str(yaml.dump(data, Dumper=Dumper, sort_keys=False, default_flow_style=False, width=1000,
                         allow_unicode=True))
