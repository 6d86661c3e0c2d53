"""The python stack against the shapes real repositories have. Each test fails on the
behaviour that broke a real project's first pipeline (click, httpx, rich)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cifab.init.detect import detect
from cifab.stacks.python import allowed_versions
from tests.test_stacks import pipeline, write

PROJECT = '[project]\nname = "demo"\nversion = "1"\nrequires-python = ">=3.10"\n'


@pytest.mark.parametrize(("spec", "versions"), [
    (">=3.9,<3.12", ["3.10", "3.11"]),
    (">=3.11", ["3.11", "3.12", "3.13", "3.14"]),
    ("^3.10", ["3.10", "3.11", "3.12", "3.13", "3.14"]),
    ("~3.12", ["3.12"]),
    (">=3.10, !=3.11.*", ["3.10", "3.12", "3.13", "3.14"]),
])
def test_requires_python_is_read_with_both_bounds(spec: str, versions: list[str]) -> None:
    assert allowed_versions(spec) == versions


def test_mypy_runs_as_the_project_configures_it(tmp_path: Path) -> None:
    # click: `mypy .` gave 1,398 errors where plain `mypy` (its [tool.mypy] files) passes.
    repo = write(tmp_path, {"pyproject.toml": PROJECT + '[tool.mypy]\nfiles = ["src/demo"]\n',
                            "src/demo/__init__.py": ""})
    assert pipeline(repo)["mypy"]["script"][-1] == "mypy"


def test_mypy_without_files_checks_the_package_not_the_tree(tmp_path: Path) -> None:
    repo = write(tmp_path, {"pyproject.toml": PROJECT + "[tool.mypy]\nstrict = true\n", "demo/__init__.py": ""})
    assert pipeline(repo)["mypy"]["script"][-1] == "mypy demo"


def test_no_ruff_for_a_project_that_formats_with_black(tmp_path: Path) -> None:
    # rich uses black: a ruff job at cifab's pin was not its lint.
    repo = write(tmp_path, {"pyproject.toml": PROJECT + "[tool.black]\nline-length = 88\n",
                            ".pre-commit-config.yaml": "repos:\n  - repo: https://github.com/psf/black\n"
                                                       "    rev: 24.8.0\n    hooks:\n      - id: black\n"})
    out = pipeline(repo)
    assert "ruff" not in out
    assert out["black"]["script"] == ["pip install --quiet black==24.8.0", "black --check --diff ."]


def test_ruff_at_the_projects_pin_never_fixes(tmp_path: Path) -> None:
    # click sets fix = true: without --no-fix, problems were fixed in the CI checkout.
    repo = write(tmp_path, {"pyproject.toml": PROJECT + "[tool.ruff]\nfix = true\n",
                            "requirements-dev.txt": "ruff==0.6.9\npytest\n"})
    script = pipeline(repo)["ruff"]["script"]
    assert script[0] == "pip install --quiet ruff==0.6.9"
    assert all("--no-fix" in c for c in script if c.startswith("ruff check"))
    assert "ruff format --check" not in script  # it does not format with ruff


def test_poetry_is_used_never_pip_by_default(tmp_path: Path) -> None:
    repo = write(tmp_path, {"pyproject.toml": '[tool.poetry]\nname = "demo"\nversion = "1"\n'
                                              '[tool.poetry.dependencies]\npython = ">=3.11,<3.13"\n'
                                              '[tool.poetry.group.docs]\noptional = true\n'
                                              '[tool.poetry.group.docs.dependencies]\nmkdocs = "*"\n',
                            "poetry.lock": "", "demo/__init__.py": ""})
    out = pipeline(repo)
    assert out[".python-cache"]["before_script"] == ["pip install --quiet poetry==2.5.1"]
    assert out["pytest"]["script"][0] == "poetry install --no-interaction --with docs"
    assert out["pytest"]["script"][-1].startswith("poetry run pytest")
    assert out["pytest"]["parallel"]["matrix"] == [{"PYTHON_VERSION": ["3.11", "3.12"]}]


def test_pdm_projects_are_told_what_they_get(tmp_path: Path) -> None:
    repo = write(tmp_path, {"pyproject.toml": PROJECT + "[tool.pdm]\n", "pdm.lock": ""})
    found = detect(repo)
    assert found.settings["package_manager"] == "pip"
    assert any("PDM project" in line for line in found.evidence)


def test_python_version_file_and_uv_python_per_cell(tmp_path: Path) -> None:
    repo = write(tmp_path, {"pyproject.toml": PROJECT.replace(">=3.10", ">=3.11,<3.14"), "uv.lock": "",
                            ".python-version": "3.12\n", "src/demo/__init__.py": ""})
    out = pipeline(repo)
    assert out["default"]["image"] == "python:3.12-slim"
    assert out["variables"]["UV_PYTHON"] == "3.12"
    assert out["pytest"]["variables"] == {"UV_PYTHON": "$PYTHON_VERSION"}
    assert out["pytest"]["parallel"]["matrix"] == [{"PYTHON_VERSION": ["3.11", "3.12", "3.13"]}]


def test_the_build_never_sees_the_dependency_cache(tmp_path: Path) -> None:
    repo = write(tmp_path, {"pyproject.toml": PROJECT, "uv.lock": "", "src/demo/__init__.py": ""})
    out = pipeline(repo)
    assert out["variables"]["UV_CACHE_DIR"] == "$CI_PROJECT_DIR/.cache/uv"
    assert out["python-build"]["variables"] == {"UV_CACHE_DIR": "/tmp/.cache/uv"}
    assert "extends" not in out["python-build"]


def test_coverage_measures_the_package_not_the_tests(tmp_path: Path) -> None:
    repo = write(tmp_path, {"pyproject.toml": PROJECT, "src/demo/__init__.py": "", "tests/__init__.py": ""})
    assert "--cov=demo " in pipeline(repo)["pytest"]["script"][-1]
