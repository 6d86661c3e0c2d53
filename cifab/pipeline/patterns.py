"""The regular expressions and path globs a pipeline holds, matched as GitLab matches them
and in linear time, whatever a merge request wrote.

- Regular expressions (`=~`, `!~`, only/except refs, `coverage`, `spec:inputs` regex) are
  RE2 in GitLab (Gitlab::UntrustedRegexp), so they are RE2 here, through google-re2: no
  backtracking, and RE2's refusals (lookarounds, backreferences, `\\Z`, `{1001}`) are
  GitLab's. `/pattern/flags` takes the flags i, s, m and U, prepended as `(?flags)`
  (UntrustedRegexp::RubySyntax), so `/m` is RE2's multi-line mode, not Ruby's dot-all.
- `rules:changes` and `rules:exists` globs follow Ruby's File.fnmatch with FNM_PATHNAME,
  FNM_DOTMATCH and FNM_EXTGLOB (`*` and `?` stay inside a folder and match dotfiles, `**/`
  is any number of folders at the start of a segment, `{a,b}` either, `[...]` a class).
  Each glob is translated once into an RE2 expression, so a glob of many stars against a
  long path costs what reading the path costs.
- `include:local` wildcards are not fnmatch: GitLab turns `**` into `.*?` and `*` into
  `[^/]*?`, everything else literal (Repository#search_files_by_wildcard_path).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# RubySyntax::PATTERN: a whole /.../ literal, with GitLab's flags only.
RUBY_SYNTAX = re.compile(r"\A/(?P<body>.*)/(?P<flags>[ismU]*)\Z", re.S)
_NOTHING = r"[^\x00-\x{10FFFF}]"  # a class that matches no character: RE2 has no (?!)


class Regexp:
    """A compiled RE2 expression."""

    __slots__ = ("_compiled",)

    def __init__(self, compiled: Any) -> None:
        self._compiled = compiled

    def search(self, text: str) -> bool:
        return self._compiled.search(text) is not None

    def fullmatch(self, text: str) -> bool:
        return self._compiled.fullmatch(text) is not None


@lru_cache(maxsize=1)
def _options() -> Any:
    import re2

    options = re2.Options()
    options.log_errors = False  # RE2 would print each refusal on stderr
    return options


@lru_cache(maxsize=8192)
def _compiled(pattern: str) -> Regexp | str:
    """The expression, or RE2's reason to refuse it."""
    import re2

    try:
        return Regexp(re2.compile(pattern, _options()))
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid"
        return reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
    except (TypeError, ValueError) as exc:  # a NUL byte, a lone surrogate
        return str(exc)


def untrusted(pattern: str) -> Regexp | None:
    """Gitlab::UntrustedRegexp.new(pattern): the expression, or None when RE2 refuses it."""
    found = _compiled(pattern)
    return found if isinstance(found, Regexp) else None


def refusal(pattern: str) -> str | None:
    """Why RE2 refuses the expression, or None when it compiles."""
    found = _compiled(pattern)
    return found if isinstance(found, str) else None


def ruby_syntax(literal: str) -> Regexp | None:
    """UntrustedRegexp::RubySyntax.fabricate: `/body/flags` as RE2, or None when it is not
    such a literal or RE2 refuses it."""
    found = RUBY_SYNTAX.match(literal)
    if found is None:
        return None
    flags = found["flags"]
    return untrusted((f"(?{flags})" if flags else "") + found["body"])


# ---------------------------------------------------------------- File.fnmatch


@dataclass(frozen=True)
class Glob:
    """A glob as File.fnmatch? reads it: `matches(path)`, and `problem` when part of it can
    never match (a reversed range, a class or brace that does not close), which GitLab does
    not refuse. A glob of more alternatives than MAX_ALTERNATIVES is taken to match, as
    GitLab takes a clause beyond its comparison limits to match."""

    text: str
    _regexp: Regexp | None  # None: taken to match
    problem: str | None = None

    def matches(self, path: str) -> bool:
        return True if self._regexp is None else self._regexp.fullmatch(path)


MAX_ALTERNATIVES = 1024  # what one glob's braces may expand to
MAX_GLOB = 4096  # characters: a longer glob is read as a literal path, which it then must be


def expand_braces(text: str) -> list[str] | None:
    """ruby_brace_expand: `{a,b}` (nested, with backslash escapes) into each alternative,
    the first brace pair first. None when a `{` never closes: Ruby then calls nothing, so
    the glob matches nothing. At most MAX_ALTERNATIVES + 1 are made."""
    out: list[str] = []
    pending = [text]
    while pending:
        current = pending.pop()
        found = _first_pair(current)
        if found is None:
            return None
        if found == (-1, -1):
            out.append(current)
        else:
            left, right = found
            pending.extend(reversed([current[:left] + part + current[right + 1:]
                                     for part in _alternatives(current[left + 1:right])]))
        if len(out) + len(pending) > MAX_ALTERNATIVES:
            return out + pending
    return out


def _first_pair(text: str) -> tuple[int, int] | None:
    """(the first top-level `{`, its `}`); (-1, -1) when there is none; None when the `{`
    never closes. A `}` before any `{` is an ordinary character."""
    depth, left, i = 0, -1, 0
    while i < len(text):
        ch = text[i]
        if ch == "{":
            if depth == 0:
                left = i
            depth += 1
        elif ch == "}" and left >= 0:
            depth -= 1
            if depth == 0:
                return left, i
        elif ch == "\\":
            i += 1
        i += 1
    return None if left >= 0 else (-1, -1)


def _alternatives(inside: str) -> list[str]:
    parts, depth, last, i = [], 0, 0, 0
    while i < len(inside):
        ch = inside[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(inside[last:i])
            last = i + 1
        elif ch == "\\":
            i += 1
        i += 1
    parts.append(inside[last:])
    return parts


class _Translator:
    """One brace-free fnmatch glob into one RE2 expression: `**/` at the start of a segment
    is any number of folders, `*` and `?` anything within one folder, `[...]` a class (never
    `/`), `\\x` the character x; a trailing backslash matches nothing more."""

    def __init__(self) -> None:
        self.problem: str | None = None

    def translate(self, text: str) -> str:
        out: list[str] = []
        i = 0
        at_start = True
        while i < len(text):
            ch = text[i]
            if at_start and text.startswith("**/", i):
                while text.startswith("**/", i):
                    i += 3
                out.append("(?:[^/]*/)*")
                continue
            at_start = False
            if ch == "\\":
                if i + 1 < len(text):
                    out.append(re.escape(text[i + 1]))
                    at_start = text[i + 1] == "/"
                i += 2
            elif ch == "*":
                while i < len(text) and text[i] == "*":
                    i += 1
                out.append("[^/]*")
            elif ch == "?":
                out.append("[^/]")
                i += 1
            elif ch == "[":
                regex, i = self.bracket(text, i + 1)
                out.append(regex)
            else:
                out.append(re.escape(ch))
                at_start = ch == "/"
                i += 1
        return "".join(out)

    def bracket(self, text: str, i: int) -> tuple[str, int]:
        """Ruby's bracket(): `!` or `^` negates, `a-z` is a range, `\\x` a literal, `[]`
        matches nothing and `[!]` anything. A class that never closes matches nothing."""
        negate = i < len(text) and text[i] in "!^"
        if negate:
            i += 1
        items: list[str] = []
        while True:
            if i >= len(text):
                self.problem = self.problem or "a `[` class that never closes matches nothing"
                return _NOTHING, len(text)
            if text[i] == "]":
                break
            first, i = _class_char(text, i)
            if i >= len(text):
                continue  # the loop reports the class that never closes
            if text[i] == "-" and i + 1 < len(text) and text[i + 1] != "]":
                last, i = _class_char(text, i + 1)
                if last < first:  # Ruby compares the ends themselves before the range
                    self.problem = self.problem or f"the range {first}-{last} is reversed: it matches only " \
                                                   f"{first} and {last}"
                    items.extend(_class_literal(c) for c in (first, last) if c != "/")
                    continue
                items.extend(_range(first, last))
            elif first != "/":  # a path's `/` never matches a class
                items.append(_class_literal(first))
        i += 1  # past ]
        if negate:
            return "[^/" + "".join(items) + "]", i
        if not items:
            self.problem = self.problem or "`[]` is an empty class, so it matches nothing"
            return _NOTHING, i
        return "[" + "".join(items) + "]", i


def _range(first: str, last: str) -> list[str]:
    """A class range, without the `/` a path's character never is."""
    pieces = [(first, last)] if not first <= "/" <= last else [(first, "."), ("0", last)]
    return [f"{_class_literal(a)}-{_class_literal(b)}" for a, b in pieces if a <= b]


def _class_literal(ch: str) -> str:
    return "\\" + ch if ch in "\\]^-[" else ch


def _class_char(text: str, i: int) -> tuple[str, int]:
    if text[i] == "\\" and i + 1 < len(text):
        return text[i + 1], i + 2
    return text[i], i + 1


@lru_cache(maxsize=8192)
def glob(text: str) -> Glob:
    """The glob `text` as File.fnmatch? with FNM_PATHNAME | FNM_DOTMATCH | FNM_EXTGLOB."""
    if len(text) > MAX_GLOB:
        return Glob(text, untrusted(re.escape(text)), f"it is longer than {MAX_GLOB:,} characters, so cifab reads "
                    "it as a plain path")
    alternatives = expand_braces(text)
    if alternatives is None:
        return Glob(text, untrusted(_NOTHING), "a `{` that never closes makes the glob match nothing")
    if len(alternatives) > MAX_ALTERNATIVES:
        return Glob(text, None, f"its braces make more than {MAX_ALTERNATIVES:,} globs, so cifab takes it to match")
    translator = _Translator()
    compiled = untrusted("|".join(f"(?:{translator.translate(a)})" for a in alternatives))
    if compiled is None:  # what the translator writes always compiles; should it not, do as GitLab's caps do
        return Glob(text, None, "cifab cannot read this glob, so it takes it to match")
    return Glob(text, compiled, translator.problem)


def fnmatch(pattern: str, path: str) -> bool:
    return glob(pattern).matches(path)


@lru_cache(maxsize=1024)
def include_wildcard(pattern: str) -> Regexp:
    """An `include:local` wildcard as GitLab matches it against the repository's paths."""
    regex = "".join("(?:.*?)" if part == "**" else "[^/]*?" if part == "*" else re.escape(part)
                    for part in re.split(r"(\*\*|\*)", pattern) if part)
    found = untrusted(regex)
    assert found is not None  # escaped text and two fixed pieces always compile
    return found
