"""Render context of the docker stack: hadolint, then the shared image build."""

from __future__ import annotations

from typing import Any


def context(data: dict[str, Any]) -> dict[str, Any]:
    docker = data["docker"]
    return {
        "docker": {**docker, "image": f"hadolint/hadolint:{docker['hadolint']}-debian"},
        "jobs": {"lint": ["hadolint"]},
        # This stack exists to build the image, whatever image.build says.
        "force_image": True,
    }
