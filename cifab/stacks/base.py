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
from typing import TYPE_CHECKING, Any, NotRequired, Protocol, TypedDict

from cifab.files import Refused, read_limited

if TYPE_CHECKING:
    from cifab.stacks.audit import Audit

# cifab's stages, in pipeline order. A stack's jobs fall into the first three; deploys
# (cifab's environments and a stack's own release job) into the last.
STAGES = ("lint", "test", "build", "deploy")
JOB_STAGES = STAGES[:-1]  # where a stack's own checks and builds go; deploys come after

class Asker(Protocol):
    """Takes (question, default, key, check) and returns the answer: a prompt on a terminal,
    or accept_defaults. key is the manifest key the answer becomes ("go", "version"): a
    prompt checks each answer against the schema there, and with check (the reason an answer
    does not fit the repository, or None), and asks again until it fits."""

    def __call__(self, question: str, default: Any, key: tuple[str, ...] = (),
                 check: Callable[[str], str | None] | None = None) -> Any: ...

_VALID_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def accept_defaults(question: str, default: Any, key: tuple[str, ...] = (),
                    check: Callable[[str], str | None] | None = None) -> Any:
    return default


@dataclass
class Detection:
    """What `cifab init` found in a repository."""

    stack: str | None
    name: str
    settings: dict[str, Any] = field(default_factory=dict)  # the stack's manifest section
    dockerfile: bool = False
    evidence: list[str] = field(default_factory=list)
    quotes: str = "double"  # the quote style the project's YAML formatter wants
    line_length: int = 0  # the longest YAML line its linter accepts (0: any)
    # What a generic pipeline of this repository would run: image, and commands per role.
    suggested: dict[str, Any] = field(default_factory=dict)
    unsupported: str = ""  # "Maven project (pom.xml): cifab has no java stack yet", when so
    root: str = ""  # the repository root, relative, when init runs below it
    image: dict[str, Any] = field(default_factory=dict)  # image settings besides build (compose's builds)
    # The root of the uv workspace this folder is a member of (its uv.lock is there), if any.
    uv_workspace: Path | None = None


# Facts of no one stack: the image a job that only runs a shell needs, and the jobs every
# stack's pipeline may get.
SHELL_IMAGE = "alpine:3.22"
IMAGE_JOB = "container-image"
SELF_CHECK_JOB = "cifab-check"
RELEASE_JOB = "release"
# glab, which the `release:` keyword runs (release-cli is deprecated since GitLab 18.0). Its
# registry is the one GitLab's own templates name with $CI_TEMPLATE_REGISTRY_HOST.
GLAB_IMAGE = "$CI_TEMPLATE_REGISTRY_HOST/gitlab-org/cli:v1.114.0"
# Keyless signing with cosign, as GitLab documents it: Alpine's cosign package (2.x).
COSIGN_IMAGE = SHELL_IMAGE
SIGN_IMAGE_JOB = "sign-image"
SIGN_FILES_JOB = "sign-artifacts"


class Jobs(TypedDict):
    """Job names per cifab stage, as the stack's templates write them."""

    lint: list[str]
    test: list[str]
    build: list[str]
    deploy: list[str]


class Sbom(TypedDict):
    """A stack's CycloneDX SBOM job (base/sbom.yml.j2): what writes it, and where."""

    extends: str | None  # the stack's hidden cache job, when the generator builds or installs
    variables: dict[str, str]
    script: list[str]
    report: str | list[str]  # artifacts:reports:cyclonedx


class ReleaseFiles(TypedDict):
    jobs: list[str]  # the build jobs that keep them
    paths: list[str]  # folders or files, as their artifacts:paths name them


class StackContext(TypedDict):
    """What a stack adds to the render context: its own section (under the stack's name,
    typed by the stack module), its jobs, and whether it always builds the image."""

    section: Mapping[str, Any]
    jobs: Jobs
    force_image: bool
    # Its dependency audit (cifab.stacks.audit); absent where the stack has no package manager.
    audit: NotRequired[Audit]
    # What its build jobs keep that a release ships (binaries, packages): signed on tags when
    # the manifest asks (signing: true). Absent where the build output is not a release's.
    release_files: NotRequired[ReleaseFiles]
    # Its CycloneDX SBOM of the runtime dependencies; absent where cifab cannot say what ships.
    sbom: NotRequired[Sbom]


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
    # The defaults of its manifest section that are not tool pins (the language version):
    # the schema's defaults are filled from here, never written twice.
    defaults: Mapping[str, str] = field(default_factory=dict)
    # Its jobs' names by role (test: go-test): the templates write each job under the name
    # the render context gives, so a name is spelt once.
    job_names: Mapping[str, str] = field(default_factory=dict)
    # Other names people give the stack (golang, nodejs): a "did you mean" for them.
    aliases: tuple[str, ...] = ()
    # Its test job takes services (a database) and variables: its section has those keys.
    takes_services: bool = False
    # The jobs (by role) that share the stack's cache, the one to write it first: the first
    # of them in the pipeline writes, the others only read (one writer per cache key).
    cache_roles: tuple[str, ...] = ()
    # GitLab's SAST analyzers cover its language (Jobs/SAST.gitlab-ci.yml finds its files).
    sast: bool = False
    # Job kinds (lint, build...) that take longer than cifab.generate.context.TIMEOUTS gives.
    timeouts: Mapping[str, str] = field(default_factory=dict)


def asks_version(question: str, stack: str) -> Callable[[dict[str, Any], Asker, dict[str, Any]], dict[str, Any]]:
    """The usual proposal: the schema's defaults, what detection found over them, and the
    version asked."""

    def propose(settings: dict[str, Any], ask: Asker, defaults: dict[str, Any]) -> dict[str, Any]:
        section = {**defaults, **settings}
        section["version"] = str(ask(question, section["version"], (stack, "version")))
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


_KINDS: dict[type, tuple[str, str]] = {  # (in TOML, in JSON)
    dict: ("a table", "an object"), list: ("an array", "an array"), str: ("a string", "a string"),
    bool: ("a boolean", "a boolean"), int: ("an integer", "a number"), float: ("a float", "a number"),
}


def checked(data: Any, file: str, shape: Mapping[str, type | tuple[type, ...]], found: Detection) -> dict[str, Any]:
    """data with every key that does not have the type `shape` gives it removed, and each
    removal reported as a warning with the file and key: init reads what it can.

    shape maps dotted key paths ("project.requires-python") to the expected type(s);
    a parent comes before its children."""
    json_file = file.endswith(".json")
    if not isinstance(data, dict):
        found.evidence.append(f"warning: {file}: the top level is {_kind(data, json_file)}, "
                              f"not {_KINDS[dict][json_file]}; read as empty")
        return {}
    for path, expected in shape.items():
        *parents, key = path.split(".")
        holder: Any = data
        for part in parents:
            holder = holder.get(part) if isinstance(holder, dict) else None
        if not isinstance(holder, dict) or key not in holder:
            continue
        value = holder[key]
        types = expected if isinstance(expected, tuple) else (expected,)
        if isinstance(value, types) and not (isinstance(value, bool) and bool not in types):
            continue
        del holder[key]
        wanted = " or ".join(_KINDS[t][json_file] for t in types)
        found.evidence.append(f"warning: {file}: {path} is {_kind(value, json_file)}, not {wanted}; ignored")
    return data


def _kind(value: Any, json_file: bool) -> str:
    for kind, words in _KINDS.items():
        if isinstance(value, kind):
            return words[json_file] if not isinstance(value, bool) else "a boolean"
    return "null" if value is None else type(value).__name__


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(read_text(path))
    except tomllib.TOMLDecodeError:
        return {}


def commands(value: Any) -> list[str]:
    """A manifest's script: one command or a list of them."""
    return [value] if isinstance(value, str) else list(value)
