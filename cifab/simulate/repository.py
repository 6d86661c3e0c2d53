"""The repository a simulated pipeline runs in: the files `rules:exists` globs against, and
the history `rules:changes:compare_to` compares with.

Rules::Rule::Clause::Exists looks exact paths up, matches `**/*.ext` by suffix, sends other
globs through File.fnmatch, and past 10,000 comparisons it holds. Clause::Changes with
compare_to compares the pipeline's commit with the merge base of it and the ref
(Pipeline#modified_paths_since)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from cifab import git
from cifab.gitlab import MAX_EXISTS_COMPARISONS
from cifab.pipeline.include import glob_in
from cifab.pipeline.patterns import glob


def repository_files(root: Path | None) -> list[str]:
    """The files `rules:exists` globs against: git's list, or a walk of the folder."""
    if root is None:
        return []
    try:
        proc = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, timeout=30, check=False)
        if proc.returncode == 0:
            return [p for p in proc.stdout.decode("utf-8", "replace").split("\0") if p]
    except (OSError, subprocess.TimeoutExpired):
        pass
    # Not a git checkout: the bounded walk local includes use (no symlinked folders followed).
    return [p for p in glob_in(root, "**") if not p.startswith(".git/")]


class Capped(int):
    """True, because GitLab's comparison cap was reached, not because a file matched."""


CAPPED = Capped(1)


class Repository:
    """The repository's files as `rules:exists` sees them, with each clause's verdict kept
    (the simulations of one pipeline's events ask the same clauses again and again), and its
    history for `compare_to`. root None: no checkout, so compare_to cannot be answered."""

    def __init__(self, paths: list[str], root: Path | None = None, head: str = "HEAD") -> None:
        self.all = paths
        self.top = [p for p in paths if "/" not in p]
        self.sets = (set(self.all), set(self.top))
        self.exists: dict[tuple[str, ...], int] = {}
        self.root = root
        self.head = head
        self._since: dict[str, tuple[str, ...] | None] = {}
        self._commits: dict[str, str | None] = {}

    def holds(self, globs: tuple[str, ...]) -> int:
        if not globs:
            return 0
        top = all("/" not in g and "**" not in g for g in globs)
        paths, known = (self.top, self.sets[1]) if top else (self.all, self.sets[0])
        exact = [g for g in globs if not any(c in g for c in "*?[{")]
        if any(g in known for g in exact):
            return 1
        suffixes = tuple(g.removeprefix("**/*") for g in globs if g not in exact and _extension_glob(g))
        if suffixes and any(p.endswith(suffixes) for p in paths):
            return 1
        patterns = [g for g in globs if g not in exact and not _extension_glob(g)]
        if len(paths) * len(patterns) > MAX_EXISTS_COMPARISONS:
            return CAPPED
        return int(any(glob(g).matches(p) for g in patterns for p in paths))

    def commit(self, ref: str) -> str | None:
        """The commit a compare_to ref names here, if the checkout has it."""
        if self.root is None:
            return None
        if ref not in self._commits:
            self._commits[ref] = git.commit_of(self.root, ref)
        return self._commits[ref]

    def changed_since(self, sha: str) -> tuple[str, ...] | None:
        if self.root is None:
            return None
        if sha not in self._since:
            self._since[sha] = git.changed_since(self.root, sha, self.head)
        return self._since[sha]


def _extension_glob(pattern: str) -> bool:
    """Exists#extension_glob?: `**/*.ext`, matched by suffix."""
    rest = pattern.removeprefix("**/*")
    return rest != pattern and rest.startswith(".") and "/" not in rest and not any(c in rest for c in "*?[{")
