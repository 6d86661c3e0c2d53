"""The render context: everything the templates need, computed from a manifest."""

from __future__ import annotations

from typing import Any

from cifab import __version__
from cifab.manifest import Manifest
from cifab.stacks import generic, go

STACKS = {"go": go.context, "generic": generic.context}
STAGES = ("lint", "test", "build", "deploy")


def build(manifest: Manifest) -> dict[str, Any]:
    data = manifest.data
    ctx: dict[str, Any] = {
        "cifab_version": __version__,
        "project": data["project"],
        "stack": data["stack"],
        "image": _image(data["image"]),
    }
    ctx.update(STACKS[data["stack"]](data))
    environments = [_environment(env) for env in data["deploy"]["environments"]]
    ctx["deploy"] = {"image": data["deploy"]["image"], "environments": environments}
    jobs: dict[str, list[str]] = ctx["jobs"]
    jobs["deploy"] = [env["job"] for env in environments]
    ctx["stages"] = [stage for stage in STAGES if jobs.get(stage)]
    # A deploy waits for every job that vouches for the commit: lint, test and build.
    ctx["deploy_needs"] = [job for stage in ("lint", "test", "build") for job in jobs.get(stage, [])]
    return ctx


def _environment(env: dict[str, Any]) -> dict[str, Any]:
    script = env["script"]
    return {
        "name": env["name"],
        "job": f"deploy-{env['name']}",
        "url": env.get("url"),
        "script": generic.commands(script),
        "when": env["when"],
        "manual": env["manual"],
    }


def _image(image: dict[str, Any]) -> dict[str, Any]:
    # buildctl takes the Dockerfile's directory and its file name separately.
    directory, _, name = str(image["dockerfile"]).rpartition("/")
    return {**image, "dockerfile_dir": directory or ".", "dockerfile_name": name}
