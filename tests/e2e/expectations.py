"""What the e2e tier proves, fixture by fixture and job by job. The README's table is made
from this data (a test compares them), so the table says what `.ci/run` runs.

Each job is one of:
- Passes: it runs here, and passes (exit 0, reports verified, artifacts written, coverage
  regex matched), maybe with an install step the tier stood in for, which the table says;
- FindsProblems: a lint job on a fixture seeded with problems: it fails, and its report
  names them;
- REVIEWED: a deploy, publish or image-build job, read by a person and never run;
- a CannotRun: a reason this machine cannot run it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class CannotRun:
    """A reason this machine cannot run the job. What it can still prove: script lines the
    job must have (commands), files of the fixture those lines need (files), and job
    variables (variables); a test checks them on the generated job."""

    why: str
    commands: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    variables: tuple[tuple[str, Any], ...] = ()

    def proves(self, **what: Any) -> CannotRun:
        return replace(self, **{k: tuple(v.items()) if isinstance(v, dict) else tuple(v) for k, v in what.items()})


@dataclass(frozen=True)
class Passes:
    """It runs here, and passes. skipped: an install step of the job the tier stood in for
    (a tool it pre-installed, a package the machine already has), and where it came from."""

    skipped: str = ""


@dataclass(frozen=True)
class FindsProblems:
    """A lint job on a fixture seeded with problems: it must fail, and its Code Quality
    report must name them, every required field filled."""

    seeded: str


PASSED = Passes()
REVIEWED = "reviewed only"
GOTESTSUM = Passes("gotestsum, from Debian instead of `go install`")
GIT = Passes("apt-get install git: the machine's own, for the version setuptools-scm reads from git")
REPO = Path(__file__).resolve().parents[2]  # the cifab under test, which a self-check job installs
GOLANGCI = CannotRun("golangci-lint is on no registry this machine reaches (no PyPI, npm or Debian package)")
COBERTURA = CannotRun("gocover-cobertura comes only from the Go module proxy, which is unreachable here")
GOPROXY = CannotRun("`go tool` builds the project's tools from the Go module proxy, which is unreachable here")
DIND = CannotRun("GoReleaser's image builds need a Docker daemon (docker:dind on a privileged runner), which this "
                 "machine has not")
SCANNER = "GitLab's container scanning analyzer: its template is on gitlab.com and its image on registry.gitlab.com, " \
    "neither reachable here (and it scans the image the default branch or a tag pushed to the registry)"


def scans(image: str) -> CannotRun:
    return CannotRun(SCANNER).proves(variables={"CS_IMAGE": f"{image}:$CI_COMMIT_SHORT_SHA"})


# govulncheck (the job's `go install` stood in for) against the fixtures' advisory database;
# jq from the machine where the job's apt-get would install it.
GOVULNCHECK = Passes("govulncheck 1.9.0 from Debian instead of `go install`; apt-get install jq: the machine's own")
# pip-audit against the tier's OSV stand-in on loopback; jq as above.
PIP_AUDIT = Passes("apt-get install jq: the machine's own; advisories from the tier's OSV stand-in on loopback")
# npm audit against the tier's stand-in for npm's advisory service on loopback; jq as above.
NPM_AUDIT = Passes("apt-get install jq: the machine's own; advisories from the tier's stand-in for npm's bulk "
                   "advisory endpoint on loopback (this machine's registry refuses audits)")  # npm, Yarn 4, bun
PNPM_AUDIT = Passes("apt-get install jq: the machine's own; advisories from the tier's stand-in for npm 6's audit "
                    "endpoint on loopback (this machine's registry refuses audits)")
SIGNATURES = CannotRun("npm audit signatures fetches Sigstore's trust root from tuf-repo-cdn.sigstore.dev, "
                       "unreachable here").proves(commands=["npm audit signatures"], files=["package-lock.json"])
CARGO_AUDIT = CannotRun("cargo-audit comes only from crates.io and clones RustSec's advisory database from GitHub, "
                        "neither reachable here; tests/test_audit.py runs its report step").proves(
    commands=["cargo audit --json > audit-findings.json || scan_status=$?"], files=["Cargo.toml"])
SIGNS = CannotRun("keyless signing needs the OIDC token GitLab issues the job (id_tokens) and Sigstore's public "
                  "services, neither here; tests/test_signing.py runs its script with a stand-in cosign").proves(
    commands=["apk add --no-cache cosign"], variables={"COSIGN_YES": "true"})
GO_SBOM = CannotRun("cyclonedx-gomod comes only from the Go module proxy, which is unreachable here").proves(
    commands=["cyclonedx-gomod mod -json -output sbom.cdx.json"], files=["go.mod"])
CARGO_SBOM = CannotRun("cargo-cyclonedx comes only from crates.io (Debian's build needs a newer C library than this "
                       "machine's)").proves(
    commands=["cargo cyclonedx --format json --spec-version 1.5 --override-filename sbom.cdx"], files=["Cargo.toml"])
NEXTEST = CannotRun("cargo-nextest comes only from crates.io or its own site, neither reachable here")


def minimist_finding() -> dict[str, Any]:
    """The jobs of a JavaScript fixture depending on minimist 1.2.5 (a fresh dict: the table's
    loops below add jobs to each fixture's own)."""
    return {"node-test": PASSED, "node-audit": FindsProblems("a dependency with a known vulnerability "
                                                             "(GHSA-xvch-5gv4-984h)")}


@dataclass(frozen=True)
class Fixture:
    name: str
    shape: str  # the real-world shape it stands for
    jobs: dict[str, Any]
    manifest: dict[str, Any] = field(default_factory=dict)  # changes to what `cifab init --yes` wrote
    source: str = ""  # the fixture folder, when another fixture's
    init_args: tuple[str, ...] = ()  # what `cifab init --yes` is given besides

    @property
    def folder(self) -> str:
        return self.source or self.name


FIXTURES = [
    Fixture("go-old-line", "Go binary whose go.mod says `go 1.15` (like cobra), a main.version stamp", {
        "golangci-lint": GOLANGCI, "go-vet": PASSED, "gofmt": PASSED, "go-test": COBERTURA, "go-build": PASSED}),
    Fixture("go-old-line-nocover", "the same with `go.coverage: false`, so that go-test runs here", {
        "golangci-lint": GOLANGCI, "go-vet": PASSED, "gofmt": PASSED, "go-test": GOTESTSUM, "go-build": PASSED},
        manifest={"go": {"coverage": False}}, source="go-old-line"),
    Fixture("go-vendor-nosum", "Go library with a vendor/ folder, no go.sum, an unformatted generated file", {
        "golangci-lint": GOLANGCI, "go-vet": PASSED, "gofmt": PASSED, "go-test": COBERTURA, "go-build": PASSED}),
    Fixture("go-toolchain", "Go binary with a `toolchain` line, a version variable in another package, GoReleaser",
            {"golangci-lint": GOLANGCI, "go-vet": PASSED, "gofmt": PASSED, "go-test": COBERTURA, "go-build": PASSED,
             "goreleaser": REVIEWED}),
    Fixture("go-goreleaser-whoami", "a Go service whose GoReleaser config builds its Docker image, like "
            "traefik/whoami", {
                "golangci-lint": GOLANGCI, "go-vet": PASSED, "gofmt": PASSED, "go-test": COBERTURA, "go-build": PASSED,
                "goreleaser": DIND.proves(commands=['echo "$CI_REGISTRY_PASSWORD" | docker login --username '
                                                    '"$CI_REGISTRY_USER" --password-stdin "$CI_REGISTRY"',
                                                    "goreleaser release --clean"],
                                          variables={"DOCKER_HOST": "tcp://docker:2376", "GIT_DEPTH": 0},
                                          files=[".goreleaser.yml", "Dockerfile"])}),
    Fixture("go-vulnerable-dep", "a Go package calling the vulnerable function of a vendored dependency that the "
            "tier's advisory database lists (GO-2026-9001)", {
                "golangci-lint": GOLANGCI, "go-vet": PASSED, "gofmt": PASSED, "go-test": GOTESTSUM,
                "govulncheck": FindsProblems("a call of a function with a known vulnerability (GO-2026-9001)"),
                "go-build": PASSED},
            manifest={"go": {"coverage": False}}),
    Fixture("go-tools-lib", "a Go library whose tools/go.mod declares golangci-lint and gotestsum with `tool`", {
        "golangci-lint": GOPROXY.proves(commands=[
            "go tool -modfile=tools/go.mod golangci-lint run --output.text.path=stdout "
            "--output.code-climate.path=gl-code-quality-report.json"], files=["tools/go.mod"]),
        "go-vet": PASSED, "gofmt": PASSED,
        "go-test": GOPROXY.proves(commands=[
            "go tool -modfile=tools/go.mod gotestsum --junitfile report.xml --format testname --raw-command -- go "
            "test -json -race -covermode=atomic -coverprofile=coverage.out ./..."], files=["tools/go.mod"]),
        "go-build": PASSED}),
    Fixture("py-uv-matrix", "uv project with `.python-version`, a 3.11–3.13 matrix, ruff and ruff format", {
        "ruff": PASSED, "pytest": PASSED, "python-build": PASSED}),
    Fixture("py-poetry", "Poetry project with a dev group and no linter", {
        "pytest": PASSED, "python-build": PASSED}),
    Fixture("py-pip-mypy", "pip project with requirements files and `[tool.mypy] files`", {
        "ruff": PASSED, "mypy": PASSED, "pytest": PASSED, "python-build": PASSED}),
    Fixture("py-black", "pip project formatted with black instead of ruff", {
        "black": PASSED, "pytest": PASSED, "python-build": PASSED}),
    Fixture("py-ruff-fix", "pip project whose ruff config says `fix = true`", {
        "ruff": PASSED, "pytest": PASSED, "python-build": PASSED}),
    Fixture("node-npm-typecheck", "npm, `node --test && npm run check:types`, `engines: >= 0.10.0`, a tsc build", {
        "node-test": PASSED, "node-build": PASSED}),
    Fixture("node-vulnerable-dep", "npm with minimist 1.2.5, which has a published advisory (GHSA-xvch-5gv4-984h)",
            minimist_finding()),
    Fixture("node-pnpm-vulnerable", "the same with pnpm, whose `pnpm audit` asks npm 6's audit endpoint",
            minimist_finding()),
    Fixture("node-berry-vulnerable", "the same with Yarn 4, whose `yarn npm audit` asks npm's bulk endpoint",
            minimist_finding()),
    Fixture("node-bun-vulnerable", "the same with bun and `bun test`, whose `bun audit` prints npm's bulk answer",
            minimist_finding()),
    Fixture("node-pnpm-vitest", "pnpm 10 from packageManager, vitest", {"node-test": PASSED}),
    Fixture("node-yarn1-jest", "Yarn 1, jest behind a `tests-only` script, no jest-junit, `.nvmrc` lts/iron, a "
            "build that writes one file", {"node-test": PASSED, "node-build": PASSED}),
    Fixture("node-berry-jest", "Yarn Berry (packageManager, .yarnrc.yml), jest with jest-junit", {
        "node-test": PASSED}),
    Fixture("node-nolock", "npm without a lock file, `node --test`", {"node-test": PASSED}),
    Fixture("rust-workspace", "a crate with a library member (doctests), like ripgrep", {
        "rustfmt": PASSED, "clippy": PASSED, "cargo-test": NEXTEST, "cargo-doctest": PASSED, "cargo-build": PASSED}),
    Fixture("rust-virtual", "a virtual workspace of two binaries", {
        "rustfmt": PASSED, "clippy": PASSED, "cargo-test": NEXTEST, "cargo-build": PASSED}),
    Fixture("rust-toolchain-cliff", "a virtual workspace with `rust-toolchain.toml` (stable), nightly rustfmt "
            "options, [[bin]] beside src/main.rs, tests that run git, like git-cliff", {
                "rustfmt": Passes("nightly rustfmt: the machine's, where rustup would download it"),
                "clippy": PASSED,
                "cargo-test": NEXTEST.proves(commands=['export RUSTUP_TOOLCHAIN="$RUST_VERSION"'],
                                            variables={"GIT_DEPTH": "0"}, files=["changelog-core/tests/history.rs"]),
                "cargo-doctest": PASSED, "cargo-build": PASSED}),
    Fixture("docker-only", "a Dockerfile alone, like linuxserver's docker-nginx", {
        "hadolint": PASSED, "container-image": REVIEWED, "container_scanning": scans("$CI_REGISTRY_IMAGE")}),
    Fixture("docker-only-signed", "the same with `signing: true`: keyless signing of the image it pushes", {
        "hadolint": PASSED, "container-image": REVIEWED, "sign-image": SIGNS,
        "container_scanning": scans("$CI_REGISTRY_IMAGE")}, manifest={"signing": True}, source="docker-only"),
    Fixture("docker-compose-samba", "a Dockerfile with hadolint warnings, and a compose file that builds it and a "
            "second image from wsdd.Dockerfile, like dperson/samba", {
                "hadolint": PASSED, "container-image-samba": REVIEWED, "container-image-wsdd": REVIEWED,
                "container_scanning": scans("$CI_REGISTRY_IMAGE/samba"),
                "container_scanning-wsdd": scans("$CI_REGISTRY_IMAGE/wsdd")}),
    Fixture("py-scm-version", "a library versioned by setuptools-scm from its git tags, as many on PyPI are", {
        "pytest": GIT, "python-build": GIT}),
    Fixture("py-precommit-scope", "ruff and mypy from pre-commit hooks with files scopes, a strict mypy needing "
            "types-PyYAML, a fuzz/ folder and a README code block outside the checks, like rich", {
                "ruff": PASSED, "mypy": PASSED, "pytest": PASSED, "python-build": PASSED}),
    Fixture("py-coverage-config", "coverage configured with `include`, warnings turned into errors, like httpx", {
        "pytest": PASSED, "python-build": PASSED}),
    Fixture("py-apt-from-ci", "tests that page through less, which its GitHub workflow installs with apt-get", {
        "pytest": Passes("apt-get install less: the machine's own, as the workflow installs it"),
        "python-build": PASSED}),
    Fixture("py-scripts", "checks run by scripts/check and scripts/test, like httpx and starlette", {
        "python-lint": PASSED, "pytest": PASSED, "python-build": PASSED}),
    Fixture("py-ruff-finding", "a Code Quality report that must name a problem: an unused import", {
        "ruff": FindsProblems("an unused import (F401)"), "pytest": PASSED, "python-build": PASSED}),
    Fixture("py-vulnerable-dep", "requirements.txt pinning six 1.16.0, which the tier's advisory database lists "
            "(PYSEC-2026-9001)", {
                "pytest": PASSED,
                "pip-audit": FindsProblems("a dependency with a known vulnerability (PYSEC-2026-9001)")},
            manifest={"python": {"versions": ["3.12"]}}),
    Fixture("py-self-check", "the cifab-check job, installing cifab from the checkout under test", {
        "pytest": PASSED, "python-build": PASSED, "cifab-check": PASSED},
        manifest={"self_check": {"install": f"pip install --quiet {REPO}"}}, source="py-coverage-config"),
    Fixture("py-deploy", "a staging deploy from the default branch, its script a stand-in that checks what it gets",
            {"pytest": PASSED, "python-build": PASSED, "deploy-staging": PASSED},
            manifest={"deploy": {"environments": [{"name": "staging", "when": "default_branch",
                                                   "script": ["./deploy/check-env.sh"]}]}}),
    Fixture("node-vitest-chain", "vitest inside `vitest run && node scripts/after.js`, like ufo's `vitest run && tsd`",
            {"node-test": PASSED}),
    Fixture("node-tsup", "built with tsup into dist/, which package.json publishes", {
        "node-test": PASSED, "node-build": PASSED}),
    Fixture("node-workspaces", "an npm workspace whose root has no test script", {
        "node-lint": PASSED, "node-test": PASSED}),
    Fixture("generic-maven", "a Maven project, which init names and `--stack generic` takes with its `mvn -B "
            "verify`", {"test": CannotRun("Maven fetches its plugins from Maven Central, which is unreachable here")
                        .proves(commands=["mvn -B verify"], files=["pom.xml"])},
            init_args=("--stack", "generic")),
    Fixture("monorepo-fullstack", "a uv workspace root with a backend member, a bun frontend whose test script runs "
            "Playwright, compose building the backend from the root and giving it postgres, like fastapi's "
            "full-stack template", {
                "backend-ruff": PASSED,
                "backend-pytest": Passes("the postgres:17 service: no Docker here to start it; the tests do not "
                                         "reach it"),
                "backend-python-build": PASSED,
                "backend-container-image": REVIEWED, "frontend-node-lint": PASSED, "frontend-node-build": PASSED,
                "frontend-container-image": REVIEWED,
                "backend-container_scanning": scans("$CI_REGISTRY_IMAGE/backend"),
                "frontend-container_scanning": scans("$CI_REGISTRY_IMAGE/frontend")}),
    Fixture("monorepo-rootdocker", "a root Dockerfile, a Go backend and a pnpm frontend, like remark42", {
        "repo-hadolint": PASSED, "repo-container-image": REVIEWED, "backend-golangci-lint": GOLANGCI,
        "backend-go-vet": PASSED, "backend-gofmt": PASSED, "backend-go-test": COBERTURA,
        "backend-go-build": PASSED, "frontend-node-test": PASSED,
        "repo-container_scanning": scans("$CI_REGISTRY_IMAGE")}),
]

# Every project's tags get a release job (a monorepo one for the repository), unless
# GoReleaser makes the release.
RELEASE = CannotRun("glab creates the release through GitLab's API, which no local run has; "
                    "tests/test_release.py runs its notes script").proves(files=[])
# The SBOM job of each project, after its build job: (job, result), or a Python or npm
# project's job name, which runs and passes.
SBOM: dict[str, Any] = {
    **dict.fromkeys([f.name for f in FIXTURES if f.name.startswith("go-")], ("go-sbom", GO_SBOM)),
    **dict.fromkeys([f.name for f in FIXTURES if f.name.startswith("rust-")], ("cargo-sbom", CARGO_SBOM)),
    "monorepo-rootdocker": ("backend-go-sbom", GO_SBOM.proves(files=["backend/go.mod"])),
    **dict.fromkeys(["py-vulnerable-dep", "py-poetry", "py-coverage-config", "py-apt-from-ci", "py-scripts",
                     "py-ruff-finding", "py-self-check", "py-deploy", "py-uv-matrix", "py-pip-mypy", "py-black",
                     "py-scm-version", "py-ruff-fix", "py-precommit-scope"], "python-sbom"),
    **dict.fromkeys(["node-npm-typecheck", "node-vitest-chain", "node-tsup", "node-workspaces",
                     "node-vulnerable-dep", "node-berry-jest", "node-berry-vulnerable"], "node-sbom")}
for _fixture in FIXTURES:
    if _fixture.name in SBOM:
        _jobs = list(_fixture.jobs.items())
        _at = next((i + 1 for i, (name, _) in enumerate(_jobs) if name.endswith("-build")), len(_jobs))
        _fixture.jobs.clear()
        # Installing a package versioned from git tags needs git, as its build does.
        _sbom = SBOM[_fixture.name]
        _entry = _sbom if isinstance(_sbom, tuple) else (_sbom, GIT if _fixture.name == "py-scm-version" else PASSED)
        _fixture.jobs.update([*_jobs[:_at], _entry, *_jobs[_at:]])
    if "goreleaser" not in _fixture.jobs:
        _fixture.jobs.setdefault("release", RELEASE)
NPM = ["node-npm-typecheck", "node-nolock", "node-tsup", "node-vitest-chain", "node-workspaces", "node-vulnerable-dep"]
PNPM = ["node-pnpm-vitest", "node-pnpm-vulnerable"]
YARN4_AND_BUN = ["node-berry-jest", "node-berry-vulnerable", "node-bun-vulnerable"]
# The dependency audits of every Go, Python, npm and pnpm project (and component), after its tests.
AUDITS: dict[str, list[tuple[str, Any]]] = {
    "monorepo-fullstack": [("backend-pip-audit", PIP_AUDIT), ("frontend-node-audit", NPM_AUDIT)],
    "monorepo-rootdocker": [("backend-govulncheck", GOVULNCHECK), ("frontend-node-audit", PNPM_AUDIT)],
    **{f.name: [("govulncheck", GOVULNCHECK)] for f in FIXTURES if f.name.startswith("go-")},
    **{f.name: [("pip-audit", PIP_AUDIT)] for f in FIXTURES if f.name.startswith("py-")},
    **{f.name: [("node-audit", NPM_AUDIT)] for f in FIXTURES if f.name in NPM},
    **{f.name: [("node-audit", PNPM_AUDIT)] for f in FIXTURES if f.name in PNPM},
    **{f.name: [("node-audit", NPM_AUDIT)] for f in FIXTURES if f.name in YARN4_AND_BUN},
    **{f.name: [("cargo-audit", CARGO_AUDIT)] for f in FIXTURES if f.name.startswith("rust-")}}
# npm projects with a lock file also verify the signatures of what they install.
SIGNED = [name for name in NPM if name != "node-nolock"]
for _fixture in FIXTURES:
    _added = [*([("npm-signatures", SIGNATURES)] if _fixture.name in SIGNED else []),
              *AUDITS.get(_fixture.name, [])]
    _added = [(name, value) for name, value in _added if name not in _fixture.jobs]
    if _added:
        _jobs = list(_fixture.jobs.items())
        _at = next((i + 1 for i, (name, _) in enumerate(_jobs) if name.endswith("test")), len(_jobs))
        _fixture.jobs.clear()
        _fixture.jobs.update([*_jobs[:_at], *_added, *_jobs[_at:]])
BY_NAME = {f.name: f for f in FIXTURES}


def status(value: Any) -> str:
    if isinstance(value, CannotRun):
        proved = [f"`{c}`" for c in value.commands] + [f"{k}={v}" for k, v in value.variables] + list(value.files)
        return f"cannot run here: {value.why}" + (f"; proved: {', '.join(proved)}" if proved else "")
    if isinstance(value, Passes):
        return f"passed (install step skipped: {value.skipped})" if value.skipped else "passed"
    if isinstance(value, FindsProblems):
        return f"fails, as it must, on {value.seeded}; its report names them"
    return str(value)


def markdown() -> str:
    lines = ["| fixture | shape | job | result |", "|---|---|---|---|"]
    for fixture in FIXTURES:
        for i, (job, value) in enumerate(fixture.jobs.items()):
            lines.append(f"| {'`' + fixture.name + '`' if i == 0 else ''} | {fixture.shape if i == 0 else ''} "
                         f"| `{job}` | {status(value)} |")
    return "\n".join(lines) + "\n"
