"""The go stack: golangci-lint, go vet and gofmt; gotestsum with coverage; a static build
per GOOS/GOARCH; GoReleaser on tags when asked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NamedTuple, TypedDict

from cifab.errors import CifabError
from cifab.stacks import audit, go_declared
from cifab.stacks.base import Asker, Detection, ReleaseFiles, Sbom, Stack, StackContext, jobs, read_text, safe_name

# Go releases with upstream support (the two newest), oldest first. The golang image
# publishes a major.minor tag (golang:1.27) for every release, on its default Debian suite.
SUPPORTED = ("1.26", "1.27")


class GoTool(NamedTuple):
    module: str
    version: str
    floor: tuple[int, int]  # the oldest Go it installs with
    ceiling: tuple[int, int] | None = None  # the newest Go it is known to build with; None: any

    @property
    def spec(self) -> str:
        return f"{self.module}@{self.version}"

    def builds_with(self, go: tuple[int, int]) -> bool:
        return go >= self.floor and (self.ceiling is None or go <= self.ceiling)


# gotestsum v1.13.0 declares go 1.24 and uses slices. gocover-cobertura v1.3.0 pins an
# x/tools that no longer compiles on Go 1.25 or newer; v1.4.0 builds on 1.25 and 1.26.
GOTESTSUM = GoTool("gotest.tools/gotestsum", "v1.13.0", (1, 24))
GOCOVER_COBERTURA = GoTool("github.com/boumenot/gocover-cobertura", "v1.4.0", (1, 21))
# govulncheck must be built by the Go that loads the packages it checks; v1.9.0 needs Go 1.26.
GOVULNCHECK = GoTool("golang.org/x/vuln/cmd/govulncheck", "v1.9.0", (1, 26))
CYCLONEDX_GOMOD = GoTool("github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod", "v1.9.0", (1, 23))
JOB = {"lint": "golangci-lint", "vet": "go-vet", "fmt": "gofmt", "test": "go-test", "build": "go-build",
       "release": "goreleaser", "audit": "govulncheck", "sbom": "go-sbom"}
# The Docker daemon a release that builds images talks to (GitLab's documented dind setup, with TLS).
DIND_IMAGE = "docker:29.10.1-dind"
# golangci-lint v2 replaced --out-format with one --output.<format>.path per report.
LINT_ARGS = "run --output.text.path=stdout --output.code-climate.path=gl-code-quality-report.json"
LINT_ARGS_V1 = "run --out-format=colored-line-number,code-climate:gl-code-quality-report.json"
PINS = {
    "version": SUPPORTED[-1],
    "golangci_lint": "v2.15.0",
    "goreleaser": "v2.15.1",
}

_MODULE = re.compile(r"^module\s+(\S+)", re.MULTILINE)
_GO = re.compile(r"^go\s+(\d+\.\d+)(?:\.\d+)?\s*$", re.MULTILINE)
# The toolchain line keeps its patch level: golang images are tagged with it.
_TOOLCHAIN = re.compile(r"^toolchain\s+go(\d+\.\d+(?:\.\d+)?)\s*$", re.MULTILINE)
_PACKAGE = re.compile(r"^package\s+(\w+)", re.MULTILINE)
# A package-level string variable -X can set: `var version = "dev"`, `var Version string`,
# or the same inside a `var (...)` block.
_VERSION_VAR = re.compile(r'^(?:var\s+|\t)(version|Version)\s+(?:string\b|=\s*"[^"\n]*"\s*$)', re.MULTILINE)
SKIP = {"vendor", "testdata", "node_modules", ".git"}


class Binary(TypedDict):
    name: str
    main: str


class Target(TypedDict):
    GOOS: str
    GOARCH: list[str]


class GoSection(TypedDict):
    image: str
    test_image: str  # golang:${GO_VERSION} when go-test runs a version matrix
    versions: list[str]  # go-test's matrix; empty for go.version only
    lint_image: str
    lint_command: str
    goreleaser_image: str
    release_docker: bool
    dind_image: str
    race: bool
    coverage: bool
    binaries: list[Binary]
    matrix: list[Target]
    windows: bool
    stamp: bool  # the build sets a version variable
    build_commands: list[str]  # one `go build` per binary, inside the matrix
    tool_installs: list[str]
    test_command: str
    cobertura: str


def minor(version: str) -> tuple[int, int]:
    major, rest = version.split(".", 1)
    return int(major), int(rest.split(".", 1)[0])


def module_name(module: str) -> str:
    """The last element of a module path, without a /vN major-version suffix."""
    parts = module.rstrip("/").split("/")
    if len(parts) > 1 and re.fullmatch(r"v\d+", parts[-1]):
        parts.pop()
    return parts[-1]


def _sources(directory: Path) -> list[Path]:
    return [p for p in sorted(directory.glob("*.go")) if not p.name.endswith("_test.go")]


def _is_main_package(directory: Path) -> bool:
    return any(m and m.group(1) == "main" for m in (_PACKAGE.search(read_text(p)[:4096]) for p in _sources(directory)))


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


def _package_dirs(repo: Path, limit: int = 400) -> list[Path]:
    out: list[Path] = []
    stack = [repo]
    while stack and len(out) < limit:
        folder = stack.pop()
        out.append(folder)
        try:
            children = sorted((p for p in folder.iterdir() if p.is_dir() and not p.is_symlink()), reverse=True)
        except OSError:
            continue
        stack.extend(p for p in children if p.name not in SKIP and not p.name.startswith((".", "_")))
    return out


def find_version_variable(repo: Path, module: str | None, binaries: list[dict[str, str]]) -> str | None:
    """The string variable a release stamp belongs in: `version` or `Version` of a main
    package first, then of any other package. None when there is none: -X on a variable
    that does not exist links silently and stamps nothing."""
    mains = [(repo / b["main"]).resolve() for b in binaries]
    candidates: list[tuple[int, str]] = []
    for folder in _package_dirs(repo):
        for path in _sources(folder):
            text = read_text(path)
            package = _PACKAGE.search(text[:4096])
            found = _VERSION_VAR.search(text)
            if package is None or found is None:
                continue
            if package.group(1) == "main":
                if folder.resolve() in mains:
                    candidates.append((0, f"main.{found.group(1)}"))
            elif module:
                rel = folder.relative_to(repo).as_posix()
                candidates.append((1 if "version" in rel or "cmd" in rel else 2,
                                   f"{module}/{rel}.{found.group(1)}" if rel != "." else f"{module}.{found.group(1)}"))
    return min(candidates)[1] if candidates else None


def choose_version(go_line: str | None, toolchain: str | None) -> tuple[str, str]:
    """The Go the jobs use, and why. The `go` line is a minimum, the `toolchain` line the
    toolchain the module prefers; the jobs use a published, supported release."""
    if toolchain:
        return toolchain, f"toolchain go{toolchain} in go.mod"
    newest = SUPPORTED[-1]
    if go_line is None:
        return newest, f"no go line in go.mod: Go {newest}, the newest release"
    if minor(go_line) > minor(newest):
        return go_line, f"go {go_line} in go.mod is newer than cifab knows: Go {go_line}"
    return newest, f"go {go_line} in go.mod is a minimum: Go {newest}, the newest release"


def test_versions(go_line: str | None, chosen: str) -> list[str]:
    """A matrix from the module's minimum (or the oldest supported release) to the newest."""
    lowest = minor(go_line) if go_line else minor(SUPPORTED[0])
    versions = [v for v in SUPPORTED if minor(v) >= lowest and minor(v) <= minor(chosen)]
    return versions if len(versions) > 1 else []


def detect(repo: Path, found: Detection) -> bool:
    gomod = repo / "go.mod"
    if not gomod.is_file():
        return False
    text = read_text(gomod)
    module = _MODULE.search(text)
    if module:
        found.name = safe_name(module_name(module.group(1)))
    go_line, toolchain = _GO.search(text), _TOOLCHAIN.search(text)
    version, why = choose_version(go_line.group(1) if go_line else None, toolchain.group(1) if toolchain else None)
    binaries = find_binaries(repo, found.name)
    variable = find_version_variable(repo, module.group(1) if module else None, binaries) if binaries else None
    release = go_declared.release(repo)
    found.settings = {"module": module.group(1) if module else None, "version": version, "binaries": binaries,
                      "versions": test_versions(go_line.group(1) if go_line else None, version),
                      "_minimum": go_line.group(1) if go_line else None}
    if variable:
        found.settings["version_variable"] = variable
    if release:
        found.settings["release"] = True
        _release(release, found)
    modfile, declared = go_declared.tools(repo)
    if declared:
        found.settings["tools"] = declared
        if modfile != "go.mod":
            found.settings["tools_modfile"] = modfile
        found.evidence.append(f"tools: {', '.join(declared)} with `go tool` at the versions {modfile} declares")
    found.evidence.append(f"go.mod: module {found.settings['module'] or '?'}; {why}")
    found.evidence.append(f"main packages: {', '.join(b['name'] for b in binaries)}" if binaries
                          else "no main package: a library")
    if binaries:
        found.evidence.append(f"version stamp: -X {variable}" if variable else
                              "version stamp: none (no package-level version variable found)")
    if not (repo / "go.sum").is_file():
        found.evidence.append("no go.sum: the cache is keyed on go.mod")
    return True


def _release(release: go_declared.Release, found: Detection) -> None:
    """The release job GoReleaser's config needs, and what the user must set for it."""
    evidence = found.evidence
    evidence.append(f"{release.file}: GoReleaser release job on tags")
    if not release.v2:
        found.settings["goreleaser"] = go_declared.GORELEASER_V1
        evidence.append(f"note: {release.file} has no `version: 2`: a GoReleaser v1 config, which v2 refuses; the "
                        f"job pins GoReleaser {go_declared.GORELEASER_V1}, the last v1 (`goreleaser check` with v2 "
                        "says what to change; then add version: 2 and drop go.goreleaser from cifab.yml)")
    if release.images:
        found.settings["release_docker"] = True
        if found.dockerfile:
            # GoReleaser's Dockerfiles copy the binaries it built: alone, they do not build.
            found.image["build"] = False
            evidence.append("Dockerfile: built by GoReleaser on tags, in its own build context; no image job of "
                            "its own")
        evidence.append(f"note: {release.file} builds container images ({', '.join(release.images)}): the release "
                        "job gets docker:dind and a registry login, which need a privileged runner (GitLab.com's "
                        "instance runners are)")
    evidence.append("note: the goreleaser job needs a CI/CD variable GITLAB_TOKEN: a project access token with the "
                    "api scope, set under Settings > CI/CD > Variables, masked and protected (protect the release "
                    "tags too, or the protected variable is not given to tag pipelines)")


def version_problem(answer: str, minimum: str | None) -> str | None:
    """Why a Go version typed at init does not fit the module: older than go.mod's go line,
    or older than any supported release."""
    if not re.fullmatch(r"\d+\.\d+(\.\d+)?", answer.strip()):
        return None  # the schema says what shape a version has
    chosen = minor(answer.strip())
    floor = max(minor(minimum), minor(SUPPORTED[0])) if minimum else minor(SUPPORTED[0])
    if chosen >= floor:
        return None
    choices = [v for v in SUPPORTED if minor(v) >= floor]
    why = f"go.mod says go {minimum}" if minimum and minor(minimum) >= minor(SUPPORTED[0]) else \
        f"Go {SUPPORTED[0]} is the oldest supported release"
    return f"Go {answer.strip()} is too old: {why}; choose {', '.join(choices) or SUPPORTED[-1]} (or a newer release)"


def propose(settings: dict[str, Any], ask: Asker, defaults: dict[str, Any]) -> dict[str, Any]:
    minimum = settings.get("_minimum")
    section: dict[str, Any] = {
        "version": str(ask("Go version", settings.get("version") or defaults["version"], ("go", "version"),
                           lambda answer: version_problem(answer, minimum))),
        **({} if {"golangci-lint", "golangci-lint-v1"} & set(settings.get("tools", []))
           else {"golangci_lint": defaults["golangci_lint"]}),
        "race": bool(ask("Run tests with the race detector?", True, ("go", "race"))),
        "coverage": True,
        "binaries": list(settings.get("binaries", [])),
        "targets": list(defaults["targets"]),
    }
    for key in ("versions", "version_variable", "release", "goreleaser", "release_docker", "tools",
                "tools_modfile"):
        if settings.get(key):
            section[key] = settings[key]
    return section


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


def _install(tool: GoTool, command: str) -> str:
    # The image (or a team's own) may already have it; the module proxy is needed only if not.
    return f"command -v {command} >/dev/null || go install {tool.spec}"


def _check_floors(versions: list[str], coverage: bool, declared: set[str]) -> None:
    """The tools cifab installs build with every Go the jobs use (the project's own tools
    are the project's to fit)."""
    tools = [t for t, name in ((GOTESTSUM, "gotestsum"), (GOCOVER_COBERTURA, "gocover-cobertura"))
             if name not in declared and (coverage or t is GOTESTSUM)]
    for version in versions:
        for tool in tools:
            if not tool.builds_with(minor(version)):
                floor = ".".join(map(str, tool.floor))
                raise CifabError(f"go.version {version}: {tool.module}@{tool.version}, which the test job installs, "
                                 f"needs Go {floor} or newer; set go.version to {SUPPORTED[-1]}")


# govulncheck's JSON stream into Code Quality: one item per call site of a vulnerable function
# (what govulncheck's own text output calls a vulnerability; an import of an affected package
# whose vulnerable code is never reached is not reported), at the project's calling line.
_GOVULNCHECK_TO_CODE_QUALITY = (
    '(map(.osv // empty | {key:.id,value:.summary}) | from_entries) as $summary | '
    + audit.items(
        ".[] | .finding // empty | select(.trace[0].function) | (.trace | last) as $at",
        description='"\\(.osv) in \\(.trace[0].module)@\\(.trace[0].version), called from \\($at.function) - '
                    '\\($summary[.osv] // "a known vulnerability"); fixed in \\(.fixed_version // "no release yet")"',
        check=".osv", fingerprint='"\\(.osv) \\($at.position.filename):\\($at.position.line)"',
        path='($at.position.filename // "go.mod")', line="($at.position.line // 1)"))


def _audit(go: dict[str, Any]) -> audit.Audit:
    # An older go.version gets the oldest Go that builds govulncheck: a newer Go reads older code.
    old = not GOVULNCHECK.builds_with(minor(go["version"]))
    return audit.Audit(
        extends=".go-cache",
        image="golang:" + ".".join(map(str, GOVULNCHECK.floor)) if old else None,
        # Go's vulnerability database; a mirror (or a file:// copy) where the runner cannot reach it.
        variables={"GOVULNDB": "https://vuln.go.dev"},
        script=['export PATH="$GOPATH/bin:$PATH"', _install(GOVULNCHECK, "govulncheck"),
                *audit.steps('govulncheck -db "$GOVULNDB" -format json ./...', _GOVULNCHECK_TO_CODE_QUALITY,
                             slurp=True)])


def context(data: dict[str, Any]) -> StackContext:
    go = data["go"]
    bins = binaries(data)
    versions = list(go.get("versions") or [])
    _check_floors([go["version"], *versions], go["coverage"], set(go["tools"]))
    windows = any(t.startswith("windows/") for t in go["targets"])
    ext = "${EXT}" if windows else ""
    stamp = f' -ldflags "-s -w -X {go["version_variable"]}=$VERSION"' if go.get("version_variable") else \
        ' -ldflags "-s -w"'
    flags = (["-race"] if go["race"] else []) + (["-covermode=atomic", "-coverprofile=coverage.out"]
                                                  if go["coverage"] else [])
    declared = set(go["tools"])
    # A tool the project declares runs with `go tool`, at its version, from its go.mod.
    tool = "go tool" + (f" -modfile={go['tools_modfile']}" if go["tools_modfile"] != "go.mod" else "") + " "
    run = {name: (tool if name in declared else "") + name for name in ("gotestsum", "gocover-cobertura")}
    lint_tool = declared & {"golangci-lint", "golangci-lint-v1"}
    section = GoSection(
        image=f"golang:{go['version']}",
        test_image="golang:${GO_VERSION}",
        versions=versions,
        lint_image=f"golang:{go['version']}" if lint_tool else f"golangci/golangci-lint:{go['golangci_lint']}",
        lint_command=f"{tool if lint_tool else ''}golangci-lint "
                     + (LINT_ARGS_V1 if "golangci-lint-v1" in lint_tool else LINT_ARGS),
        goreleaser_image=f"goreleaser/goreleaser:{go['goreleaser']}",
        release_docker=go["release_docker"],
        dind_image=DIND_IMAGE,
        race=go["race"],
        coverage=go["coverage"],
        binaries=bins,
        matrix=build_matrix(go["targets"]),
        windows=windows,
        stamp=bool(go.get("version_variable")),
        build_commands=[f'go build -trimpath{stamp} -o "dist/${{GOOS}}_${{GOARCH}}/{b["name"]}{ext}" {b["main"]}'
                        for b in bins],
        tool_installs=([] if "gotestsum" in declared else [_install(GOTESTSUM, "gotestsum")]) + (
            [_install(GOCOVER_COBERTURA, "gocover-cobertura")] if go["coverage"] and "gocover-cobertura" not in declared
            else []),
        # gotestsum runs `go test -json` and writes the JUnit report from its events.
        test_command=" ".join([f"{run['gotestsum']} --junitfile report.xml --format testname --raw-command -- go test "
                               "-json", *flags, "./..."]),
        cobertura=f"{run['gocover-cobertura']} < coverage.out > coverage.xml",
    )
    own = StackContext(
        section=section,
        jobs=jobs(lint=[JOB["lint"], JOB["vet"], JOB["fmt"]], test=[JOB["test"]], build=[JOB["build"]],
                  deploy=[JOB["release"]] if go["release"] else []),
        force_image=False,
        audit=_audit(go),
    )
    if bins:
        own["release_files"] = ReleaseFiles(jobs=[JOB["build"]], paths=["dist/"])
    # The modules the module's packages need (not its tests'), at the versions go.mod selects.
    own["sbom"] = Sbom(extends=".go-cache", variables={}, report="sbom.cdx.json", script=[
        'export PATH="$GOPATH/bin:$PATH"', _install(CYCLONEDX_GOMOD, "cyclonedx-gomod"),
        "cyclonedx-gomod mod -json -output sbom.cdx.json"])
    return own


STACK = Stack("go", "Go modules (go.mod)", detect, propose, context, PINS, aliases=("golang",), job_names=JOB,
              cache_roles=("test", "build", "lint", "vet"), sast=True)
