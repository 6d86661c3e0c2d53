"""The render context: everything the templates need, computed from a manifest."""

from __future__ import annotations

from typing import Any

from cifab import __version__, hatches
from cifab.manifest import Manifest
from cifab.stacks import docker, generic, go, node, python, rust

STACKS = {"go": go.context, "python": python.context, "node": node.context, "rust": rust.context,
          "docker": docker.context, "generic": generic.context}
STAGES = ("lint", "test", "build", "deploy")


def build(manifest: Manifest) -> dict[str, Any]:
    data = manifest.data
    ctx: dict[str, Any] = {
        "cifab_version": __version__,
        "gitlab": build_gitlab(data),
        "project": data["project"],
        "stack": data["stack"],
        "image": _image(data["image"]),
    }
    ctx.update(STACKS[data["stack"]](data))
    environments = [_environment(env) for env in data["deploy"]["environments"]]
    ctx["deploy"] = {"image": data["deploy"]["image"], "environments": environments}
    jobs: dict[str, list[str]] = ctx["jobs"]
    if ctx.pop("force_image", False):
        ctx["image"]["build"] = True
    ctx["stack_stages"] = [stage for stage in ("lint", "test", "build") if jobs.get(stage)]
    if ctx["image"]["build"]:
        jobs.setdefault("build", []).append(IMAGE_JOB)
    # A deploy waits for every job that vouches for the commit: lint, test and build.
    ctx["deploy_needs"] = [job for stage in ("lint", "test", "build") for job in jobs.get(stage, [])]
    ctx["stack_deploy"] = bool(jobs.get("deploy"))  # a stack's own release job, such as a package upload
    ctx["self_check"] = self_check(data)
    if ctx["self_check"]:
        # Not among deploy_needs: it runs only in merge requests and on the default branch,
        # and a need on a job that a pipeline lacks would break tag pipelines.
        jobs.setdefault("lint", []).append(SELF_CHECK_JOB)
    jobs["deploy"] = [*jobs.get("deploy", []), *(env["job"] for env in environments)]
    ctx["stages"] = [stage for stage in STAGES if jobs.get(stage)]
    return ctx


def build_gitlab(data: dict[str, Any]) -> dict[str, bool]:
    """Keywords the oldest GitLab the pipeline targets understands."""
    version = data.get("gitlab_version")
    return {"auto_cancel": hatches.supports(version, hatches.AUTO_CANCEL_SINCE)}


IMAGE_JOB = "container-image"
SELF_CHECK_JOB = "cifab-check"
SELF_CHECK_IMAGE = "python:3.12-slim"


def self_check(data: dict[str, Any]) -> dict[str, str] | None:
    """The cifab-check job's settings, or None when the manifest does not ask for it."""
    setting = data.get("self_check", False)
    if setting is False:
        return None
    options = setting if isinstance(setting, dict) else {}
    return {
        "job": SELF_CHECK_JOB,
        "image": options.get("image", SELF_CHECK_IMAGE),
        "install": options.get("install", f"pip install --quiet cifab=={__version__}"),
    }


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
