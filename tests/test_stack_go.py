"""The go stack against the shapes real repositories have (issue: pipelines that pass on
their first run). Each test fails on the behaviour that broke a real pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from cifab.errors import CifabError
from cifab.generate import context as ctx
from cifab.manifest.load import parse
from cifab.stacks import go
from tests.test_stacks import pipeline, write

FIXTURES = Path(__file__).parent / "e2e" / "fixtures"


@pytest.mark.parametrize(("gomod", "image"), [
    ("module x\n\ngo 1.15\n", "golang:1.27"),  # cobra: golang:1.15-bookworm was never published
    ("module x\n\ngo 1.23.0\n", "golang:1.27"),  # fzf: no patch-level tag from a minimum
    ("module x\n\ngo 1.25.0\n\ntoolchain go1.26.2\n", "golang:1.26.2"),  # toolchain: its patch level
    ("module x\n", "golang:1.27"),
])
def test_the_image_is_a_published_supported_release(tmp_path: Path, gomod: str, image: str) -> None:
    repo = write(tmp_path, {"go.mod": gomod, "main.go": "package main\n\nfunc main() {}\n"})
    assert pipeline(repo)["default"]["image"] == image


def test_an_old_minimum_gets_a_matrix_of_the_supported_releases(tmp_path: Path) -> None:
    repo = write(tmp_path, {"go.mod": "module x\n\ngo 1.15\n", "main.go": "package main\n\nfunc main() {}\n"})
    test = pipeline(repo)["go-test"]
    assert test["parallel"]["matrix"] == [{"GO_VERSION": list(go.SUPPORTED)}]
    assert test["image"] == "golang:${GO_VERSION}"


@pytest.mark.parametrize("version", [*go.SUPPORTED, go.PINS["version"]])
def test_every_pinned_tool_builds_with_every_go_cifab_chooses(version: str) -> None:
    for tool in (go.GOTESTSUM, go.GOCOVER_COBERTURA):
        assert tool.builds_with(go.minor(version)), f"{tool.spec} on Go {version}"


def test_known_tool_floors() -> None:
    assert not go.GOTESTSUM.builds_with((1, 23))  # gotestsum v1.13.0 declares go 1.24
    assert go.GOCOVER_COBERTURA.version >= "v1.4.0"  # v1.3.0 does not compile on Go 1.25+


def test_a_go_version_below_a_tool_floor_is_refused_with_a_reason(tmp_path: Path) -> None:
    text = "cifab: 1\nproject: x\nstack: go\ngo:\n  version: \"1.22\"\n"
    manifest = parse(text.encode(), "cifab.yml")
    with pytest.raises(CifabError, match=r"gotest.tools/gotestsum@v1.13.0.*needs Go 1.24"):
        ctx.build(manifest)


def test_tools_are_installed_only_when_the_image_lacks_them(tmp_path: Path) -> None:
    repo = write(tmp_path, {"go.mod": "module x\n\ngo 1.26\n", "x.go": "package x\n"})
    script = pipeline(repo)["go-test"]["script"]
    assert "command -v gotestsum >/dev/null || go install gotest.tools/gotestsum@v1.13.0" in script
    assert "command -v gocover-cobertura >/dev/null || go install github.com/boumenot/gocover-cobertura@v1.4.0" \
        in script


def test_the_cache_key_does_not_need_go_sum(tmp_path: Path) -> None:
    repo = write(tmp_path, {"go.mod": "module x\n\ngo 1.26\n", "x.go": "package x\n"})
    assert pipeline(repo)[".go-cache"]["cache"]["key"]["files"] == ["go.mod", "go.sum"]


def test_the_version_variable_is_found_where_it_lives(tmp_path: Path) -> None:
    # yq keeps it in package cmd: -X main.version would link and stamp nothing.
    repo = write(tmp_path, {
        "go.mod": "module github.com/acme/yq/v4\n\ngo 1.26\n",
        "yq.go": 'package main\n\nimport "github.com/acme/yq/v4/cmd"\n\nfunc main() { cmd.New() }\n',
        "cmd/version.go": 'package cmd\n\nvar (\n\tVersion = "v4.0.0"\n\tOther = 1\n)\n\nfunc New() {}\n',
    })
    [command] = pipeline(repo)["go-build"]["script"][2:]
    assert '-X github.com/acme/yq/v4/cmd.Version=$VERSION' in command


def test_no_version_variable_means_no_stamp(tmp_path: Path) -> None:
    repo = write(tmp_path, {"go.mod": "module x\n\ngo 1.26\n", "main.go": "package main\n\nfunc main() {}\n"})
    script = pipeline(repo)["go-build"]["script"]
    assert not any("-X" in line or "VERSION=" in line for line in script)
    assert script[-1] == 'go build -trimpath -ldflags "-s -w" -o "dist/${GOOS}_${GOARCH}/x" .'


def test_gofmt_skips_vendor_and_generated_files(tmp_path: Path) -> None:
    repo = write(tmp_path, {"go.mod": "module x\n\ngo 1.26\n", "x.go": "package x\n"})
    script = " ".join(pipeline(repo)["gofmt"]["script"])
    assert "':!:vendor/*'" in script and "Code generated .* DO NOT EDIT" in script


def test_a_goreleaser_config_leads_to_the_release_job(tmp_path: Path) -> None:
    repo = write(tmp_path, {"go.mod": "module x\n\ngo 1.26\n", "main.go": "package main\n\nfunc main() {}\n",
                            ".goreleaser.yaml": "version: 2\n"})
    assert pipeline(repo)["goreleaser"]["rules"] == [{"if": "$CI_COMMIT_TAG"}]


MAIN = {"go.mod": "module x\n\ngo 1.26\n", "main.go": "package main\n\nfunc main() {}\n"}


def test_a_release_that_builds_images_gets_a_daemon_and_a_login(tmp_path: Path) -> None:
    # traefik/whoami: GoReleaser's dockers: failed without a Docker daemon.
    from cifab.init.detect import detect

    repo = write(tmp_path, {**MAIN, ".goreleaser.yml": "version: 2\ndockers:\n  - image_templates: [x]\n"})
    found = detect(repo)
    assert any("GITLAB_TOKEN" in line and "Settings > CI/CD > Variables" in line for line in found.evidence)
    job = pipeline(repo)["goreleaser"]
    assert job["services"] == [{"name": "docker:29.10.1-dind", "alias": "docker"}]
    assert job["variables"]["DOCKER_HOST"] == "tcp://docker:2376" and job["variables"]["DOCKER_TLS_CERTDIR"] == "/certs"
    assert job["before_script"] == ['echo "$CI_REGISTRY_PASSWORD" | docker login --username "$CI_REGISTRY_USER" '
                                    '--password-stdin "$CI_REGISTRY"']
    plain = write(tmp_path / "p", {**MAIN, ".goreleaser.yaml": "version: 2\nbuilds:\n  - main: .\n"})
    assert "services" not in pipeline(plain)["goreleaser"]


def test_a_goreleaser_v1_config_gets_the_last_v1(tmp_path: Path) -> None:
    from cifab.init.detect import detect

    repo = write(tmp_path, {**MAIN, ".goreleaser.yaml": "builds:\n  - main: .\n"})
    assert any("GoReleaser v1 config" in line for line in detect(repo).evidence)
    assert pipeline(repo)["goreleaser"]["image"]["name"] == "goreleaser/goreleaser:v1.26.2"


@pytest.mark.parametrize(("files", "prefix"), [
    ({"go.mod": "module x\n\ngo 1.26\n\ntool (\n\tgotest.tools/gotestsum\n"
               "\tgithub.com/golangci/golangci-lint/v2/cmd/golangci-lint // lint\n)\n"}, "go tool "),
    ({"go.mod": "module x\n\ngo 1.26\n", "tools/go.mod": "module x/tools\n\ngo 1.26\n\n"
      "tool gotest.tools/gotestsum\ntool github.com/golangci/golangci-lint/v2/cmd/golangci-lint\n"},
     "go tool -modfile=tools/go.mod "),
])
def test_declared_tools_run_at_the_projects_version(tmp_path: Path, files: dict[str, str], prefix: str) -> None:
    repo = write(tmp_path, {**files, "x.go": "package x\n"})
    out = pipeline(repo)
    assert out["golangci-lint"]["image"] == "golang:1.27"
    assert out["golangci-lint"]["script"][-1].startswith(f"{prefix}golangci-lint run --output.text.path=stdout")
    test = out["go-test"]["script"]
    assert not any("go install gotest.tools/gotestsum" in line for line in test)
    assert any(line.startswith(f"{prefix}gotestsum --junitfile report.xml") for line in test)
    assert "command -v gocover-cobertura >/dev/null || go install github.com/boumenot/gocover-cobertura@v1.4.0" in test


def test_a_v1_golangci_lint_tool_gets_v1_flags(tmp_path: Path) -> None:
    gomod = "module x\n\ngo 1.26\n\ntool github.com/golangci/golangci-lint/cmd/golangci-lint\n"
    repo = write(tmp_path, {"go.mod": gomod, "x.go": "package x\n"})
    assert pipeline(repo)["golangci-lint"]["script"][-1] == (
        "go tool golangci-lint run --out-format=colored-line-number,code-climate:gl-code-quality-report.json")


def test_the_toolchain_patch_level_is_kept_in_messages(tmp_path: Path) -> None:
    from cifab.init.detect import detect

    repo = write(tmp_path, {"go.mod": "module x\n\ngo 1.25\n\ntoolchain go1.26.6\n", "x.go": "package x\n"})
    assert any("toolchain go1.26.6 in go.mod" in line for line in detect(repo).evidence)


def test_a_dockerfile_goreleaser_builds_gets_no_image_job_of_its_own(tmp_path: Path) -> None:
    # whoami's Dockerfile copies the binary GoReleaser built: BuildKit alone cannot build it.
    repo = write(tmp_path, {**MAIN, "Dockerfile": "FROM scratch\nCOPY x /\n",
                            ".goreleaser.yaml": "version: 2\ndockers:\n  - image_templates: [x]\n"})
    out = pipeline(repo)
    assert "container-image" not in out and "goreleaser" in out
