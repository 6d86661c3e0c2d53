"""Variables as a job's rules see them, and their expansion in `changes`, `exists` and
`compare_to` paths.

Precedence, lowest first (docs/ci/variables/_index.md#cicd-variable-precedence): predefined
variables, the configuration's global `variables` (with those of the matching workflow
rule), the job's own (with its parallel:matrix values), then project, group and pipeline
variables, which cifab knows only as `--var`.

`rules:if` reads values as written (Clause::If uses variables_hash). Paths expand with
ExpandVariables.expand_existing over variables_hash_expanded: variables that refer to other
variables are expanded first (Collection#sort_and_expand_all, where a reference to an
undefined variable becomes empty), and in the path a reference to an undefined variable is
kept as written."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from cifab.gitlab import VALUE_REFERENCE, VARIABLE_REFERENCE


def strings(value: Any) -> dict[str, str]:
    """A `variables:` mapping as the strings GitLab makes of it ({value:, description:}
    entries give their value; true becomes "true")."""
    out: dict[str, str] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict):
                item = item.get("value")
            if item is not None and not isinstance(item, (dict, list)):
                out[str(key)] = str(item).lower() if isinstance(item, bool) else str(item)
    return out


def _name(match: re.Match[str]) -> str | None:
    found: str | None = match.group(1) or match.group(2) or match.group(3)
    return found


class Expanded:
    """variables_hash_expanded: each value with the variables it refers to expanded, in
    dependency order (Collection#sort_and_expand_all). A reference to an undefined variable
    becomes empty; a cycle leaves every value as written, as GitLab's sort does. `unsure`
    names the values that referred to variables cifab cannot know."""

    def __init__(self, variables: Mapping[str, str], unknown: Callable[[str], bool]) -> None:
        self.values: dict[str, str] = dict(variables)
        self.unsure: dict[str, set[str]] = {}
        refs = {k: [n for m in VALUE_REFERENCE.finditer(v) if (n := _name(m))] for k, v in variables.items()
                if "$" in v or "%" in v}
        if not refs:
            return
        done: dict[str, str] = {}
        visiting: set[str] = set()

        def resolve(key: str) -> str | None:
            if key in done:
                return done[key]
            if key not in refs:
                return variables[key]
            if key in visiting:
                return None  # a cycle
            visiting.add(key)
            parts: dict[str, str] = {}
            for name in refs[key]:
                if name in variables:
                    found = resolve(name)
                    if found is None:
                        return None
                    parts[name] = found
                    if name in self.unsure:
                        self.unsure.setdefault(key, set()).update(self.unsure[name])
                elif unknown(name):
                    self.unsure.setdefault(key, set()).add(name)
            visiting.discard(key)

            def replace(match: re.Match[str]) -> str:
                name = _name(match)
                return str(match.group(0)) if name is None else parts.get(name, "")  # $$ and %% stay

            done[key] = VALUE_REFERENCE.sub(replace, variables[key])
            return done[key]

        for key in refs:
            if resolve(key) is None:
                self.unsure = {}
                return
        self.values.update(done)

    def expand(self, text: str, unknown: Callable[[str], bool]) -> tuple[str, set[str]]:
        """ExpandVariables.expand_existing: known variables replaced, others kept as written.
        Also the names whose value cifab cannot know that the result depends on."""
        missing: set[str] = set()

        def replace(match: re.Match[str]) -> str:
            name = _name(match) or ""
            if name in self.values:
                missing.update(self.unsure.get(name, ()))
                return self.values[name]
            if unknown(name):
                missing.add(name)
            return str(match.group(0))

        return VARIABLE_REFERENCE.sub(replace, text), missing
