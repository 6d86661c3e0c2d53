"""Container image references: which come from Docker Hub, and the same image through
GitLab's Dependency Proxy (`dependency_proxy: true`).

Docker Hub allows 10 unauthenticated pulls an hour per IPv4 address (or IPv6 /64), which
shared runners behind one address exhaust; the group's Dependency Proxy pulls each image once
and serves it from GitLab. It proxies Docker Hub only, so other registries stay as written.
"""

from __future__ import annotations

# GitLab sets it in every job of a project in a group: host:port/group/dependency_proxy/containers.
PROXY_PREFIX = "${CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX}"
DOCKER_HUB_HOSTS = ("docker.io", "index.docker.io", "registry-1.docker.io")


def on_docker_hub(image: str) -> bool:
    """Whether an image reference names Docker Hub: no registry host before the first
    slash (a host has a dot or a port, or is localhost), or Docker Hub's own host."""
    image = image.strip()
    if not image or image.startswith("$"):
        return False  # a variable: its value is not known here
    first, slash, _ = image.partition("/")
    if not slash:
        return True  # an official image: golang:1.26
    if first in DOCKER_HUB_HOSTS:
        return True
    return not ("." in first or ":" in first or first == "localhost")


def through_dependency_proxy(image: str) -> str:
    """The image pulled through the group's Dependency Proxy, when it is on Docker Hub."""
    if not on_docker_hub(image):
        return image
    first, _, rest = image.strip().partition("/")
    return f"{PROXY_PREFIX}/{rest if first in DOCKER_HUB_HOSTS else image.strip()}"
