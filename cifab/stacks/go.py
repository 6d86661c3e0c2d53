"""The go stack: golangci-lint, go vet and gofmt; gotestsum with coverage; a static build
per GOOS/GOARCH; GoReleaser on tags when asked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypedDict

from cifab.stacks.base import Asker, Detection, Stack, StackContext, jobs, read_text, safe_name

PINS = {
    "golangci_lint": "v2.15.0",
    "goreleaser": "v2.15.1",
    "gotestsum": "gotest.tools/gotestsum@v1.13.0",
    "gocover_cobertura": "github.com/boumenot/gocover-cobertura@v1.3.0",
}

_MODULE = re.compile(r"^module\s+(\S+)", re.MULTILINE)
_GO = re.compile(r"^go\s+(\d+\.\d+(?:\.\d+)?)", re.MULTILINE)
_TOOLCHAIN = re.compile(r"^toolchain\s+go(\d+\.\d+(?:\.\d+)?)", re.MULTILINE)
_PACKAGE_MAIN = re.compile(r"^package\s+main\b", re.MULTILINE)


class Binary(TypedDict):
    name: str
    main: str


class Target(TypedDict):
    GOOS: str
    GOARCH: list[str]


class GoSection(TypedDict):
    image: str
    lint_image: str
    goreleaser_image: str
    race: bool
    coverage: bool
    binaries: list[Binary]
    matrix: list[Target]
    windows: bool
    build_commands: list[str]  # one `go build` per binary, inside the matrix
    tool_installs: list[str]
    test_command: str


def module_name(module: str) -> str:
    """The last element of a module path, without a /vN major-version suffix."""
    parts = module.rstrip("/").split("/")
    if len(parts) > 1 and re.fullmatch(r"v\d+", parts[-1]):
        parts.pop()
    return parts[-1]


def _is_main_package(directory: Path) -> bool:
    for path in sorted(directory.glob("*.go")):
        if not path.name.endswith("_test.go") and _PACKAGE_MAIN.search(read_text(path)[:4096]):
            return True
    return False


def find_binaries(repo: Path, project: str) -> list[dict[str, str]]:
    """One binary per cmd/<name> main package; else the root main package; else none."""
    cmd = repo / "cmd"
    found = []
    if cmd.is_dir():
        for sub in sorted(p for p in cmd.iterdir() if p.is_dir()):
            if _is_main_package(sub):
                found.append({"name": safe_name(sub.name), "main": f"./cmd/{sub.name}"})
    if not found and _is_main_package(repo):
        found.append({"name": project, "main": "."})
    return found


def detect(repo: Path, found: Detection) -> bool:
    gomod = repo / "go.mod"
    if not gomod.is_file():
        return False
    text = read_text(gomod)
    module = _MODULE.search(text)
    if module:
        found.name = safe_name(module_name(module.group(1)))
    version = _TOOLCHAIN.search(text) or _GO.search(text)
    binaries = find_binaries(repo, found.name)
    found.settings = {"module": module.group(1) if module else None,
                      "version": version.group(1) if version else None, "binaries": binaries}
    found.evidence.append(f"go.mod: module {found.settings['module'] or '?'}, "
                          f"Go {found.settings['version'] or '(default)'}")
    found.evidence.append(f"main packages: {', '.join(b['name'] for b in binaries)}" if binaries
                          else "no main package: a library")
    return True


def propose(settings: dict[str, Any], ask: Asker, defaults: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": str(ask("Go version", settings.get("version") or defaults["version"])),
        "golangci_lint": defaults["golangci_lint"],
        "race": bool(ask("Run tests with the race detector?", True)),
        "coverage": True,
        "binaries": list(settings.get("binaries", [])),
        "targets": list(defaults["targets"]),
    }


def binaries(data: dict[str, Any]) -> list[Binary]:
    """The manifest's binaries; a manifest that names none builds the project's name from '.'."""
    go = data["go"]
    if "binaries" in go:
        return [Binary(name=b["name"], main=b.get("main", ".")) for b in go["binaries"]]
    return [Binary(name=data["project"], main=".")]


def build_matrix(targets: list[str]) -> list[Target]:
    """parallel:matrix entries, one per GOOS with its GOARCH list, in first-seen order."""
    by_os: dict[str, list[str]] = {}
    for target in targets:
        goos, goarch = target.split("/", 1)
        by_os.setdefault(goos, []).append(goarch)
    return [Target(GOOS=goos, GOARCH=arches) for goos, arches in by_os.items()]


def context(data: dict[str, Any]) -> StackContext:
    go = data["go"]
    bins = binaries(data)
    windows = any(t.startswith("windows/") for t in go["targets"])
    ext = "${EXT}" if windows else ""
    flags = (["-race"] if go["race"] else []) + (["-covermode=atomic", "-coverprofile=coverage.out"]
                                                  if go["coverage"] else [])
    section = GoSection(
        image=f"golang:{go['version']}-bookworm",
        lint_image=f"golangci/golangci-lint:{go['golangci_lint']}",
        goreleaser_image=f"goreleaser/goreleaser:{go['goreleaser']}",
        race=go["race"],
        coverage=go["coverage"],
        binaries=bins,
        matrix=build_matrix(go["targets"]),
        windows=windows,
        build_commands=[f'go build -trimpath -ldflags "-s -w -X {go["version_variable"]}=$VERSION" '
                        f'-o "dist/${{GOOS}}_${{GOARCH}}/{b["name"]}{ext}" {b["main"]}' for b in bins],
        tool_installs=[f"go install {PINS['gotestsum']}"] + (
            [f"go install {PINS['gocover_cobertura']}"] if go["coverage"] else []),
        # gotestsum runs `go test -json` and writes the JUnit report from its events.
        test_command=" ".join(["gotestsum --junitfile report.xml --format testname --raw-command -- go test -json",
                               *flags, "./..."]),
    )
    return StackContext(
        section=section,
        jobs=jobs(lint=["golangci-lint", "go-vet", "gofmt"], test=["go-test"], build=["go-build"],
                  deploy=["goreleaser"] if go["release"] else []),
        force_image=False,
    )


STACK = Stack("go", "Go modules (go.mod)", detect, propose, context, PINS)
