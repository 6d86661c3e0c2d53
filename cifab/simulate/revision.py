"""A revision of a repository as GitLab sees it, read from git's object store.

`git ls-tree` lists every tracked file, whatever `.gitattributes` says (`git archive`
would leave out `export-ignore` paths, and with them a changed include). Only the files a
pipeline can include are written to a scratch folder, so that local includes resolve as
they were at that revision: files whose names end in .yml or .yaml, GitLab's condition for
an include. Their sizes are known from the listing before a byte is read, and `git cat-file
--batch` streams them one at a time:

- a file over GitLab's 2 MB limit is written cut just past it, so that lint says it is too
  big, as GitLab does;
- the files written together stay under MAX_REVISION_BYTES, or the revision is refused;
- a symlink is followed inside the tree (GitLab reads a linked `.gitlab-ci.yml`), never out.
"""

from __future__ import annotations

import posixpath
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cifab.errors import CifabError
from cifab.gitlab import MAX_FILE_BYTES, YAML_EXTENSION

MAX_REVISION_BYTES = 256 * 1024 * 1024  # of YAML files written for one revision
MAX_LINK_HOPS = 40  # as the kernel's own bound on symlink resolution
_LINK, _TREE_ENTRY_KINDS = "120000", ("blob",)


@dataclass(frozen=True)
class Entry:
    mode: str
    oid: str
    size: int
    path: str


@dataclass(frozen=True)
class Revision:
    folder: Path  # its YAML files, where local includes resolve
    files: list[str]  # every tracked path, for rules:exists


def git(root: Path, *args: str) -> str:
    try:
        proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CifabError(f"git {' '.join(args)} failed: {exc}") from None
    if proc.returncode != 0:
        said = proc.stderr.strip().splitlines()
        raise CifabError(f"git {' '.join(args)}: {said[-1] if said else 'failed'}")
    return proc.stdout.strip()


def _entries(root: Path, sha: str) -> dict[str, Entry]:
    try:
        proc = subprocess.run(["git", "ls-tree", "-r", "-z", "-l", "--full-tree", sha], cwd=root,
                              capture_output=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CifabError(f"git ls-tree {sha} failed: {exc}") from None
    if proc.returncode != 0:
        raise CifabError(f"cannot list revision {sha}: {proc.stderr.decode('utf-8', 'replace').strip()[:200]}")
    out: dict[str, Entry] = {}
    for record in proc.stdout.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, kind, oid, size = meta.decode("ascii", "replace").split()
        if kind in _TREE_ENTRY_KINDS:  # submodules (commit) have no content here
            path = raw_path.decode("utf-8", "replace")
            out[path] = Entry(mode, oid, int(size) if size.isdigit() else 0, path)
    return out


def _target(entries: dict[str, Entry], path: str, read_link: dict[str, str]) -> Entry | None:
    """The blob a path names, links followed inside the tree; None when a link leaves it,
    dangles or loops."""
    for _ in range(MAX_LINK_HOPS):
        entry = entries.get(path)
        if entry is None or entry.mode != _LINK:
            return entry
        target = read_link.get(path, "")
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
        if target.startswith("/") or joined == ".." or joined.startswith("../"):
            return None
        path = joined
    return None


class _Batch:
    """`git cat-file --batch`: one object at a time, read in bounded pieces."""

    def __init__(self, root: Path) -> None:
        self.proc = subprocess.Popen(["git", "cat-file", "--batch"], cwd=root, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def read(self, oid: str, keep: int) -> bytes:
        """The object's first `keep` bytes; the rest is read past, not kept."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(oid.encode("ascii") + b"\n")
        self.proc.stdin.flush()
        header = self.proc.stdout.readline().split()
        if len(header) != 3 or not header[2].isdigit():
            raise CifabError(f"git cat-file could not read object {oid}")
        left, kept = int(header[2]), bytearray()
        while left:
            chunk = self.proc.stdout.read(min(left, 1 << 20))
            if not chunk:
                raise CifabError(f"git cat-file stopped while reading object {oid}")
            left -= len(chunk)
            if len(kept) < keep:
                kept += chunk[: keep - len(kept)]
        self.proc.stdout.read(1)  # the newline after the content
        return bytes(kept)

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.kill()
        self.proc.wait()


@contextmanager
def checkout(root: Path, revision: str) -> Iterator[Revision]:
    """The repository at `revision`: its YAML files in a scratch folder, and its file list."""
    sha = git(root, "rev-parse", "--verify", f"{revision}^{{commit}}")
    entries = _entries(root, sha)
    batch = _Batch(root)
    try:
        links = {p: batch.read(e.oid, 4096).decode("utf-8", "replace") for p, e in entries.items() if e.mode == _LINK}
        wanted = {p: _target(entries, p, links) for p in entries if YAML_EXTENSION.match(p)}
        total = sum(min(e.size, MAX_FILE_BYTES + 1) for e in wanted.values() if e is not None)
        if total > MAX_REVISION_BYTES:
            raise CifabError(f"revision {revision} holds {total:,} bytes of YAML files; cifab reads at most "
                             f"{MAX_REVISION_BYTES:,} of one revision")
        with tempfile.TemporaryDirectory(prefix="cifab-diff-") as tmp:
            folder = Path(tmp)
            for path, entry in wanted.items():
                if entry is None or ".." in path.split("/") or path.startswith("/"):
                    continue  # a link out of the tree is not followed: the include is missing
                target = folder / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(batch.read(entry.oid, MAX_FILE_BYTES + 1))
            (folder / ".git").mkdir(exist_ok=True)  # marks the root for local includes
            yield Revision(folder, sorted(entries))
    finally:
        batch.close()
