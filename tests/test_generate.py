"""`cifab generate`: the Go pipeline, the file contract and every flag."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from cifab import contract
from cifab.errors import ProblemsError
from cifab.generate import plan as generate
from cifab.lint.engine import lint_text
from tests import pipeline_yaml
from tests.conftest import configure_deploys

STAGES = ["lint", "test", "build", "deploy"]


@pytest.fixture
def generated(cli, go_repo: Path) -> Path:
    assert cli("init", "--yes", cwd=go_repo).exit_code == 0
    configure_deploys(go_repo)
    result = cli("generate", cwd=go_repo)
    assert result.exit_code == 0, result.output
    assert result.stdout == "wrote .gitlab-ci.yml\n"
    return go_repo / ".gitlab-ci.yml"


def jobs_of(pipeline: dict) -> dict:
    keywords = {"workflow", "stages", "variables", "default", "include"}
    return {k: v for k, v in pipeline.items() if k not in keywords and not k.startswith(".")}


def test_fresh_go_repository_gets_every_stage_with_a_job(generated: Path) -> None:
    pipeline = pipeline_yaml.load(generated.read_text())
    assert pipeline["stages"] == STAGES
    used = {job["stage"] for job in jobs_of(pipeline).values()}
    assert used == set(STAGES)


def test_pipeline_names_the_essentials(generated: Path) -> None:
    text = generated.read_text()
    for needle in ("go test", "go build", "interruptible", "workflow", "junit", "environment"):
        assert needle in text, needle


def test_interruptible_everywhere_but_deploys(generated: Path) -> None:
    jobs = jobs_of(pipeline_yaml.load(generated.read_text()))
    for name, job in jobs.items():
        assert job["interruptible"] is (job["stage"] != "deploy"), name


def _simulate_pushes(path: Path) -> tuple[set[str], Any, Any, Any]:
    """(the checks, a push to a branch with an open merge request, that merge request's
    pipeline, a push to a branch without one), simulated as GitLab creates pipelines."""
    from cifab.pipeline.load import load_pipeline
    from cifab.simulate.event import Event
    from cifab.simulate.pipeline import simulate

    pipeline, _ = load_pipeline(str(path), path.parent)
    # Container scanning scans pushed images: the default branch's and tags'.
    checks = {n for n, j in jobs_of(pipeline_yaml.load(path.read_text())).items()
              if j["stage"] != "deploy" and n != "container_scanning"}
    open_mr = simulate(pipeline, Event("push", "feature", extra={"CI_OPEN_MERGE_REQUESTS": "acme/hello!1"}), None)
    mr = simulate(pipeline, Event("merge_request_event", "feature", target="main"), None)
    alone = simulate(pipeline, Event("push", "feature"), None)
    return checks, open_mr, mr, alone


def test_one_pipeline_per_push_that_runs_every_check(generated: Path) -> None:
    """A branch with an open merge request gets the merge request's pipeline, which runs
    every check; its push starts no second pipeline. A branch without one runs them too."""
    checks, open_mr, mr, alone = _simulate_pushes(generated)
    assert not open_mr.created
    assert mr.created and checks <= {j.name.split(":")[0] for j in mr.jobs}
    assert alone.created and checks <= {j.name.split(":")[0] for j in alone.jobs}
    assert pipeline_yaml.load(generated.read_text())["workflow"]["auto_cancel"] == {"on_new_commit": "interruptible"}


def test_pipelines_branches_keeps_branch_pipelines_only(cli, generated: Path) -> None:
    manifest = generated.parent / "cifab.yml"
    manifest.write_text(manifest.read_text() + "pipelines: branches\n")
    assert cli("generate", cwd=generated.parent).exit_code == 0
    checks, open_mr, mr, _ = _simulate_pushes(generated)
    assert open_mr.created and checks <= {j.name.split(":")[0] for j in open_mr.jobs}
    assert not mr.created  # the merge request shows its branch's pipeline
    text = generated.read_text()
    assert ".every-pipeline" not in text and "!reference" not in text


def test_needs_form_a_dag_and_deploys_wait_for_everything(generated: Path) -> None:
    jobs = jobs_of(pipeline_yaml.load(generated.read_text()))
    # Container scanning (an override of GitLab's job) waits for the image it scans; it
    # reports without failing, so the deploys do not wait for it.
    assert jobs.pop("container_scanning")["needs"] == ["container-image"]
    # The SBOM describes the commit without vouching for it: deploys do not wait for it either.
    assert jobs.pop("go-sbom")["needs"] == []
    checks = [n for n, j in jobs.items() if j["stage"] != "deploy"]
    for name in checks:
        assert jobs[name]["needs"] == []
    for name in ("deploy-staging", "deploy-production"):
        assert jobs[name]["needs"] == checks


def test_go_cache_is_keyed_on_the_module_files_inside_the_project(generated: Path) -> None:
    pipeline = pipeline_yaml.load(generated.read_text())
    assert pipeline["variables"]["GOPATH"] == "$CI_PROJECT_DIR/.go"
    assert pipeline[".go-cache"]["cache"]["key"]["files"] == ["go.mod", "go.sum"]
    assert all(p.startswith(".go/") for p in pipeline[".go-cache"]["cache"]["paths"])


def test_lint_job_uses_golangci_lint_v2_with_codequality(generated: Path) -> None:
    job = pipeline_yaml.load(generated.read_text())["golangci-lint"]
    assert job["image"].startswith("golangci/golangci-lint:v2.")
    assert "--output.code-climate.path=gl-code-quality-report.json" in job["script"][0]
    assert job["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"


def test_test_job_has_race_junit_coverage_and_cobertura(generated: Path) -> None:
    job = pipeline_yaml.load(generated.read_text())["go-test"]
    command = next(s for s in job["script"] if s.startswith("gotestsum"))
    assert "--junitfile report.xml" in command and "-race" in command and "-covermode=atomic" in command
    assert job["coverage"].startswith("/") and job["coverage"].endswith("/")
    reports = job["artifacts"]["reports"]
    assert reports["junit"] == "report.xml"
    assert reports["coverage_report"] == {"coverage_format": "cobertura", "path": "coverage.xml"}
    assert job["artifacts"]["when"] == "always"


def test_build_matrix_trimpath_ldflags_and_expiring_artifacts(generated: Path) -> None:
    job = pipeline_yaml.load(generated.read_text())["go-build"]
    assert job["parallel"]["matrix"] == [{"GOOS": "linux", "GOARCH": ["amd64", "arm64"]}]
    build = next(s for s in job["script"] if s.startswith("go build"))
    assert "-trimpath" in build and "-X main.version=$VERSION" in build
    assert job["artifacts"]["expire_in"] == "1 week"


def test_image_uses_rootless_buildkit_and_the_registry(generated: Path) -> None:
    job = pipeline_yaml.load(generated.read_text())["container-image"]
    assert job["image"]["name"].startswith("moby/buildkit:") and job["image"]["name"].endswith("-rootless")
    assert job["variables"]["BUILDKITD_FLAGS"] == "--oci-worker-no-process-sandbox"
    assert job["variables"]["IMAGE_NAME"] == "$CI_REGISTRY_IMAGE" and "$IMAGE_NAME:latest" in job["script"][0]


def test_deploys_have_environments_rules_and_resource_groups(generated: Path) -> None:
    pipeline = pipeline_yaml.load(generated.read_text())
    staging, production = pipeline["deploy-staging"], pipeline["deploy-production"]
    assert staging["environment"] == {"name": "staging", "url": "https://staging.hello.example.com"}
    assert staging["rules"] == [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}]
    assert production["rules"] == [{"if": "$CI_COMMIT_TAG", "when": "manual"}]
    assert staging["resource_group"] == "staging" and production["resource_group"] == "production"


def test_images_are_pinned(generated: Path) -> None:
    text = generated.read_text()
    images = [line.split(":", 1)[1].strip() for line in text.splitlines()
              if line.strip().startswith(("image:", "name:")) and ":" in line.split(":", 1)[1]]
    assert images and all(not i.endswith(":latest") for i in images)


def test_gitlab_schema_via_check_jsonschema_accepts_it(generated: Path) -> None:
    exe = Path(sys.executable).with_name("check-jsonschema")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "check_jsonschema"]
    proc = subprocess.run([*cmd, *pipeline_yaml.CHECK_JSONSCHEMA_ARGS, str(generated)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_generated_pipeline_lints_clean(generated: Path) -> None:
    assert lint_text(generated.read_text(), str(generated)) == []


def test_second_generate_is_byte_identical(cli, generated: Path) -> None:
    before = generated.read_bytes()
    result = cli("generate", cwd=generated.parent)
    assert result.stdout == ".gitlab-ci.yml is up to date\n"
    assert generated.read_bytes() == before


def test_output_is_the_same_in_two_separate_repos(cli, generated: Path, tmp_path: Path) -> None:
    other = tmp_path / "copy"
    shutil.copytree(generated.parent, other)
    (other / ".gitlab-ci.yml").unlink()
    assert cli("generate", cwd=other).exit_code == 0
    assert (other / ".gitlab-ci.yml").read_bytes() == generated.read_bytes()


def test_check_is_0_in_sync_and_1_with_a_diff_after_a_manifest_change(cli, generated: Path) -> None:
    repo = generated.parent
    result = cli("generate", "--check", cwd=repo)
    assert result.exit_code == 0 and "up to date" in result.stdout
    manifest = repo / "cifab.yml"
    manifest.write_text(manifest.read_text().replace('version: "1.27"', 'version: "1.26"'))
    result = cli("generate", "--check", cwd=repo)
    assert result.exit_code == 1
    assert "-  image: golang:1.27" in result.stdout
    assert "+  image: golang:1.26" in result.stdout
    assert "out of date" in result.stderr


def test_check_when_the_file_is_missing(cli, go_repo: Path) -> None:
    cli("init", "--yes", cwd=go_repo)
    result = cli("generate", "--check", cwd=go_repo)
    assert result.exit_code == 1 and "--- /dev/null" in result.stdout
    assert not (go_repo / ".gitlab-ci.yml").exists()


def test_diff_previews_without_writing(cli, generated: Path) -> None:
    manifest = generated.parent / "cifab.yml"
    manifest.write_text(manifest.read_text().replace("race: true", "race: false"))
    before = generated.read_bytes()
    result = cli("generate", "--diff", cwd=generated.parent)
    assert result.exit_code == 0 and "-race" in result.stdout
    assert "\x1b[" not in result.stdout  # no colour when not on a terminal
    assert generated.read_bytes() == before


def test_diff_is_coloured_when_forced(cli, generated: Path) -> None:
    manifest = generated.parent / "cifab.yml"
    manifest.write_text(manifest.read_text().replace("race: true", "race: false"))
    result = cli("generate", "--diff", cwd=generated.parent, env={"FORCE_COLOR": "1"})
    assert "\x1b[31m" in result.stdout


def test_stdout_prints_and_writes_nothing(cli, go_repo: Path) -> None:
    cli("init", "--yes", cwd=go_repo)
    result = cli("generate", "--stdout", cwd=go_repo)
    assert result.exit_code == 0
    assert result.stdout.startswith("# Generated by cifab from cifab.yml.")
    assert not (go_repo / ".gitlab-ci.yml").exists()


def test_a_hand_added_job_makes_generate_refuse_and_keep_the_file(cli, generated: Path) -> None:
    generated.write_text(generated.read_text() + "\nextra:\n  script: echo hi\n")
    before = generated.read_bytes()
    result = cli("generate", cwd=generated.parent)
    assert result.exit_code == 1
    assert "edited by hand" in result.stderr and "--force" in result.stderr and "cifab.yml" in result.stderr
    assert generated.read_bytes() == before
    result = cli("generate", "--force", cwd=generated.parent)
    assert result.exit_code == 0
    assert "extra:" not in generated.read_text()
    assert contract.state(generated.read_text()) is contract.State.PRISTINE


def test_a_file_not_written_by_cifab_is_never_replaced_silently(cli, go_repo: Path) -> None:
    cli("init", "--yes", cwd=go_repo)
    ours = go_repo / ".gitlab-ci.yml"
    ours.write_text("test:\n  script: make\n")
    result = cli("generate", cwd=go_repo)
    assert result.exit_code == 1 and "not generated by cifab" in result.stderr
    assert ours.read_text() == "test:\n  script: make\n"


def test_output_option_and_header_names_the_manifest_relative_to_it(cli, go_repo: Path) -> None:
    cli("init", "--yes", cwd=go_repo)
    (go_repo / "ci").mkdir()
    result = cli("generate", "--output", "ci/pipeline.yml", cwd=go_repo)
    assert result.exit_code == 0
    assert (go_repo / "ci/pipeline.yml").read_text().startswith("# Generated by cifab from ../cifab.yml.")


def test_unwritable_output_is_a_clear_error(cli, go_repo: Path) -> None:
    cli("init", "--yes", cwd=go_repo)
    result = cli("generate", "--output", "missing-dir/x.yml", cwd=go_repo)
    assert result.exit_code == 2 and "cannot write" in result.stderr
    assert "Traceback" not in result.output


def test_generate_refuses_output_that_does_not_lint(go_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cifab.generate import render

    (go_repo / "cifab.yml").write_text("cifab: 1\nproject: x\nstack: go\n")
    real = render.render
    monkeypatch.setattr(render, "render", lambda ctx, search_path=(): real(ctx) + "broken:\n  stage: nope\n")
    with pytest.raises(generate.GeneratedInvalid) as exc:
        generate.plan(go_repo / "cifab.yml")
    assert any(f.rule_id == "stage-undefined" for f in exc.value.findings)
    assert exc.value.exit_code == 1
    assert not (go_repo / ".gitlab-ci.yml").exists()


def string_fields(schema: dict, node: dict, path: tuple = ()) -> list[tuple]:
    """Every string-typed leaf path of the manifest schema (list items as index 0)."""
    out: list[tuple] = []
    if "$ref" in node:
        target = schema
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    kinds = [node.get("type")] + [b.get("type") for b in node.get("oneOf", [])]
    if "string" in kinds:
        out.append(path)
    if node.get("type") == "object":
        for key, prop in node.get("properties", {}).items():
            out.extend(string_fields(schema, prop, (*path, key)))
    if node.get("type") == "array" and isinstance(node.get("items"), dict):
        out.extend(string_fields(schema, node["items"], (*path, 0)))
    return out


FULL_GO = {
    "cifab": 1, "project": "p", "stack": "go",
    "go": {"binaries": [{"name": "p", "main": "."}]},
    "image": {"build": True},
    "deploy": {"environments": [{"name": "prod", "url": "https://x.example", "script": ["a"]}]},
    "lint": {"ignore": ["stage-undefined"]},
}
FULL_GENERIC = {
    "cifab": 1, "project": "p", "stack": "generic",
    "generic": {"image": "python:3.12", "variables": {"A": "b"}, "cache": {"key_files": ["f"], "paths": ["p"]},
                "lint": {"script": ["l"]}, "test": {"script": ["t"], "junit": "r.xml", "coverage_report": "c.xml",
                                                    "coverage_regex": "/x/"},
                "build": {"script": ["b"], "artifacts": ["d"]}},
    "deploy": {"environments": [{"name": "prod", "url": "https://x.example", "script": ["a"]}]},
}
INJECTION = "x\ninjected: {script: [id]}"


def _set(data: dict, path: tuple, value: str) -> None:
    node: dict | list = data
    for part, following in itertools.pairwise(path):
        if isinstance(node, dict) and part not in node:
            node[part] = [] if isinstance(following, int) else {}
        if isinstance(node, list) and not node:
            node.append([] if isinstance(following, int) else {})
        node = node[part]
    if isinstance(node, list):
        node[:1] = [value]
    else:
        node[path[-1]] = value


def _values(node: object) -> list[object]:
    if isinstance(node, dict):
        return [v for value in node.values() for v in _values(value)]
    if isinstance(node, list):
        return [v for value in node for v in _values(value)]
    return [node]


DEPLOY = {"environments": [{"name": "prod", "url": "https://x.example", "script": ["a"]}]}
FULL_PYTHON = {"cifab": 1, "project": "p", "stack": "python",
               "python": {"extras": ["test"], "requirements": ["r.txt"], "mypy": True, "publish": True},
               "self_check": {"image": "python:3.13-slim", "install": "pip install cifab"}, "deploy": DEPLOY}
FULL_PYTHON_UV = {"deploy": DEPLOY, "cifab": 1, "project": "p", "stack": "python", "python": {"package_manager": "uv"}}
FULL_NODE = {"deploy": DEPLOY, "cifab": 1, "project": "p", "stack": "node",
             "node": {"lint": True, "build": True, "build_output": ["out/"], "test_runner": "jest"}}
FULL_RUST = {"deploy": DEPLOY, "cifab": 1, "project": "p", "stack": "rust", "rust": {"binaries": ["x"]}}
FULL_DOCKER = {"deploy": DEPLOY, "cifab": 1, "project": "p", "stack": "docker",
               "image": {"dockerfile": "build/Dockerfile", "context": "."}}


FULL_MONOREPO = {"cifab": 1, "project": "p", "stack": "monorepo", "shared_paths": ["ci/"],
                 "components": [{"name": "api", "path": "services/api", "stack": "go", "deploy": DEPLOY,
                                 "go": {"binaries": [{"name": "api", "main": "."}]}}]}


@pytest.mark.parametrize("base", [FULL_GO, FULL_GENERIC, FULL_PYTHON, FULL_PYTHON_UV, FULL_NODE, FULL_RUST,
                                  FULL_DOCKER, FULL_MONOREPO],
                         ids=["go", "generic", "python", "python-uv", "node", "rust", "docker", "monorepo"])
def test_no_string_field_can_inject_yaml(base: dict, tmp_path: Path) -> None:
    from cifab.manifest import load as manifest

    fields = [f for f in string_fields(manifest.schema(), manifest.schema()) if f and f[0] in base]
    assert len(fields) >= 3
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")  # the image build needs it
    rendered = 0
    for path in fields:
        data = json.loads(json.dumps(base))
        _set(data, path, INJECTION)
        (tmp_path / "cifab.yml").write_text(yaml.safe_dump(data))
        try:
            text = generate.plan(tmp_path / "cifab.yml").text
        except ProblemsError as exc:
            # The manifest schema refuses the value, with its position: safe too.
            assert exc.problems and exc.problems[0].line > 0, path
            continue
        rendered += 1
        pipeline = pipeline_yaml.load(text)
        assert "injected" not in pipeline, path
        assert all("injected" not in job for job in pipeline.values() if isinstance(job, dict)), path
        if path[0] != "lint":  # lint settings are not part of the pipeline
            assert INJECTION in _values(pipeline), path  # it arrived whole, as one value
    assert rendered >= 1


def test_goreleaser_on_tags_when_asked(cli, go_repo: Path) -> None:
    cli("init", "--yes", cwd=go_repo)
    assert "goreleaser" not in (cli("generate", "--stdout", cwd=go_repo).stdout)
    manifest = go_repo / "cifab.yml"
    manifest.write_text(manifest.read_text().replace("  race: true\n", "  race: true\n  release: true\n"))
    pipeline = pipeline_yaml.load(cli("generate", "--stdout", cwd=go_repo).stdout)
    job = pipeline["goreleaser"]
    assert job["rules"] == [{"if": "$CI_COMMIT_TAG"}] and job["variables"]["GIT_DEPTH"] == 0
    assert job["image"] == {"name": "goreleaser/goreleaser:v2.15.1", "entrypoint": [""]}
    assert job["interruptible"] is False and "go-build" in job["needs"]


@pytest.mark.parametrize("flags", [("--stdout", "--check"), ("--stdout", "--diff"), ("--diff", "--check"),
                                   ("--force", "--stdout"), ("--force", "--diff"), ("--force", "--check")])
def test_generate_options_that_contradict_are_refused_with_a_reason(cli, go_repo: Path, flags: tuple[str, str]) -> None:
    cli("init", "--yes", cwd=go_repo)
    cli("generate", cwd=go_repo)
    manifest = go_repo / "cifab.yml"
    manifest.write_text(manifest.read_text().replace("race: true", "race: false"))  # now stale
    before = (go_repo / ".gitlab-ci.yml").read_text()
    result = cli("generate", *flags, cwd=go_repo)
    assert result.exit_code == 2
    assert "cannot be combined" in result.stderr or "drop one of them" in result.stderr
    assert (go_repo / ".gitlab-ci.yml").read_text() == before


@pytest.mark.parametrize(("flags", "code"), [((), 0), (("--stdout",), 0), (("--diff",), 0), (("--check",), 1),
                                             (("--force",), 0), (("--output", "ci.yml"), 0),
                                             (("--check", "--output", "ci.yml"), 1)])
def test_generate_options_that_go_together_work(cli, go_repo: Path, flags: tuple[str, ...], code: int) -> None:
    cli("init", "--yes", cwd=go_repo)
    cli("generate", cwd=go_repo)
    cli("generate", "--output", "ci.yml", cwd=go_repo)
    manifest = go_repo / "cifab.yml"
    manifest.write_text(manifest.read_text().replace("race: true", "race: false"))
    result = cli("generate", *flags, cwd=go_repo)
    assert result.exit_code == code, result.output
