"""The rust stack: rustfmt, clippy with -D warnings, cargo-nextest with JUnit, doctests (which
nextest skips), a release build; every cargo command over the whole workspace."""

from __future__ import annotations

import glob
import re
from pathlib import Path
from typing import Any, TypedDict

from cifab.stacks import audit
from cifab.stacks.base import (
    Asker,
    Detection,
    ReleaseFiles,
    Sbom,
    Stack,
    StackContext,
    asks_version,
    checked,
    jobs,
    read_text,
    read_toml,
    safe_name,
    table,
)

PINS = {"nextest": "0.9", "cargo_audit": "0.22.2", "cargo_cyclonedx": "0.5.9"}
DEFAULT_VERSION = "1.95"  # the rust image a manifest that names no version gets
JOB = {"fmt": "rustfmt", "clippy": "clippy", "test": "cargo-test", "doctest": "cargo-doctest", "build": "cargo-build",
       "audit": "cargo-audit", "sbom": "cargo-sbom"}


class RustSection(TypedDict):
    image: str
    toolchain: list[str]  # the first lines of every job that runs cargo
    fmt: list[str]
    test_variables: dict[str, str]
    artifacts: list[str]  # the release binaries
    nextest_install: str
    clippy: str
    test: str
    doctest: str
    build: str


# The keys init reads, with the types Cargo gives them: anything else is reported and skipped.
CARGO_SHAPE: dict[str, type | tuple[type, ...]] = {
    "package": dict, "package.name": str, "package.autobins": bool, "package.default-run": str, "workspace": dict,
    "workspace.members": list, "bin": list, "lib": dict,
}
# rustfmt options that stable rustfmt accepts; any other is nightly-only, and stable rustfmt
# ignores it with a warning, so a tree formatted by nightly fails a stable check.
STABLE_RUSTFMT = frozenset({
    "array_width", "attr_fn_like_width", "chain_width", "disable_all_formatting", "edition", "fn_call_width",
    "fn_params_layout", "force_explicit_abi", "hard_tabs", "match_arm_leading_pipes", "match_block_trailing_comma",
    "max_width", "merge_derives", "newline_style", "remove_nested_parens", "reorder_imports", "reorder_modules",
    "short_array_element_width_threshold", "single_line_if_else_max_width", "single_line_let_else_max_width",
    "struct_lit_width", "struct_variant_width", "style_edition", "tab_spaces", "use_field_init_shorthand",
    "use_small_heuristics", "use_try_shorthand",
})
# What in a test says it reads git history: running git, or opening the repository.
_READS_GIT = re.compile(r'Command::new\(\s*"git"|\bgit2::Repository\b|\bRepository::(?:open|discover)\b|'
                        r"\bgix::(?:open|discover)\b")
SCAN_FILES = 2000  # .rs files read for git use, at most: a bound on a huge tree


def _crate(folder: Path) -> tuple[str | None, list[str], bool]:
    """(package name, binary names, has a library target) of one crate folder, as Cargo
    finds its targets: the [[bin]] tables, and unless autobins = false, src/main.rs (named
    after the package) and src/bin/NAME.rs or src/bin/NAME/main.rs. default-run comes first."""
    cargo = read_toml(folder / "Cargo.toml")
    package = table(cargo, "package")
    name = package.get("name") if isinstance(package.get("name"), str) else None
    bins_raw = cargo.get("bin")
    declared = [b for b in bins_raw if isinstance(b, dict) and isinstance(b.get("name"), str)] \
        if isinstance(bins_raw, list) else []
    bins = [str(b["name"]) for b in declared]
    claimed = {str(b.get("path")).removeprefix("./") for b in declared if isinstance(b.get("path"), str)}
    if package.get("autobins") is not False and name:
        found: list[tuple[str, str]] = []
        if (folder / "src" / "main.rs").is_file():
            found.append((name, "src/main.rs"))
        src_bin = folder / "src" / "bin"
        if src_bin.is_dir():
            for entry in sorted(src_bin.iterdir()):
                if entry.suffix == ".rs" and entry.is_file():
                    found.append((entry.stem, f"src/bin/{entry.name}"))
                elif (entry / "main.rs").is_file():
                    found.append((entry.name, f"src/bin/{entry.name}/main.rs"))
        bins += [b for b, path in found if path not in claimed and b not in bins]
    default = package.get("default-run")
    if isinstance(default, str) and default in bins:
        bins = [default] + [b for b in bins if b != default]
    lib = bool(name) and ((folder / "src" / "lib.rs").is_file() or bool(table(cargo, "lib")))
    return name, bins, lib


def members(repo: Path, workspace: dict[str, Any]) -> list[Path]:
    listed = workspace.get("members")
    out: list[Path] = []
    for pattern in listed if isinstance(listed, list) else []:
        if isinstance(pattern, str) and ".." not in pattern:
            out.extend(Path(p) for p in sorted(glob.glob(str(repo / pattern))) if (Path(p) / "Cargo.toml").is_file())
    return out


def toolchain_file(repo: Path, found: Detection) -> tuple[str | None, list[str], str]:
    """(channel, components, file) of rust-toolchain.toml, or of the older rust-toolchain
    (TOML, or the channel alone on its one line)."""
    for file in ("rust-toolchain.toml", "rust-toolchain"):
        text = read_text(repo / file)
        if not text.strip():
            continue
        if file == "rust-toolchain" and "[toolchain]" not in text:
            return text.strip().splitlines()[0].strip(), [], file
        data = checked(read_toml(repo / file), file, {"toolchain": dict, "toolchain.channel": str,
                                                      "toolchain.components": list}, found)
        settings = table(data, "toolchain")
        components = [str(c) for c in settings.get("components") or [] if isinstance(c, str)]
        channel = settings.get("channel")
        return (channel if isinstance(channel, str) else None), components, file
    return None, [], ""


def _toolchain(repo: Path, settings: dict[str, Any], found: Detection) -> None:
    """The image and toolchain rust-toolchain.toml asks for: a version or stable is the
    image's own (no download at run time); nightly and beta are rustup's to install."""
    channel, components, file = toolchain_file(repo, found)
    if not file:
        return
    version = re.fullmatch(r"(\d+\.\d+(?:\.\d+)?)(?:-[\w-]+)?", channel or "")
    if version:
        settings["version"] = version.group(1)
    if channel == "stable" or version:
        settings["image_toolchain"] = True
        image = f"rust:{version.group(1)}" if version else f"rust:{DEFAULT_VERSION}, the newest stable"
        found.evidence.append(f"toolchain: {channel} ({file}): the jobs use {image}'s own toolchain, "
                              "nothing downloaded at run time")
    else:
        found.evidence.append(f"note: {file} asks for the {channel or 'unnamed'} channel: rustup installs it at "
                              "the start of every job (a download each time); pin a stable version there to use "
                              "the image's toolchain")
    others = [c for c in components if c not in ("rustfmt", "clippy")]
    if others:
        found.evidence.append(f"toolchain components {', '.join(others)} ({file}): not installed, no cifab job uses "
                              "them")


def _rustfmt(repo: Path, settings: dict[str, Any], found: Detection) -> None:
    for file in ("rustfmt.toml", ".rustfmt.toml"):
        options = read_toml(repo / file)
        nightly = sorted(k for k in options if k not in STABLE_RUSTFMT)
        if (repo / file).is_file():
            if nightly or options.get("unstable_features") is True:
                settings["rustfmt"] = "nightly"
                found.evidence.append(f"note: {file} uses nightly-only options ({', '.join(nightly)}): the format "
                                      "check runs `cargo +nightly fmt` (rust.rustfmt: skip in cifab.yml leaves it "
                                      "out)")
            return


def _reads_git(repo: Path, folders: list[Path]) -> str | None:
    """A test source that runs git or opens the repository, if any (the first found)."""
    seen = 0
    for folder in folders:
        for sub in ("tests", "src", "benches"):
            for path in sorted((folder / sub).rglob("*.rs")) if (folder / sub).is_dir() else []:
                seen += 1
                if seen > SCAN_FILES:
                    return None
                if _READS_GIT.search(read_text(path)):
                    return path.relative_to(repo).as_posix()
    return None


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
    _toolchain(repo, settings, found)
    _rustfmt(repo, settings, found)
    reader = _reads_git(repo, [repo, *crates])
    if reader:
        settings["git_history"] = True
        found.evidence.append(f"tests read git history ({reader}): the test jobs clone it whole (GIT_DEPTH 0)")
    if not (repo / "Cargo.lock").is_file():
        settings["locked"] = False
        found.evidence.append("warning: no Cargo.lock: builds are not reproducible; commit it")
    found.settings = settings
    kind = ("a virtual workspace" if workspace and not name else "a workspace" if workspace else "a crate")
    found.evidence.append(f"Cargo.toml: rust, {kind}" + (f" of {len(crates)} members" if workspace else "")
                          + f"; binaries: {', '.join(bins) or 'none (libraries only)'}"
                          + ("; doctests" if lib else ""))
    return True


def propose(settings: dict[str, Any], ask: Asker, defaults: dict[str, Any]) -> dict[str, Any]:
    section = asks_version("Rust version", "rust")(settings, ask, defaults)
    if section.get("rustfmt") == "nightly":
        nightly = ask("rustfmt.toml uses nightly-only options: check the format with nightly rustfmt "
                      "(no: no format job)?", True, ())
        section["rustfmt"] = "nightly" if nightly else "skip"
    return section


# cargo-audit's JSON into Code Quality: one item per advisory of each locked package.
_CARGO_AUDIT_TO_CODE_QUALITY = audit.items(
    ".vulnerabilities.list[]? | .advisory as $a",
    description='"\\($a.id) in \\(.package.name) \\(.package.version) - \\($a.title); fixed in '
                '\\(.versions.patched | join(", ") | if . == "" then "no release yet" else . end)"',
    check="$a.id", fingerprint='"\\($a.id) \\(.package.name) \\(.package.version)"', path='"Cargo.lock"')


def _audit(rust: dict[str, Any], toolchain: list[str]) -> audit.Audit:
    """cargo-audit over Cargo.lock (RustSec's advisory database, which it clones); a project
    that commits no lock file gets one resolved first, as `cargo build` would."""
    return audit.Audit(image=None, extends=None, variables={}, script=[
        *toolchain, f"command -v cargo-audit >/dev/null || cargo install cargo-audit --locked --version "
                    f"{PINS['cargo_audit']}",
        *([] if rust["locked"] else ["cargo generate-lockfile"]),
        *audit.steps("cargo audit --json", _CARGO_AUDIT_TO_CODE_QUALITY)])


def context(data: dict[str, Any]) -> StackContext:
    rust = data["rust"]
    # --workspace: in a workspace, cargo would otherwise cover only the root package (or, in
    # a virtual one, pick members by the current folder); --locked when Cargo.lock is committed.
    flags = (" --locked" if rust["locked"] else "") + (" --workspace" if rust["workspace"] else "")
    # The image sets RUST_VERSION to its own toolchain's name; RUSTUP_TOOLCHAIN beats the
    # toolchain file, whose `stable` or `1.90` rustup would otherwise download again.
    toolchain = ['export RUSTUP_TOOLCHAIN="$RUST_VERSION"'] if rust["image_toolchain"] else []
    fmt = {
        "stable": [*toolchain, "rustup component add rustfmt", "cargo fmt --all --check"],
        # The image's stable toolchain stays the default; nightly's rustfmt is fetched when missing.
        "nightly": ["cargo +nightly fmt --version >/dev/null 2>&1 || rustup toolchain install nightly --profile "
                    "minimal --component rustfmt", "cargo +nightly fmt --all --check"],
        "skip": [],
    }[rust["rustfmt"]]
    section = RustSection(
        image=f"rust:{rust['version']}-bookworm",
        toolchain=toolchain,
        fmt=fmt,
        test_variables={"GIT_DEPTH": "0"} if rust["git_history"] else {},
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
    lint = ([JOB["fmt"]] if fmt else []) + [JOB["clippy"]]
    own = StackContext(section=section, jobs=jobs(lint=lint, test=tests, build=[JOB["build"]]), force_image=False,
                       audit=_audit(rust, toolchain))
    if section["artifacts"]:
        own["release_files"] = ReleaseFiles(jobs=[JOB["build"]], paths=section["artifacts"])
    # One SBOM beside each Cargo.toml (cargo-cyclonedx names it after --override-filename).
    own["sbom"] = Sbom(extends=None, variables={}, report="**/sbom.cdx.json" if rust["workspace"] else "sbom.cdx.json",
                       script=[*toolchain, "command -v cargo-cyclonedx >/dev/null || cargo install cargo-cyclonedx "
                                           f"--locked --version {PINS['cargo_cyclonedx']}",
                               "cargo cyclonedx --format json --spec-version 1.5 --override-filename sbom.cdx"])
    return own


STACK = Stack("rust", "Rust crates and workspaces (Cargo.toml)", detect, propose, context, PINS,
              aliases=("cargo", "rs"), defaults={"version": DEFAULT_VERSION}, job_names=JOB,
              cache_roles=("test", "build", "clippy", "doctest"),
              # Clippy and release builds compile everything, and rustc is slow.
              timeouts={"lint": "40 minutes", "build": "1 hour"})
