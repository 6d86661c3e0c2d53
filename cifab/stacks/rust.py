"""The rust stack: rustfmt, clippy with -D warnings, cargo-nextest with JUnit, doctests (which
nextest skips), a release build; every cargo command over the whole workspace."""

from __future__ import annotations

import glob
import re
from pathlib import Path
from typing import Any, TypedDict

from cifab.stacks.base import (
    Detection,
    Stack,
    StackContext,
    asks_version,
    checked,
    jobs,
    read_toml,
    safe_name,
    table,
)

PINS = {"nextest": "0.9"}
DEFAULT_VERSION = "1.95"  # the rust image a manifest that names no version gets
JOB = {"fmt": "rustfmt", "clippy": "clippy", "test": "cargo-test", "doctest": "cargo-doctest", "build": "cargo-build"}


class RustSection(TypedDict):
    image: str
    artifacts: list[str]  # the release binaries
    nextest_install: str
    clippy: str
    test: str
    doctest: str
    build: str


# The keys init reads, with the types Cargo gives them: anything else is reported and skipped.
CARGO_SHAPE: dict[str, type | tuple[type, ...]] = {
    "package": dict, "package.name": str, "workspace": dict, "workspace.members": list, "bin": list, "lib": dict,
}


def _crate(folder: Path) -> tuple[str | None, list[str], bool]:
    """(package name, binary names, has a library target) of one crate folder."""
    cargo = read_toml(folder / "Cargo.toml")
    package = table(cargo, "package")
    name = package.get("name") if isinstance(package.get("name"), str) else None
    bins_raw = cargo.get("bin")
    bins = [str(b["name"]) for b in bins_raw if isinstance(b, dict) and isinstance(b.get("name"), str)] \
        if isinstance(bins_raw, list) else []
    if not bins and name and (folder / "src" / "main.rs").is_file():
        bins = [name]
    lib = bool(name) and ((folder / "src" / "lib.rs").is_file() or bool(table(cargo, "lib")))
    return name, bins, lib


def members(repo: Path, workspace: dict[str, Any]) -> list[Path]:
    listed = workspace.get("members")
    out: list[Path] = []
    for pattern in listed if isinstance(listed, list) else []:
        if isinstance(pattern, str) and ".." not in pattern:
            out.extend(Path(p) for p in sorted(glob.glob(str(repo / pattern))) if (Path(p) / "Cargo.toml").is_file())
    return out


def detect(repo: Path, found: Detection) -> bool:
    path = repo / "Cargo.toml"
    if not path.is_file():
        return False
    cargo = checked(read_toml(path), "Cargo.toml", CARGO_SHAPE, found)
    workspace = table(cargo, "workspace")
    name, bins, lib = _crate(repo)
    crates = members(repo, workspace) if workspace else []
    for member in crates:
        _, member_bins, member_lib = _crate(member)
        bins += [b for b in member_bins if b not in bins]
        lib = lib or member_lib
    if name:
        found.name = safe_name(name)
    settings: dict[str, Any] = {"binaries": bins, "workspace": bool(workspace), "doctests": lib}
    toolchain = table(checked(read_toml(repo / "rust-toolchain.toml"), "rust-toolchain.toml",
                              {"toolchain": dict, "toolchain.channel": str}, found), "toolchain").get("channel")
    if isinstance(toolchain, str) and re.fullmatch(r"\d+\.\d+(\.\d+)?", toolchain):
        settings["version"] = toolchain
    if not (repo / "Cargo.lock").is_file():
        settings["locked"] = False
        found.evidence.append("warning: no Cargo.lock: builds are not reproducible; commit it")
    found.settings = settings
    kind = ("a virtual workspace" if workspace and not name else "a workspace" if workspace else "a crate")
    found.evidence.append(f"Cargo.toml: rust, {kind}" + (f" of {len(crates)} members" if workspace else "")
                          + f"; binaries: {', '.join(bins) or 'none (libraries only)'}"
                          + ("; doctests" if lib else ""))
    return True


propose = asks_version("Rust version", "rust")


def context(data: dict[str, Any]) -> StackContext:
    rust = data["rust"]
    # --workspace: in a workspace, cargo would otherwise cover only the root package (or, in
    # a virtual one, pick members by the current folder); --locked when Cargo.lock is committed.
    flags = (" --locked" if rust["locked"] else "") + (" --workspace" if rust["workspace"] else "")
    section = RustSection(
        image=f"rust:{rust['version']}-bookworm",
        artifacts=[f"target/release/{name}" for name in rust["binaries"]],
        # Downloaded only when the image lacks it.
        nextest_install=(f'command -v cargo-nextest >/dev/null || {{ mkdir -p "$CARGO_HOME/bin" && curl -LsSf '
                         f'https://get.nexte.st/{rust["nextest"]}/linux | tar zxf - -C "$CARGO_HOME/bin"; }}'),
        clippy=f"cargo clippy{flags} --all-targets --all-features -- -D warnings",
        test=f"cargo nextest run{flags} --profile ci --config-file .nextest-ci.toml",
        doctest=f"cargo test{flags} --doc",
        build=f"cargo build --release{flags}",
    )
    tests = [JOB["test"]] + ([JOB["doctest"]] if rust["doctests"] else [])
    return StackContext(section=section, jobs=jobs(lint=[JOB["fmt"], JOB["clippy"]], test=tests, build=[JOB["build"]]),
                        force_image=False)


STACK = Stack("rust", "Rust crates and workspaces (Cargo.toml)", detect, propose, context, PINS,
              aliases=("cargo", "rs"), defaults={"version": DEFAULT_VERSION}, job_names=JOB)
