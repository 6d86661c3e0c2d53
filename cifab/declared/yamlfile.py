"""YAML files of the repository (pre-commit's, other CI systems'), read with the limits
GitLab's own files get: a repository is input like any other, and may be hostile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cifab.files import Refused, read_limited
from cifab.pipeline.yamlpos import YamlError, decode, load_text

READ_LIMIT = 1024 * 1024


def load(path: Path) -> Any:
    """The file's data, or None when it is missing, unreadable or not YAML."""
    try:
        raw = read_limited(path, READ_LIMIT)
        return load_text(decode(raw, path.name), path.name).data
    except (OSError, Refused, YamlError):
        return None


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def strings(value: Any) -> list[str]:
    """A list of strings (or one string), other items dropped."""
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value if isinstance(v, (str, int, float)) and not isinstance(v, bool)] \
        if isinstance(value, list) else []
