"""GitLab's CI JSON schema, as vendored (and kept fresh) by the check-jsonschema package."""

from __future__ import annotations

import json
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from cifab.errors import CifabError

RELATIVE = Path("builtin_schemas", "vendor", "gitlab-ci.json")


def schema_path() -> Path:
    # find_spec locates the package without running it: importing check_jsonschema costs
    # about 170 ms of start-up, and we only want its data file.
    spec = find_spec("check_jsonschema")
    if spec is None or not spec.submodule_search_locations:
        raise CifabError("GitLab's CI schema was not found: the check-jsonschema package is "
                         "missing; reinstall cifab, which depends on it")
    return Path(next(iter(spec.submodule_search_locations)), RELATIVE)


@cache
def schema() -> dict[str, Any]:
    path = schema_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CifabError(f"cannot read GitLab's CI schema at {path}: {exc.strerror}") from None
    loaded: dict[str, Any] = json.loads(text)
    _correct(loaded)
    return loaded


def _correct(sch: dict[str, Any]) -> None:
    """Where the published schema is stricter than GitLab itself, GitLab wins.

    - artifacts:paths: the schema asks for at least one path, but GitLab's Artifacts entry
      only checks for an array of strings, and pipelines with `paths: []` (OpenMW's, for
      one) run every day.
    """
    artifacts = sch.get("definitions", {}).get("artifacts", {})
    for variant in [artifacts, *artifacts.get("oneOf", []), *artifacts.get("anyOf", [])]:
        paths = variant.get("properties", {}).get("paths") if isinstance(variant, dict) else None
        if isinstance(paths, dict):
            paths.pop("minItems", None)


@cache
def validator() -> Any:
    """GitLab's schema compiled once per process (jsonschema-rs: about 3 ms)."""
    import jsonschema_rs

    # GitLab's backend does not check `format`s (a component path such as
    # ${CI_SERVER_FQDN}/group/project/name@1.0 is fine), so neither do we.
    return jsonschema_rs.validator_for(schema(), validate_formats=False)
