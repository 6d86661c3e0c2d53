"""Monorepos: components found by init, jobs named, placed and gated per component, and
the child-pipeline variant with one generated file per component."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cifab import contract
from cifab.init import detect
from cifab.lint.engine import Options, lint_text
from tests import pipeline_yaml


@pytest.fixture
def mono(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    (root / "services" / "api").mkdir(parents=True)
    (root / "services" / "api" / "go.mod").write_text("module example.com/api\n\ngo 1.26\n")
    (root / "services" / "api" / "main.go").write_text("package main\n\nfunc main() {}\n")
    (root / "web").mkdir()
    (root / "web" / "package.json").write_text(json.dumps({"scripts": {"test": "vitest run", "build": "vite build"},
                                                           "devDependencies": {"vitest": "3"}}))
    (root / "web" / "package-lock.json").write_text("{}")
    (root / "web" / "node_modules" / "dep").mkdir(parents=True)
    (root / "web" / "node_modules" / "dep" / "package.json").write_text("{}")
    return root


def generate(cli, root: Path, extra: str = "") -> dict:  # type: ignore[no-untyped-def]
    assert cli("init", "--yes", cwd=root).exit_code == 0
    if extra:
        (root / "cifab.yml").write_text((root / "cifab.yml").read_text() + extra)
    result = cli("generate", cwd=root)
    assert result.exit_code == 0, result.output
    return pipeline_yaml.load((root / ".gitlab-ci.yml").read_text())


def test_init_finds_the_components(mono: Path) -> None:
    found = detect.detect(mono)
    assert found.stack == "monorepo"
    assert [(c["name"], c["path"], c["stack"]) for c in found.settings["components"]] == [
        ("api", "services/api", "go"), ("web", "web", "node")]


def test_monorepo_pipeline_is_valid_and_lints_clean(cli, mono: Path) -> None:
    generate(cli, mono)
    path = mono / ".gitlab-ci.yml"
    exe = Path(sys.executable).with_name("check-jsonschema")
    proc = subprocess.run([str(exe), *pipeline_yaml.CHECK_JSONSCHEMA_ARGS, str(path)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout
    assert lint_text(path.read_text(), str(path), Options(root=mono)) == []


def test_jobs_have_changes_rules_for_their_component(cli, mono: Path) -> None:
    pipeline = generate(cli, mono)
    # A branch compares with the default branch: its first push would count every file as changed.
    assert pipeline["api-go-test"]["rules"] == [
        {"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH || $CI_COMMIT_TAG"},
        {"if": '$CI_PIPELINE_SOURCE == "merge_request_event"', "changes": {"paths": ["services/api/**/*"]}},
        {"if": "$CI_COMMIT_BRANCH", "changes": {"paths": ["services/api/**/*"],
                                                "compare_to": "refs/heads/$CI_DEFAULT_BRANCH"}}]
    assert pipeline["web-node-test"]["rules"][1]["changes"] == {"paths": ["web/**/*"]}


def test_before_gitlab_17_2_changes_compare_with_the_push(cli, mono: Path) -> None:
    # compare_to takes variables only from GitLab 17.2.
    pipeline = generate(cli, mono, "gitlab_version: '17.1'\n")
    assert pipeline["api-go-test"]["rules"] == [
        {"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH || $CI_COMMIT_TAG"},
        {"changes": {"paths": ["services/api/**/*"]}}]


def test_shared_paths_run_every_component(cli, mono: Path) -> None:
    pipeline = generate(cli, mono, "")
    manifest = mono / "cifab.yml"
    manifest.write_text(manifest.read_text().replace("shared_paths: []", "shared_paths: [ci/, go.work]"))
    cli("generate", cwd=mono)
    pipeline = pipeline_yaml.load((mono / ".gitlab-ci.yml").read_text())
    assert pipeline["web-node-build"]["rules"][1]["changes"]["paths"] == ["web/**/*", "ci/**/*", "go.work"]


def test_names_references_and_paths_move_into_the_component(cli, mono: Path) -> None:
    pipeline = generate(cli, mono)
    test = pipeline["api-go-test"]
    assert test["extends"] == ".api-go-cache"
    assert test["before_script"] == ['cd "$CI_PROJECT_DIR/services/api" || exit 1']
    assert test["variables"]["GOPATH"] == "$CI_PROJECT_DIR/services/api/.go"
    assert test["image"] == "golang:${GO_VERSION}"  # a matrix from go.mod's minimum to the newest
    assert pipeline["api-go-vet"]["image"] == "golang:1.27"
    assert test["artifacts"]["reports"]["junit"] == "services/api/report.xml"
    assert pipeline[".api-go-cache"]["cache"]["key"]["files"] == ["services/api/go.mod", "services/api/go.sum"]
    node = pipeline[".web-node-deps"]
    assert node["before_script"][0] == 'cd "$CI_PROJECT_DIR/web" || exit 1'
    assert node["cache"]["paths"] == ["web/.npm/"]
    assert pipeline["web-node-build"]["artifacts"]["paths"] == ["web/dist/"]
    assert "before_script" not in pipeline["web-node-build"]  # the template's, with its cd, applies


def test_needs_stay_within_the_component(cli, mono: Path) -> None:
    assert cli("init", "--yes", cwd=mono).exit_code == 0
    manifest = pipeline_yaml.load((mono / "cifab.yml").read_text())
    manifest["components"][0]["deploy"] = {"environments": [{"name": "staging", "script": "./deploy.sh"}]}
    manifest["components"].append({"name": "tools", "path": "tools", "stack": "generic",
                                    "generic": {"image": "alpine:3.22", "test": {"script": ["make test"]}}})
    (mono / "cifab.yml").write_text(yaml.safe_dump(manifest))
    assert cli("generate", cwd=mono).exit_code == 0
    pipeline = pipeline_yaml.load((mono / ".gitlab-ci.yml").read_text())
    assert pipeline["api-deploy-staging"]["needs"] == ["api-golangci-lint", "api-go-vet", "api-gofmt",
                                                       "api-go-test", "api-govulncheck", "api-go-build"]
    assert pipeline["tools-test"]["before_script"] == ['cd "$CI_PROJECT_DIR/tools" || exit 1']


def test_overrides_name_prefixed_jobs(cli, mono: Path) -> None:
    pipeline = generate(cli, mono, "jobs:\n  api-go-test:\n    tags: [large]\n")
    assert pipeline["api-go-test"]["tags"] == ["large"]


def test_self_check_in_a_monorepo(cli, mono: Path) -> None:
    pipeline = generate(cli, mono, "self_check:\n  install: {pypi: 0.1.0}\n")
    assert pipeline["stages"][0] == "lint" and "cifab-check" in pipeline


def test_child_pipelines(cli, mono: Path) -> None:
    pipeline = generate(cli, mono, "child_pipelines: true\n")
    # The security templates' jobs run in the parent; the release of a tag comes last.
    assert pipeline["stages"] == ["test", "components", "deploy"]
    assert pipeline["api"]["trigger"] == {"include": ".gitlab/cifab/api.yml", "strategy": "depend"}
    assert pipeline["web"]["rules"][2]["changes"]["compare_to"] == "refs/heads/$CI_DEFAULT_BRANCH"
    child_path = mono / ".gitlab" / "cifab" / "api.yml"
    child_text = child_path.read_text()
    assert child_text.startswith("# Generated by cifab from ../../cifab.yml.")
    assert contract.state(child_text) is contract.State.PRISTINE
    child = pipeline_yaml.load(child_text)
    # The trigger job gates the whole child; inside it every job runs, in the children of
    # merge request pipelines too (where a job without rules would be left out).
    assert child["workflow"] == {"rules": [{"if": '$CI_PIPELINE_SOURCE == "parent_pipeline"'}]}
    assert child["api-go-test"]["rules"] == [{"when": "on_success"}]
    # Lint reads the file as the child it is: the standard events reach it through its parent.
    from cifab.simulate.event import child_pipeline

    assert child_pipeline(child) and not child_pipeline(pipeline)
    assert lint_text(child_text, str(child_path), Options(root=mono)) == []


def test_child_pipeline_drift_and_hand_edits(cli, mono: Path) -> None:
    generate(cli, mono, "child_pipelines: true\n")
    child = mono / ".gitlab" / "cifab" / "web.yml"
    child.write_text(child.read_text() + "extra:\n  script: x\n")
    result = cli("generate", "--check", cwd=mono)
    assert result.exit_code == 1 and "b/.gitlab/cifab/web.yml" in result.stdout
    before = (mono / ".gitlab-ci.yml").read_bytes()
    result = cli("generate", cwd=mono)
    assert result.exit_code == 1 and "web.yml was edited by hand" in result.stderr
    assert (mono / ".gitlab-ci.yml").read_bytes() == before
    assert cli("check", "--no-shellcheck", cwd=mono).exit_code == 1
    assert cli("generate", "--force", cwd=mono).exit_code == 0
    assert cli("check", "--no-shellcheck", cwd=mono).exit_code == 0


def test_monorepo_needs_components(cli, tmp_path: Path) -> None:
    (tmp_path / "cifab.yml").write_text("cifab: 1\nproject: x\nstack: monorepo\n")
    result = cli("generate", cwd=tmp_path)
    assert result.exit_code == 2 and "components" in result.stderr


def test_component_fields_are_checked_with_positions(cli, tmp_path: Path) -> None:
    (tmp_path / "cifab.yml").write_text("cifab: 1\nproject: x\nstack: monorepo\ncomponents:\n"
                                        "  - name: API\n    path: /abs\n    stack: go\n    go:\n      race: maybe\n")
    result = cli("generate", cwd=tmp_path)
    assert result.exit_code == 2
    assert "cifab.yml:5:11: error manifest-invalid components[0].name" in result.stderr
    assert "components[0].path" in result.stderr and "components[0].go.race" in result.stderr


def test_init_in_an_empty_folder_still_explains(cli, tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    result = cli("init", "--yes", cwd=tmp_path)
    assert result.exit_code == 2 and "could not detect the stack" in result.stderr


def test_a_user_template_with_a_legacy_global_image_is_not_taken_for_a_job(cli, mono: Path) -> None:
    """transform's keyword list knows GitLab's legacy globals: a top-level `image:` from a
    templates_dir template is the component's image, not a job named `api-image`."""
    (mono / "ci").mkdir()
    (mono / "ci" / "node").mkdir()
    (mono / "ci" / "node" / "globals.yml.j2").write_text(
        "image: node:22-bookworm-slim\n\n.node-deps:\n  before_script:\n    - npm ci\n")
    pipeline = generate(cli, mono, "templates_dir: ci\n")
    assert "web-image" not in pipeline and "image" not in pipeline
    assert pipeline["web-node-test"]["image"] == "node:22-bookworm-slim"


def test_stdout_prints_every_file_of_child_pipelines(cli, mono: Path) -> None:  # type: ignore[no-untyped-def]
    generate(cli, mono, "child_pipelines: true\n")
    printed = cli("generate", "--stdout", cwd=mono).stdout
    documents = pipeline_yaml.load_all(printed)
    files = [line.removeprefix("# file: ") for line in printed.splitlines() if line.startswith("# file: ")]
    assert files[0] == ".gitlab-ci.yml" and len(files) == len(documents) == 3
    for name, document in zip(files, documents, strict=True):
        assert document == pipeline_yaml.load((mono / name).read_text())


def test_a_component_without_jobs_gets_no_empty_child_pipeline(cli, mono: Path) -> None:  # type: ignore[no-untyped-def]
    (mono / "web" / "package.json").write_text(json.dumps({"name": "web"}))
    # No scripts, no SBOM, no audit: no job.
    parent = generate(cli, mono, "child_pipelines: true\nsbom: false\naudit: false\n")
    assert "web" not in parent and not (mono / ".gitlab" / "cifab" / "web.yml").exists()
    assert "api" in parent


def test_every_key_that_names_a_job_or_a_path_follows_the_component() -> None:
    """The keys come from cifab.gitlab (JOB_REFERENCE_KEYS, PROJECT_PATH_KEYS); on_stop,
    rules:needs, artifacts:exclude and list-valued reports are among them."""
    from cifab.generate.monorepo import _move_paths, _rename_refs

    job = {"extends": [".t"], "needs": ["a", {"job": "b", "artifacts": False}], "dependencies": ["a"],
           "environment": {"name": "review", "on_stop": "stop"}, "rules": [{"if": "$X", "needs": ["b"]}],
           "artifacts": {"paths": ["out/"], "exclude": ["out/*.tmp"],
                         "reports": {"junit": ["r1.xml", "r2.xml"], "dotenv": "build.env",
                                     "coverage_report": {"coverage_format": "cobertura", "path": "c.xml"}}},
           "cache": [{"key": {"files": ["go.sum"]}, "paths": [".go/"]}]}
    _rename_refs(job, {"a": "api-a", "b": "api-b", "stop": "api-stop", ".t": ".api-t"})
    _move_paths(job, "services/api")
    assert job["extends"] == [".api-t"] and job["needs"] == ["api-a", {"job": "api-b", "artifacts": False}]
    assert job["dependencies"] == ["api-a"] and job["environment"]["on_stop"] == "api-stop"
    assert job["rules"] == [{"if": "$X", "needs": ["api-b"]}]
    assert job["artifacts"] == {"paths": ["services/api/out/"], "exclude": ["services/api/out/*.tmp"],
                                "reports": {"junit": ["services/api/r1.xml", "services/api/r2.xml"],
                                            "dotenv": "services/api/build.env",
                                            "coverage_report": {"coverage_format": "cobertura",
                                                                "path": "services/api/c.xml"}}}
    assert job["cache"] == [{"key": {"files": ["services/api/go.sum"]}, "paths": ["services/api/.go/"]}]


def test_a_new_branch_runs_only_the_components_it_changed(cli, mono: Path) -> None:
    # A new branch's first push made `changes` true for every component, so every job ran.
    generate(cli, mono)

    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=mono, check=True,
                       capture_output=True)

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "base")
    git("checkout", "-q", "-b", "feature")
    (mono / "web" / "index.js").write_text("export {}\n")
    git("add", "-A")
    git("commit", "-q", "-m", "web only")
    result = cli("jobs", "--branch", "feature", "--new", "--default-branch", "main", "--format", "json", cwd=mono)
    assert result.exit_code == 0, result.output
    names = {job["name"] for job in json.loads(result.stdout)["jobs"]}
    assert "web-node-test" in names and not any(name.startswith("api-") for name in names)


def _fullstack(root: Path) -> Path:
    """fastapi's full-stack template, in shape: a uv workspace root, a backend member, a bun
    frontend, compose with the database the backend depends on."""
    files = {
        "pyproject.toml": '[tool.uv.workspace]\nmembers = ["backend"]\n',
        "uv.lock": 'version = 1\n[[package]]\nname = "ruff"\nversion = "0.15.2"\n',
        "backend/pyproject.toml": ('[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.12"\n'
                                   '[dependency-groups]\ndev = ["pytest", "ruff"]\n[tool.ruff]\n'),
        "backend/app/__init__.py": "",
        "backend/Dockerfile": "FROM python:3.13-slim\nCOPY uv.lock /app/\n",
        "frontend/package.json": json.dumps({"name": "frontend", "scripts": {"build": "bun build src/main.ts"}}),
        "frontend/Dockerfile": "FROM nginx:1.29-alpine\n",
        "compose.yml": ("services:\n  db:\n    image: postgres:17\n  backend:\n    depends_on: [db]\n    build:\n"
                        "      context: .\n      dockerfile: backend/Dockerfile\n  frontend:\n    build: frontend\n"),
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_a_uv_workspace_root_is_not_a_component_and_members_use_its_lock(cli, tmp_path: Path) -> None:
    # The root became a python component at "." (a 3.10-3.14 matrix, changes: **/*), the
    # backend was pip, and the locked ruff went to the phantom root.
    root = _fullstack(tmp_path / "full")
    found = detect.detect(root)
    assert [(c["path"], c["stack"]) for c in found.settings["components"]] == [("backend", "python"),
                                                                                ("frontend", "node")]
    backend = found.settings["components"][0]["python"]
    assert backend["package_manager"] == "uv" and backend["workspace"] == {"root": "..", "package": "app"}
    assert backend["ruff"] == "0.15.2" and backend["versions"] == ["3.12", "3.13", "3.14"]
    assert backend["services"] == [{"name": "postgres:17", "alias": "db"}]
    assert "services" not in found.settings["components"][1].get("node", {})  # the frontend needs no database
    pipeline = generate(cli, root)
    assert pipeline["backend-pytest"]["script"][0] == "uv sync --frozen --package app --group dev"
    assert pipeline[".backend-python-cache"]["cache"]["key"]["files"] == ["uv.lock"]  # the root's
    assert pipeline["backend-container-image"]["variables"]["BUILD_CONTEXT"] == ".."
    assert pipeline["frontend-container-image"]["variables"]["BUILD_CONTEXT"] == "."


def test_init_prints_every_components_decisions(cli, tmp_path: Path) -> None:
    root = _fullstack(tmp_path / "full")
    result = cli("init", "--yes", cwd=root)
    assert result.exit_code == 0
    assert "detected backend: python package manager: uv (a member of the uv workspace" in result.stdout
    assert "detected warning: frontend: no bun.lock: installs are not reproducible" not in result.stdout
    assert "warning: frontend: no package-lock.json: installs are not reproducible" in result.output


def test_a_monorepo_makes_one_release_per_tag_after_every_component(cli, mono: Path) -> None:  # type: ignore[no-untyped-def]
    single = generate(cli, mono)
    releases = [name for name, job in single.items() if isinstance(job, dict) and "release" in job]
    assert releases == ["release"] and single["release"]["stage"] == single["stages"][-1] == "deploy"
    assert "needs" not in single["release"]  # it waits for every component's jobs
    (mono / "cifab.yml").unlink()
    parent = generate(cli, mono, "child_pipelines: true\n")
    assert parent["stages"][-1] == "deploy" and parent["release"]["rules"] == [{"if": "$CI_COMMIT_TAG"}]
    assert parent["release"]["retry"]["max"] == 2  # the parent has no defaults to give it
    children = (mono / ".gitlab" / "cifab").glob("*.yml")
    assert not [path for path in children if "release:" in path.read_text()]


def test_a_components_goreleaser_makes_the_release_itself(cli, mono: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("init", "--yes", cwd=mono).exit_code == 0
    manifest = pipeline_yaml.load((mono / "cifab.yml").read_text())
    manifest["components"][0]["go"]["release"] = True
    (mono / "cifab.yml").write_text(yaml.safe_dump(manifest))
    assert cli("generate", cwd=mono).exit_code == 0
    pipeline = pipeline_yaml.load((mono / ".gitlab-ci.yml").read_text())
    assert "release" not in pipeline and "api-goreleaser" in pipeline


def test_each_component_image_is_scanned_under_the_components_name(cli, mono: Path) -> None:  # type: ignore[no-untyped-def]
    (mono / "services" / "api" / "Dockerfile").write_text("FROM scratch\n")
    pipeline = generate(cli, mono)
    scan = pipeline["api-container_scanning"]
    assert scan["extends"] == "container_scanning" and scan["needs"] == ["api-container-image"]
    assert scan["variables"]["CS_IMAGE"] == "$CI_REGISTRY_IMAGE/api:$CI_COMMIT_SHORT_SHA"
    # The template's own job would scan the project's image, which nobody pushes.
    assert pipeline["container_scanning"] == {"rules": [{"when": "never"}]}
    assert {"template": "Jobs/Container-Scanning.gitlab-ci.yml"} in pipeline["include"]
