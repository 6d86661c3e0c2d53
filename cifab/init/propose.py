"""`cifab init`: turn a detection (and a few answers) into a manifest, and write it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from cifab import files
from cifab.errors import CifabError, ProblemsError
from cifab.generate.scalars import plain_safe, quote_char, quoting
from cifab.init.detect import detect
from cifab.manifest.load import MANIFEST_NAME, parse
from cifab.manifest.schema import section_defaults
from cifab.stacks import BY_NAME, CHOICES, MONOREPO, docker, generic
from cifab.stacks.base import Asker, Detection, accept_defaults

MANIFEST_HEADER = (
    "# cifab manifest: `cifab generate` turns it into .gitlab-ci.yml.\n"
    "# Every key and its default: `cifab schema`.\n"
)


# The deploys init offers: staging from the default branch, production on tags by hand.
# Each exists only when its command is given: a deploy nobody configured would make the
# first pipeline on the default branch red.
ENVIRONMENTS = (
    ("staging", "Staging deploy command, run from the default branch (empty: no staging deploy)",
     {"when": "default_branch", "manual": False}),
    ("production", "Production deploy command, run by hand on tags (empty: no production deploy)",
     {"when": "tags", "manual": True}),
)


def ask_environments(ask: Asker) -> list[dict[str, Any]]:
    envs = []
    for name, question, settings in ENVIRONMENTS:
        command = str(ask(question, "", ()) or "").strip()
        if command:
            envs.append({"name": name, **settings, "script": [command]})
    return envs


def propose(detection: Detection, stack: str | None, ask: Asker = accept_defaults) -> dict[str, Any]:
    chosen = stack or detection.stack
    if chosen is None:
        raise CifabError(undetected(detection))
    if chosen not in CHOICES:
        raise CifabError(f"stack '{chosen}' is not supported; supported: {', '.join(CHOICES)}")
    settings = detection.settings if chosen == detection.stack else \
        detection.suggested if chosen == generic.STACK.name else {}
    project = str(ask("Project name", detection.name, ("project",)))
    data: dict[str, Any] = {"cifab": 1, "project": project, "stack": chosen}
    if detection.quotes == "single":
        data["quotes"] = "single"
    if detection.line_length:
        data["line_length"] = detection.line_length
    if chosen == MONOREPO:
        data.update(_monorepo(settings))
        return data  # images and deploys belong to each component
    data[chosen] = BY_NAME[chosen].propose(settings, ask, section_defaults(chosen))
    # Only a repository with a Dockerfile is asked about building it.
    build_image = chosen == docker.STACK.name or (detection.dockerfile and bool(
        ask("Build a container image from the Dockerfile?", detection.image.get("build", True), ("image", "build"))))
    # Where compose says the image is built from (its context, or several images), kept.
    data["image"] = {**(detection.image if build_image else {}), "build": build_image}
    environments = ask_environments(ask)
    if environments:
        data["deploy"] = {"environments": environments}
    return data


def undetected(detection: Detection) -> str:
    """Why init found no stack, and what to do: name the ecosystem cifab has no stack for,
    with the commands a generic pipeline would start from."""
    seen = detection.suggested
    commands = "; ".join(f"{role}: {' && '.join(seen[role])}" for role in ("lint", "test", "build") if role in seen)
    generic_hint = ("`cifab init --stack generic` writes a pipeline of your own commands"
                    + (f", starting from what it sees ({commands})" if commands else ""))
    if detection.unsupported:
        return f"{detection.unsupported}; {generic_hint}"
    where = f", or run cifab init in the repository root ({detection.root})" if detection.root else ""
    return ("could not detect the stack (no go.mod, pyproject.toml, setup.py, requirements*.txt, package.json, "
            f"Cargo.toml or Dockerfile here); pass --stack NAME{where}; {generic_hint}")


def _monorepo(settings: dict[str, Any]) -> dict[str, Any]:
    components = settings.get("components") or []
    if not components:
        raise CifabError("no components found: a monorepo needs folders with go.mod, pyproject.toml, "
                         "package.json, Cargo.toml or a Dockerfile")
    # Each component keeps what detection found; the schema's defaults fill in the rest.
    return {"components": components, "shared_paths": []}


def dump(data: dict[str, Any]) -> str:
    """A manifest as YAML text, in the order given."""
    import yaml

    class Dumper(yaml.SafeDumper):
        # Indent list items under their key, as people write YAML by hand.
        def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
            super().increase_indent(flow, False)

        # Two settings holding the same list are two lists to the reader: no &anchors.
        def ignore_aliases(self, data: Any) -> bool:
            return True

    def quote_numeric(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        # "1.26.1" reads back as a string either way, but a user who edits it to 1.27
        # keeps the quotes and so keeps a string. What needs quotes gets the manifest's style.
        numeric = value.replace(".", "").isdigit()
        style = quote_char(value) if numeric or not plain_safe(value) else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, quote_numeric)
    with quoting(str(data.get("quotes", "double"))):
        return str(yaml.dump(data, Dumper=Dumper, sort_keys=False, default_flow_style=False,
                             width=int(data.get("line_length") or 1000), allow_unicode=True))


def init_repository(directory: Path, stack: str | None, force: bool, ask: Asker | None,
                    on_evidence: Callable[[str], object] = lambda _line: None) -> Path:
    """Detect, propose and write cifab.yml in a repository; returns the manifest's path.
    ask is None to take every default."""
    if not directory.is_dir():
        raise CifabError(f"{directory}: not a directory")
    path = directory / MANIFEST_NAME
    if path.exists() and not force:
        raise CifabError(f"{path} already exists; pass --force to replace it")
    found = detect(directory)
    for line in found.evidence:
        on_evidence(line)
    write_manifest(path, propose(found, stack, ask or accept_defaults), force)
    return path


def existing_pipeline(directory: Path) -> Path | None:
    """A .gitlab-ci.yml in the repository that cifab did not write, which `generate` will
    refuse to replace without --force."""
    from cifab.contract import State, state

    path = directory / ".gitlab-ci.yml"
    try:
        text = files.read_text(path) if path.is_file() else None
    except (OSError, UnicodeDecodeError):
        return path
    return path if text is not None and state(text) is State.FOREIGN else None


def manifest_text(data: dict[str, Any]) -> str:
    return MANIFEST_HEADER + dump(data)


def write_manifest(path: Path, data: dict[str, Any], force: bool) -> None:
    if path.exists() and not force:
        raise CifabError(f"{path} already exists; pass --force to replace it")
    text = manifest_text(data)
    # Validate what we are about to write with the same loader users' files go through; its
    # positions would point into a file that does not exist, so only the messages are shown.
    try:
        parse(text.encode("utf-8"), str(path), path)
    except ProblemsError as exc:
        reasons = "; ".join(p.message for p in exc.problems)
        raise CifabError(f"{path} was not written: the answers do not make a valid manifest ({reasons})") from None
    files.atomic_write(path, text)
