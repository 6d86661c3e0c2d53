"""GitLab's CI/CD variable expressions, evaluated (lib/gitlab/ci/pipeline/expression/).

Lexemes: `$VAR` (a `$` and word characters), "strings" and 'strings', /patterns/flags,
null, ==, !=, =~, !~, &&, ||, parentheses. && binds tighter than || (the parser GitLab has
used since 13.x). A statement is true when its value is present: a variable that is
unset or empty is false; any other string, "false" included, is true.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

_LEXEMES = [
    ("space", re.compile(r"\s+")),
    ("open", re.compile(r"\(")),
    ("close", re.compile(r"\)")),
    ("op", re.compile(r"==|!=|=~|!~|&&|\|\|")),
    ("string", re.compile(r'"(?P<d>(?:[^"\\]|\\.)*)"|\'(?P<s>(?:[^\'\\]|\\.)*)\'')),
    ("pattern", re.compile(r"/(?P<body>(?:[^/\\]|\\.)+)/(?P<flags>[ismxU]*)")),
    ("null", re.compile(r"null\b")),
    ("variable", re.compile(r"\$(?P<name>\w+)")),
]


class ExpressionError(ValueError):
    pass


class _Pattern(str):
    """A /pattern/ literal, kept apart from strings: only =~ and !~ take it."""

    flags = ""


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(text):
        for kind, regex in _LEXEMES:
            match = regex.match(text, pos)
            if match:
                pos = match.end()
                if kind == "string":
                    out.append(("value", match["d"] if match["d"] is not None else match["s"]))
                elif kind == "pattern":
                    pattern = _Pattern(match["body"])
                    pattern.flags = match["flags"]
                    out.append(("value", pattern))
                elif kind == "null":
                    out.append(("value", None))
                elif kind == "variable":
                    out.append(("variable", match["name"]))
                elif kind != "space":
                    out.append((kind, match.group(0)))
                break
        else:
            raise ExpressionError(f"invalid expression syntax at `{text[pos:pos + 10]}`")
    return out


def _regex(value: Any) -> re.Pattern[str] | None:
    """A pattern from a literal, or from a variable that holds `/pattern/flags`."""
    if value is None:
        return None
    body, flags = str(value), getattr(value, "flags", "")
    if not isinstance(value, _Pattern):
        found = re.fullmatch(r"/(.+)/([ismxU]*)", body, re.S)
        if found:
            body, flags = found.group(1), found.group(2)
    bits = (re.I if "i" in flags else 0) | (re.M if "m" in flags else 0) | (re.S if "s" in flags else 0)
    try:
        return re.compile(body, bits)
    except re.error:
        return None


class _Parser:
    def __init__(self, tokens: list[tuple[str, Any]], variables: Mapping[str, str]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.variables = variables

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, Any]:
        token = self.peek()
        if token is None:
            raise ExpressionError("invalid expression syntax: the expression ends too soon")
        self.pos += 1
        return token

    def expression(self) -> Any:
        left = self.conjunction()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.conjunction()
            left = left if _present(left) else right
        return left

    def conjunction(self) -> Any:
        left = self.comparison()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.comparison()
            left = right if _present(left) else left
        return left

    def comparison(self) -> Any:
        left = self.operand()
        token = self.peek()
        if token is not None and token[0] == "op" and token[1] in ("==", "!=", "=~", "!~"):
            self.take()
            right = self.operand()
            if token[1] == "==":
                return left == right
            if token[1] == "!=":
                return left != right
            regex = _regex(right)
            matched = left is not None and regex is not None and regex.search(str(left)) is not None
            return matched if token[1] == "=~" else not matched
        return left

    def operand(self) -> Any:
        kind, value = self.take()
        if kind == "open":
            inner = self.expression()
            if self.take()[0] != "close":
                raise ExpressionError("invalid expression syntax: a parenthesis is not closed")
            return inner
        if kind == "variable":
            return self.variables.get(value)
        if kind == "value":
            return value
        raise ExpressionError(f"invalid expression syntax near `{value}`")


def _present(value: Any) -> bool:
    if value is None or value is False:
        return False
    return bool(value != "")


def parses(text: str) -> bool:
    """Whether GitLab's lexer and parser accept the expression."""
    try:
        parser = _Parser(list(_lexed(text)[0]), {})
        parser.expression()
    except ExpressionError:
        return False
    return parser.peek() is None


def evaluate(text: str, variables: Mapping[str, str]) -> bool:
    """Whether the expression holds for these variables. Raises ExpressionError.

    A pipeline asks the same few expressions thousands of times (every job of every simulated
    event), so the tokens are read once per text and the verdict kept per text and values of
    the variables it names."""
    tokens, names = _lexed(text)
    key = (text, tuple(variables.get(name) for name in names))
    found = _verdicts.get(key)
    if found is None:
        parser = _Parser(list(tokens), variables)
        value = parser.expression()
        if parser.peek() is not None:
            raise ExpressionError("invalid expression syntax")
        if len(_verdicts) > _MAX_VERDICTS:
            _verdicts.clear()
        found = _verdicts[key] = _present(value)
    return found


_MAX_VERDICTS = 100_000
_verdicts: dict[tuple[str, tuple[str | None, ...]], bool] = {}


@lru_cache(maxsize=4096)
def _lexed(text: str) -> tuple[tuple[tuple[str, Any], ...], tuple[str, ...]]:
    tokens = tuple(_tokens(text))
    return tokens, tuple(dict.fromkeys(value for kind, value in tokens if kind == "variable"))
