"""Rust workspaces, Docker-only repositories, deploys and monorepos: each test fails on the
behaviour that broke ripgrep's, docker-nginx's or remark42's first pipeline."""

from __future__ import annotations

from pathlib import Path

from cifab.init.detect import detect
from cifab.init.propose import propose
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
    assert '--import-cache "type=registry,ref=$CI_REGISTRY_IMAGE/buildcache"' in script
    assert "--export-cache type=registry,ref=$CI_REGISTRY_IMAGE/buildcache,mode=max" in script
    assert '"label:org.opencontainers.image.revision=$CI_COMMIT_SHA"' in script


def test_deploy_images_may_name_their_entrypoint(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import yaml

    (tmp_path / "cifab.yml").write_text(
        "cifab: 1\nproject: x\nstack: docker\ndeploy:\n  image: {name: 'bitnamilegacy/kubectl:1.33.4', "
        "entrypoint: ['']}\n  environments:\n    - name: prod\n      script: kubectl apply -f k8s/\n")
    assert cli("generate", cwd=tmp_path).exit_code == 0
    job = yaml.safe_load((tmp_path / ".gitlab-ci.yml").read_text())["deploy-prod"]
    assert job["image"] == {"name": "bitnamilegacy/kubectl:1.33.4", "entrypoint": [""]}


def test_a_root_dockerfile_does_not_hide_the_components(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import yaml

    # remark42 was "only a Dockerfile: the docker stack".
    repo = write(tmp_path / "remark", {"Dockerfile": "FROM scratch\n", "backend/go.mod": "module r\n\ngo 1.26\n",
                                       "backend/main.go": "package main\n\nfunc main() {}\n",
                                       "frontend/package.json": '{"name": "web"}', "frontend/pnpm-lock.yaml": ""})
    found = detect(repo)
    assert found.stack == "monorepo"
    assert [(c["path"], c["stack"]) for c in found.settings["components"]] == [
        (".", "docker"), ("backend", "go"), ("frontend", "node")]
    assert cli("init", "--yes", cwd=repo).exit_code == 0 and cli("generate", cwd=repo).exit_code == 0
    out = yaml.safe_load((repo / ".gitlab-ci.yml").read_text())
    assert out["remark-hadolint"]["rules"][1] == {"changes": {"paths": ["**/*"]}}
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
