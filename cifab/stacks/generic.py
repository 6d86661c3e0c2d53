"""The generic stack: the user's own commands, laid out the way cifab lays out every pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypedDict

from cifab.errors import CifabError
from cifab.stacks.base import JOB_STAGES, SHELL_IMAGE, Asker, Detection, Stack, StackContext, commands, jobs


class GenericSection(TypedDict):
    image: str
    variables: dict[str, Any]
    cache: dict[str, Any] | None
    stages: dict[str, dict[str, Any]]


def detect(repo: Path, found: Detection) -> bool:
    return False  # chosen with --stack generic, never detected


def propose(settings: dict[str, Any], ask: Asker, defaults: dict[str, Any]) -> dict[str, Any]:
    """The image and one command per job, offered from what the repository shows (its task
    runner, its ecosystem: settings), each asked; a job nobody gave a command for is left out,
    never written as a placeholder that fails by design."""
    section: dict[str, Any] = {"image": str(ask("Image the jobs run in", settings.get("image") or SHELL_IMAGE,
                                                ("generic", "image")))}
    for role in JOB_STAGES:
        seen = [str(c) for c in settings.get(role) or []]
        shown = " && ".join(seen)
        answer = str(ask(f"{role.capitalize()} command (empty: no {role} job)", shown, ()) or "").strip()
        if answer:
            section[role] = {"script": seen if answer == shown else [answer]}
    if not any(role in section for role in JOB_STAGES):
        raise CifabError("the generic stack runs your own commands, and none was given or seen here (no Makefile, "
                         "justfile, scripts/ or build file cifab knows): run `cifab init --stack generic` on a "
                         "terminal to give them, or write cifab.yml's generic section by hand (`cifab schema`)")
    return section


def context(data: dict[str, Any]) -> StackContext:
    generic = data["generic"]
    stages: dict[str, dict[str, Any]] = {}
    for stage in JOB_STAGES:  # each is one job of the same name
        if stage in generic:
            settings = dict(generic[stage])
            settings["script"] = commands(settings["script"])
            stages[stage] = settings
    section = GenericSection(image=generic["image"], variables=generic.get("variables", {}),
                             cache=generic.get("cache"), stages=stages)
    return StackContext(section=section, jobs=jobs(**{stage: [stage] for stage in stages}), force_image=False)


STACK = Stack("generic", "your own commands in any image", detect, propose, context,
              cache_roles=("test", "build", "lint"))
