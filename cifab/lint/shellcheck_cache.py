"""ShellCheck's verdicts kept between runs, where no repository can plant them.

ShellCheck spends about half a millisecond of CPU on every command it reads, so a large
pipeline costs seconds on every run even when one script changed. A verdict depends only on
the script's text, on ShellCheck itself and on the options it runs with, so that is all it
is keyed by: a hash of the text, in a file named by a hash of `shellcheck --version`'s output
and the options. Never a path or an mtime, which say nothing about what ran.

A repository is input like any other, and a cache it could write would let a merge request
silence ShellCheck in the self-check job. So:

- the cache lives outside the checkout: `$CIFAB_CACHE_DIR`, else `$XDG_CACHE_HOME/cifab`,
  else `~/.cache/cifab`. In CI, point CIFAB_CACHE_DIR at a folder a GitLab `cache:` entry
  keeps (GitLab caches only paths in the project folder, and keeps the caches of protected
  and unprotected branches apart);
- a cache file that git tracks is never read, wherever the folder is;
- every entry must pass a strict shape check (the fields ShellCheck's json1 gives, of their
  types and in their ranges) or the whole file counts as empty; no float, no deep nesting.

It is only ever a shortcut: a file that is missing, unreadable or malformed counts as empty,
and a cache that cannot be written is left alone without a word.
"""

from __future__ import annotations

import json
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

from cifab.files import WriteRefused, atomic_write, repository_root

FORMAT = 2
# Verdicts kept per file beyond the ones this run used: enough for a few branches' worth of
# a very large pipeline, and a bound on what a run loads.
MAX_KEPT = 20_000
MAX_FILE_BYTES = 64 * 1024 * 1024
_IGNORE_ALL = "# Written by cifab: its cache, never committed.\n*\n"
# The fields of a comment in ShellCheck's json1 format that cifab keeps, and their checks.
_LEVELS = frozenset({"error", "warning", "info", "style"})
_MAX_POSITION = 10_000_000
_MAX_MESSAGE = 4_000


def digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@cache
def version(program: str) -> str:
    """What `shellcheck --version` says: the ShellCheck that gives the verdicts."""
    try:
        proc = subprocess.run([program, "--version"], capture_output=True, timeout=30, check=False,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return ""
    return proc.stdout.decode("utf-8", "replace") if proc.returncode == 0 else ""


def identity(program: str, command: list[str]) -> str | None:
    """The cache file's key: ShellCheck's own version output and the options; None when
    the version cannot be told, and then nothing is cached."""
    said = version(program)
    return digest(said + "\0" + "\0".join(command))[:16] if said else None


def _refuse(value: str) -> Any:
    raise ValueError(f"not a value a verdict holds: {value}")


def _position(value: Any) -> bool:
    return type(value) is int and 0 <= value <= _MAX_POSITION


def _comment_ok(comment: Any) -> bool:
    return (type(comment) is dict
            and set(comment) == {"line", "endLine", "column", "endColumn", "level", "code", "message"}
            and all(_position(comment[k]) for k in ("line", "endLine", "column", "endColumn"))
            and comment["level"] in _LEVELS
            and type(comment["code"]) is int and 1000 <= comment["code"] <= 9999
            and type(comment["message"]) is str and len(comment["message"]) <= _MAX_MESSAGE)


def _verdicts(data: Any) -> dict[str, list[dict[str, Any]]]:
    """The file's verdicts when every one of them has the exact shape cifab writes; else none."""
    if type(data) is not dict or data.get("format") != FORMAT or type(data.get("verdicts")) is not dict:
        return {}
    verdicts = data["verdicts"]
    for key, comments in verdicts.items():
        if len(key) != 32 or type(comments) is not list or not all(_comment_ok(c) for c in comments):
            return {}
    return verdicts  # type: ignore[no-any-return]


def _tracked(path: Path) -> bool:
    """Whether git tracks the file: then a commit wrote it, and it is never trusted."""
    root = repository_root(path.parent)
    if root is None:
        return False
    try:
        proc = subprocess.run(["git", "ls-files", "--error-unmatch", "--", str(path)], cwd=path.parent,
                              capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return True  # cannot tell: distrust it
    return proc.returncode == 0


class ResultCache:
    def __init__(self, folder: Path, key: str) -> None:
        self.path = folder / f"shellcheck-{key}.json"
        self.folder = folder
        self.old = self._load()
        self.new: dict[str, list[dict[str, Any]]] = {}

    def _load(self) -> dict[str, list[dict[str, Any]]]:
        try:
            if self.path.is_symlink() or not self.path.is_file() or self.path.stat().st_size > MAX_FILE_BYTES:
                return {}
            if _tracked(self.path):
                return {}
            text = self.path.read_text(encoding="utf-8")
            return _verdicts(json.loads(text, parse_float=_refuse, parse_constant=_refuse))
        except (OSError, ValueError, RecursionError):
            return {}

    def get(self, text: str) -> list[dict[str, Any]] | None:
        key = digest(text)
        found = self.new.get(key)
        if found is None:
            found = self.old.get(key)
            if found is not None:
                self.new[key] = found
        return found

    def put(self, text: str, comments: list[dict[str, Any]]) -> None:
        kept = [{k: c.get(k) for k in ("line", "endLine", "column", "endColumn", "level", "code", "message")}
                for c in comments]
        # What ShellCheck said that would not pass the shape check is not kept: the next run
        # asks it again.
        if all(_comment_ok(c) for c in kept):
            self.new[digest(text)] = kept

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
            self.folder.mkdir(parents=True, exist_ok=True)
            ignore = self.folder / ".gitignore"
            if not ignore.exists() and not ignore.is_symlink():
                atomic_write(ignore, _IGNORE_ALL)
            atomic_write(self.path, json.dumps({"format": FORMAT, "verdicts": kept}, separators=(",", ":")))
        except (OSError, WriteRefused):
            pass  # a read-only home, or a link out of a checkout: the next run checks again
