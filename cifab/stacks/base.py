"""What a stack is: one record of data and functions, and the pieces every stack shares.

A stack module holds one `Stack`: how to recognise the stack in a repository (detect),
the manifest section `cifab init` proposes (propose), the typed render context its
templates receive (context), the names of the jobs it renders, and its tool pins.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from cifab.files import Refused, read_limited

# cifab's stages, in pipeline order. A stack's jobs fall into the first three; deploys
# (cifab's environments and a stack's own release job) into the last.
STAGES = ("lint", "test", "build", "deploy")
JOB_STAGES = STAGES[:-1]  # where a stack's own checks and builds go; deploys come after

# An asker takes (question, default) and returns the answer: a prompt on a terminal, or
# accept_defaults.
Asker = Callable[[str, Any], Any]

_VALID_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def accept_defaults(_question: str, default: Any) -> Any:
    return default


@dataclass
class Detection:
    """What `cifab init` found in a repository."""

    stack: str | None
    name: str
    settings: dict[str, Any] = field(default_factory=dict)  # the stack's manifest section
    dockerfile: bool = False
    evidence: list[str] = field(default_factory=list)


class Jobs(TypedDict):
    """Job names per cifab stage, as the stack's templates write them."""

    lint: list[str]
    test: list[str]
    build: list[str]
    deploy: list[str]


class StackContext(TypedDict):
    """What a stack adds to the render context: its own section (under the stack's name,
    typed by the stack module), its jobs, and whether it always builds the image."""

    section: Mapping[str, Any]
    jobs: Jobs
    force_image: bool


@dataclass(frozen=True)
class Stack:
    name: str
    summary: str  # one line, for `cifab init --help` and the docs
    # Recognise the stack in a folder; fills the Detection and says whether it matched.
    detect: Callable[[Path, Detection], bool]
    # The manifest section init proposes: (detected settings, asker, the schema's defaults).
    propose: Callable[[dict[str, Any], Asker, dict[str, Any]], dict[str, Any]]
    # The stack's render context from a validated manifest's data.
    context: Callable[[dict[str, Any]], StackContext]
    # Tool versions the stack's jobs use; keys the manifest section may override are
    # also that key's default there.
    pins: Mapping[str, str] = field(default_factory=dict)


def asks_version(question: str) -> Callable[[dict[str, Any], Asker, dict[str, Any]], dict[str, Any]]:
    """The usual proposal: the schema's defaults, what detection found over them, and the
    version asked."""

    def propose(settings: dict[str, Any], ask: Asker, defaults: dict[str, Any]) -> dict[str, Any]:
        section = {**defaults, **settings}
        section["version"] = str(ask(question, section["version"]))
        return section

    return propose


def jobs(lint: list[str] | None = None, test: list[str] | None = None, build: list[str] | None = None,
         deploy: list[str] | None = None) -> Jobs:
    return Jobs(lint=lint or [], test=test or [], build=build or [], deploy=deploy or [])


def safe_name(text: str) -> str:
    """A project or job name made of the characters GitLab and file systems accept."""
    cleaned = _VALID_NAME.sub("-", text).strip("-._")
    return cleaned or "app"


READ_LIMIT = 1024 * 1024  # a project file init reads for versions and settings


def read_text(path: Path) -> str:
    """A file's text, or "" when it is missing, not a regular file (a FIFO, or a link to
    /dev/zero, would never end), or unreadable; at most READ_LIMIT bytes of it."""
    try:
        return read_limited(path, READ_LIMIT)[:READ_LIMIT].decode("utf-8", errors="replace")
    except (OSError, Refused):
        return ""


def table(data: Any, key: str) -> dict[str, Any]:
    """A TOML table (or JSON object) under key, or an empty one when the file has
    something else there: init reads what it can of an oddly typed file."""
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(read_text(path))
    except tomllib.TOMLDecodeError:
        return {}


def commands(value: Any) -> list[str]:
    """A manifest's script: one command or a list of them."""
    return [value] if isinstance(value, str) else list(value)
