"""gitlab-schema: the configuration against GitLab's own CI JSON schema, with GitLab's words where
the schema's would mislead."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from cifab import gitlab_schema, schemaerrors
from cifab.diagnostics import Finding, Severity
from cifab.gitlab import (
    MAX_SCRIPT_NESTING,
    MUTUALLY_EXCLUSIVE_KEYS,
    SCRIPT_KEYS,
    TOP_LEVEL_KEYWORDS,
    TOP_LEVEL_WORDS,
    keys_together,
)
from cifab.lint.rules.base import Context, Rule
from cifab.pipeline.yamlpos import Reference, YMap
from cifab.spelling import suggest

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


LIST_ENTRY_NAMES = {"needs": "need", "rules": "rule", "services": "service"}


def gitlab_location(path: schemaerrors.Path) -> str:
    """`jobs:rspec:artifacts` for a job key, `cache` or `default:image` for globals."""
    names: list[str] = []
    for i, part in enumerate(path):
        if not isinstance(part, int):
            names.append(str(part))
        elif i and str(path[i - 1]) in LIST_ENTRY_NAMES:
            # GitLab names a list entry by its singular: needs:need, rules:rule.
            names.append(LIST_ENTRY_NAMES[str(path[i - 1])])
    if not names:
        return "root"
    if names[0] in TOP_LEVEL_KEYWORDS:
        return ":".join(names)
    return ":".join(["jobs", *names])


def _types_text(types: list[str], sub: dict[str, Any]) -> str:
    if types == ["array"] and isinstance(sub.get("items"), dict) and sub["items"].get("type") == "string":
        return "an array of strings"
    words = [GITLAB_TYPES.get(t, t) for t in types]
    if not words:
        return "of another form"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


NESTED_STRINGS = ("{loc} config should be a string or a nested array of strings up to "
                  f"{MAX_SCRIPT_NESTING} levels deep")

# GitLab's own messages for a value of the wrong type, by key: {loc} is the full location
# (jobs:rspec:artifacts), {parent} the location above it (jobs:rspec).
TYPE_MESSAGES = {
    "artifacts": "{loc} config should be a hash",
    "variables": "{loc} config should be a hash",
    "only": "{loc} has to be either an array of conditions or a hash",
    "except": "{loc} has to be either an array of conditions or a hash",
    "environment": "{loc} config should be a hash or a string",
    "needs": "{loc} config can only be a hash or an array",
    "dependencies": "{parent} dependencies should be an array of strings",
    "tags": "{loc} config should be an array of strings",
    "script": NESTED_STRINGS,
    "before_script": NESTED_STRINGS,
    "after_script": NESTED_STRINGS,
    "image": "{loc} config should be a hash or a string",
    "services": "{loc} config should be a array",
    "allow_failure": "{parent} allow failure should be a hash or a boolean value",
    "stage": "{loc} config should be a string",
    "stages": "{loc} config should be an array of strings or a nested array of strings up to "
              f"{MAX_SCRIPT_NESTING} levels deep",
    "parallel": "{loc} should be an integer or a hash",
    "rules": "{parent} rules should be an array containing hashes and arrays of hashes",
}


REQUIRED_MESSAGES = {
    ("include", "job"): "{loc} config must specify the job where to fetch the artifact from",
    ("include", "file"): "{loc} config must specify the file where to fetch the config from",
}


REFS_MESSAGE = "{loc} config should be an array of strings or regular expressions using re2 syntax"


def _type_message(path: schemaerrors.Path) -> str | None:
    names = [p for p in path if isinstance(p, str)]
    for i, part in enumerate(path):
        # An entry inside only:/except: (a ref list item) has the wrong type.
        if part in ("only", "except") and i + 1 < len(path) and i >= 1:
            rest = path[i + 1:]
            if rest and (isinstance(rest[0], int) or rest[0] == "refs"):
                return REFS_MESSAGE.format(loc=gitlab_location(path[: i + 1]))
    if not names:
        return None
    if len(path) == 2 and path[0] == "variables":
        return "variable definition must be either a string or a hash"
    for i, part in enumerate(path):
        if part in SCRIPT_KEYS:  # a bad item anywhere inside a script is the script's error
            return TYPE_MESSAGES[str(part)].format(loc=gitlab_location(path[: i + 1]), parent="")
    template = TYPE_MESSAGES.get(names[-1]) if isinstance(path[-1], str) else None
    if template is None:
        return None
    return template.format(loc=gitlab_location(path), parent=gitlab_location(path[:-1]))


def _spaced(key: str | int) -> str:
    return str(key).replace("_", " ")


def message(leaf: schemaerrors.Leaf, root: dict[str, Any],
            data: Any = None) -> Iterator[tuple[str | None, str, str | None]]:
    """(unknown key or None, message, hint) for one schema error; `data`, the document, gives
    the order keys are written in (the validator's copy of a mapping is sorted)."""
    loc = gitlab_location(leaf.path)
    sub = leaf.subschema
    kind = leaf.kind
    if kind == "AdditionalProperties":
        allowed = list(sub.get("properties", {}))
        for key in leaf.detail.get("unexpected", []):
            near = suggest(str(key), allowed)
            yield key, f"{loc} config contains unknown keys: {key}", (
                f"did you mean `{near}`?" if near else None)
        return
    if kind == "Type":
        types = [t for t in (leaf.expected_types or schemaerrors.schema_types(sub, root)) if t != "null"]
        hint = None
        if len(leaf.path) == 1 and isinstance(leaf.path[0], str) and leaf.path[0] not in TOP_LEVEL_KEYWORDS:
            near = suggest(leaf.path[0], TOP_LEVEL_WORDS)
            hint = f"did you mean the `{near}` keyword? `{leaf.path[0]}` is read as a job" if near else None
        yield None, _type_message(leaf.path) or f"{loc} config should be {_types_text(types, sub)}", hint
        return
    parent = gitlab_location(leaf.path[:-1]) if leaf.path else "root"
    last = _spaced(leaf.path[-1]) if leaf.path else ""
    if kind == "Enum" and len(leaf.path) >= 3 and isinstance(leaf.path[-1], int) and leaf.path[-3] == "inherit":
        # Inherit::Default and Inherit::Variables: AllowedArrayValuesValidator on the whole list.
        yield None, f"{parent} config contains unknown values: {leaf.instance}", None
    elif kind == "Enum":
        options = ", ".join(str(o) for o in leaf.detail.get("options", []))
        near = suggest(str(leaf.instance), [str(o) for o in leaf.detail.get("options", [])])
        yield None, f"{parent} {last} should be one of: {options}", (f"did you mean `{near}`?" if near else None)
    elif kind == "Required":
        prop = leaf.detail.get("property")
        special = REQUIRED_MESSAGES.get((str(leaf.path[-1]) if leaf.path else "", str(prop)))
        if special is None and len(leaf.path) >= 2 and isinstance(leaf.path[-1], int):
            special = REQUIRED_MESSAGES.get((str(leaf.path[-2]), str(prop)))
        yield None, (special or "{loc} config missing required keys: " + str(prop)).format(loc=loc), None
    elif kind == "MinItems":
        limit = leaf.detail.get("limit")
        yield None, f"{loc} config requires at least {limit} item{'s' if limit != 1 else ''}", None
    elif kind == "MaxItems":
        limit = leaf.detail.get("limit")
        if leaf.path[-2:] == ("trigger", "include"):
            # Entry::Includes with max_size, for a child pipeline's files.
            yield None, f"{loc} config is too long (maximum is {limit})", None
        else:
            yield None, f"{loc} config has too many entries (maximum {limit})", None
    elif kind in {"Maximum", "ExclusiveMaximum"}:
        yield None, f"{loc} config must be less than or equal to {leaf.detail.get('limit')}", None
    elif kind in {"Minimum", "ExclusiveMinimum"}:
        yield None, f"{loc} config must be greater than or equal to {leaf.detail.get('limit')}", None
    elif kind == "MinLength":
        yield None, f"{loc} config can't be blank", None
    elif kind == "Pattern" and leaf.path and leaf.path[-1] == "released_at":
        # Entry::Release parses it with DateTime.iso8601.
        yield None, f"{parent} released at must be a valid datetime", 'write it like "2021-03-15T08:00:00Z"'
    elif kind == "Pattern":
        # GitLab lowercases its messages, which would garble the schema's regular expression.
        yield None, f"{loc} config is invalid: {json.dumps(leaf.instance)} is not in the expected format", \
            f"the schema's pattern: {leaf.detail.get('pattern')}"
    elif kind == "Not" and isinstance(leaf.instance, dict) and leaf.path and \
            str(leaf.path[-1]) in MUTUALLY_EXCLUSIVE_KEYS:
        # MutuallyExclusiveKeysValidator names the keys in the order the config has them.
        written = _node(data, leaf.path)
        keys = written if isinstance(written, dict) else leaf.instance
        together = keys_together(keys, MUTUALLY_EXCLUSIVE_KEYS[str(leaf.path[-1])])
        yield None, f"{loc} {together or 'config is invalid: ' + leaf.message}", None
    else:
        yield None, f"{loc} config is invalid: {leaf.message}", None


def _node(data: Any, path: schemaerrors.Path) -> Any:
    node = data
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _through_reference(data: Any, path: schemaerrors.Path) -> bool:
    node = data
    for part in path:
        if isinstance(node, Reference):
            return True
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return False
    return isinstance(node, Reference)


def _extends_job(data: Any, path: schemaerrors.Path) -> bool:
    """True when path lies inside a job that extends another: what it lacks as written
    may come from its templates."""
    if not path or not isinstance(data, dict) or path[0] in TOP_LEVEL_KEYWORDS:
        return False
    job = data.get(path[0])
    return isinstance(job, dict) and "extends" in job


def validate_document(data: Any, rule: Rule, seen: set[tuple[str, int, int, str]] | None = None,
                      only_required: bool = False) -> list[Finding]:
    """Schema findings for one document. GitLab validates a job after `extends` is merged
    (Config::Entry::Jobs runs on the expanded hash), so a key missing from a job that
    extends another is checked on the merged job instead (only_required)."""
    root = gitlab_schema.schema()
    errors = gitlab_schema.validator().iter_errors(data)
    out: list[Finding] = []
    seen = set() if seen is None else seen
    leaves = schemaerrors.leaves(errors, root)
    failing = {leaf.path for leaf in leaves if leaf.kind != "OneOfMultipleValid"}
    for leaf in leaves:
        if leaf.kind == "OneOfMultipleValid" and leaf.path in failing:
            continue  # an artefact of the value failing in another way, which is reported
        if only_required:
            if leaf.kind != "Required":
                continue
        elif leaf.kind == "Required" and _extends_job(data, leaf.path):
            continue  # checked on the merged job
        if leaf.kind == "Type" and leaf.instance is None and leaf.path:
            continue  # GitLab reads an empty key (`variables:`) as one that is not set
        if _through_reference(data, leaf.path):
            continue  # its value is checked where it is written; the reference rules check the tag
        for key, text, hint in message(leaf, root, data):
            mark = schemaerrors.locate(data, leaf.path, key=key)
            if mark is None:
                src = data.src if isinstance(data, YMap) else "<input>"
                mark = (src, 1, 1)
            ident = (*mark, text)
            if ident not in seen:
                seen.add(ident)
                out.append(rule.finding(mark, text, hint))
    return out


def _strings_within(value: Any, depth: int) -> bool:
    """A string, or arrays of them at most `depth` arrays deep (every item checked once:
    an aliased list shared by many jobs is the same object, and stops at its first bad item)."""
    if isinstance(value, str):
        return True
    if isinstance(value, Reference):
        return True  # resolved, and checked where it is written
    if not isinstance(value, list) or depth == 0:
        return False
    return all(_strings_within(item, depth - 1) for item in value)


def script_problems(data: YMap) -> Iterable[Finding]:
    """Entry::Commands: a script is a string or an array of strings nested at most 10
    levels deep. The schema checks the first level (see gitlab_schema._SCRIPT_ITEM)."""
    for name, job in data.items():
        if not isinstance(job, YMap) or (name in TOP_LEVEL_KEYWORDS and name != "default"):
            continue
        for key in SCRIPT_KEYS:
            value = job.get(key)
            if isinstance(value, list) and not _strings_within(value, MAX_SCRIPT_NESTING):
                loc = f"jobs:{name}:{key}" if name != "default" else f"default:{key}"
                yield RULE.finding(job.value_mark(key), f"{loc} config should be a string or a nested array of "
                                                        f"strings up to {MAX_SCRIPT_NESTING} levels deep")


def check(ctx: Context) -> Iterable[Finding]:
    # Each file as written: the schema describes `!reference` tags and `include:` entries,
    # which resolution replaces.
    seen: set[tuple[str, int, int, str]] = set()
    extending: set[str] = set()
    for loaded in ctx.pipeline.files:
        if isinstance(loaded.data, YMap) and not loaded.refused:
            yield from validate_document(loaded.data, RULE, seen)
            yield from script_problems(loaded.data)
            extending.update(k for k, v in loaded.data.items() if isinstance(v, dict) and "extends" in v)
    # Required keys of jobs that extend others: on the merged jobs, as GitLab checks them.
    # Jobs validate independently of each other, so one document holds them all (one
    # validation, not one per job: a large pipeline has thousands).
    merged: YMap | None = None
    for name in sorted(extending):
        job = ctx.pipeline.jobs.get(name)
        if job is not None and isinstance(job.config, YMap):
            if merged is None:
                merged = YMap(job.config.src, job.config.start)
            merged[name] = job.config
            merged.keymarks[name] = job.mark
            merged.valmarks[name] = job.mark
    if merged is not None:
        yield from validate_document(merged, RULE, seen, only_required=True)


RULE = Rule(
    id="gitlab-schema",
    severity=Severity.ERROR,
    summary="the configuration must match GitLab's CI JSON schema",
    doc="""GitLab checks every keyword's type and allowed values before it creates a
pipeline. cifab validates every file (the root and each local include) against the schema
GitLab publishes (cifab ships a copy, with its source and sha256), and words the errors the way GitLab does.
Misspelled keys get a "did you mean" hint. Like GitLab's backend, it does not check string formats, and an empty
key counts as unset.""",
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
    entry_messages=True,
)
