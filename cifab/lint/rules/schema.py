"""GitLab's JSON schema, with errors worded the way GitLab words them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from cifab import gitlab_schema, schemaerrors
from cifab.lint.findings import Finding, Severity
from cifab.lint.model import GLOBAL_KEYS
from cifab.lint.rules.base import Context, Rule
from cifab.yamlpos import YMap

# GitLab's own words for JSON types, as its config entries print them.
GITLAB_TYPES = {
    "object": "a hash",
    "array": "an array",
    "string": "a string",
    "boolean": "a boolean value",
    "integer": "an integer",
    "number": "a number",
    "null": "null",
}
TOP_LEVEL_WORDS = sorted(k for k in GLOBAL_KEYS if ":" not in k and k != "types")


def gitlab_location(path: schemaerrors.Path) -> str:
    """`jobs:rspec:artifacts` for a job key, `cache` or `default:image` for globals."""
    names = [str(p) for p in path if not isinstance(p, int)]
    if not names:
        return "root"
    if names[0] in GLOBAL_KEYS:
        return ":".join(names)
    return ":".join(["jobs", *names])


def _types_text(types: list[str], sub: dict[str, Any]) -> str:
    if types == ["array"] and isinstance(sub.get("items"), dict) and sub["items"].get("type") == "string":
        return "an array of strings"
    words = [GITLAB_TYPES.get(t, t) for t in types]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _spaced(key: str | int) -> str:
    return str(key).replace("_", " ")


def message(leaf: schemaerrors.Leaf, root: dict[str, Any]) -> Iterator[tuple[str | None, str, str | None]]:
    """(unknown key or None, message, hint) for one schema error."""
    loc = gitlab_location(leaf.path)
    sub = leaf.subschema
    kind = leaf.kind
    if kind == "AdditionalProperties":
        allowed = list(sub.get("properties", {}))
        for key in leaf.detail.get("unexpected", []):
            near = schemaerrors.suggest(str(key), allowed)
            yield key, f"{loc} config contains unknown keys: {key}", (
                f"did you mean `{near}`?" if near else None)
        return
    if kind == "Type":
        types = leaf.expected_types or schemaerrors.schema_types(sub, root)
        hint = None
        if len(leaf.path) == 1 and isinstance(leaf.path[0], str) and leaf.path[0] not in GLOBAL_KEYS:
            near = schemaerrors.suggest(leaf.path[0], TOP_LEVEL_WORDS)
            hint = f"did you mean the `{near}` keyword? `{leaf.path[0]}` is read as a job" if near else None
        yield None, f"{loc} config should be {_types_text(types, sub)}", hint
        return
    parent = gitlab_location(leaf.path[:-1]) if leaf.path else "root"
    last = _spaced(leaf.path[-1]) if leaf.path else ""
    if kind == "Enum":
        options = ", ".join(str(o) for o in leaf.detail.get("options", []))
        near = schemaerrors.suggest(str(leaf.instance), [str(o) for o in leaf.detail.get("options", [])])
        yield None, f"{parent} {last} should be one of: {options}", (f"did you mean `{near}`?" if near else None)
    elif kind == "Required":
        yield None, f"{loc} config missing required keys: {leaf.detail.get('property')}", None
    elif kind == "MinItems":
        limit = leaf.detail.get("limit")
        yield None, f"{loc} config requires at least {limit} item{'s' if limit != 1 else ''}", None
    elif kind == "MaxItems":
        yield None, f"{loc} config has too many entries (maximum {leaf.detail.get('limit')})", None
    elif kind in {"Maximum", "ExclusiveMaximum"}:
        yield None, f"{loc} config must be less than or equal to {leaf.detail.get('limit')}", None
    elif kind in {"Minimum", "ExclusiveMinimum"}:
        yield None, f"{loc} config must be greater than or equal to {leaf.detail.get('limit')}", None
    elif kind == "MinLength":
        yield None, f"{loc} config can't be blank", None
    else:
        yield None, f"{loc} config is invalid: {leaf.message}", None


def validate_document(data: Any, rule: Rule) -> list[Finding]:
    root = gitlab_schema.schema()
    errors = gitlab_schema.validator().iter_errors(data)
    out: list[Finding] = []
    seen: set[tuple[str, int, int, str]] = set()
    for leaf in schemaerrors.leaves(errors, root):
        for key, text, hint in message(leaf, root):
            mark = schemaerrors.locate(data, leaf.path, key=key)
            if mark is None:
                src = data.src if isinstance(data, YMap) else "<input>"
                mark = (src, 1, 1)
            ident = (*mark, text)
            if ident not in seen:
                seen.add(ident)
                out.append(rule.finding(mark, text, hint))
    return out


def check(ctx: Context) -> Iterable[Finding]:
    for loaded in ctx.pipeline.files:
        if isinstance(loaded.data, YMap):
            yield from validate_document(loaded.data, RULE)


RULE = Rule(
    id="gitlab-schema",
    severity=Severity.ERROR,
    summary="the configuration must match GitLab's CI JSON schema",
    doc="""GitLab checks every keyword's type and allowed values before it creates a
pipeline. cifab validates each file (the root and every local include) against the
schema GitLab publishes, as vendored by check-jsonschema, and words the errors the way
GitLab does. Misspelled keys get a "did you mean" hint.""",
    bad="""test:
  script: make test
  artifact:
    paths: [out/]
""",
    good="""test:
  script: make test
  artifacts:
    paths: [out/]
""",
    check=check,
)
