"""Keyless signing (signing: true): which jobs sign what, and their scripts run for real in
bash with stand-ins for apk and cosign that record what cosign was asked. (Sigstore and
GitLab's OIDC tokens are out of reach here: the e2e table says so.)"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests import pipeline_yaml
from tests.test_audit import generated
from tests.test_monorepo import generate, mono  # noqa: F401 (a fixture)
from tests.test_stacks import write

DOCKER = {"Dockerfile": "FROM alpine:3.22\n"}
GO = {"go.mod": "module example.com/app\n\ngo 1.26\n", "main.go": "package main\n\nfunc main() {}\n"}


def signing_on(repo: Path) -> dict[str, Any]:
    return generated(repo, extra="signing: true\n")


def test_nothing_is_signed_unless_the_manifest_asks(tmp_path: Path) -> None:
    pipeline = generated(write(tmp_path, {**GO, **DOCKER}))
    assert not [name for name, job in pipeline.items() if isinstance(job, dict) and "id_tokens" in job]
    assert "--metadata-file" not in json.dumps(pipeline)


def test_each_pushed_image_is_signed_by_the_digest_its_job_hands_on(tmp_path: Path) -> None:
    pipeline = signing_on(write(tmp_path, DOCKER))
    sign, image = pipeline["sign-image"], pipeline["container-image"]
    assert sign["needs"] == ["container-image"] and sign["id_tokens"] == {"SIGSTORE_ID_TOKEN": {"aud": "sigstore"}}
    assert [rule["if"] for rule in sign["rules"]] == ["$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", "$CI_COMMIT_TAG"]
    assert image["artifacts"]["reports"] == {"dotenv": "image.env"}
    # buildctl's metadata file, as BuildKit writes it: the digest line becomes the dotenv.
    (tmp_path / "image-metadata.json").write_text(json.dumps({
        "buildx.build.ref": "x", "containerimage.descriptor": {"size": 1},
        "containerimage.digest": "sha256:" + "ab" * 32}, indent=2))
    digest_line = next(line for line in image["script"] if "image.env" in line)
    subprocess.run(["sh", "-c", digest_line], cwd=tmp_path, check=True)
    assert (tmp_path / "image.env").read_text() == f"IMAGE_DIGEST=sha256:{'ab' * 32}\n"


def cosign_calls(job: dict[str, Any], folder: Path, env: dict[str, str]) -> list[list[str]]:
    """The job's script in bash with apk and cosign as stand-ins; cosign's arguments, one call a line."""
    bin_dir = folder / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "apk").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "cosign").write_text(f"#!/bin/sh\ncat > /dev/null\nprintf '%s\\n' \"$(printf '%s\\037' \"$@\")\" "
                                    f">> '{folder / 'calls'}'\n")
    for tool in ("apk", "cosign"):
        (bin_dir / tool).chmod(0o755)
    script = "set -eo pipefail\n" + "\n".join(job["script"]) + "\n"
    variables = {k: str(v) for k, v in (job.get("variables") or {}).items()}
    result = subprocess.run(["bash", "-c", script], cwd=folder, capture_output=True, text=True, check=False,
                            env={"PATH": f"{bin_dir}:/usr/bin:/bin", **variables, **env})
    assert result.returncode == 0, result.stderr
    calls = (folder / "calls").read_text().splitlines() if (folder / "calls").exists() else []
    return [call.rstrip("\x1f").split("\x1f") for call in calls]


REGISTRY = {"CI_REGISTRY": "registry.example.com", "CI_REGISTRY_USER": "u", "CI_REGISTRY_PASSWORD": "p",
            "CI_REGISTRY_IMAGE": "registry.example.com/g/p", "CI_COMMIT_SHORT_SHA": "0123abcd",
            "CI_COMMIT_SHA": "0123abcd" * 5, "CI_PIPELINE_URL": "https://gitlab.com/g/p/-/pipelines/1",
            "CI_JOB_URL": "https://gitlab.com/g/p/-/jobs/2"}


def test_the_sign_job_signs_the_digest_and_else_the_commits_tag(tmp_path: Path) -> None:
    job = signing_on(write(tmp_path / "repo", DOCKER))["sign-image"]
    job["variables"]["IMAGE_NAME"] = REGISTRY["CI_REGISTRY_IMAGE"]
    login, sign = cosign_calls(job, tmp_path, {**REGISTRY, "IMAGE_DIGEST": "sha256:" + "cd" * 32})
    assert login == ["login", "registry.example.com", "--username", "u", "--password-stdin"]
    assert sign[:2] == ["sign", f"registry.example.com/g/p@sha256:{'cd' * 32}"]
    assert "com.gitlab.ci.commit.sha=" + "0123abcd" * 5 in sign
    (tmp_path / "calls").unlink()
    _, by_tag = cosign_calls(job, tmp_path, REGISTRY)
    assert by_tag[:2] == ["sign", "registry.example.com/g/p:0123abcd"]


def test_release_files_are_signed_on_tags_each_with_its_bundle(tmp_path: Path) -> None:
    job = signing_on(write(tmp_path / "repo", GO))["sign-artifacts"]
    assert job["needs"] == ["go-build"] and job["rules"] == [{"if": "$CI_COMMIT_TAG"}]
    assert job["artifacts"]["paths"] == ["dist/**/*.sigstore.json"]
    (tmp_path / "dist" / "linux_amd64").mkdir(parents=True)
    (tmp_path / "dist" / "linux_amd64" / "app").write_text("binary")
    (tmp_path / "dist" / "linux_amd64" / "old.sigstore.json").write_text("{}")
    calls = cosign_calls(job, tmp_path, {})
    assert calls == [["sign-blob", "dist/linux_amd64/app", "--bundle", "dist/linux_amd64/app.sigstore.json"]]


def test_child_pipelines_leave_signing_to_their_parent(cli, mono: Path) -> None:  # noqa: F811
    (mono / "services" / "api" / "Dockerfile").write_text("FROM scratch\n")
    parent = generate(cli, mono, "child_pipelines: true\nsigning: true\n")
    components = pipeline_yaml.load((mono / "cifab.yml").read_text())["components"]
    assert components  # the manifest init wrote names the components the parent triggers
    child = pipeline_yaml.load((mono / ".gitlab" / "cifab" / "api.yml").read_text())
    assert not [name for name, job in child.items() if isinstance(job, dict) and "id_tokens" in job]
    signer = parent["api-sign-image"]
    assert parent["stages"][-3:] == ["components", "sign", "deploy"] and signer["stage"] == "sign"
    assert signer["needs"] == ["api"]
    assert signer["variables"]["IMAGE_NAME"] == "$CI_REGISTRY_IMAGE/api"


def test_a_monorepos_components_push_to_repositories_of_their_own(cli, mono: Path) -> None:  # noqa: F811
    (mono / "services" / "api" / "Dockerfile").write_text("FROM scratch\n")
    pipeline = generate(cli, mono)
    assert pipeline["api-container-image"]["variables"]["IMAGE_NAME"] == "$CI_REGISTRY_IMAGE/api"
