"""Untrusted text in GitLab Markdown: the review note and `cifab diff --format markdown`.

Every name and value there comes from a pipeline, a manifest or a repository that whoever
opened the merge request may have written, and GitLab acts on a note when it is created: a
line that starts with `/approve` runs a quick action as the token's user, and `@all` notifies
everyone. So a name is shown, never acted on:

- names and values go into inline code spans, whose backtick fence is longer than any run of
  backticks inside them; GitLab neither mentions, links nor runs anything inside code;
- free text escapes Markdown's punctuation and HTML, and breaks every reference prefix (`@`
  for people, `#`, `!`, `~`, `%`, `$`, `&` for issues, merge requests, labels...) with a
  zero-width space, past which GitLab's reference filters do not read (a backslash before
  `@` does not stop them);
- newlines, control characters, line separators and bidi overrides are shown as escapes, so
  that no value starts a line of its own, and long values are cut;
- Mermaid labels are quoted, every character outside a small safe set written as an entity.
"""

from __future__ import annotations

import re

from cifab.frames import one_line

MAX_SHOWN = 200  # characters of one name or value in a note; the job log has them whole
ZWSP = "\u200b"
_LONGEST_TICKS = re.compile("`+")
_MARKUP = re.compile(r"([\\`*_\[\]()!|~])")
_REFERENCE = re.compile(r"([@#!~%$&])")
# What could end a quoted label or start markup inside it; the rest of a name is kept as written.
_MERMAID_SPECIAL = re.compile(r"[\"#&;<>`\[\](){}|\\]")


def code(value: object, limit: int = MAX_SHOWN) -> str:
    """An inline code span that shows the value exactly, whatever backticks it holds."""
    text = one_line(value, limit)
    if not text:
        return "(empty)"
    fence = "`" * (max((len(run) for run in _LONGEST_TICKS.findall(text)), default=0) + 1)
    # CommonMark strips one space from each side of a span's text: a space keeps a text that
    # starts or ends with a backtick apart from the fence.
    pad = " " if text[0] in "` " or text[-1] in "` " else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def text(value: object, limit: int = 2 * MAX_SHOWN) -> str:
    """Free text that renders as itself: no markup, no HTML, no mention, on one line."""
    escaped = _REFERENCE.sub(lambda m: m.group() + ZWSP, one_line(value, limit))
    escaped = _MARKUP.sub(r"\\\1", escaped)
    return escaped.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mermaid_label(value: object, limit: int = MAX_SHOWN) -> str:
    """A quoted Mermaid label: quotes, brackets and markup characters as entity codes
    (#34;), so that no label closes its quotes, its node or its fence."""
    return '"' + _MERMAID_SPECIAL.sub(lambda m: f"#{ord(m.group())};", one_line(value, limit)) + '"'


def no_commands(body: str) -> str:
    """The last guard: a note line that starts with `/` would be a quick action. Escaping
    above never makes one; should a future change do so, a leading space disarms it."""
    return "\n".join(" " + line if line.startswith("/") else line for line in body.split("\n"))
