"""Job scripts as the runner assembles them, and where each character came from.

gitlab-runner's bash shell (shells/bash.go, BashWriter.Finish) runs `before_script` and
`script` as one script, one line per item, after `set -o pipefail` and `set -o errexit`;
`after_script` runs later as a script of its own with the same prelude. ShellCheck sees
them the same way, and its line and column are mapped back to the YAML scalar they came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, NamedTuple

from cifab.diagnostics import Mark
from cifab.pipeline.config import Job
from cifab.pipeline.yamlpos import YList

# The runner writes `if set -o | grep pipefail ...; then set -o pipefail; fi; set -o errexit`.
# ShellCheck takes errexit from a shebang's `-e` exactly as from `set -e` (its hasSetE), and
# pipefail matters only to its optional checks, which cifab does not enable. A shebang is free,
# while a `set` command costs ShellCheck as much as any command: a quarter of a three-line
# script. The two preludes gave the same 595 findings on the 353 scripts of the shared corpus.
PRELUDE = "#!/bin/bash -e\n"
PRELUDE_LINES = 1

# Jobs that run PowerShell: on Windows runners (PowerShell is their default shell) or in
# PowerShell images. Their scripts are not bash, and ShellCheck would only report parse errors.
_WINDOWS_TAG = re.compile(r"(^|[-_/ ])(windows|win|pwsh|powershell)([-_/ 0-9]|$)", re.IGNORECASE)
_POWERSHELL_IMAGE = re.compile(r"powershell|pwsh|servercore|nanoserver|windows", re.IGNORECASE)
_POWERSHELL_TEXT = re.compile(r"\$env:[A-Za-z_]|^\s*(Write-(Host|Output)|Set-Location|New-Item|Invoke-\w+|"
                              r"Get-ChildItem|Remove-Item|Copy-Item)\b", re.MULTILINE)


class Piece(NamedTuple):
    """One script item: its value and where its YAML scalar starts."""

    value: str
    mark: Mark


class Script(NamedTuple):
    """The text ShellCheck reads, and for each of its lines the piece and the offset into the
    piece's value where that line starts (the prelude's lines have piece -1)."""

    text: str
    lines: list[tuple[int, int]]
    pieces: list[Piece]


def _pieces(value: Any, mark: Mark, depth: int = 0) -> Iterator[Piece]:
    if isinstance(value, str):
        yield Piece(value, mark)
    elif isinstance(value, list) and depth < 10:  # GitLab flattens nested script arrays
        for i, item in enumerate(value):
            yield from _pieces(item, value.item_mark(i) if isinstance(value, YList) else mark, depth + 1)


def assemble(pieces: list[Piece]) -> Script:
    lines: list[tuple[int, int]] = [(-1, 0)] * PRELUDE_LINES
    parts = [PRELUDE]
    for index, piece in enumerate(pieces):
        offset = 0
        for line in piece.value.split("\n"):
            lines.append((index, offset))
            offset += len(line) + 1
        parts.append(piece.value + "\n")
    return Script("".join(parts), lines, pieces)


def runs_powershell(job: Job) -> bool:
    tags = job.get("tags")
    if isinstance(tags, list) and any(isinstance(t, str) and _WINDOWS_TAG.search(t) for t in tags):
        return True
    image = job.get("image")
    name = image.get("name") if isinstance(image, dict) else image
    if isinstance(name, str) and _POWERSHELL_IMAGE.search(name):
        return True
    return any(isinstance(p.value, str) and _POWERSHELL_TEXT.search(p.value)
               for key in ("before_script", "script") for p in _pieces(job.get(key), job.mark))


def job_scripts(job: Job) -> list[Script]:
    """The scripts the runner would run for a job: before_script with script, then
    after_script. Empty for jobs that run PowerShell."""
    if not isinstance(job.config, dict) or runs_powershell(job):
        return []
    main = [p for key in ("before_script", "script") for p in _pieces(job.get(key), job.value_mark(key))]
    after = list(_pieces(job.get("after_script"), job.value_mark("after_script")))
    return [assemble(pieces) for pieces in (main, after) if pieces]


class Sources:
    """The pipeline's file texts, with their line starts computed when first needed."""

    def __init__(self, texts: dict[str, str]) -> None:
        self.texts = texts
        self._starts: dict[str, list[int]] = {}
        self._aligned: dict[Piece, list[int] | None] = {}

    def starts(self, src: str) -> list[int]:
        found = self._starts.get(src)
        if found is None:
            text = self.texts.get(src, "")
            found = self._starts[src] = [0, *(m.end() for m in re.finditer("\n", text))]
        return found

    def aligned(self, piece: Piece) -> list[int] | None:
        if piece not in self._aligned:
            text = self.texts.get(piece.mark[0])
            self._aligned[piece] = None if text is None else align(piece, text, self.starts(piece.mark[0]))
        return self._aligned[piece]


def position(script: Script, line: int, column: int, sources: Sources) -> Mark | None:
    """Where ShellCheck's 1-based line and column of the script sit in the YAML source."""
    if not 1 <= line <= len(script.lines):
        return None
    index, start = script.lines[line - 1]
    if index < 0:
        return None
    piece = script.pieces[index]
    return locate(piece, start + max(column, 1) - 1, sources)


def locate(piece: Piece, offset: int, sources: Sources) -> Mark:
    """The source position of character `offset` of a scalar's value."""
    src = piece.mark[0]
    aligned = sources.aligned(piece)
    if aligned is None:
        return piece.mark
    return _mark_of(src, sources.starts(src), aligned[min(offset, len(aligned) - 1)])


def align(piece: Piece, text: str, starts: list[int]) -> list[int] | None:
    """For each character of a scalar's value (and one past its end), its offset in the source.

    Walks the value and the source text together: each value character is found at or after
    the current source position, on that line or the next (a folded line break, an escape or
    indentation sits between them in the source). Only the scalar's own stretch of the source
    is walked, so this costs the scalar's length."""
    _, line, col = piece.mark
    if not 1 <= line <= len(starts):
        return None
    pos = starts[line - 1] + col - 1
    if text[pos : pos + 1] in ("|", ">"):  # a block scalar's value starts on the next line
        newline = text.find("\n", pos)
        pos = len(text) if newline < 0 else newline + 1
    elif text[pos : pos + 1] in ("'", '"'):
        pos += 1
    out = []
    for ch in piece.value:
        found = _find_near(text, ch, pos)
        if found >= 0:
            pos = found
        out.append(pos)
        if found >= 0:
            pos += 1
    out.append(pos)
    return out


def _find_near(text: str, ch: str, pos: int) -> int:
    """ch at or after pos, no further than the end of the next line; -1 when it is not there."""
    end = text.find("\n", pos)
    if end >= 0:
        following = text.find("\n", end + 1)
        end = len(text) if following < 0 else following
    else:
        end = len(text)
    return text.find(ch, pos, end + 1 if ch == "\n" else end)


def _mark_of(src: str, starts: list[int], pos: int) -> Mark:
    import bisect

    index = bisect.bisect_right(starts, pos) - 1
    return (src, index + 1, pos - starts[index] + 1)
