"""GitLab's CI JSON schema, vendored in cifab/data/gitlab-ci.json: where it came from and
its sha256 are recorded beside it (gitlab-ci.source.json), and scripts/refresh-gitlab-schema
refreshes both."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from cifab.errors import CifabError
from cifab.gitlab import DEFAULT_KEYS, MAX_RULES_CHANGES_PATHS

DATA = Path(__file__).parent / "data"


def schema_path() -> Path:
    return DATA / "gitlab-ci.json"


@cache
def schema() -> dict[str, Any]:
    path = schema_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CifabError(f"cannot read GitLab's CI schema at {path}: {exc.strerror}; reinstall cifab") from None
    loaded: dict[str, Any] = json.loads(text)
    _correct(loaded)
    return loaded


# Below the first level, a script item is a string or any array here: the depth and the
# strings are checked by cifab.lint.rules.gitlab.script_problems. A schema that spelt out
# ten levels of anyOf made jsonschema collect errors at every level of every item.
_SCRIPT_ITEM = {"anyOf": [{"type": "string"}, {"type": "array"}]}


def _correct(sch: dict[str, Any]) -> None:
    r"""Where the published schema is stricter than GitLab itself, GitLab wins. Each case was
    checked against lib/gitlab/ci/config/entry/*.rb:

    - artifacts:paths and artifacts:exclude: the schema asks for at least one item, but
      GitLab's Artifacts entry only checks for an array of strings, and pipelines with
      `paths: []` (OpenMW's, for one) run every day.
    - artifacts:reports:junit: Entry::Reports validates junit as an array of strings or a
      string; `junit: []` is valid there, while the schema asks for one item.
    - script, before_script, after_script: Entry::Commands takes a string or an array of
      strings nested up to 10 levels deep (StringOrNestedArrayOfStringsValidator); the
      schema allows 2.
    - cache:key: KeyValidator refuses a "/" (after URL-decoding) and exactly "." or "..";
      the schema's pattern also refuses "..." and lets "%2F" through. The rule
      keyword-unknown checks it as GitLab does (cifab.lint.rules.keyword).
    - include file names: GitLab takes any name matching /.+\.(yml|yaml)$/i, upper case too,
      and says "does not have YAML extension!" otherwise (cifab.lint.model reports that);
      the schema's patterns are case-sensitive and speak JSON Schema.
    - image:entrypoint and services:entrypoint (array_of_strings), allow_failure:exit_codes
      and retry:exit_codes (array_of_integers_or_integer) may be empty lists; the schema
      asks for one item.
    - rules:exists: Rules::Rule::Exists takes a string too (SimpleExists applies to a String,
      an Array or a blank value), which the schema refused.
    - environment:url: Entry::Environment checks only that it is a string; the schema wants
      http(s):// or $VAR, and so refused `url: ${REVIEW_URL}` and `url: example.com`.

    - inherit:default: Inherit::Default takes any of Default::ALLOWED_KEYS, which now holds
      hooks and id_tokens (and identity); the schema's list stops at timeout.

    One bound goes the other way, where a schema bound is the simplest way to say GitLab's:
    rules:changes lists at most MAX_RULES_CHANGES_PATHS paths (Rules::Rule::Changes::SimpleChanges).
    """
    definitions = sch.get("definitions", {})
    artifacts = definitions.get("artifacts", {})
    for variant in [artifacts, *artifacts.get("oneOf", []), *artifacts.get("anyOf", [])]:
        props = variant.get("properties", {}) if isinstance(variant, dict) else {}
        for name in ("paths", "exclude"):
            listed = props.get(name)
            if isinstance(listed, dict):
                listed.pop("minItems", None)
        junit = props.get("reports", {}).get("properties", {}).get("junit")
        for branch in junit.get("oneOf", []) if isinstance(junit, dict) else []:
            branch.pop("minItems", None)
    key = definitions.get("cache_item", {}).get("properties", {}).get("key", {})
    for branch in key.get("oneOf", []):
        if branch.get("type") == "string":
            branch.pop("pattern", None)
    for variant in definitions.get("job_template", {}).get("properties", {}).get("environment", {}).get("oneOf", []):
        url = variant.get("properties", {}).get("url") if isinstance(variant, dict) else None
        if isinstance(url, dict):
            url.pop("pattern", None)
            url.pop("format", None)
    _drop_extension_patterns(sch)
    _allow_empty(sch, ("entrypoint", "exit_codes"))
    # Rules::Rule::Changes::SimpleChanges bounds the paths; the schema sets no bound.
    for branch in definitions.get("changes", {}).get("anyOf", []):
        if branch.get("type") == "array":
            branch.setdefault("maxItems", MAX_RULES_CHANGES_PATHS)
    inherit = definitions.get("job_template", {}).get("properties", {}).get("inherit", {})
    for branch in inherit.get("properties", {}).get("default", {}).get("oneOf", []):
        items = branch.get("items") if isinstance(branch, dict) else None
        if isinstance(items, dict) and isinstance(items.get("enum"), list):
            items["enum"] = sorted(set(items["enum"]) | set(DEFAULT_KEYS))
    exists = definitions.get("exists", {})
    if isinstance(exists.get("anyOf"), list) and {"type": "string"} not in exists["anyOf"]:
        exists["anyOf"].append({"type": "string"})
    for name in ("script", "optional_script"):
        for branch in definitions.get(name, {}).get("oneOf", []):
            if branch.get("type") == "array":
                branch["items"] = _SCRIPT_ITEM


def _allow_empty(node: Any, names: tuple[str, ...]) -> None:
    """Drops minItems from every schema of a property with one of these names."""
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            if name in names:
                for branch in [sub, *sub.get("oneOf", []), *sub.get("anyOf", [])] if isinstance(sub, dict) else []:
                    if isinstance(branch, dict):
                        branch.pop("minItems", None)
        for value in node.values():
            _allow_empty(value, names)
    elif isinstance(node, list):
        for value in node:
            _allow_empty(value, names)


_EXTENSION_PATTERN = re.compile(r"\\\.ya\?ml\$$")


def _drop_extension_patterns(node: Any) -> None:
    r"""Removes the patterns that end in `\.ya?ml$`; a remote URL keeps its scheme."""
    if isinstance(node, dict):
        pattern = node.get("pattern")
        if isinstance(pattern, str) and _EXTENSION_PATTERN.search(pattern):
            if pattern.startswith("^https?://"):
                node["pattern"] = "^https?://"
            else:
                node.pop("pattern")
        for value in node.values():
            _drop_extension_patterns(value)
    elif isinstance(node, list):
        for value in node:
            _drop_extension_patterns(value)


@cache
def validator() -> Any:
    """GitLab's schema compiled once per process (jsonschema-rs: about 3 ms)."""
    import jsonschema_rs

    # GitLab's backend does not check `format`s (a component path such as
    # ${CI_SERVER_FQDN}/group/project/name@1.0 is fine), so neither do we.
    return jsonschema_rs.validator_for(schema(), validate_formats=False)
