"""The project's own YAML formatter settings, so that what cifab writes passes it: prettier's
quote style (singleQuote, also in an override for YAML files), from any of the places
prettier reads its configuration (https://prettier.io/docs/configuration)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

from cifab.declared.yamlfile import load, mapping
from cifab.files import Refused, read_limited

CONFIG_FILES = (".prettierrc", ".prettierrc.json", ".prettierrc.json5", ".prettierrc.yaml", ".prettierrc.yml",
                ".prettierrc.toml", ".prettierrc.js", ".prettierrc.cjs", ".prettierrc.mjs", "prettier.config.js",
                "prettier.config.cjs", "prettier.config.mjs")


def _text(path: Path) -> str:
    try:
        return read_limited(path, 64 * 1024).decode("utf-8", "replace")
    except (OSError, Refused):
        return ""


def _config(repo: Path) -> tuple[dict[str, Any], str] | None:
    """prettier's configuration as data, and where it is."""
    for name in CONFIG_FILES:
        path = repo / name
        if not path.is_file():
            continue
        text = _text(path)
        if name.endswith(".toml"):
            try:
                return tomllib.loads(text), name
            except tomllib.TOMLDecodeError:
                return None
        if name.endswith((".js", ".cjs", ".mjs")):
            # Code: read the one setting by its text; an override for YAML files is not followed.
            found = re.search(r"\bsingleQuote\s*:\s*(true|false)\b", text)
            return ({"singleQuote": found.group(1) == "true"} if found else {}), name
        try:
            return mapping(json.loads(text)), name
        except json.JSONDecodeError:
            return mapping(load(path)), name  # .prettierrc may be YAML
    try:
        package = json.loads(_text(repo / "package.json") or "{}")
    except json.JSONDecodeError:
        return None
    config = package.get("prettier") if isinstance(package, dict) else None
    return (config, "package.json prettier") if isinstance(config, dict) else None


def yaml_quotes(repo: Path) -> tuple[str, str] | None:
    """("single" or "double", where it is said) when the project's prettier sets a quote
    style for YAML; None when it has no prettier configuration."""
    found = _config(repo)
    if found is None:
        return None
    config, source = found
    single = config.get("singleQuote") is True
    for override in config.get("overrides") or [] if isinstance(config.get("overrides"), list) else []:
        override = mapping(override)
        files = override.get("files")
        patterns = files if isinstance(files, list) else [files]
        if any(isinstance(p, str) and re.search(r"\.ya?ml|\{.*yml.*\}", p) for p in patterns):
            options = mapping(override.get("options"))
            if "singleQuote" in options:
                single = options["singleQuote"] is True
    return ("single" if single else "double"), source


YAMLLINT_FILES = (".yamllint", ".yamllint.yaml", ".yamllint.yml")
YAMLLINT_DEFAULT_WIDTH = 80  # yamllint's own default: line-length, max 80, an error


def yaml_width(repo: Path) -> tuple[int, str] | None:
    """(the longest line the project's yamllint accepts, where it says so) when its
    configuration fails a longer line; None when there is none or it lets long lines pass
    (`relaxed`, a warning level, `line-length: disable`)."""
    for name in YAMLLINT_FILES:
        if (repo / name).is_file():
            config = mapping(load(repo / name))
            break
    else:
        return None
    rule = mapping(config.get("rules")).get("line-length")
    if rule == "disable" or (isinstance(rule, dict) and rule.get("level") == "warning"):
        return None
    extends = config.get("extends")
    if not isinstance(rule, dict) and extends != "default":
        return None  # relaxed makes it a warning; a config of its own without the rule has none
    width = rule.get("max", YAMLLINT_DEFAULT_WIDTH) if isinstance(rule, dict) else YAMLLINT_DEFAULT_WIDTH
    return (width, name) if isinstance(width, int) and not isinstance(width, bool) and width > 0 else None
