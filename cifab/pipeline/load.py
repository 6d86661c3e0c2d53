"""Reading a pipeline from a file or stdin: bounded, decoded, parsed, with the repository
root its local includes resolve against. lint, graph, jobs and the review note all read a
pipeline through here."""

from __future__ import annotations

import sys
from pathlib import Path

from cifab.errors import CifabError
from cifab.files import Refused, read_limited, repository_root
from cifab.pipeline.config import Pipeline, build_pipeline
from cifab.pipeline.yamlpos import MAX_BYTES, YamlError, check_size, decode, load_text

STDIN = "-"


def _read(path: str) -> bytes:
    """At most one byte more than GitLab's file limit: the size check says the rest."""
    if path == STDIN:
        return sys.stdin.buffer.read(MAX_BYTES + 1)
    try:
        return read_limited(Path(path), MAX_BYTES)
    except FileNotFoundError:
        raise CifabError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CifabError(f"{path}: is a directory; name the CI file, e.g. {path}/.gitlab-ci.yml") from None
    except Refused as exc:
        raise CifabError(f"{path}: {exc}; name a CI file") from None
    except OSError as exc:
        raise CifabError(f"{path}: cannot read it: {exc.strerror}") from None


def include_root(path: str, root: Path | None) -> tuple[Path | None, bool]:
    """(root, verified) for one linted file: --root wins, then the git checkout around
    the file, then the file's own folder (unverified)."""
    if root is not None:
        return root, True
    if path == STDIN:
        return None, True
    folder = Path(path).resolve().parent
    repo = repository_root(folder)
    return (repo, True) if repo is not None else (folder, False)


def display_name(path: str) -> str:
    return "<stdin>" if path == STDIN else path


def read_source(path: str) -> tuple[str, str]:
    """(display name, text) of a file or stdin; YamlError when it is too big or not text."""
    src = display_name(path)
    raw = _read(path)
    # Size and encoding are checked on the bytes, before any decoding work.
    check_size(len(raw), src, MAX_BYTES)
    return src, decode(raw, src)


def load_pipeline(path: str, root: Path | None) -> tuple[Pipeline, str]:
    """The resolved pipeline of a file (or - for stdin), and the name to show for it."""
    try:
        src, text = read_source(path)
        loaded = load_text(text, src)
    except YamlError as exc:
        raise CifabError(str(exc)) from None
    folder, verified = include_root(path, root)
    return build_pipeline(loaded, folder, verified), src
