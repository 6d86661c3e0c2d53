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
    return loaded


@cache
def validator() -> Any:
    """GitLab's schema compiled once per process (jsonschema-rs: about 3 ms)."""
    import jsonschema_rs

    return jsonschema_rs.validator_for(schema())
