"""Showing what generating would change: unified diffs, coloured for a terminal."""

from __future__ import annotations

import difflib


def unified_diff(old: str | None, new: str, name: str) -> str:
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"a/{name}" if old is not None else "/dev/null",
        tofile=f"b/{name}",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def colorize_diff(diff: str) -> str:
    colours = {"+": "\x1b[32m", "-": "\x1b[31m", "@": "\x1b[36m"}
    out = []
    for line in diff.splitlines(keepends=True):
        colour = colours.get(line[:1])
        if line.startswith(("+++", "---")):
            colour = "\x1b[1m"
        out.append(f"{colour}{line.rstrip(chr(10))}\x1b[0m\n" if colour else line)
    return "".join(out)
