"""The manifest's JSON Schema, shipped in the package: loading it, compiling it once, and
filling in the defaults it declares.

A stack's tool pins, versions and images live in its module (cifab.stacks); where the
manifest may set one, it becomes that key's default here, so the schema file never repeats
it.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from cifab.gitlab import PIPELINE_SOURCES
from cifab.stacks import SECTION_DEFAULTS, STACKS

SCHEMA_PATH = Path(__file__).parent / "manifest.schema.json"


@cache
def schema() -> dict[str, Any]:
    with SCHEMA_PATH.open(encoding="utf-8") as fh:
        loaded: dict[str, Any] = json.load(fh)
    for stack in STACKS:
        props = loaded["properties"][stack.name].get("properties", {})
        for key, value in {**stack.pins, **stack.defaults}.items():
            if key in props:
                props[key]["default"] = value
                if "x-expect" in props[key]:  # its example is the default itself
                    props[key]["x-expect"] = props[key]["x-expect"].replace("{default}", value)
    for (section, key), value in SECTION_DEFAULTS.items():
        node = loaded["properties"][section]
        objects = [node, *node.get("oneOf", [])]  # self_check: true, or a mapping of settings
        [props] = [o["properties"] for o in objects if isinstance(o, dict) and key in o.get("properties", {})]
        props[key]["default"] = value
    scenario = loaded["properties"]["lint"]["properties"]["scenarios"]["oneOf"][1]["items"]["properties"]
    scenario["source"]["enum"] = list(PIPELINE_SOURCES)
    return loaded


def schema_text() -> str:
    """The schema as `cifab schema` prints it: with the pins filled in."""
    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"


@cache
def validator() -> Any:
    import jsonschema_rs

    return jsonschema_rs.validator_for(schema())


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


def value_problem(key: tuple[str, ...], value: Any) -> str | None:
    """Why `value` cannot stand at `key` of the manifest, or None when it can: what an
    interactive init checks each answer with."""
    root = schema()
    node: Any = root
    for part in key:
        node = node.get("properties", {}).get(part) if isinstance(node, dict) else None
        if node is None:
            return None
    import jsonschema_rs

    sub = {**node, "definitions": root.get("definitions", {})}
    errors = list(jsonschema_rs.validator_for(sub).iter_errors(value))
    if not errors:
        return None
    ref = str(node.get("$ref", ""))
    target = root["definitions"].get(ref.rsplit("/", 1)[-1], {}) if ref.startswith("#/definitions/") else {}
    expect = node.get("x-expect", target.get("x-expect"))
    shown = json.dumps(value, ensure_ascii=False)
    return f"{shown} is not valid here; expected {expect}" if expect else f"{shown}: {errors[0].message}"


def section_defaults(section: str) -> dict[str, Any]:
    """The defaults of one top-level section (a stack's settings), as a fresh copy: callers
    change what they get, and the schema is cached."""
    props = schema()["properties"][section]["properties"]
    return {k: copy.deepcopy(v["default"]) for k, v in props.items() if "default" in v}
