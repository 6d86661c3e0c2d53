"""Findings as text for people: `file:line:col: severity rule message`, a code frame with a
caret under the column (as rustc and actionlint print), and the hint."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Sequence

from cifab.diagnostics import Finding, Severity

# C0 and C1 control characters (but tab and newline), the line and paragraph separators, and
# the bidi controls (U+061C, U+200E-F, U+202A-E, U+2066-9): printed raw, a file could move
# the cursor, recolour or hide lines of its own findings, or show a name reordered.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """Text with every control character shown as an escape (\\x1b), never acted on."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                        else f"\\u{ord(m.group()):04x}", text)


def one_line(value: object, limit: int | None = None) -> str:
    """The value on one line (a name that holds a newline must not look like two), every
    control character shown as an escape, cut at limit characters."""
    text = printable(str(value)).replace("\t", "\\t").replace("\n", "\\n")
    if limit is not None and len(text) > limit:
        text = text[:limit] + f"… ({len(text) - limit:,} more characters)"
    return text


def json_text(doc: object, indent: int | None = 2) -> str:
    """JSON that keeps non-ASCII names readable, with the characters `printable` escapes
    written as \\u escapes: JSON output is printed to terminals too."""
    import json

    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(doc, indent=indent, ensure_ascii=False))


COLOURS = {Severity.ERROR: "\x1b[1;31m", Severity.WARNING: "\x1b[1;33m", Severity.INFO: "\x1b[1;36m"}
DIM, BOLD, RESET = "\x1b[2m", "\x1b[1m", "\x1b[0m"


def display_path(src: str) -> str:
    """Paths relative to the working directory when they are below it."""
    if src in ("-", "<stdin>") or not os.path.isabs(src):
        return src
    try:
        rel = os.path.relpath(src)
    except ValueError:
        return src
    return src if rel.startswith("..") else rel


def summary(findings: Sequence[Finding], files: int) -> str:
    counts = Counter(f.severity for f in findings)
    parts = [f"{counts[s]} {s}{'s' if counts[s] != 1 else ''}" for s in
             (Severity.ERROR, Severity.WARNING, Severity.INFO) if counts[s]]
    what = ", ".join(parts) if parts else "no problems"
    return f"{what} in {files} file{'s' if files != 1 else ''}"


def text(findings: Sequence[Finding], sources: dict[str, str], files: int, colour: bool) -> str:
    def paint(code: str, s: str) -> str:
        return f"{code}{s}{RESET}" if colour else s

    out: list[str] = []
    lines_of: dict[str, list[str]] = {}  # split once: thousands of findings share a file
    for f in findings:
        if f.src not in lines_of and f.src in sources:
            lines_of[f.src] = sources[f.src].splitlines()
        head = f"{display_path(f.src)}:{f.line}:{f.col}" if f.line else display_path(f.src)
        out.append(f"{paint(BOLD, printable(head))}: {paint(COLOURS[f.severity], str(f.severity))} "
                   f"{paint(DIM, printable(f.rule_id))} {printable(f.message)}")
        frame = _frame(f, lines_of.get(f.src), paint)
        out.extend(frame)
        if f.hint:
            gutter = " " * (len(str(f.line)) if frame else 0)
            out.append(f"{gutter} {paint(DIM, '=')} hint: {printable(f.hint)}")
    out.append(summary(findings, files))
    return "\n".join(out) + "\n"


def _frame(f: Finding, lines: list[str] | None, paint: Callable[[str, str], str]) -> list[str]:
    """A code frame with a caret under the column, like rustc and actionlint print."""
    if not lines or f.line <= 0:
        return []
    if f.line > len(lines):
        return []
    line = printable(lines[f.line - 1].replace("\t", " "))
    width = len(str(f.line))
    gutter = " " * width
    caret = " " * max(f.col - 1, 0) + "^"
    return [
        f"{gutter} |",
        f"{f.line} | {line}",
        f"{gutter} | {paint(COLOURS[f.severity], caret)}",
    ]


def read_sources(findings: Sequence[Finding], limit: int = 1 << 20) -> dict[str, str]:
    """The text of the files the findings point into (small files only), for their frames."""
    out: dict[str, str] = {}
    for src in {f.src for f in findings if f.line}:
        try:
            with open(src, encoding="utf-8", errors="replace") as fh:
                out[src] = fh.read(limit)
        except OSError:
            continue
    return out


def problems(findings: Sequence[Finding]) -> str:
    """Findings that stop a command (a broken manifest), framed, without the summary line."""
    body = text(findings, read_sources(findings), 0, colour=False)
    return body.rsplit("\n", 2)[0]
