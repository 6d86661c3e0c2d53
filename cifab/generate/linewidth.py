"""Lines no longer than the project's YAML linter allows (`line_length` in cifab.yml, which
init takes from the project's yamllint configuration).

Comment lines wrap into several comment lines. A plain scalar that is too long becomes a
folded scalar (`>-`), whose lines YAML joins again with single spaces, so the value is the
same. What cannot be folded without changing it (quoted or flow values, block scalars, a
value with doubled spaces) stays as it is, and the result is checked to read back as the
same data; otherwise the text is left unchanged."""

from __future__ import annotations

import re
import textwrap
from typing import Any

import yaml


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, reading GitLab's `!reference` tag as a tagged list: what the
    check below compares is the data as written, tags included."""


def _reference(loader: yaml.SafeLoader, node: yaml.Node) -> tuple[str, Any]:
    if isinstance(node, yaml.SequenceNode):
        return "!reference", loader.construct_sequence(node)
    return "!reference", loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None


_Loader.add_constructor("!reference", _reference)

_ITEM = re.compile(r"^(?P<lead>\s*(?:- )?(?:[A-Za-z0-9_.$/-]+: )?)(?P<value>\S.*)$")
_BLOCK_START = re.compile(r"(?:^|\s|:)[|>][-+0-9]*\s*$")


def _fold(lead: str, value: str, width: int) -> list[str] | None:
    if value[0] in "\"'":
        value = _unquoted(value) or ""  # a block scalar needs no quotes
    elif " #" in value:
        return None  # a comment after the value
    if not value or value[0] in "[{|>&*!%@`#" or "  " in value or value != value.strip() or \
            any(c in value for c in "\t\n\r\x85\u2028\u2029"):
        return None
    # Deeper than the key, or than the item's dash; a key after a dash (`- if: `) sits two
    # columns right of the dash.
    keyed_item = lead.lstrip().startswith("- ") and lead.rstrip().endswith(":")
    indent = " " * (len(lead) - len(lead.lstrip()) + (4 if keyed_item else 2))
    lines = textwrap.wrap(value, width=max(width - len(indent), 20), break_long_words=False,
                          break_on_hyphens=False)
    if " ".join(lines) != value:
        return None
    return [f"{lead}>-"] + [indent + line for line in lines]


def _unquoted(value: str) -> str | None:
    try:
        found = yaml.safe_load(f"v: {value}")
    except yaml.YAMLError:
        return None
    text = found.get("v") if isinstance(found, dict) else None
    return text if isinstance(text, str) else None


def _comments(lines: list[str], width: int) -> list[str]:
    """A paragraph of comment lines at one indentation, wrapped again as a whole."""
    indent = lines[0][: len(lines[0]) - len(lines[0].lstrip())]
    text = " ".join(line.strip()[1:].strip() for line in lines)
    return [f"{indent}# {part}" for part in textwrap.wrap(text, width=max(width - len(indent) - 2, 20),
                                                         break_long_words=False, break_on_hyphens=False)]


def fit(text: str, width: int) -> str:
    """text with its long lines wrapped, when that keeps its data; width 0 keeps it as it is."""
    if width <= 0:
        return text
    out: list[str] = []
    block_indent: int | None = None  # inside a block scalar: its lines are content
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        indent = len(line) - len(line.lstrip())
        i += 1
        if block_indent is not None:
            if not line.strip() or indent > block_indent:
                out.append(line)
                continue
            block_indent = None
        if line.lstrip().startswith("#"):
            paragraph = [line]
            while i < len(lines) and lines[i].lstrip().startswith("#") and \
                    len(lines[i]) - len(lines[i].lstrip()) == indent:
                paragraph.append(lines[i])
                i += 1
            long = any(len(p) > width for p in paragraph)
            out.extend(_comments(paragraph, width) if long else paragraph)
            continue
        if len(line) <= width:
            out.append(line)
        else:
            match = _ITEM.match(line)
            folded = _fold(match.group("lead"), match.group("value"), width) if match else None
            out.extend(folded or [line])
        if _BLOCK_START.search(line):
            block_indent = indent
    fitted = "\n".join(out)
    try:
        same = yaml.load(fitted, Loader=_Loader) == yaml.load(text, Loader=_Loader)
    except yaml.YAMLError:
        same = False
    return fitted if same else text
