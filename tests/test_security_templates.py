"""GitLab's scanners in the generated pipelines: secret detection everywhere, SAST where its
analyzers cover the stack, container scanning of every image cifab pushes; each turned off
by its `security:` key; the `test` stage their jobs need always there."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from cifab.generate.plan import plan
from cifab.gitlab import CONTAINER_SCANNING_TEMPLATE, SAST_TEMPLATE, SECRET_DETECTION_TEMPLATE
from cifab.lint.engine import Options, lint_text
from tests import pipeline_yaml
from tests.test_examples import EXAMPLES

ALL = [SECRET_DETECTION_TEMPLATE, SAST_TEMPLATE, CONTAINER_SCANNING_TEMPLATE]


def _generated(tmp_path: Path, example: str, extra: str = "") -> list[dict[str, Any]]:
    repo = tmp_path / example
    shutil.copytree(EXAMPLES / example, repo)
    manifest = repo / "cifab.yml"
    manifest.write_text(manifest.read_text() + extra)
    return [pipeline_yaml.load(f.text) for f in plan(manifest).files]


def _templates(pipeline: dict[str, Any]) -> list[str]:
    return [entry["template"] for entry in pipeline.get("include") or [] if "template" in entry]


@pytest.mark.parametrize(("example", "expected"), [
    ("go-service", ALL),
    ("python-uv-service", ALL),
    ("node-web", [SECRET_DETECTION_TEMPLATE, SAST_TEMPLATE]),  # it builds no image
    ("rust-cli", [SECRET_DETECTION_TEMPLATE]),  # GitLab's SAST analyzers do not cover Rust
    ("docker-only", [SECRET_DETECTION_TEMPLATE, CONTAINER_SCANNING_TEMPLATE]),
    ("monorepo", [SECRET_DETECTION_TEMPLATE, SAST_TEMPLATE]),  # once, for the whole repository
])
def test_each_stack_includes_the_scanners_that_cover_it(tmp_path: Path, example: str, expected: list[str]) -> None:
    pipeline, *children = _generated(tmp_path, example)
    assert _templates(pipeline) == expected
    assert "test" in pipeline["stages"]  # where the templates' jobs run
    assert all("include" not in child for child in children)


def test_container_scanning_scans_each_pushed_image_after_its_build(tmp_path: Path) -> None:
    [pipeline] = _generated(tmp_path, "go-service")
    scan = pipeline["container_scanning"]
    assert scan["needs"] == ["container-image"] and scan["stage"] == "build"
    assert scan["variables"] == {"CS_IMAGE": "$CI_REGISTRY_IMAGE:$CI_COMMIT_SHORT_SHA"}
    # Only the default branch and tags push an image; the template's switch still works.
    assert scan["rules"][1:] == [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}, {"if": "$CI_COMMIT_TAG"}]
    assert scan["rules"][0]["when"] == "never" and "CONTAINER_SCANNING_DISABLED" in scan["rules"][0]["if"]
    assert "container_scanning" not in pipeline["deploy-staging"]["needs"]  # it reports, it does not gate


def test_several_images_get_one_scan_each(tmp_path: Path) -> None:
    extra = ("image:\n  build: true\n  builds:\n    - {name: api, dockerfile: Dockerfile, context: .}\n"
             "    - {name: worker, dockerfile: Dockerfile, context: .}\n")
    text = (EXAMPLES / "docker-only" / "cifab.yml").read_text()
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLES / "docker-only", repo)
    (repo / "cifab.yml").write_text("\n".join(line for line in text.splitlines() if not line.startswith("image"))
                                    + "\n" + extra)
    [pipeline] = [pipeline_yaml.load(f.text) for f in plan(repo / "cifab.yml").files]
    assert pipeline["container_scanning"]["variables"]["CS_IMAGE"] == "$CI_REGISTRY_IMAGE/api:$CI_COMMIT_SHORT_SHA"
    worker = pipeline["container_scanning-worker"]
    assert worker["extends"] == "container_scanning" and worker["needs"] == ["container-image-worker"]
    assert worker["variables"]["CS_IMAGE"] == "$CI_REGISTRY_IMAGE/worker:$CI_COMMIT_SHORT_SHA"


@pytest.mark.parametrize("key", ["secret_detection", "sast", "container_scanning"])
def test_each_scanner_turns_off(tmp_path: Path, key: str) -> None:
    [pipeline] = _generated(tmp_path, "go-service", f"security:\n  {key}: false\n")
    off = {"secret_detection": SECRET_DETECTION_TEMPLATE, "sast": SAST_TEMPLATE,
           "container_scanning": CONTAINER_SCANNING_TEMPLATE}[key]
    assert [t for t in ALL if t != off] == _templates(pipeline)  # the other two stay
    assert ("container_scanning" in pipeline) is (key != "container_scanning")


def test_a_pipeline_without_scanners_or_tests_has_no_test_stage(tmp_path: Path) -> None:
    off = "security:\n  secret_detection: false\n  container_scanning: false\n"
    [pipeline] = _generated(tmp_path, "docker-only", off)
    assert "include" not in pipeline and "test" not in pipeline["stages"]


@pytest.mark.parametrize("example", ["go-service", "docker-only", "rust-cli"])
def test_the_generated_pipeline_lints_clean_with_the_templates_outlined(tmp_path: Path, example: str) -> None:
    repo = tmp_path / example
    shutil.copytree(EXAMPLES / example, repo)
    [f] = plan(repo / "cifab.yml").files
    assert lint_text(f.text, str(f.path), Options(root=repo)) == []
