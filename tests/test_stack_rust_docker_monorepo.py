"""Rust workspaces, Docker-only repositories, deploys and monorepos: each test fails on the
behaviour that broke ripgrep's, docker-nginx's or remark42's first pipeline."""

from __future__ import annotations

from pathlib import Path

from cifab.init.detect import detect
from cifab.init.propose import propose
from tests import pipeline_yaml
from tests.test_stacks import pipeline, write

CRATE = '[package]\nname = "{name}"\nversion = "1.0.0"\nedition = "2021"\n'


def test_a_workspace_is_linted_tested_and_built_whole(tmp_path: Path) -> None:
    repo = write(tmp_path, {"Cargo.toml": CRATE.format(name="rg") + '[workspace]\nmembers = ["crates/*"]\n',
                            "src/main.rs": "fn main() {}\n", "Cargo.lock": "",
                            "crates/grep/Cargo.toml": CRATE.format(name="grep"), "crates/grep/src/lib.rs": ""})
    out = pipeline(repo)
    assert out["clippy"]["script"][-1] == ("cargo clippy --locked --workspace --all-targets --all-features "
                                           "-- -D warnings")
    assert "cargo nextest run --locked --workspace" in out["cargo-test"]["script"][-1]
    assert out["cargo-doctest"]["script"] == ["cargo test --locked --workspace --doc"]  # nextest skips doctests
    assert out["cargo-build"]["script"] == ["cargo build --release --locked --workspace"]


def test_a_virtual_workspace_of_binaries_is_not_a_library(tmp_path: Path) -> None:
    repo = write(tmp_path, {"Cargo.toml": '[workspace]\nmembers = ["apps/*"]\n',
                            "apps/a/Cargo.toml": CRATE.format(name="a"), "apps/a/src/main.rs": "fn main() {}\n",
                            "apps/b/Cargo.toml": CRATE.format(name="b"), "apps/b/src/main.rs": "fn main() {}\n"})
    found = detect(repo)
    assert found.settings["binaries"] == ["a", "b"] and found.settings["doctests"] is False
    assert any("a virtual workspace of 2 members" in line for line in found.evidence)
    assert pipeline(repo)["cargo-build"]["artifacts"]["paths"] == ["target/release/a", "target/release/b"]


def test_a_dockerfile_alone_gets_no_deploy_that_fails_by_design(tmp_path: Path) -> None:
    repo = write(tmp_path, {"Dockerfile": "FROM nginx:1.29-alpine\n"})
    out = pipeline(repo)
    assert not any(name.startswith("deploy-") for name in out)
    assert "deploy" not in propose(detect(repo), None)


def test_the_image_build_uses_a_registry_cache_and_oci_labels(tmp_path: Path) -> None:
    script = pipeline(write(tmp_path, {"Dockerfile": "FROM scratch\n"}))["container-image"]["script"][0]
    assert '--import-cache "type=registry,ref=$IMAGE_NAME/buildcache"' in script
    assert "--export-cache type=registry,ref=$IMAGE_NAME/buildcache,mode=max" in script
    assert '"label:org.opencontainers.image.revision=$CI_COMMIT_SHA"' in script


def test_deploy_images_may_name_their_entrypoint(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]

    (tmp_path / "cifab.yml").write_text(
        "cifab: 1\nproject: x\nstack: docker\ndeploy:\n  image: {name: 'bitnamilegacy/kubectl:1.33.4', "
        "entrypoint: ['']}\n  environments:\n    - name: prod\n      script: kubectl apply -f k8s/\n")
    assert cli("generate", cwd=tmp_path).exit_code == 0
    job = pipeline_yaml.load((tmp_path / ".gitlab-ci.yml").read_text())["deploy-prod"]
    assert job["image"] == {"name": "bitnamilegacy/kubectl:1.33.4", "entrypoint": [""]}


def test_a_root_dockerfile_does_not_hide_the_components(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]

    # remark42 was "only a Dockerfile: the docker stack".
    repo = write(tmp_path / "remark", {"Dockerfile": "FROM scratch\n", "backend/go.mod": "module r\n\ngo 1.26\n",
                                       "backend/main.go": "package main\n\nfunc main() {}\n",
                                       "frontend/package.json": '{"name": "web"}', "frontend/pnpm-lock.yaml": ""})
    found = detect(repo)
    assert found.stack == "monorepo"
    assert [(c["path"], c["stack"]) for c in found.settings["components"]] == [
        (".", "docker"), ("backend", "go"), ("frontend", "node")]
    assert cli("init", "--yes", cwd=repo).exit_code == 0 and cli("generate", cwd=repo).exit_code == 0
    out = pipeline_yaml.load((repo / ".gitlab-ci.yml").read_text())
    assert out["remark-hadolint"]["rules"][1]["changes"] == {"paths": ["**/*"]}
    assert "before_script" not in out["remark-hadolint"]  # the root component stays where it is


def test_workspace_manifests_name_the_components(tmp_path: Path) -> None:
    repo = write(tmp_path / "svc", {"go.mod": "module svc\n\ngo 1.26\n", "main.go": "package main\n",
                                    "go.work": "go 1.26\n\nuse (\n\t.\n\t./tools/gen\n)\n",
                                    "tools/gen/go.mod": "module gen\n\ngo 1.26\n",
                                    "web/deep/app/package.json": '{"name": "app"}',
                                    "pnpm-workspace.yaml": "packages:\n  - 'web/deep/app'\n"})
    found = detect(repo)
    assert found.stack == "monorepo"
    assert [c["path"] for c in found.settings["components"]] == [".", "web/deep/app", "tools/gen"]
    assert "components listed by pnpm-workspace.yaml, go.work" in found.evidence


def test_cargo_finds_binaries_as_cargo_does(tmp_path: Path) -> None:
    # git-cliff: [[bin]] tables for two helpers hid the main binary, src/main.rs.
    repo = write(tmp_path / "a", {
        "Cargo.toml": CRATE.format(name="git-cliff") + 'default-run = "git-cliff"\n'
        '[[bin]]\nname = "git-cliff-completions"\npath = "src/bin/completions.rs"\n'
        '[[bin]]\nname = "git-cliff-mangen"\npath = "src/bin/mangen.rs"\n',
        "src/main.rs": "fn main() {}\n", "src/bin/completions.rs": "fn main() {}\n",
        "src/bin/mangen.rs": "fn main() {}\n", "src/bin/extra/main.rs": "fn main() {}\n"})
    assert detect(repo).settings["binaries"] == ["git-cliff", "git-cliff-completions", "git-cliff-mangen", "extra"]
    no_auto = write(tmp_path / "b", {
        "Cargo.toml": CRATE.format(name="x") + 'autobins = false\ndefault-run = "tool"\n'
        '[[bin]]\nname = "cli"\npath = "src/main.rs"\n[[bin]]\nname = "tool"\npath = "src/tool.rs"\n',
        "src/main.rs": "fn main() {}\n", "src/bin/ignored.rs": "fn main() {}\n"})
    assert detect(no_auto).settings["binaries"] == ["tool", "cli"]


def test_a_stable_toolchain_file_uses_the_images_toolchain(tmp_path: Path) -> None:
    # git-cliff: rust-toolchain.toml's `stable` made rustup download a second toolchain per job.
    repo = write(tmp_path, {"Cargo.toml": CRATE.format(name="x"), "src/main.rs": "fn main() {}\n",
                            "rust-toolchain.toml": '[toolchain]\nchannel = "stable"\ncomponents = ["rustfmt", '
                                                   '"llvm-tools"]\n'})
    found = detect(repo)
    assert found.settings["image_toolchain"] is True and "version" not in found.settings
    assert any("llvm-tools" in line and "not installed" in line for line in found.evidence)
    out = pipeline(repo)
    assert out["default"]["image"] == "rust:1.95-bookworm"
    for job in ("clippy", "cargo-test", "cargo-build"):
        assert out[job]["script"][0] == 'export RUSTUP_TOOLCHAIN="$RUST_VERSION"', job


def test_a_pinned_toolchain_picks_the_image_and_nightly_is_told(tmp_path: Path) -> None:
    pinned = write(tmp_path / "p", {"Cargo.toml": CRATE.format(name="x"), "rust-toolchain": "1.90.0\n"})
    assert pipeline(pinned)["default"]["image"] == "rust:1.90.0-bookworm"
    nightly = write(tmp_path / "n", {"Cargo.toml": CRATE.format(name="x"),
                                     "rust-toolchain.toml": '[toolchain]\nchannel = "nightly-2026-01-01"\n'})
    found = detect(nightly)
    assert "image_toolchain" not in found.settings
    assert any(line.startswith("note: rust-toolchain.toml asks for the nightly-2026-01-01 channel")
               for line in found.evidence)
    assert pipeline(nightly)["clippy"]["script"][0] == "rustup component add clippy"


def test_nightly_rustfmt_options_need_nightly_or_no_format_job(tmp_path: Path) -> None:
    repo = write(tmp_path, {"Cargo.toml": CRATE.format(name="x"),
                            "rustfmt.toml": 'imports_granularity = "Crate"\nmax_width = 100\n'})
    found = detect(repo)
    assert found.settings["rustfmt"] == "nightly"
    assert pipeline(repo)["rustfmt"]["script"][-1] == "cargo +nightly fmt --all --check"
    skipped = propose(found, None, lambda q, d, k=(), c=None: False if "nightly rustfmt" in q else d)
    assert skipped["rust"]["rustfmt"] == "skip"
    stable = write(tmp_path / "s", {"Cargo.toml": CRATE.format(name="x"), "rustfmt.toml": "max_width = 100\n"})
    assert "rustfmt" not in detect(stable).settings


def test_tests_that_read_git_get_the_whole_history(tmp_path: Path) -> None:
    repo = write(tmp_path, {"Cargo.toml": CRATE.format(name="x"), "src/lib.rs": "",
                            "tests/repo.rs": "#[test]\nfn t() { git2::Repository::open(\".\").unwrap(); }\n"})
    out = pipeline(repo)
    assert out["cargo-test"]["variables"] == {"GIT_DEPTH": "0"}
    assert out["cargo-doctest"]["variables"] == {"GIT_DEPTH": "0"}
    plain = write(tmp_path / "p", {"Cargo.toml": CRATE.format(name="x"), "tests/t.rs": "#[test]\nfn t() {}\n"})
    assert "variables" not in pipeline(plain)["cargo-test"]


def test_hadolint_fails_on_errors_unless_the_project_configures_it(tmp_path: Path) -> None:
    # docker-nginx's first pipeline went red on warnings; a 2022 hadolint pin besides.
    repo = write(tmp_path / "a", {"Dockerfile": "FROM alpine:3.22\nMAINTAINER me\n"})
    found = detect(repo)
    assert any(line.startswith("note: Dockerfile:2: MAINTAINER is deprecated (hadolint DL4000, an error)")
               for line in found.evidence)
    job = pipeline(repo)["hadolint"]
    assert job["image"] == "hadolint/hadolint:v2.15.1-debian"
    assert job["script"] == ["hadolint --no-fail --format gitlab_codeclimate Dockerfile > gl-code-quality-report.json",
                             "hadolint --failure-threshold error Dockerfile"]
    configured = write(tmp_path / "b", {"Dockerfile": "FROM alpine:3.22\n", ".hadolint.yaml": "ignored: [DL3018]\n"})
    assert pipeline(configured)["hadolint"]["script"][-1] == "hadolint Dockerfile"


def test_compose_build_services_become_one_image_job_each(tmp_path: Path) -> None:
    repo = write(tmp_path, {
        "Dockerfile": "FROM alpine:3.22\n", "Dockerfile.worker": "FROM alpine:3.22\n",
        "compose.yml": "services:\n  web:\n    build: .\n  worker:\n    build:\n      context: .\n"
                       "      dockerfile: Dockerfile.worker\n  remote:\n    build: https://example.com/repo.git\n"
                       "  db:\n    image: postgres:17\n"})
    found = detect(repo)
    assert any("remote: its build context" in line and line.startswith("warning: compose.yml")
               for line in found.evidence)
    out = pipeline(repo)
    assert "container-image" not in out
    web, worker = out["container-image-web"], out["container-image-worker"]
    assert web["variables"]["IMAGE_NAME"] == "$CI_REGISTRY_IMAGE/web"
    assert (worker["variables"]["DOCKERFILE_NAME"], worker["variables"]["BUILD_CONTEXT"]) == ("Dockerfile.worker", ".")
    assert out["hadolint"]["script"][-1] == "hadolint --failure-threshold error Dockerfile Dockerfile.worker"


def test_compose_gives_the_tests_their_database(tmp_path: Path) -> None:
    repo = write(tmp_path, {
        "pyproject.toml": '[project]\nname = "api"\nversion = "1"\nrequires-python = ">=3.12"\n',
        "compose.yml": "services:\n  db:\n    image: postgres:17\n    environment:\n      POSTGRES_DB: app\n"
                       "      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD?unset}\n"
                       "  api:\n    build: .\n    environment:\n      - POSTGRES_SERVER=db\n"
                       "      - SECRET_KEY=${SECRET_KEY}\n", "Dockerfile": "FROM python:3.13-slim\n"})
    job = pipeline(repo)["pytest"]
    assert job["services"] == [{"name": "postgres:17", "alias": "db"}]
    assert job["variables"] == {"POSTGRES_DB": "app", "POSTGRES_HOST_AUTH_METHOD": "trust", "POSTGRES_SERVER": "db"}


def test_a_component_builds_with_the_context_compose_gives_it(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]

    # fastapi's template: backend/Dockerfile copies the root's uv.lock, so compose builds it from the root.
    repo = write(tmp_path, {
        "backend/pyproject.toml": '[project]\nname = "app"\nversion = "1"\nrequires-python = ">=3.12"\n',
        "backend/Dockerfile": "FROM python:3.13-slim\nCOPY uv.lock /app/\n",
        "frontend/package.json": '{"name": "web", "scripts": {"test": "node --test"}}',
        "compose.yml": "services:\n  backend:\n    build:\n      context: .\n      dockerfile: backend/Dockerfile\n"})
    found = detect(repo)
    backend = next(c for c in found.settings["components"] if c["name"] == "backend")
    assert backend["image"] == {"build": True, "dockerfile": "Dockerfile", "context": ".."}
    assert cli("init", "--yes", cwd=repo).exit_code == 0 and cli("generate", cwd=repo).exit_code == 0
    job = pipeline_yaml.load((repo / ".gitlab-ci.yml").read_text())["backend-container-image"]
    assert job["variables"]["BUILD_CONTEXT"] == ".."
    assert job["before_script"][0].startswith('cd "$CI_PROJECT_DIR/backend"')
