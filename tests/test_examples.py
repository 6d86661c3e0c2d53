"""Every example, and cifab's own pipeline, regenerates byte for byte and lints clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from cifab.generate import plan as generate
from cifab.lint.engine import Options, lint_text
from tests import pipeline_yaml
from tests.conftest import EXAMPLES, REPO

EXAMPLE_DIRS = sorted(p for p in EXAMPLES.iterdir() if (p / "cifab.yml").is_file())


def test_there_are_at_least_five_examples() -> None:
    assert len(EXAMPLE_DIRS) >= 5


@pytest.mark.parametrize("example", EXAMPLE_DIRS, ids=lambda p: p.name)
def test_example_regenerates_identically(example: Path) -> None:
    plan = generate.plan(example / "cifab.yml")
    assert plan.in_sync, plan.diff()


@pytest.mark.parametrize("example", EXAMPLE_DIRS, ids=lambda p: p.name)
def test_example_lints_clean(example: Path) -> None:
    for f in generate.plan(example / "cifab.yml").files:  # child pipelines too
        assert lint_text(f.path.read_text(), str(f.path), Options(root=example)) == [], f.path


def test_own_pipeline_is_in_sync_with_own_manifest() -> None:
    plan = generate.plan(REPO / "cifab.yml")
    assert plan.in_sync, plan.diff()


def test_own_pipeline_tests_lints_builds_and_releases_cifab() -> None:
    pipeline = pipeline_yaml.load((REPO / ".gitlab-ci.yml").read_text())
    assert pipeline["stages"] == ["lint", "test", "build", "deploy"]
    assert any(line.startswith("pytest") for line in pipeline["pytest"]["script"])
    assert pipeline["ruff"]["script"][-1] == "ruff check --no-fix" and pipeline["mypy"]["script"][-1] == "mypy"
    assert pipeline["python-build"]["artifacts"]["paths"] == ["dist/"]
    # A tag builds the package and uploads it to the project's registry: that is a release.
    publish = pipeline["publish-package"]
    assert publish["rules"] == [{"if": "$CI_COMMIT_TAG"}] and "python-build" in publish["needs"]
    assert any("twine upload" in line for line in publish["script"])
    # The self-check runs the cifab of this checkout, which is the one under review.
    assert pipeline["cifab-check"]["script"][0] == "pip install --quiet ."


def test_every_stack_has_an_example() -> None:
    stacks = {pipeline_yaml.load((p / "cifab.yml").read_text())["stack"] for p in EXAMPLE_DIRS}
    assert {"go", "python", "node", "rust", "docker", "generic", "monorepo"} <= stacks


def test_examples_cover_the_issue_list() -> None:
    data = {p.name: pipeline_yaml.load((p / "cifab.yml").read_text()) for p in EXAMPLE_DIRS}
    data = {name: d for name, d in data.items() if d["stack"] == "go"}
    assert any(len(d["go"].get("targets", [])) >= 3 and not d.get("deploy") for d in data.values())  # a CLI
    assert any(d.get("image", {}).get("build") and len(d["deploy"]["environments"]) == 2
               for d in data.values() if d.get("deploy"))  # a service
    assert any(d["go"].get("binaries") == [] for d in data.values())  # a library
    assert any(len(d["go"].get("binaries", [])) >= 3 for d in data.values())  # multi-binary
    assert any("lint" in d and "version_variable" in d["go"] for d in data.values())  # every option


def test_every_example_pipeline_passes_gitlabs_schema_via_check_jsonschema() -> None:
    import subprocess
    import sys

    files = [str(f.path) for example in EXAMPLE_DIRS for f in generate.plan(example / "cifab.yml").files]
    files.append(str(REPO / ".gitlab-ci.yml"))
    exe = Path(sys.executable).with_name("check-jsonschema")
    proc = subprocess.run([str(exe), *pipeline_yaml.CHECK_JSONSCHEMA_ARGS, *files],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
