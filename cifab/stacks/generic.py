"""The generic stack: the user's own commands, laid out the way cifab lays out every pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypedDict

from cifab.stacks.base import JOB_STAGES, SHELL_IMAGE, Asker, Detection, Stack, StackContext, commands, jobs


class GenericSection(TypedDict):
    image: str
    variables: dict[str, Any]
    cache: dict[str, Any] | None
    stages: dict[str, dict[str, Any]]


def detect(repo: Path, found: Detection) -> bool:
    return False  # chosen with --stack generic, never detected


def propose(settings: dict[str, Any], ask: Asker, defaults: dict[str, Any]) -> dict[str, Any]:
    image = str(ask("Image the jobs run in", SHELL_IMAGE, ("generic", "image")))
    return {"image": image, "test": {"script": [
        'echo "No test command yet: set generic.test.script in cifab.yml" >&2; exit 1']}}


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


STACK = Stack("generic", "your own commands in any image", detect, propose, context)
