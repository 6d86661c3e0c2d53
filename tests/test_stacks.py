"""Python, Node, Rust and Docker-only repositories: detection, `init --yes && generate`,
and what each pipeline must contain."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cifab.init import detect
from cifab.lint.engine import Options, lint_text
from tests import pipeline_yaml


def pipeline(repo: Path) -> dict:  # type: ignore[type-arg]
    """What `cifab init --yes` and `cifab generate` would give this repository, parsed."""
    from cifab.generate import context, render
    from cifab.init.detect import detect as find
    from cifab.init.propose import manifest_text, propose
    from cifab.manifest.load import parse

    text = manifest_text(propose(find(repo), None))
    manifest = parse(text.encode(), str(repo / "cifab.yml"), repo / "cifab.yml")
    return pipeline_yaml.load(render.render(context.build(manifest)))  # type: ignore[no-any-return]


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


PYPROJECT = ('[project]\nname = "shop-api"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
             '[project.optional-dependencies]\ntest = ["pytest"]\n'
             '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n')
PYTHON = {"pyproject.toml": PYPROJECT, "src/shop_api/__init__.py": "", "tests/test_api.py": "def test(): pass\n"}
NODE = {"package.json": json.dumps({"name": "web", "scripts": {"lint": "eslint .", "test": "jest", "build": "tsc"},
                                    "devDependencies": {"jest": "^29", "jest-junit": "^16"}}),
        "package-lock.json": "{}"}
RUST = {"Cargo.toml": '[package]\nname = "fastcat"\nversion = "0.1.0"\n', "src/main.rs": "fn main() {}\n",
        "Cargo.lock": "version = 4\n"}
DOCKER = {"Dockerfile": "FROM alpine:3.22\n"}


def init_and_generate(cli, repo: Path) -> tuple[str, dict]:  # type: ignore[no-untyped-def]
    result = cli("init", "--yes", cwd=repo)
    assert result.exit_code == 0, result.output
    result = cli("generate", cwd=repo)
    assert result.exit_code == 0, result.output
    text = (repo / ".gitlab-ci.yml").read_text()
    return text, pipeline_yaml.load(text)


def check_jsonschema(path: Path) -> None:
    exe = Path(sys.executable).with_name("check-jsonschema")
    proc = subprocess.run([str(exe), *pipeline_yaml.CHECK_JSONSCHEMA_ARGS, str(path)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("files", [PYTHON, NODE, RUST, DOCKER], ids=["python", "node", "rust", "docker"])
def test_each_stack_is_accepted_by_gitlabs_schema_and_lints_clean(cli, tmp_path: Path, files: dict) -> None:
    repo = write(tmp_path / "repo", files)
    text, _ = init_and_generate(cli, repo)
    check_jsonschema(repo / ".gitlab-ci.yml")
    assert lint_text(text, str(repo / ".gitlab-ci.yml"), Options(root=repo)) == []


def test_python_pipeline(cli, tmp_path: Path) -> None:
    text, pipeline = init_and_generate(cli, write(tmp_path / "py", PYTHON))
    for needle in ("pytest", "junit", "cache"):
        assert needle in text
    assert "ruff" not in pipeline  # the project configures no linter
    job = pipeline["pytest"]
    assert job["parallel"]["matrix"] == [{"PYTHON_VERSION": ["3.11", "3.12", "3.13", "3.14"]}]
    assert job["artifacts"]["reports"]["coverage_report"]["coverage_format"] == "cobertura"
    assert job["coverage"].startswith("/^TOTAL")
    assert pipeline[".python-cache"]["cache"]["key"]["files"] == ["pyproject.toml"]
    assert pipeline["variables"]["PIP_CACHE_DIR"] == "$CI_PROJECT_DIR/.cache/pip"
    assert any("'.[test]'" in line for line in job["script"])
    assert pipeline["python-build"]["artifacts"]["paths"] == ["dist/"]


def test_python_with_uv_lock_uses_uv(cli, tmp_path: Path) -> None:
    files = {**PYTHON, "uv.lock": "version = 1\n", "mypy.ini": "[mypy]\n"}
    _, pipeline = init_and_generate(cli, write(tmp_path / "uv", files))
    assert pipeline[".python-cache"]["cache"]["key"]["files"] == ["uv.lock"]
    assert pipeline["variables"] == {"UV_CACHE_DIR": "$CI_PROJECT_DIR/.cache/uv", "UV_LINK_MODE": "copy",
                                     "UV_PYTHON": "3.14"}
    assert pipeline[".python-cache"]["after_script"] == ["uv cache prune --ci"]
    assert pipeline["pytest"]["script"][0].startswith("uv sync --frozen")
    assert pipeline["pytest"]["script"][1].startswith("uv run --frozen")
    assert "mypy" in pipeline and pipeline["python-build"]["script"][-1] == "uv build"


def test_python_requirements_only(cli, tmp_path: Path) -> None:
    _, pipeline = init_and_generate(cli, write(tmp_path / "req", {"requirements.txt": "flask\n",
                                                                 "requirements-dev.txt": "pytest\n"}))
    assert pipeline[".python-cache"]["cache"]["key"]["files"] == ["requirements-dev.txt", "requirements.txt"]
    assert "python-build" not in pipeline
    assert pipeline["pytest"]["script"][:2] == ["pip install --quiet -r requirements-dev.txt",
                                                "pip install --quiet -r requirements.txt"]


def test_python_publish_on_tags(cli, tmp_path: Path) -> None:
    repo = write(tmp_path / "pub", PYTHON)
    cli("init", "--yes", cwd=repo)
    manifest = repo / "cifab.yml"
    manifest.write_text(manifest.read_text().replace("publish: false", "publish: true"))
    assert cli("generate", cwd=repo).exit_code == 0
    job = pipeline_yaml.load((repo / ".gitlab-ci.yml").read_text())["publish-package"]
    assert job["rules"] == [{"if": "$CI_COMMIT_TAG"}] and job["interruptible"] is False
    assert "python-build" in job["needs"]
    assert any("packages/pypi" in line for line in job["script"])


def test_node_pipeline(cli, tmp_path: Path) -> None:
    text, pipeline = init_and_generate(cli, write(tmp_path / "web", NODE))
    for needle in ("npm ci", "package-lock.json", "junit"):
        assert needle in text
    assert pipeline[".node-deps"]["before_script"] == ["npm ci --cache .npm --prefer-offline"]
    assert pipeline[".node-deps"]["cache"]["paths"] == [".npm/"]
    assert pipeline["node-test"]["variables"] == {"JEST_JUNIT_OUTPUT_FILE": "junit.xml"}
    assert pipeline["node-lint"]["script"] == ["npm run lint"]
    assert "node-build" in pipeline and "artifacts" not in pipeline["node-build"]  # tsc with no outDir: unknown


@pytest.mark.parametrize(("lock", "install", "key"), [
    ("pnpm-lock.yaml", "pnpm install --frozen-lockfile", "pnpm-lock.yaml"),
    ("yarn.lock", "yarn install --cache-folder .yarn-cache --frozen-lockfile", "yarn.lock"),
])
def test_node_package_managers(cli, tmp_path: Path, lock: str, install: str, key: str) -> None:
    files = {"package.json": json.dumps({"scripts": {"test": "node --test"}}), lock: ""}
    _, pipeline = init_and_generate(cli, write(tmp_path / "pm", files))
    assert install in pipeline[".node-deps"]["before_script"]
    assert pipeline[".node-deps"]["cache"]["key"]["files"] == [key]
    assert "--test-reporter=junit" in pipeline["node-test"]["variables"]["NODE_OPTIONS"]
    assert "node-lint" not in pipeline and "node-build" not in pipeline


def test_rust_pipeline(cli, tmp_path: Path) -> None:
    _, pipeline = init_and_generate(cli, write(tmp_path / "rs", RUST))
    assert "cargo fmt --all --check" in pipeline["rustfmt"]["script"]
    assert any("-D warnings" in line for line in pipeline["clippy"]["script"])
    assert pipeline["cargo-test"]["artifacts"]["reports"]["junit"] == "target/nextest/ci/junit.xml"
    assert pipeline[".rust-cache"]["cache"]["key"]["files"] == ["Cargo.lock"]
    assert "target/" in pipeline[".rust-cache"]["cache"]["paths"]
    assert pipeline["cargo-build"]["artifacts"]["paths"] == ["target/release/fastcat"]
    assert pipeline["variables"]["CARGO_HOME"] == "$CI_PROJECT_DIR/.cargo"


def test_docker_only_pipeline(cli, tmp_path: Path) -> None:
    _, pipeline = init_and_generate(cli, write(tmp_path / "dk", DOCKER))
    assert pipeline["hadolint"]["image"].startswith("hadolint/hadolint:v")
    image = pipeline["container-image"]
    assert image["image"]["name"].endswith("-rootless")
    assert image["variables"]["IMAGE_NAME"] == "$CI_REGISTRY_IMAGE"
    assert "$IMAGE_NAME:$CI_COMMIT_SHORT_SHA" in image["script"][0]
    assert "$IMAGE_NAME:latest" in image["script"][0] and "CI_DEFAULT_BRANCH" in image["script"][0]


@pytest.mark.parametrize(("files", "stack"), [(PYTHON, "python"), (NODE, "node"), (RUST, "rust"),
                                              (DOCKER, "docker"), ({"go.mod": "module x\n", **DOCKER}, "go")])
def test_detection_order(tmp_path: Path, files: dict, stack: str) -> None:
    assert detect.detect(write(tmp_path / "d", files)).stack == stack


def test_python_detection_details(tmp_path: Path) -> None:
    repo = write(tmp_path / "p", {**PYTHON, ".python-version": "3.12\n"})
    found = detect.detect(repo)
    assert found.name == "shop-api"
    assert found.settings["version"] == "3.12" and found.settings["extras"] == ["test"]
    assert found.settings["package"] is True and found.settings["package_manager"] == "pip"


def test_node_detection_details(tmp_path: Path) -> None:
    repo = write(tmp_path / "n", {"package.json": json.dumps({"name": "@scope/ui", "engines": {"node": ">=20"},
                                                              "scripts": {"test": "vitest"},
                                                              "devDependencies": {"vitest": "3"}})})
    found = detect.detect(repo)
    assert found.name == "ui" and found.settings["version"] == "24"  # >=20 admits 22-26: the newest LTS
    assert found.settings["test_runner"] == "vitest" and found.settings["lint"] is False


def test_rust_detection_details(tmp_path: Path) -> None:
    repo = write(tmp_path / "r", {"Cargo.toml": '[package]\nname = "x"\n[[bin]]\nname = "a"\n[[bin]]\nname = "b"\n',
                                  "rust-toolchain.toml": '[toolchain]\nchannel = "1.90.0"\n'})
    assert detect.detect(repo).settings == {"binaries": ["a", "b"], "version": "1.90.0", "workspace": False,
                                            "image_toolchain": True,
                                            "doctests": False, "locked": False}


def test_a_broken_package_json_does_not_stop_init(cli, tmp_path: Path) -> None:
    repo = write(tmp_path / "b", {"package.json": "{not json"})
    assert cli("init", "--yes", cwd=repo).exit_code == 0


def test_generic_stack_never_writes_a_job_that_fails_by_design(cli, tmp_path: Path) -> None:
    # A placeholder test job ending `exit 1` made the first pipeline red.
    result = cli("init", "--yes", "--stack", "generic", cwd=tmp_path)
    assert result.exit_code == 2 and "none was given or seen here" in result.stderr
    assert not (tmp_path / "cifab.yml").exists()
    write(tmp_path, {"Makefile": "lint:\n\ttrue\ntest:\n\ttrue\n"})
    assert cli("init", "--yes", "--stack", "generic", cwd=tmp_path).exit_code == 0
    assert cli("generate", cwd=tmp_path).exit_code == 0
    ci = pipeline_yaml.load((tmp_path / ".gitlab-ci.yml").read_text())
    assert ci["default"]["image"] == "buildpack-deps:bookworm"  # it has make
    assert ci["lint"]["script"] == ["make lint"] and ci["test"]["script"] == ["make test"] and "build" not in ci
