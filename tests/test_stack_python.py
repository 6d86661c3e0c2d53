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
    # ... and its wheel and sdist get the runner's provenance statement.
    assert out["python-build"]["variables"] == {"UV_CACHE_DIR": "/tmp/.cache/uv",
                                                "RUNNER_GENERATE_ARTIFACTS_METADATA": "true"}
    assert "extends" not in out["python-build"]


def test_coverage_measures_the_package_not_the_tests(tmp_path: Path) -> None:
    repo = write(tmp_path, {"pyproject.toml": PROJECT, "src/demo/__init__.py": "", "tests/__init__.py": ""})
    assert "--cov=demo " in pipeline(repo)["pytest"]["script"][-1]


# ---------------------------------------------------------------- what the project declares


PRECOMMIT = """\
repos:
- repo: https://github.com/astral-sh/ruff-pre-commit
  rev: v0.14.2
  hooks:
  - {id: ruff, args: [--fix, --exit-non-zero-on-fix], files: ^(src|tests)/}
  - {id: ruff-format, files: ^(src|tests)/}
- repo: https://github.com/pre-commit/mirrors-mypy
  rev: v1.18.2
  hooks:
  - {id: mypy, additional_dependencies: [types-requests], files: ^src/}
"""


def test_ruff_takes_the_hooks_version_and_scope(tmp_path: Path) -> None:
    # A fuzz/ folder outside the project's own check gave ruff 10 errors; ruff 0.17 formats
    # the README's code blocks, which the hook never asks for.
    repo = write(tmp_path, {"pyproject.toml": PROJECT, ".pre-commit-config.yaml": PRECOMMIT,
                            "src/demo/__init__.py": ""})
    script = pipeline(repo)["ruff"]["script"]
    assert script[0] == "pip install --quiet ruff==0.14.2"
    assert script[2:] == ["ruff check --no-fix --force-exclude src tests",
                          "ruff format --check --force-exclude src tests"]  # 0.14 formats no Markdown


def test_mypy_runs_as_its_hook_does(tmp_path: Path) -> None:
    # "Cannot find implementation or library stub": the hook's dependencies and its
    # default --ignore-missing-imports were missing.
    repo = write(tmp_path, {"pyproject.toml": PROJECT, ".pre-commit-config.yaml": PRECOMMIT,
                            "src/demo/__init__.py": ""})
    job = pipeline(repo)["mypy"]
    assert "extends" not in job  # the hook's own environment, not the project's
    assert job["script"] == ["pip install --quiet mypy==1.18.2 types-requests",
                             "mypy --ignore-missing-imports --scroll-output src"]


def test_a_project_command_runs_instead_of_cifabs(tmp_path: Path) -> None:
    # httpx: scripts/check and scripts/test are what it runs, locally and in CI.
    repo = write(tmp_path, {"pyproject.toml": PROJECT + "[project.optional-dependencies]\ndev = ['pytest']\n",
                            "scripts/check": "#!/bin/sh -e\nruff check src\nmypy src\n",
                            "scripts/test": "#!/bin/sh -e\npytest \"$@\"\n", "src/demo/__init__.py": ""})
    (repo / "scripts" / "check").chmod(0o755)
    (repo / "scripts" / "test").chmod(0o755)
    out = pipeline(repo)
    assert "ruff" not in out and "mypy" not in out
    assert out["python-lint"]["script"] == ["pip install --quiet -e '.[dev]'", "./scripts/check"]
    test = out["pytest"]
    assert test["script"][-1] == "./scripts/test"
    assert test["variables"]["PYTEST_ADDOPTS"] == "--junitxml=$CI_PROJECT_DIR/report.xml"
    assert test["artifacts"]["reports"] == {"junit": "report.xml"} and "coverage" not in test
    assert any("test: ./scripts/test (from scripts/test)" in line for line in detect(repo).evidence)


def test_tox_passes_the_report_option_on(tmp_path: Path) -> None:
    repo = write(tmp_path, {"pyproject.toml": PROJECT, "tox.ini": "[tox]\nenv_list = py312\n[testenv]\n"
                                                                 "commands = pytest {posargs}\n"})
    test = pipeline(repo)["pytest"]
    assert test["script"][-2:] == ["pip install --quiet tox==4.67.17", "tox"]
    assert test["variables"]["TOX_OVERRIDE"] == "testenv.pass_env+=PYTEST_ADDOPTS"


def test_the_project_s_coverage_settings_decide(tmp_path: Path) -> None:
    # --cov=<package> beside [tool.coverage.run] include failed every test of an HTTP client
    # that runs with filterwarnings = error.
    repo = write(tmp_path, {"pyproject.toml": PROJECT + "[tool.coverage.run]\ninclude = ['demo/*']\n",
                            "demo/__init__.py": ""})
    assert " --cov " in pipeline(repo)["pytest"]["script"][-1]
    assert "--cov=demo" in pipeline(write(tmp_path / "other", {"pyproject.toml": PROJECT, "demo/__init__.py": ""}))[
        "pytest"]["script"][-1]


@pytest.mark.parametrize("build_system", [
    '[build-system]\nrequires = ["setuptools>=64", "setuptools-scm>=8"]\n',
    '[build-system]\nrequires = ["hatchling", "hatch-vcs"]\n[tool.hatch.version]\nsource = "vcs"\n',
    '[build-system]\nrequires = ["pdm-backend"]\n[tool.pdm.version]\nsource = "scm"\n',
])
def test_a_version_from_git_gets_git_and_the_history(tmp_path: Path, build_system: str) -> None:
    # python:X-slim has no git: "setuptools-scm was unable to detect version".
    repo = write(tmp_path, {"pyproject.toml": PROJECT.replace('version = "1"\n', 'dynamic = ["version"]\n')
                            + build_system, "demo/__init__.py": ""})
    out = pipeline(repo)
    apt = "apt-get update -qq && apt-get install --yes --quiet --no-install-recommends git > /dev/null"
    assert out["pytest"]["script"][0] == apt and out["python-build"]["script"][0] == apt
    assert out["python-build"]["variables"]["GIT_DEPTH"] == "0"


def test_the_existing_ci_gives_versions_packages_services_and_variables(tmp_path: Path) -> None:
    workflow = ("jobs:\n  test:\n    strategy:\n      matrix:\n        python-version: ['3.11', '3.12']\n"
                "    services:\n      redis:\n        image: redis:7\n"
                "    env:\n      REDIS_URL: redis://localhost:6379\n"
                "    steps:\n      - run: sudo apt-get install -y less\n      - run: pytest\n")
    repo = write(tmp_path, {"pyproject.toml": PROJECT, ".github/workflows/ci.yml": workflow, "demo/__init__.py": ""})
    test = pipeline(repo)["pytest"]
    assert test["parallel"]["matrix"] == [{"PYTHON_VERSION": ["3.11", "3.12"]}]
    assert test["services"] == [{"name": "redis:7", "alias": "redis"}]
    assert test["variables"]["REDIS_URL"] == "redis://redis:6379"
    assert test["script"][0].endswith("--no-install-recommends less > /dev/null")
    assert test["script"][-1] == "pytest"  # the workflow's own test command


def test_pdm_dev_groups_reach_the_jobs(tmp_path: Path) -> None:
    # mypy in a PDM project lacked its dev group: "Cannot find implementation or library stub".
    repo = write(tmp_path, {"pyproject.toml": PROJECT + "[tool.mypy]\nstrict = true\n[tool.pdm.dev-dependencies]\n"
                                                       "test = ['pytest>=8', \"types-requests; python_version>'3'\"]\n"
                                                       "docs = ['mkdocs']\n",
                            "pdm.lock": "", "demo/__init__.py": ""})
    script = pipeline(repo)["mypy"]["script"]
    assert script[0] == "pip install --quiet 'pytest>=8' 'types-requests; python_version>'\"'\"'3'\"'\"''"
    assert "mkdocs" not in " ".join(script)


def test_setup_py_extras_and_python_requires_are_read_not_run(tmp_path: Path) -> None:
    # fdroidserver: setup.py's `test` extra was missed, so pytest's plugins were never installed.
    repo = write(tmp_path, {"setup.py": (
        "import sys\nfrom setuptools import setup\n"
        "sys.exit('ran')  # never reached: setup.py is parsed, not run\n"
        "EXTRAS = {'test': ['pytest', 'pyjks'], 'docs': ['sphinx']}\n"
        "setup(name='fdroidserver', python_requires='>=3.11,<3.13', extras_require=EXTRAS)\n")})
    found = detect(repo)
    assert found.name == "fdroidserver"
    assert found.settings["extras"] == ["test"]
    assert found.settings["versions"] == ["3.11", "3.12"]
    assert any("setup.py: python_requires >=3.11,<3.13; extras test, docs (read, not run)" in e
               for e in found.evidence)
    job = pipeline(repo)["pytest"]
    assert "pip install --quiet -e '.[test]'" in job["script"]


def test_setup_cfg_declares_as_setup_py_does(tmp_path: Path) -> None:
    repo = write(tmp_path, {"setup.py": "from setuptools import setup\nsetup()\n", "setup.cfg": (
        "[metadata]\nname = demo\n[options]\npython_requires = >=3.12\n"
        "[options.extras_require]\ntesting =\n    pytest\n    # a comment\n    hypothesis\n")})
    found = detect(repo)
    assert found.name == "demo" and found.settings["extras"] == ["testing"]
    assert found.settings["versions"] == ["3.12", "3.13", "3.14"]


@pytest.mark.parametrize("text", ["setup(extras_require=make_extras())", "def f(:\n", "setup(name=1)",
                                  "X = {}\nX = {'test': ['a']}\nsetup(extras_require=X)"])
def test_setup_py_that_is_not_literal_gives_nothing(text: str) -> None:
    from cifab.stacks.python_setup import from_setup_py

    assert "optional-dependencies" not in from_setup_py(text) and "name" not in from_setup_py(text)


def test_pyproject_wins_over_setup_py(tmp_path: Path) -> None:
    repo = write(tmp_path, {"pyproject.toml": PROJECT, "setup.py": (
        "from setuptools import setup\nsetup(name='other', python_requires='>=3.13', "
        "extras_require={'dev': ['ruff']})\n")})
    found = detect(repo)
    assert found.name == "demo" and found.settings["versions"][0] == "3.10"
    assert found.settings["extras"] == ["dev"]
