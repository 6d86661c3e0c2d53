"""The rust stack: rustfmt, clippy with -D warnings, cargo-nextest with JUnit, a release build."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypedDict

from cifab.stacks.base import Detection, Stack, StackContext, asks_version, jobs, read_toml, safe_name

PINS = {"nextest": "0.9"}


class RustSection(TypedDict):
    image: str
    artifacts: list[str]  # the release binaries
    nextest_install: str


def detect(repo: Path, found: Detection) -> bool:
    path = repo / "Cargo.toml"
    if not path.is_file():
        return False
    cargo = read_toml(path)
    package = cargo.get("package", {})
    if isinstance(package.get("name"), str):
        found.name = safe_name(package["name"])
    bins = [b["name"] for b in cargo.get("bin", []) if isinstance(b, dict) and "name" in b]
    if not bins and (repo / "src" / "main.rs").is_file() and package.get("name"):
        bins = [str(package["name"])]
    settings: dict[str, Any] = {"binaries": bins}
    channel = str(read_toml(repo / "rust-toolchain.toml").get("toolchain", {}).get("channel", ""))
    if re.fullmatch(r"\d+\.\d+(\.\d+)?", channel):
        settings["version"] = channel
    found.settings = settings
    found.evidence.append(f"Cargo.toml: rust; binaries: {', '.join(bins) or 'none (a library)'}")
    return True


def context(data: dict[str, Any]) -> StackContext:
    rust = data["rust"]
    section = RustSection(
        image=f"rust:{rust['version']}-bookworm",
        artifacts=[f"target/release/{name}" for name in rust["binaries"]],
        nextest_install=f'curl -LsSf https://get.nexte.st/{rust["nextest"]}/linux | tar zxf - -C "$CARGO_HOME/bin"',
    )
    return StackContext(section=section, jobs=jobs(lint=["rustfmt", "clippy"], test=["cargo-test"],
                                                   build=["cargo-build"]), force_image=False)


propose = asks_version("Rust version")

STACK = Stack("rust", "Rust crates and workspaces (Cargo.toml)", detect, propose, context, PINS)
