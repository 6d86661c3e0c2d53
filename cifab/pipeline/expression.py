"""GitLab's CI/CD variable expressions, evaluated as lib/gitlab/ci/pipeline/expression/ does.

- The lexer (Lexer::LEXEMES, in their order) reads at most MAX_TOKENS tokens: a longer
  expression is "Too many tokens!", so no expression nests deeper than that.
- The parser is GitLab's shunting-yard: `==` `!=` `=~` `!~` (precedence 10) bind tighter than
  `&&` (11), which binds tighter than `||` (12); equal ones group to the left; parentheses
  group. Evaluation walks the postfix form with a stack: no recursion, whatever the input.
- `&&` and `||` are Ruby's: they return an operand, and only nil and false are false there,
  so an empty string is true inside them. The whole statement holds when its value is
  present (Statement#truthful?): not nil, false, or a blank string.
- `/pattern/flags` is RE2 (cifab.pipeline.patterns): a pattern RE2 refuses is a syntax
  error, as GitLab's Lexeme::Pattern makes it. A variable on the right of `=~` that holds a
  `/pattern/` is that pattern; any other string is searched for the left side as text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from cifab.pipeline.patterns import Regexp, ruby_syntax

MAX_TOKENS = 100  # Lexer::MAX_TOKENS

# (kind, pattern), in Lexer::LEXEMES order; each is matched where the last one ended.
_LEXEMES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("open", re.compile(r"\(")),
    ("close", re.compile(r"\)")),
    ("input", re.compile(r"\$\[\[\s*inputs\.(?P<name>[A-Za-z0-9_]+)\s*\]\]")),
    ("variable", re.compile(r"\$(?P<name>[A-Za-z0-9_]+)")),
    ("string", re.compile(r"\"(?P<d>[^\n]*?)\"|'(?P<s>[^\n]*?)'")),
    ("pattern", re.compile(r"/(?:[^/]|\\/)+[^\\]/[ismU]*")),
    ("null", re.compile(r"null")),
    ("boolean", re.compile(r"\b(?:true|false)\b")),
    ("op", re.compile(r"==|=~|!=|!~|&&|\|\|")),
)
_SPACE = re.compile(r"\s+")
_PRECEDENCE = {"==": 10, "!=": 10, "=~": 10, "!~": 10, "&&": 11, "||": 12}
_CLOSE, _OPEN = 900, 901


class ExpressionError(ValueError):
    pass


class _Pattern:
    """A /pattern/ literal, kept apart from strings: only =~ and !~ take it."""

    __slots__ = ("regexp", "text")

    def __init__(self, text: str, regexp: Regexp) -> None:
        self.text = text
        self.regexp = regexp

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Pattern) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


Token = tuple[str, Any]  # ("value", v) | ("variable", name) | ("input", name) | ("op", text) | ("open"|"close", _)


def _tokens(text: str) -> list[Token]:
    out: list[Token] = []
    pos = 0
    for _ in range(MAX_TOKENS):
        space = _SPACE.match(text, pos)
        if space:
            pos = space.end()
        if pos >= len(text):
            return out
        for kind, regex in _LEXEMES:
            match = regex.match(text, pos)
            if match:
                pos = match.end()
                out.append(_token(kind, match))
                break
        else:
            raise ExpressionError(f"invalid expression syntax: unknown lexeme at `{text[pos:pos + 10]}`")
    raise ExpressionError(f"invalid expression syntax: more than {MAX_TOKENS - 1} tokens")


def _token(kind: str, match: re.Match[str]) -> Token:
    if kind == "string":
        return "value", match["d"] if match["d"] is not None else match["s"]
    if kind == "pattern":
        literal = match.group(0).replace("\\/", "/")
        regexp = ruby_syntax(literal)
        if regexp is None:
            raise ExpressionError(f"invalid expression syntax: `{literal}` is not a valid RE2 regular expression")
        return "value", _Pattern(literal, regexp)
    if kind == "null":
        return "value", None
    if kind == "boolean":
        return "value", match.group(0) == "true"
    if kind in ("variable", "input"):
        return kind, match["name"]
    return kind, match.group(0)


def _postfix(tokens: list[Token]) -> list[Token]:
    """Parser#tokens_rpn: GitLab's shunting-yard, its error cases included."""
    output: list[Token] = []
    operators: list[Token] = []

    def precedence(token: Token) -> int:
        return _OPEN if token[0] == "open" else _PRECEDENCE[token[1]]

    for token in tokens:
        kind = token[0]
        if kind in ("value", "variable", "input"):
            output.append(token)
        elif kind == "op":
            while operators and _PRECEDENCE[token[1]] >= precedence(operators[-1]):
                output.append(operators.pop())
            operators.append(token)
        elif kind == "open":
            operators.append(token)
        else:  # close
            while operators and precedence(operators[-1]) <= _CLOSE:
                output.append(operators.pop())
            if not operators:
                raise ExpressionError("invalid expression syntax: unmatched parenthesis")
            operators.pop()  # the open parenthesis
    return output + operators[::-1]


def _truthy(value: Any) -> bool:
    """Ruby's truth: only nil and false are false."""
    return value is not None and value is not False


def _present(value: Any) -> bool:
    """ActiveSupport's present?: not nil, not false, not a string of whitespace only."""
    if isinstance(value, str):
        return bool(value.strip())
    return _truthy(value)


def _matches(left: Any, right: Any) -> bool:
    """Lexeme::Matches: a pattern is searched in the left side's text; a string that reads
    as /pattern/flags is that pattern; any other string is searched for the text itself
    (Ruby's String#scan)."""
    text = "" if left is None else left if isinstance(left, str) else str(left).lower() \
        if isinstance(left, bool) else str(left)
    if isinstance(right, _Pattern):
        return right.regexp.search(text)
    if isinstance(right, str):
        regexp = ruby_syntax(right)
        return regexp.search(text) if regexp is not None else text in right
    return False


def _apply(op: str, left: Any, right: Any) -> Any:
    if op == "&&":
        return right if _truthy(left) else left
    if op == "||":
        return left if _truthy(left) else right
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    if right is None:  # `return false unless regexp` (true for !~)
        return op == "!~"
    matched = _matches(left, right)
    return matched if op == "=~" else not matched


def _value(postfix: list[Token], variables: Mapping[str, str]) -> Any:
    """Parser#tree, then evaluate, in one pass over the postfix form."""
    def leaf(kind: str, item: Any) -> Any:
        if kind == "value":
            return item
        # inputs were interpolated before the expression was read
        return variables.get(item) if kind == "variable" else None

    return _run(postfix, leaf, _apply)


def _run(postfix: list[Token], leaf: Callable[[str, Any], Any], apply: Callable[[str, Any, Any], Any]) -> Any:
    """The stack machine both evaluators share: operands from leaf, operators through apply."""
    stack: list[Any] = []
    for kind, item in postfix:
        if kind == "op":
            if len(stack) < 2:
                raise ExpressionError(f"invalid expression syntax: `{item}` lacks an operand")
            right = stack.pop()
            left = stack.pop()
            stack.append(apply(item, left, right))
        elif kind == "open":  # an open parenthesis that never closed
            raise ExpressionError("invalid expression syntax: a parenthesis is not closed")
        else:
            stack.append(leaf(kind, item))
    if len(stack) != 1:
        raise ExpressionError("invalid expression syntax" + (": unreachable nodes" if stack else ": empty"))
    return stack[0]


def statement_value(text: str, variables: Mapping[str, str]) -> Any:
    """Statement#evaluate: the expression's value (a string, nil, true or false). Raises
    ExpressionError."""
    return _value(_parsed(text)[0], variables)


@lru_cache(maxsize=4096)
def parses(text: str) -> bool:
    """Whether GitLab's lexer and parser accept the expression (Statement#valid?). Kept per
    text: thousands of jobs share a few conditions."""
    try:
        _value(_parsed(text)[0], {})
    except ExpressionError:
        return False
    return True


def evaluate(text: str, variables: Mapping[str, str]) -> bool:
    """Whether the expression holds for these variables. Raises ExpressionError.

    A pipeline asks the same few expressions thousands of times (every job of every simulated
    event), so the tokens are read once per text and the verdict kept per text and values of
    the variables it names."""
    postfix, names = _parsed(text)
    key = (text, tuple(map(variables.get, names)))
    found = _verdicts.get(key)
    if found is None:
        if len(_verdicts) > _MAX_VERDICTS:
            _verdicts.clear()
        found = _verdicts[key] = _present(_value(postfix, variables))
    return found


_MAX_VERDICTS = 100_000
_verdicts: dict[tuple[str, tuple[str | None, ...]], bool] = {}


def names_in(text: str) -> tuple[str, ...]:
    """The variables an expression reads, in order. Raises ExpressionError."""
    return _parsed(text)[1]


@lru_cache(maxsize=4096)
def reads(text: str) -> tuple[str, ...]:
    """The variables an expression reads; none when it does not parse."""
    try:
        return _parsed(text)[1]
    except ExpressionError:
        return ()


# ------------------------------------------------------------ values cifab cannot know


class _Any:
    """Some string cifab cannot know: a project variable's value, the commit message."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<any string>"


ANY = _Any()
_BOTH = frozenset({True, False})
_MAX_POSSIBLE = 32  # beyond this many possible values, an operand is taken to be anything


def possible(text: str, variables: Mapping[str, str], unknown: Mapping[str, bool]) -> bool | None:
    """Whether the expression holds, when the variables named in unknown have values cifab
    cannot know: True or False when every value they could have gives that answer, None when
    it depends on them. unknown maps each such name to whether GitLab surely sets it (a
    string) or it may also be unset. Raises ExpressionError.

    Each operand is the set of values it could have; operators apply GitLab's semantics to
    each pair, and any string (ANY) compares as either answer except against null."""
    def leaf(kind: str, item: Any) -> frozenset[Any]:
        if kind == "value":
            return frozenset({item})
        if kind == "variable" and item in unknown:
            return frozenset({ANY}) if unknown[item] else frozenset({ANY, None})
        return frozenset({variables.get(item) if kind == "variable" else None})

    found: frozenset[Any] = _run(_parsed(text)[0], leaf, _possible_apply)
    answers: set[bool] = set()
    for value in found:
        answers.update(_BOTH if value is ANY else {_present(value)})
    return answers.pop() if len(answers) == 1 else None


def _possible_apply(op: str, left: frozenset[Any], right: frozenset[Any]) -> frozenset[Any]:
    out: set[Any] = set()
    for a in left:
        for b in right:
            if op == "&&":
                out.add(b if a is ANY or _truthy(a) else a)  # a string is true in Ruby, even ""
            elif op == "||":
                out.add(a if a is ANY or _truthy(a) else b)
            elif a is ANY or b is ANY:
                out.update(_unknown_comparison(op, a, b))
            else:
                out.add(_apply(op, a, b))
        if len(out) > _MAX_POSSIBLE:
            return frozenset({ANY, None, True, False})
    return frozenset(out)


def _unknown_comparison(op: str, a: Any, b: Any) -> frozenset[bool]:
    other = b if a is ANY else a
    if op in ("==", "!="):
        # A string never equals null, a boolean or a pattern.
        if other is None or isinstance(other, (bool, _Pattern)):
            return frozenset({op == "!="})
        return _BOTH
    if b is None:  # `=~ null`: false, and `!~ null` true, whatever the left side
        return frozenset({op == "!~"})
    return _BOTH


@lru_cache(maxsize=4096)
def _parsed(text: str) -> tuple[list[Token], tuple[str, ...]]:
    tokens = _tokens(text)
    return _postfix(tokens), tuple(dict.fromkeys(value for kind, value in tokens if kind == "variable"))
