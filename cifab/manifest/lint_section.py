"""cifab.yml's `lint:` section, read for `cifab lint` and `cifab check`.

Lint checks that section as strictly as `generate` checks the rest: a misspelt key or an
unknown rule id is an error with a "did you mean", never silently a setting that does nothing.
Problems elsewhere in the manifest are `generate`'s and `check`'s to report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cifab import schemaerrors
from cifab.diagnostics import Finding
from cifab.errors import ProblemsError
from cifab.files import Refused, read_limited
from cifab.gitlab import MAX_FILE_BYTES
from cifab.lint.settings import LintSettings
from cifab.lint.shellcheck import DEFAULT_EXCLUDED, DEFAULT_TIMEOUT
from cifab.manifest.repository import missing_files
from cifab.pipeline.yamlpos import SYNTAX, YamlError, YMap, load_bytes, plain
from cifab.spelling import suggest


def load_settings(manifest_path: Path) -> LintSettings:
    """The manifest's lint settings; the defaults when there is no manifest. A manifest that
    cannot be read as YAML, or a `lint:` section that is wrong, raises ProblemsError."""
    src = str(manifest_path)
    try:
        raw = read_limited(manifest_path, MAX_FILE_BYTES)
    except FileNotFoundError:
        return LintSettings()
    except (OSError, Refused):
        return LintSettings()  # not a file lint can read: lint runs with its defaults
    try:
        data = load_bytes(raw, src).data
    except YamlError as exc:
        raise ProblemsError([SYNTAX.at(exc.src, exc.line, exc.col, exc.message)]) from None
    if not isinstance(data, YMap):
        return LintSettings()
    # A manifest that would build an image from a missing Dockerfile: said by lint too.
    missing = missing_files(data, manifest_path.parent)
    if missing:
        raise ProblemsError(missing)
    if data.get("lint") is None:
        return LintSettings()
    problems = lint_section_problems(data)
    if problems:
        raise ProblemsError(problems)
    section = data["lint"]
    shellcheck = section.get("shellcheck") or {}
    exclude = [c for c in DEFAULT_EXCLUDED if c not in shellcheck.get("include", [])]
    exclude += [c for c in shellcheck.get("exclude", []) if c not in exclude]
    return LintSettings(frozenset(section.get("ignore") or ()), tuple(exclude),
                        float(shellcheck.get("timeout", DEFAULT_TIMEOUT)), shellcheck.get("cache", True) is not False,
                        _scenarios(section.get("scenarios", True)))


def _scenarios(value: Any) -> bool | tuple[dict[str, Any], ...]:
    return tuple(plain(v) for v in value) if isinstance(value, list) else value is not False


def lint_section_problems(data: YMap) -> list[Finding]:
    """Schema problems of the `lint:` section alone, then rule ids that do not exist."""
    from cifab.manifest.problems import problems_for
    from cifab.manifest.schema import schema

    root = schema()
    sub = {"type": "object", "properties": {"lint": root["properties"]["lint"]},
           "definitions": root.get("definitions", {})}
    import jsonschema_rs

    problems: list[Finding] = []
    for leaf in schemaerrors.leaves(jsonschema_rs.validator_for(sub).iter_errors(data), sub):
        problems.extend(problems_for(leaf, data, sub))
    return problems or unknown_rule_ids(data)


def unknown_rule_ids(data: YMap) -> list[Finding]:
    from cifab.manifest.rules import INVALID
    from cifab.registry import BY_ID

    section = data.get("lint")
    ignore: Any = section.get("ignore") if isinstance(section, dict) else None
    out = []
    for i, rule_id in enumerate(ignore if isinstance(ignore, list) else []):
        if isinstance(rule_id, str) and rule_id not in BY_ID:
            near = suggest(rule_id, list(BY_ID))
            src, line, col = schemaerrors.locate(data, ("lint", "ignore", i)) or (data.src, 1, 1)
            where = schemaerrors.dotted(("lint", "ignore", i))
            out.append(INVALID.at(src, line, col, f"{where}: there is no rule '{rule_id}'",
                                  f"did you mean '{near}'?" if near else "`cifab rules` lists them"))
    return out
