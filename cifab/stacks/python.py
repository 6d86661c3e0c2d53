"""Render context of the python stack."""

from __future__ import annotations

from typing import Any


def context(data: dict[str, Any]) -> dict[str, Any]:
    py = data["python"]
    uv = py["package_manager"] == "uv"
    versions = py.get("versions") or [py["version"]]
    # The cache key: the lock file, else the requirements, else what declares the dependencies.
    declared = list(py["requirements"]) or (["pyproject.toml"] if py["package"] else [])
    lock_files = ["uv.lock"] if uv else declared
    extras = f"[{','.join(py['extras'])}]" if py["extras"] else ""
    lint = ["ruff"] + (["mypy"] if py["mypy"] else [])
    return {
        "python": {
            **py,
            "uv": uv,  # the manifest's uv key is the version to install: uv_pin
            "uv_pin": py["uv"],
            "image": f"python:{py['version']}-slim",
            "versions": versions,
            "matrix": len(versions) > 1,
            "lock_files": lock_files[:10],  # GitLab's cache:key:files limit
            "install_target": f".{extras}" if py["package"] else "",
        },
        "jobs": {"lint": lint, "test": ["pytest"], "build": ["python-build"] if py["package"] else [],
                 "deploy": ["publish-package"] if py["package"] and py["publish"] else []},
    }
