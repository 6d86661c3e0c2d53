"""How cifab writes a YAML scalar, on both of its paths: the templates' `yaml` filter and the
escape hatches' round trip through ruamel. One policy for both, so that every value means
the same to GitLab's parser (Ruby's Psych, YAML 1.1) as it does in cifab.yml.

A string is written plain only when Psych reads it back as that same string: not `on`,
`Off`, `NO`, `yes` (booleans there in any letter case), not `1:20` or `190:20:30`
(sexagesimal numbers), `0o17`, `1_000` or `.inf`, and nothing with a line break, a line
separator (U+2028) or NEL in it. Everything else is double-quoted with escapes, so U+2028 and
NEL survive as themselves instead of being folded into spaces.

Quoted strings take the project's quote style (`quotes: single` in cifab.yml, which init sets
when the project's prettier says singleQuote), as prettier writes them: single quotes unless
the text holds a single quote or needs an escape, which only double quotes can write.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import yaml

from cifab.errors import CifabError
from cifab.frames import one_line

# Characters YAML allows unescaped in a double-quoted scalar (printable, per YAML 1.1).
_PRINTABLE = re.compile("[\t\n\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_PLAIN_START = re.compile(r"[A-Za-z0-9_./$(]")
_PSYCH_WORDS = frozenset({"yes", "no", "on", "off", "true", "false", "null", "~", ".inf", "-.inf", "+.inf",
                          ".nan"})
_NUMBER_LIKE = re.compile(r"[-+.]?[0-9][0-9A-Za-z_.:+-]*")
STR_TAG = "tag:yaml.org,2002:str"
QUOTES = ("double", "single")
_STYLE: ContextVar[str] = ContextVar("quotes", default="double")


@contextmanager
def quoting(style: str) -> Iterator[None]:
    """Write quoted strings in this style (double or single) meanwhile."""
    token = _STYLE.set(style)
    try:
        yield
    finally:
        _STYLE.reset(token)


def quote_char(text: str) -> str:
    """The quote a string that needs quotes gets: the style's, unless single quotes would
    need escaping (a ' in the text) or cannot write it (a character only an escape writes)."""
    if _STYLE.get() == "single" and "'" not in text and all(_PRINTABLE.match(c) for c in text) \
            and not any(c in text for c in "\n\t\x85\u2028\u2029"):
        return "'"
    return '"'


def plain_safe(text: str, flow: bool = False) -> bool:
    """Whether `text` may be written without quotes and still read as itself in Psych."""
    if not text or text != text.strip() or not _PLAIN_START.match(text):
        return False
    if _NUMBER_LIKE.fullmatch(text):
        return False  # GitLab's parser (Psych) may read 1e3, 1_000 or 1:20 as a number: quote it
    if text.lower() in _PSYCH_WORDS:
        return False  # Psych reads oN, YES, Off, NULL and .Inf in any letter case as non-strings
    if any(c in text for c in "\n\r\t\x85\u2028\u2029") or ": " in text or " #" in text:
        return False
    if text.endswith(":") or (flow and any(c in text for c in ",[]{}")):
        return False
    if not all(_PRINTABLE.match(c) for c in text):
        return False
    wrapped = f"[{text}]" if flow else f"- {text}"
    try:
        return bool(yaml.safe_load(wrapped) == [text])
    except yaml.YAMLError:
        return False


def double_quoted(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch in "\x85\u2028\u2029" or not _PRINTABLE.match(ch):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else (
                f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def scalar(value: Any, flow: bool = False) -> str:
    """One YAML scalar that reads back as exactly `value`."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise CifabError(f"cannot write {type(value).__name__} value {one_line(repr(value), 200)} as a YAML scalar")
    if plain_safe(value, flow):
        return value
    return f"'{value}'" if quote_char(value) == "'" else double_quoted(value)


def representer() -> type:
    """ruamel's round-trip representer with this module's policy for plain strings. Strings a
    template wrote in quotes keep their quotes (ruamel's own types); a plain one that Psych
    would misread is double-quoted, and ruamel's double-quoted style escapes U+2028 and NEL
    (\\L, \\N), which Psych reads back."""
    from ruamel.yaml.representer import RoundTripRepresenter

    class Representer(RoundTripRepresenter):
        pass

    def represent_str(self: Any, data: str) -> Any:
        if plain_safe(data):
            return RoundTripRepresenter.represent_str(self, data)
        return self.represent_scalar(STR_TAG, data, style=quote_char(data))

    Representer.add_representer(str, represent_str)
    return Representer
