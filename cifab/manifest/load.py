"""Loading cifab.yml: parse with positions, validate against the shipped schema and GitLab's
schema for the escape hatches, fill defaults.

Every problem carries file:line:col, the key path and, for misspelled keys, a hint.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cifab import schemaerrors
from cifab.diagnostics import Finding
from cifab.errors import ProblemsError
from cifab.files import Refused, read_limited
from cifab.gitlab import MAX_FILE_BYTES
from cifab.manifest import hatches
from cifab.manifest.lint_section import unknown_rule_ids
from cifab.manifest.problems import problems_for
from cifab.manifest.repository import missing_files
from cifab.manifest.rules import DUPLICATE_KEY, INVALID, MISSING
from cifab.manifest.schema import fill_defaults, schema, validator
from cifab.pipeline.yamlpos import SYNTAX, YamlError, YMap, load_bytes, plain

MANIFEST_NAME = "cifab.yml"


@dataclass
class Manifest:
    path: Path
    data: dict[str, Any]  # validated, defaults filled
    source: YMap | None = None  # as written, with positions, for problems found later

    @property
    def stack(self) -> str:
        return str(self.data["stack"])


def load(path: Path) -> Manifest:
    """Read and validate a manifest; raises ProblemsError listing every problem."""
    src = str(path)
    try:
        raw = read_limited(path, MAX_FILE_BYTES)
    except FileNotFoundError:
        raise ProblemsError([MISSING.at(src, 0, 0, "not found; run `cifab init` to create it")]) from None
    except Refused as exc:
        raise ProblemsError([MISSING.at(src, 0, 0, f"cannot read it: it {exc}")]) from None
    except OSError as exc:
        raise ProblemsError([MISSING.at(src, 0, 0, f"cannot read it: {exc.strerror}")]) from None
    return parse(raw, src, path)


def parse(raw: bytes, src: str, path: Path | None = None) -> Manifest:
    try:
        loaded = load_bytes(raw, src)
    except YamlError as exc:
        raise ProblemsError([SYNTAX.at(src, exc.line, exc.col, exc.message)]) from None
    data = loaded.data
    if data is None:
        raise ProblemsError([MISSING.at(src, 1, 1, "the manifest is empty; run `cifab init` to write one")])
    if not isinstance(data, YMap):
        what = "a list" if isinstance(data, list) else f"a {type(data).__name__}"
        raise ProblemsError([MISSING.at(src, 1, 1, f"the manifest must be a mapping of keys, not {what}")])
    problems = validate(data)
    if not problems and path is not None:
        problems.extend(missing_files(data, path.parent))
    problems.extend(DUPLICATE_KEY.at(src, line, col, f"key '{key}' is given twice; the last one wins")
                    for key, (src, line, col) in loaded.duplicates)
    problems.sort(key=lambda p: (p.line, p.col))
    if problems:
        raise ProblemsError(problems)
    filled = fill_defaults(schema(), plain(data))
    return Manifest(path=path or Path(src), data=filled, source=data)


def validate(data: YMap) -> list[Finding]:
    root = schema()
    problems: list[Finding] = []
    for leaf in schemaerrors.leaves(validator().iter_errors(data), root):
        problems.extend(problems_for(leaf, data, root))
    if not problems:  # GitLab's schema for jobs:, extra_jobs: and include:
        problems.extend(hatches.validate(data))
        problems.extend(duplicate_names(data))
        problems.extend(unknown_rule_ids(data))
        problems.extend(self_check_problems(data))
    return problems


def duplicate_names(data: YMap) -> list[Finding]:
    """Names that become job or file names must be unique: two environments named prod
    would be two jobs of one name, two components named api one child pipeline file."""
    lists: list[tuple[tuple[str | int, ...], Any]] = [(("deploy", "environments"),
                                                       (data.get("deploy") or {}).get("environments"))]
    components = data.get("components")
    lists.append((("components",), components))
    for i, component in enumerate(components if isinstance(components, list) else []):
        if isinstance(component, dict):
            lists.append((("components", i, "deploy", "environments"),
                          (component.get("deploy") or {}).get("environments")))
    out = []
    for path, items in lists:
        seen: dict[str, int] = {}
        for i, item in enumerate(items if isinstance(items, list) else []):
            name = item.get("name") if isinstance(item, dict) else None
            if not isinstance(name, str):
                continue
            if name in seen:
                where = schemaerrors.dotted((*path, i, "name"))
                src, line, col = schemaerrors.locate(data, (*path, i, "name")) or (data.src, 1, 1)
                out.append(INVALID.at(src, line, col, f"{where}: '{name}' is already the name of "
                                                      f"{schemaerrors.dotted((*path, seen[name]))}",
                                      "names become job and file names, so they must be unique"))
            seen.setdefault(name, i)
    return out


def self_check_problems(data: YMap) -> list[Finding]:
    """`self_check: true` names no way to install cifab, and none would work by default:
    cifab is not on PyPI yet. Say so where it is written, with the ways that do work."""
    if data.get("self_check") is not True:
        return []
    src, line, col = schemaerrors.locate(data, ("self_check",)) or (data.src, 1, 1)
    return [INVALID.at(src, line, col, "self_check: true does not say how the job gets cifab, and no default "
                                       "would work: cifab is not on PyPI yet",
                       "write self_check: {install: ...} with {git: URL, ref: TAG}, {registry: GROUP/PROJECT} "
                       "(a project that publishes cifab's package), {pypi: VERSION}, a command, or false with an "
                       "image that has cifab")]


