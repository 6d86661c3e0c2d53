"""Reading and writing files safely: atomic replacement, never half a file."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from cifab.errors import CifabError


class WriteFailed(OSError):
    """A write that did not happen, named for the user: the file, the reason, and that the
    old content (if any) is still there."""

    def __init__(self, path: Path, exc: OSError, replaced: bool) -> None:
        kept = f"; {path.name} was left as it was" if replaced else ""
        super().__init__(exc.errno, f"cannot write {path}: {exc.strerror or exc}{kept}")
        self.message = str(self.strerror)


class WriteRefused(CifabError):
    """A write that would leave the repository or enter its .git folder."""


def write_target(path: Path) -> Path:
    """Where writing `path` really writes, refused when that leaves the repository the path
    names: a committed symlink (or a dangling one) must not carry a write out of the checkout,
    and nothing cifab writes belongs under .git/. A path outside any repository is the
    user's own choice and is written where it points."""
    lexical = Path(os.path.abspath(path))
    repository = repository_root(lexical.parent)
    real = Path(os.path.realpath(lexical))
    if repository is None:
        return real
    inside = repository.resolve()
    if not real.is_relative_to(inside):
        raise WriteRefused(f"{path} is a link to {real}, outside the repository {inside}: cifab writes inside "
                           "the repository only")
    if real.is_relative_to(inside / ".git"):
        raise WriteRefused(f"{path} is inside .git/ ({real}): cifab never writes there")
    return real


def atomic_write(path: Path, text: str) -> None:
    """Write through a temporary file in the same directory and rename it into place,
    so that a reader sees the old file or the new one, never half of one. A symlink stays a
    link (its target is replaced); a device or FIFO is written to as a stream, never replaced.
    Raises WriteRefused when the write would leave the repository (write_target), and
    WriteFailed, which names the file, when the write fails (a full disk)."""
    write_target(path)
    try:
        _atomic_write(path, text)
    except WriteFailed:
        raise
    except OSError as exc:
        raise WriteFailed(path, exc, replaced=path.is_file()) from None


def _atomic_write(path: Path, text: str) -> None:
    if path.is_symlink():
        path = path.resolve()
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            with open(path, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(text)
            return
    except FileNotFoundError:
        pass
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def repository_root(start: Path) -> Path | None:
    """The nearest folder at or above start that holds .git: where GitLab's paths start."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def read_text(path: Path) -> str | None:
    """The file's text, or None when it does not exist."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


class Refused(Exception):
    """A file cifab will not read: it leaves the repository, or is not a regular file. The
    message says which, in words fit for a finding."""


def read_limited(path: Path, limit: int, inside: Path | None = None) -> bytes:
    """A regular file's bytes, at most limit + 1 of them (so that the caller can tell a file
    that is too big). With `inside`, the file (symlinks resolved) must lie in that folder:
    GitLab reads local includes from the repository only. Devices, FIFOs and sockets are
    refused before anything is read: a read from /dev/zero never ends, and a FIFO blocks.
    OSError (a missing file, a directory) passes through."""
    real = path.resolve()
    if inside is not None and not real.is_relative_to(inside.resolve()):
        raise Refused("is outside the repository")
    fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise Refused("is not a regular file")
        return fh.read(limit + 1)


def same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def cache_folder(env: Mapping[str, str] | None = None) -> Path | None:
    """cifab's cache folder, outside every checkout: CIFAB_CACHE_DIR, XDG_CACHE_HOME/cifab or
    ~/.cache/cifab; None when CIFAB_CACHE_DIR is set empty (no cache) or no home is known."""
    env = os.environ if env is None else env
    if "CIFAB_CACHE_DIR" in env:
        chosen = env["CIFAB_CACHE_DIR"]
        return Path(chosen).absolute() if chosen else None
    xdg = env.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):
        return Path(xdg) / "cifab"
    home = env.get("HOME", "")
    return Path(home) / ".cache" / "cifab" if os.path.isabs(home) else None


def first_time(what: str) -> bool:
    """Whether cifab has not said `what` before on this machine (kept in the cache folder).
    Without a cache folder it cannot remember, and says it every time."""
    folder = cache_folder()
    if folder is None:
        return True
    marker = folder / "said" / what
    if marker.is_file():
        return False
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text("cifab said this once; delete the file to hear it again\n", encoding="utf-8")
    except OSError:
        pass
    return True
