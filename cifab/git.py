"""What the local git checkout says about the project: its origin remote (the GitLab
project's path), its default branch, and the commits and diffs that `rules:changes:compare_to`
compares. Every answer is optional: a folder that is not a checkout, or a git that is missing
or slow, gives None, and callers say what they could not know."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import NamedTuple

TIMEOUT = 10  # seconds for one git command: these are local reads

_SCP_LIKE = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>[^/].*)$")  # git@host:group/project.git


class Remote(NamedTuple):
    server: str  # https://host[:port]
    path: str  # group/subgroup/project

    @property
    def host(self) -> str:
        return self.server.split("://", 1)[1]

    @property
    def namespace(self) -> str:
        return self.path.rsplit("/", 1)[0]

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[1]


def _git(folder: Path, *args: str) -> str | None:
    """git's output, or None when it failed, is missing or took too long."""
    try:
        proc = subprocess.run(["git", *args], cwd=folder, capture_output=True, timeout=TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.decode("utf-8", "replace") if proc.returncode == 0 else None


def _line(folder: Path, *args: str) -> str | None:
    out = _git(folder, *args)
    return out.strip() or None if out is not None else None


def parse_remote(remote: str) -> Remote | None:
    """A GitLab remote URL (https, ssh, git or scp-like) as server and project path."""
    remote = remote.strip()
    match = re.match(r"^(?P<scheme>https?|ssh|git)://(?:[^@/]+@)?(?P<host>[^/:]+)(?P<port>:\d+)?/(?P<path>.+)$",
                     remote)
    if match:
        scheme, host, path = match.group("scheme"), match.group("host"), match.group("path")
        base = f"{scheme}://{host}{match.group('port') or ''}" if scheme in ("http", "https") else f"https://{host}"
    else:
        scp = _SCP_LIKE.match(remote)
        if not scp:
            return None
        base, path = f"https://{scp.group('host')}", scp.group("path")
    path = path.removesuffix("/").removesuffix(".git")
    return Remote(base, path) if "/" in path else None


def origin(folder: Path) -> Remote | None:
    """The origin remote of the checkout at folder, when it reads as a GitLab project."""
    url = _line(folder, "remote", "get-url", "origin")
    return parse_remote(url) if url else None


class DefaultBranch(NamedTuple):
    name: str
    source: str  # where it came from, for the output


class Checkout(NamedTuple):
    default_branch: DefaultBranch
    origin: Remote | None


def checkout(folder: Path | None) -> Checkout:
    """What pipelines run in this checkout need from git, in two or three quick commands.

    The default branch is origin/HEAD, then git's init.defaultBranch, then a local main or
    master (the names GitLab gives new projects' default branch), then the branch checked
    out; `main` when none says. The project is what the origin remote names."""
    fallback = Checkout(DefaultBranch("main", "cifab's default (no git checkout says otherwise)"), None)
    if folder is None:
        return fallback
    config = _git(folder, "config", "--get-regexp", r"^(init\.defaultbranch|remote\.origin\.url)$") or ""
    settings = dict(line.split(" ", 1) for line in config.splitlines() if " " in line)
    url = settings.get("remote.origin.url")
    remote = parse_remote(url) if url else None
    refs = _git(folder, "for-each-ref", "--format=%(refname)%00%(symref)", "refs/remotes/origin/HEAD",
                "refs/heads/main", "refs/heads/master")
    if refs is None:  # not a checkout, or no git
        return fallback
    found = dict(line.split("\0", 1) for line in refs.splitlines() if "\0" in line)
    head = found.get("refs/remotes/origin/HEAD", "")
    if head.startswith("refs/remotes/origin/"):
        return Checkout(DefaultBranch(head.removeprefix("refs/remotes/origin/"), "origin/HEAD"), remote)
    if settings.get("init.defaultbranch"):
        return Checkout(DefaultBranch(settings["init.defaultbranch"], "git config init.defaultBranch"), remote)
    for name in ("main", "master"):
        if f"refs/heads/{name}" in found:
            return Checkout(DefaultBranch(name, f"the local {name} branch"), remote)
    current = _line(folder, "symbolic-ref", "--quiet", "--short", "HEAD")
    if current:
        return Checkout(DefaultBranch(current, "the branch checked out"), remote)
    return Checkout(fallback.default_branch, remote)


def default_branch(folder: Path | None) -> DefaultBranch:
    """The project's default branch as the checkout knows it (see checkout)."""
    return checkout(folder).default_branch


def commit_of(folder: Path, ref: str) -> str | None:
    """The commit a ref names, as GitLab's project.commit(ref) finds it: a branch, a tag or a
    SHA. The checkout's remote-tracking branch stands in for a branch it has not checked out."""
    if ref.startswith("-") or not ref.strip():
        return None
    for candidate in (ref, f"refs/heads/{ref}", f"refs/tags/{ref}", f"refs/remotes/origin/{ref}"):
        sha = _line(folder, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{candidate}^{{commit}}")
        if sha:
            return sha
    return None


def changed_since(folder: Path, base: str, head: str = "HEAD") -> tuple[str, ...] | None:
    """Pipeline#modified_paths_since: the paths changed between the merge base of base and
    head, and head. None when git cannot say."""
    merge_base = _line(folder, "merge-base", base, head)
    if not merge_base:
        return None
    out = _git(folder, "-c", "core.quotePath=false", "diff", "--name-only", "--no-renames", "-z", merge_base, head)
    if out is None:
        return None
    return tuple(p for p in out.split("\0") if p)
