"""Which projects get a CycloneDX SBOM job, and what it runs. (The e2e tier runs these jobs
and validates their documents against CycloneDX's schema.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_stacks import pipeline, write

PACKAGE = ('[project]\nname = "demo"\nversion = "1"\nrequires-python = ">=3.10"\ndependencies = ["pyyaml>=6"]\n'
           '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n')


def test_a_pip_package_is_installed_alone_and_described(tmp_path: Path) -> None:
    job = pipeline(write(tmp_path, {"pyproject.toml": PACKAGE, "demo/__init__.py": ""}))["python-sbom"]
    script = job["script"]
    assert script[0] == "python -m venv --without-pip .sbom-env"  # nothing but what the project installs
    assert script[1] == "pip --python .sbom-env/bin/python install --quiet ."
    assert script[-1].startswith("cyclonedx-py environment --sv 1.6 --of JSON")
    assert job["artifacts"]["reports"] == {"cyclonedx": "sbom.cdx.json"} and job["stage"] == "build"


def test_requirements_only_projects_install_requirements_txt(tmp_path: Path) -> None:
    repo = write(tmp_path, {"requirements.txt": "pyyaml==6.0.2\n", "requirements-dev.txt": "pytest\n",
                            "app.py": "print(1)\n"})
    script = pipeline(repo)["python-sbom"]["script"]
    assert "pip --python .sbom-env/bin/python install --quiet -r requirements.txt" in script
    assert not any("requirements-dev" in line for line in script)  # test tools are not shipped


def test_uv_projects_describe_what_the_lock_pins(tmp_path: Path) -> None:
    repo = write(tmp_path, {"pyproject.toml": PACKAGE, "uv.lock": "version = 1\n", "demo/__init__.py": ""})
    script = pipeline(repo)["python-sbom"]["script"]
    assert any(line.startswith("uv export --frozen --no-dev") for line in script)
    assert script[-1].startswith("cyclonedx-py requirements") and script[-1].endswith(".sbom-requirements.txt")


@pytest.mark.parametrize(("files", "job"), [
    ({"package.json": json.dumps({"name": "web", "dependencies": {"ms": "2.1.3"}}), "package-lock.json": "{}"},
     "node-sbom"),
])
def test_npm_projects_read_the_lock_file(tmp_path: Path, files: dict[str, str], job: str) -> None:
    script = pipeline(write(tmp_path, files))[job]["script"]
    assert len(script) == 1 and "@cyclonedx/cyclonedx-npm@" in script[0]
    assert "--package-lock-only" in script[0] and "--omit dev" in script[0] and "--spec-version 1.6" in script[0]


def test_poetry_projects_describe_the_main_group_of_their_lock(tmp_path: Path) -> None:
    repo = write(tmp_path, {"pyproject.toml": '[tool.poetry]\nname = "x"\nversion = "1"\n'
                                              '[tool.poetry.dependencies]\npython = "^3.11"\n', "poetry.lock": ""})
    script = pipeline(repo)["python-sbom"]["script"]
    assert script[-1].startswith("cyclonedx-py poetry --only main --sv 1.6")


@pytest.mark.parametrize("files", [
    {"package.json": json.dumps({"name": "web"}), "pnpm-lock.yaml": "lockfileVersion: '9.0'\n"},
    {"package.json": json.dumps({"name": "web"})},  # npm without a lock: nothing pins what ships
])
def test_no_sbom_job_where_cifab_cannot_say_what_is_installed(tmp_path: Path, files: dict[str, str]) -> None:
    jobs = pipeline(write(tmp_path, files))
    assert "python-sbom" not in jobs and "node-sbom" not in jobs


def test_go_modules_are_described_by_cyclonedx_gomod(tmp_path: Path) -> None:
    repo = write(tmp_path, {"go.mod": "module example.com/app\n\ngo 1.26\n", "main.go": "package main\n"})
    job = pipeline(repo)["go-sbom"]
    assert job["script"][-1] == "cyclonedx-gomod mod -json -output sbom.cdx.json"
    assert any("go install github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@v" in line
               for line in job["script"])
    assert job["extends"] == ".go-cache" and job["artifacts"]["reports"] == {"cyclonedx": "sbom.cdx.json"}


@pytest.mark.parametrize(("files", "report"), [
    ({"Cargo.toml": '[package]\nname = "a"\nversion = "0.1.0"\nedition = "2021"\n', "src/main.rs": ""},
     "sbom.cdx.json"),
    ({"Cargo.toml": '[workspace]\nmembers = ["b"]\n', "b/Cargo.toml": '[package]\nname = "b"\nversion = "0.1.0"\n',
      "b/src/lib.rs": ""}, "**/sbom.cdx.json"),
], ids=["crate", "workspace"])
def test_rust_crates_get_an_sbom_beside_each_manifest(tmp_path: Path, files: dict[str, str], report: str) -> None:
    job = pipeline(write(tmp_path, files))["cargo-sbom"]
    assert job["script"][-1] == "cargo cyclonedx --format json --spec-version 1.5 --override-filename sbom.cdx"
    assert job["artifacts"]["reports"] == {"cyclonedx": report}


def test_yarn_4_projects_read_their_lock_file_with_cyclonedxs_yarn_plugin(tmp_path: Path) -> None:
    files = {"package.json": json.dumps({"name": "web", "packageManager": "yarn@4.18.1", "dependencies": {"ms": "2"}}),
             "yarn.lock": "__metadata:\n  version: 10\n", ".yarnrc.yml": "nodeLinker: node-modules\n"}
    script = pipeline(write(tmp_path, files))["node-sbom"]["script"]
    assert script[-1].startswith("yarn dlx -q @cyclonedx/yarn-plugin-cyclonedx@")
    assert "--lockfile-only --production" in script[-1] and "corepack enable" in script
    assert not any(line.startswith("yarn install") for line in script)  # the lock file alone
