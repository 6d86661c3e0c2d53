"""The docker stack, for a repository that is only a Dockerfile (and maybe a compose file):
hadolint on every Dockerfile the image jobs build, then the shared image build."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypedDict

from cifab.stacks.base import Asker, Detection, Stack, StackContext, jobs, read_text

PINS = {"hadolint": "v2.15.1"}
# Rootless BuildKit: what every stack's image job builds with (GitLab's documented successor
# to Kaniko).
BUILDKIT_IMAGE = "moby/buildkit:v0.25.1-rootless"
JOB = {"lint": "hadolint"}
# Where hadolint looks for the project's settings, in its working directory.
CONFIG_FILES = (".hadolint.yaml", ".hadolint.yml")
_MAINTAINER = re.compile(r"^\s*MAINTAINER\s", re.I | re.M)


class DockerSection(TypedDict):
    image: str
    report: str
    check: str


def detect(repo: Path, found: Detection) -> bool:
    if not found.dockerfile:
        return False
    settings: dict[str, Any] = {}
    config = next((f for f in CONFIG_FILES if (repo / f).is_file()), None)
    if config:
        settings["failure_threshold"] = "config"
        found.evidence.append(f"hadolint: as {config} says")
    found.settings = settings
    found.evidence.append("only a Dockerfile: the docker stack")
    found.evidence.extend(deprecated_maintainer(repo, "Dockerfile"))
    return True


def deprecated_maintainer(repo: Path, dockerfile: str) -> list[str]:
    """A note for a MAINTAINER instruction: hadolint's DL4000, an error that fails the lint job."""
    text = read_text(repo / dockerfile)
    match = _MAINTAINER.search(text)
    if not match:
        return []
    line = text.count("\n", 0, match.start()) + 1
    return [f"note: {dockerfile}:{line}: MAINTAINER is deprecated (hadolint DL4000, an error): the hadolint job "
            "fails until it becomes LABEL org.opencontainers.image.authors=\"...\""]


def propose(settings: dict[str, Any], ask: Asker, defaults: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in {**defaults, **settings}.items() if k not in PINS}


def context(data: dict[str, Any]) -> StackContext:
    docker = data["docker"]
    image = data["image"]
    dockerfiles = [b["dockerfile"] for b in image.get("builds") or []] or [image["dockerfile"]]
    files = " ".join(dockerfiles)  # the schema's path pattern needs no shell quoting
    # The project's .hadolint.yaml (read from the working directory) decides, when it has
    # one; otherwise only errors fail the job, and warnings show in the report.
    threshold = "" if docker["failure_threshold"] == "config" else f" --failure-threshold {docker['failure_threshold']}"
    section = DockerSection(image=f"hadolint/hadolint:{docker['hadolint']}-debian",
                            report=f"hadolint --no-fail --format gitlab_codeclimate {files} > "
                                   "gl-code-quality-report.json",
                            check=f"hadolint{threshold} {files}")
    # This stack exists to build the image, whatever image.build says.
    return StackContext(section=section, jobs=jobs(lint=[JOB["lint"]]), force_image=True)


STACK = Stack("docker", "a Dockerfile alone", detect, propose, context, PINS, aliases=("dockerfile", "container"),
              job_names=JOB)
