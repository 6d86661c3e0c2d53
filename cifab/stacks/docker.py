"""The docker stack, for a repository that is only a Dockerfile: hadolint, then the shared
image build."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypedDict

from cifab.stacks.base import Asker, Detection, Stack, StackContext, jobs

PINS = {"hadolint": "v2.12.0"}
# Rootless BuildKit: what every stack's image job builds with (GitLab's documented successor
# to Kaniko).
BUILDKIT_IMAGE = "moby/buildkit:v0.25.1-rootless"
JOB = {"lint": "hadolint"}


class DockerSection(TypedDict):
    image: str


def detect(repo: Path, found: Detection) -> bool:
    if not found.dockerfile:
        return False
    found.settings = {}
    found.evidence.append("only a Dockerfile: the docker stack")
    return True


def propose(settings: dict[str, Any], ask: Asker, defaults: dict[str, Any]) -> dict[str, Any]:
    return {**defaults, **settings}


def context(data: dict[str, Any]) -> StackContext:
    section = DockerSection(image=f"hadolint/hadolint:{data['docker']['hadolint']}-debian")
    # This stack exists to build the image, whatever image.build says.
    return StackContext(section=section, jobs=jobs(lint=[JOB["lint"]]), force_image=True)


STACK = Stack("docker", "a Dockerfile alone", detect, propose, context, PINS, aliases=("dockerfile", "container"),
              job_names=JOB)
