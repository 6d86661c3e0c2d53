"""dependency_proxy: true pulls every Docker Hub image, and only those, through the group's
Dependency Proxy, in every job, service and component."""

from __future__ import annotations

from pathlib import Path

import pytest

from cifab.generate.images import PROXY_PREFIX, on_docker_hub, through_dependency_proxy
from cifab.generate.plan import plan
from tests import pipeline_yaml
from tests.test_examples import EXAMPLE_DIRS


@pytest.mark.parametrize(("image", "proxied"), [
    ("golang:1.26.1", f"{PROXY_PREFIX}/golang:1.26.1"),
    ("golang:${GO_VERSION}", f"{PROXY_PREFIX}/golang:${{GO_VERSION}}"),
    ("moby/buildkit:v0.25.1-rootless", f"{PROXY_PREFIX}/moby/buildkit:v0.25.1-rootless"),
    ("docker.io/library/alpine:3.22", f"{PROXY_PREFIX}/library/alpine:3.22"),
    ("alpine@sha256:" + "a" * 64, f"{PROXY_PREFIX}/alpine@sha256:" + "a" * 64),  # digests work through it
    ("registry.gitlab.com/gitlab-org/cli:latest", "registry.gitlab.com/gitlab-org/cli:latest"),
    ("mcr.microsoft.com/dotnet/sdk:9.0", "mcr.microsoft.com/dotnet/sdk:9.0"),
    ("localhost/tool:1", "localhost/tool:1"),
    ("registry.example.com:5000/ops/deployer:2.3.1", "registry.example.com:5000/ops/deployer:2.3.1"),
    ("$CI_REGISTRY_IMAGE/builder:1", "$CI_REGISTRY_IMAGE/builder:1"),
])
def test_only_docker_hub_images_go_through_the_proxy(image: str, proxied: str) -> None:
    assert through_dependency_proxy(image) == proxied
    assert on_docker_hub(image) is (proxied != image)


def _images(doc: dict) -> list[str]:  # type: ignore[type-arg]
    out = []
    for name, job in doc.items():
        if not isinstance(job, dict):
            continue
        for holder in (job, job.get("default") if name == "default" else None):
            image = (holder or {}).get("image")
            if image:
                out.append(image["name"] if isinstance(image, dict) else image)
        for service in job.get("services") or []:
            out.append(service["name"] if isinstance(service, dict) else service)
    return out


@pytest.mark.parametrize("example", EXAMPLE_DIRS, ids=lambda p: p.name)
def test_the_examples_pull_docker_hub_through_the_proxy(example: Path) -> None:
    images = [image for f in plan(example / "cifab.yml").files for image in _images(pipeline_yaml.load(f.text))]
    assert any(image.startswith(PROXY_PREFIX + "/") for image in images)
    for image in images:
        assert not on_docker_hub(image), (example.name, image)


def test_without_the_key_images_are_as_written(tmp_path: Path) -> None:
    import shutil

    example = next(p for p in EXAMPLE_DIRS if p.name == "monorepo")
    shutil.copytree(example, tmp_path / "repo")
    manifest = tmp_path / "repo" / "cifab.yml"
    manifest.write_text(manifest.read_text().replace("dependency_proxy: true\n", ""))
    images = [image for f in plan(manifest).files for image in _images(pipeline_yaml.load(f.text))]
    assert images and not any(PROXY_PREFIX in image for image in images)
    assert any(on_docker_hub(image) for image in images)
