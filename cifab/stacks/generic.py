"""Render context of the generic stack: the user's own commands, laid out the way cifab
lays out every pipeline."""

from __future__ import annotations

from typing import Any


def commands(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def context(data: dict[str, Any]) -> dict[str, Any]:
    generic = data["generic"]
    jobs: dict[str, list[str]] = {}
    stages: dict[str, dict[str, Any]] = {}
    for stage in ("lint", "test", "build"):
        if stage in generic:
            settings = dict(generic[stage])
            settings["script"] = commands(settings["script"])
            stages[stage] = settings
            jobs[stage] = [stage]
    return {
        "generic": {
            "image": generic["image"],
            "variables": generic.get("variables", {}),
            "cache": generic.get("cache"),
            "stages": stages,
        },
        "jobs": jobs,
    }
