"""Render context of the rust stack."""

from __future__ import annotations

from typing import Any


def context(data: dict[str, Any]) -> dict[str, Any]:
    rust = data["rust"]
    return {
        "rust": {**rust, "image": f"rust:{rust['version']}-bookworm"},
        "jobs": {"lint": ["rustfmt", "clippy"], "test": ["cargo-test"], "build": ["cargo-build"]},
    }
