"""`cifab init`: turn a detection (and a few answers) into a manifest."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from cifab import manifest, output
from cifab.detect import Detection
from cifab.errors import CifabError

SUPPORTED_STACKS = ("go", "python", "node", "rust", "docker", "generic", "monorepo")
PLACEHOLDER_SCRIPT = (
    'echo "No deploy command for {env} yet: set deploy.environments[{i}].script in cifab.yml" >&2; exit 1'
)
MANIFEST_HEADER = (
    "# cifab manifest: `cifab generate` turns it into .gitlab-ci.yml.\n"
    "# Every key and its default: `cifab schema`.\n"
)

# An asker takes (question, default) and returns the answer: typer's prompt on a terminal,
# or a function that returns the defaults.
Asker = Callable[[str, Any], Any]


def accept_defaults(_question: str, default: Any) -> Any:
    return default


def default_environments(project: str) -> list[dict[str, Any]]:
    envs = [
        {"name": "staging", "url": f"https://staging.{project}.example.com", "when": "default_branch",
         "manual": False},
        {"name": "production", "url": f"https://{project}.example.com", "when": "tags", "manual": True},
    ]
    for i, env in enumerate(envs):
        env["script"] = [PLACEHOLDER_SCRIPT.format(env=env["name"], i=i)]
    return envs


def propose(detection: Detection, stack: str | None, ask: Asker = accept_defaults) -> dict[str, Any]:
    chosen = stack or detection.stack
    if chosen is None:
        raise CifabError("could not detect the stack (no go.mod, pyproject.toml, requirements*.txt, package.json, "
                         "Cargo.toml or Dockerfile here); pass --stack NAME, or run cifab init in the repository "
                         "root")
    if chosen not in SUPPORTED_STACKS:
        raise CifabError(f"stack '{chosen}' is not supported; supported: {', '.join(SUPPORTED_STACKS)}")
    settings = detection.settings if chosen == detection.stack else {}
    project = str(ask("Project name", detection.name))
    data: dict[str, Any] = {"cifab": 1, "project": project, "stack": chosen}
    data.update(SECTIONS[chosen](settings, ask))
    if chosen == "monorepo":
        return data  # images and deploys belong to each component
    build_image = chosen == "docker" or bool(ask("Build a container image from the Dockerfile?",
                                                 detection.dockerfile))
    data["image"] = {"build": build_image}
    if ask("Deploy to staging (default branch) and production (tags, manual)?", build_image):
        data["deploy"] = {"environments": default_environments(project)}
    return data


def _defaults(stack: str) -> dict[str, Any]:
    return {k: v["default"] for k, v in manifest.schema()["properties"][stack]["properties"].items()
            if "default" in v}


def _go(settings: dict[str, Any], ask: Asker) -> dict[str, Any]:
    defaults = _defaults("go")
    return {"go": {
        "version": str(ask("Go version", settings.get("version") or defaults["version"])),
        "golangci_lint": defaults["golangci_lint"],
        "race": bool(ask("Run tests with the race detector?", True)),
        "coverage": True,
        "binaries": list(settings.get("binaries", [])),
        "targets": list(defaults["targets"]),
    }}


def _python(settings: dict[str, Any], ask: Asker) -> dict[str, Any]:
    section = {**_defaults("python"), **settings}
    section["version"] = str(ask("Python version", section["version"]))
    section.setdefault("versions", [section["version"]])
    if section["package_manager"] == "uv":
        section.pop("extras", None)
        section.pop("requirements", None)
    return {"python": section}


def _node(settings: dict[str, Any], ask: Asker) -> dict[str, Any]:
    section = {**_defaults("node"), **settings}
    section["version"] = str(ask("Node.js version", section["version"]))
    return {"node": section}


def _rust(settings: dict[str, Any], ask: Asker) -> dict[str, Any]:
    section = {**_defaults("rust"), **settings}
    section["version"] = str(ask("Rust version", section["version"]))
    return {"rust": section}


def _docker(settings: dict[str, Any], ask: Asker) -> dict[str, Any]:
    return {"docker": {**_defaults("docker"), **settings}}


def _monorepo(settings: dict[str, Any], ask: Asker) -> dict[str, Any]:
    components = settings.get("components") or []
    if not components:
        raise CifabError("no components found: a monorepo needs folders with go.mod, pyproject.toml, "
                         "package.json, Cargo.toml or a Dockerfile")
    for component in components:
        if component["stack"] == "go":  # the go section is spelled out, as for a Go repository
            component["go"] = _go(component.get("go", {}), accept_defaults)["go"]
    return {"components": components, "shared_paths": []}


def _generic(settings: dict[str, Any], ask: Asker) -> dict[str, Any]:
    image = str(ask("Image the jobs run in", "alpine:3.22"))
    return {"generic": {"image": image, "test": {"script": [
        'echo "No test command yet: set generic.test.script in cifab.yml" >&2; exit 1']}}}


SECTIONS: dict[str, Callable[[dict[str, Any], Asker], dict[str, Any]]] = {
    "go": _go, "python": _python, "node": _node, "rust": _rust, "docker": _docker, "generic": _generic,
    "monorepo": _monorepo,
}


def manifest_text(data: dict[str, Any]) -> str:
    return MANIFEST_HEADER + manifest.dump(data)


def write_manifest(path: Path, data: dict[str, Any], force: bool) -> None:
    if path.exists() and not force:
        raise CifabError(f"{path} already exists; pass --force to replace it", 1)
    text = manifest_text(data)
    # Validate what we are about to write with the same loader users' files go through.
    manifest.parse(text.encode("utf-8"), str(path), path)
    output.atomic_write(path, text)
