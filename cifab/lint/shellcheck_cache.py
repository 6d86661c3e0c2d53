"""ShellCheck's verdicts kept between runs, in the repository's `.cifab_cache/`.

ShellCheck spends about half a millisecond of CPU on every command it reads, whatever the
command, so a large pipeline costs seconds on every run even when one script changed. Its
verdict depends only on the script's text, on the ShellCheck binary and on the options it
runs with, so a verdict is kept under a hash of the text, in a file named by the binary and
the options. A new ShellCheck or other exclusions start a file of their own.

Like ruff's and mypy's caches it lives in the repository (nothing is read from elsewhere),
ignores itself through its own `.gitignore`, and is only ever a shortcut: a file that is
missing, unreadable, malformed or written by someone else counts as empty, and a cache that
cannot be written is left alone without a word.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cifab.files import atomic_write

FOLDER = ".cifab_cache"
FORMAT = 1
# Verdicts kept per file beyond the ones this run used: enough for a few branches' worth of
# a very large pipeline, and a bound on what a run loads.
MAX_KEPT = 20_000
MAX_FILE_BYTES = 64 * 1024 * 1024
_IGNORE_ALL = "# Written by cifab: its cache, never committed.\n*\n"


def digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def identity(program: str, command: list[str]) -> str:
    """Names the binary by its resolved path, size and modification time (no process to
    start), and the options it runs with."""
    try:
        real = os.path.realpath(program)
        st = os.stat(real)
        who = f"{real}\0{st.st_size}\0{st.st_mtime_ns}"
    except OSError:
        who = program
    return digest(who + "\0" + "\0".join(command))[:16]


class ResultCache:
    def __init__(self, folder: Path, key: str) -> None:
        self.path = folder / f"shellcheck-{key}.json"
        self.folder = folder
        self.old = self._load()
        self.new: dict[str, list[dict[str, Any]]] = {}

    def _load(self) -> dict[str, list[dict[str, Any]]]:
        try:
            if self.folder.is_symlink() or self.path.is_symlink() or self.path.stat().st_size > MAX_FILE_BYTES:
                return {}
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("verdicts"), dict):
            return {}
        return {k: v for k, v in data["verdicts"].items()
                if isinstance(k, str) and isinstance(v, list) and all(isinstance(c, dict) for c in v)}

    def get(self, text: str) -> list[dict[str, Any]] | None:
        key = digest(text)
        found = self.new.get(key)
        if found is None:
            found = self.old.get(key)
            if found is not None:
                self.new[key] = found
        return found

    def put(self, text: str, comments: list[dict[str, Any]]) -> None:
        self.new[digest(text)] = [{k: v for k, v in c.items() if k != "file"} for c in comments]

    def save(self) -> None:
        """This run's verdicts first, then older ones up to the bound."""
        kept = dict(self.new)
        for key, value in self.old.items():
            if len(kept) >= max(MAX_KEPT, len(self.new)):
                break
            kept.setdefault(key, value)
        if kept == self.old:
            return
        try:
            self.folder.mkdir(exist_ok=True)
            # A link planted in a checkout must not carry the write out of the repository.
            if self.folder.is_symlink() or self.path.is_symlink():
                return
            ignore = self.folder / ".gitignore"
            if not ignore.exists() and not ignore.is_symlink():
                atomic_write(ignore, _IGNORE_ALL)
            atomic_write(self.path, json.dumps({"format": FORMAT, "verdicts": kept}, separators=(",", ":")))
        except OSError:
            pass  # a read-only checkout: the next run checks again
