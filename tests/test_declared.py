"""What init reads from a repository before its defaults: task runners, pre-commit hooks and
the existing CI. Each source kind has a fixture shaped like the real thing."""

from __future__ import annotations

from pathlib import Path

import pytest

from cifab.declared import ci, precommit, runners


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if text.startswith("#!"):
            path.chmod(0o755)
    return root


# ---------------------------------------------------------------- pre-commit


PRECOMMIT = """\
exclude: ^docs/
repos:
  - repo: https://github.com/astral-sh/ruff-pre-commit
    rev: v0.14.2
    hooks:
      - id: ruff-check
        args: [--fix]
        files: ^(src|tests)/
      - id: ruff-format
  - repo: https://github.com/pre-commit/mirrors-mypy
    rev: v1.18.2
    hooks:
      - id: mypy
        additional_dependencies: [types-requests, "pydantic>=2"]
        exclude: |
          (?x)^(
            tests/fixtures/.*|
            setup\\.py
          )$
"""


def test_hooks_carry_rev_args_scope_and_dependencies(tmp_path: Path) -> None:
    found = precommit.hooks(write(tmp_path, {".pre-commit-config.yaml": PRECOMMIT}))
    assert [(h.id, h.rev) for h in found] == [("ruff-check", "0.14.2"), ("ruff-format", "0.14.2"), ("mypy", "1.18.2")]
    ruff, _, mypy = found
    assert ruff.args == ("--fix",) and precommit.paths(ruff.files) == ["src", "tests"]
    assert mypy.additional_dependencies == ("types-requests", "pydantic>=2")
    # The config's own exclude applies to every hook, with the hook's.
    assert precommit.excluded(mypy) == ["docs", "tests/fixtures", "setup.py"]
    assert precommit.hooks(tmp_path / "nothing") == []


@pytest.mark.parametrize(("regex", "paths"), [
    ("^src/", ["src"]), ("^(src|tests)/", ["src", "tests"]), ("^(?:src|tests)/.*\\.py$", ["src", "tests"]),
    ("^setup\\.py$", ["setup.py"]), ("", []),
    ("tests/", None),  # search() matches anywhere: not a folder of the root
    ("^(?!tests)", None), ("^src/(a|b)/", None),
])
def test_scopes_read_as_paths_only_when_they_name_paths(regex: str, paths: list[str] | None) -> None:
    assert precommit.paths(regex) == paths


def test_a_broken_or_hostile_config_reads_as_none(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdefgh", "bcdefghi",
                                                                                             strict=True))
    for text in ("repos: [", bomb, "repos: {x: 1}", "- just\n- a list\n"):
        (tmp_path / ".pre-commit-config.yaml").write_text(text)
        assert precommit.hooks(tmp_path) == []


# ---------------------------------------------------------------- task runners


def test_scripts_come_first_then_make_then_the_others(tmp_path: Path) -> None:
    repo = write(tmp_path, {"scripts/test": "#!/bin/sh\npytest\n", "scripts/check": "#!/bin/sh\nruff check .\n",
                            "scripts/notes.txt": "not a script\n",
                            "Makefile": "CC := gcc\ntest: deps\n\tpytest\nlint:\n\truff .\n"
                                        "build:\n\tpython -m build\n"})
    found = runners.commands(repo)
    assert found["test"] == runners.Command("./scripts/test", "scripts/test")
    assert found["lint"] == runners.Command("./scripts/check", "scripts/check")
    assert found["build"] == runners.Command("make build", "Makefile target build", "make")


@pytest.mark.parametrize(("files", "pyproject", "expected"), [
    ({"justfile": "set shell := [\"bash\"]\ntest *args:\n  pytest {{args}}\nlint:\n  ruff check\n"}, {},
     {"test": "just test", "lint": "just lint"}),
    ({"tox.ini": "[tox]\nenvlist = py3{11,12}\n[testenv]\ncommands = pytest\n[testenv:lint]\ncommands = ruff .\n"},
     {}, {"test": "tox", "lint": "tox -e lint"}),
    ({"noxfile.py": "import nox\n@nox.session(python=['3.12'])\ndef tests(session):\n  pass\n"
                    "@nox.session(name='lint')\ndef run_linters(session):\n  pass\n"}, {},
     {"test": "nox -s tests", "lint": "nox -s lint"}),
    ({}, {"tool": {"hatch": {"envs": {"default": {"scripts": {"test": "pytest"}},
                                      "lint": {"scripts": {"check": "ruff check"}}}}}},
     {"test": "hatch run test", "lint": "hatch run lint:check"}),
    ({}, {"tool": {"pdm": {"scripts": {"test": "pytest", "lint": "ruff check ."}}}},
     {"test": "pdm run test", "lint": "pdm run lint"}),
])
def test_each_task_runner(tmp_path: Path, files: dict[str, str], pyproject: dict, expected: dict[str, str]) -> None:
    found = runners.commands(write(tmp_path, files), pyproject)
    assert {role: c.run for role, c in found.items()} == expected


# ---------------------------------------------------------------- existing CI


GITHUB = """\
name: CI
on: [push]
env:
  FORCE_COLOR: "1"
  API_TOKEN: ${{ secrets.TOKEN }}
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - run: pip install -e .[dev]
      - run: |
          ruff check src tests
          mypy src
  test:
    strategy:
      matrix:
        python-version: ["3.10", "3.11"]
        os: [ubuntu-latest]
    services:
      postgres:
        image: postgres:16
        env:
          POSTGRES_PASSWORD: postgres
      cache:
        image: ${{ matrix.redis }}
    env:
      DATABASE_URL: postgres://postgres:postgres@localhost:5432/db
    steps:
      - run: sudo apt-get update && sudo apt-get install -y --no-install-recommends less git=1:2.39
      - run: python -m pytest --cov ${{ matrix.flags }}
      - run: |
          pytest tests/unit \\
            -x
"""


def test_github_actions(tmp_path: Path) -> None:
    found = ci.read(write(tmp_path, {".github/workflows/ci.yml": GITHUB}))
    assert found.sources == [".github/workflows/ci.yml"]
    assert found.versions_of("python-version") == ["3.12", "3.10", "3.11"]
    assert found.apt == ["less", "git"]
    assert found.services == [ci.Service("postgres:16", "postgres", {"POSTGRES_PASSWORD": "postgres"})]
    # A GitHub service is reached on localhost; in GitLab by its alias. Secrets never come along.
    assert found.variables == {"FORCE_COLOR": "1", "DATABASE_URL": "postgres://postgres:postgres@postgres:5432/db"}
    assert [c.run for c in found.commands["lint"]] == ["ruff check src tests", "mypy src"]
    # A step that needs GitHub's expressions cannot run elsewhere as written.
    assert [c.run for c in found.commands["test"]] == ["pytest tests/unit -x"]


def test_travis_circle_azure_and_jenkins(tmp_path: Path) -> None:
    repo = write(tmp_path, {
        ".travis.yml": "language: python\npython: ['3.11', '3.12']\nservices: [postgresql, redis-server]\n"
                       "addons:\n  apt:\n    packages: [gettext]\nscript:\n  - make test\n",
        ".circleci/config.yml": "version: 2.1\njobs:\n  build:\n    docker:\n      - image: cimg/python:3.12\n"
                                "      - image: cimg/mysql:8.0\n    steps:\n      - run: tox -e lint\n",
        "azure-pipelines.yml": "steps:\n  - script: npm run build\n",
        "Jenkinsfile": "pipeline { stages { stage('t') { steps { sh 'cargo test --all' } } } }\n",
    })
    found = ci.read(repo)
    assert found.sources == [".travis.yml", ".circleci/config.yml", "azure-pipelines.yml", "Jenkinsfile"]
    assert found.versions_of("python") == ["3.11", "3.12"]
    assert [s.image for s in found.services] == ["postgres:17", "redis:8", "cimg/mysql:8.0"]
    assert found.apt == ["gettext"]
    assert [c.run for c in found.commands["test"]] == ["make test", "cargo test --all"]
    assert [c.run for c in found.commands["lint"]] == ["tox -e lint"]
    assert [c.run for c in found.commands["build"]] == ["npm run build"]


# ---------------------------------------------------------------- the project's YAML formatter


@pytest.mark.parametrize(("files", "expected"), [
    ({".prettierrc": '{ "singleQuote": true }\n'}, ("single", ".prettierrc")),
    ({".prettierrc": "singleQuote: true\n"}, ("single", ".prettierrc")),  # .prettierrc may be YAML
    ({".prettierrc.json": '{"singleQuote": true, "overrides": [{"files": "*.yml", "options": {"singleQuote": '
                          "false}}]}"}, ("double", ".prettierrc.json")),
    ({"prettier.config.mjs": "export default { semi: false, singleQuote: true };\n"},
     ("single", "prettier.config.mjs")),
    ({"package.json": '{"prettier": {"singleQuote": true}}'}, ("single", "package.json prettier")),
    ({"package.json": '{"name": "x"}'}, None),
])
def test_prettier_s_quote_style_for_yaml(tmp_path: Path, files: dict[str, str],
                                         expected: tuple[str, str] | None) -> None:
    from cifab.declared.formatters import yaml_quotes

    assert yaml_quotes(write(tmp_path, files)) == expected


def test_quoted_strings_take_the_style_unless_only_double_quotes_can_write_them() -> None:
    from cifab.generate.scalars import quoting, scalar

    with quoting("single"):
        assert [scalar(v) for v in ("24", "", "it's: here", "a\nb", "plain")] == [
            "'24'", "''", '"it\'s: here"', '"a\\nb"', "plain"]
    assert scalar("24") == '"24"'


@pytest.mark.parametrize(("config", "width"), [
    ("extends: default\n", (80, ".yamllint")),
    ("extends: default\nrules:\n  line-length:\n    max: 120\n", (120, ".yamllint")),
    ("extends: default\nrules:\n  line-length: disable\n", None),
    ("extends: relaxed\n", None),  # a warning there: long lines pass
    ("rules:\n  line-length: {max: 100, level: warning}\n", None),
])
def test_yamllint_s_longest_line(tmp_path: Path, config: str, width: tuple[int, str] | None) -> None:
    from cifab.declared.formatters import yaml_width

    assert yaml_width(write(tmp_path, {".yamllint": config})) == width


def test_long_lines_wrap_and_fold_into_the_same_data() -> None:
    import yaml

    from cifab.generate.linewidth import fit

    text = ("job:\n  # A comment that goes on and on, well past the width that the linter of this project\n"
            "  # allows, in two lines.\n  script:\n"
            "    - pytest --junitxml=report.xml --cov --cov-report=term --cov-report=xml:coverage.xml\n"
            '    - "a quoted value with a\\ttab, which only quotes can write, so it stays on its line"\n'
            "    - 'a quoted value without escapes, which a folded block scalar writes as well, folds'\n"
            "    - |\n      a block scalar line that is long and is content, so it stays exactly as it is\n"
            "  variables:\n    OPTIONS: --one --two --three --four --five --six --seven --eight --nine\n")
    fitted = fit(text, 60)
    assert yaml.safe_load(fitted) == yaml.safe_load(text)
    assert "  # A comment that goes on and on, well past the width that\n  # the linter of this" in fitted
    assert "    - >-\n      pytest --junitxml=report.xml --cov --cov-report=term\n" in fitted
    assert "    OPTIONS: >-\n" in fitted
    long = [line for line in fitted.splitlines() if len(line) > 60]
    assert long == ['    - "a quoted value with a\\ttab, which only quotes can write, so it stays on its line"',
                    "      a block scalar line that is long and is content, so it stays exactly as it is"]
    assert fit(text, 0) == text


def test_a_keyed_list_item_and_gitlab_tags_fold_too() -> None:
    """`- if: <long>` folds deeper than its key, not its dash; a pipeline with GitLab's
    !reference tag still folds (the check that the data is the same reads the tag)."""
    from cifab.generate.linewidth import fit
    from tests import pipeline_yaml

    text = ("workflow:\n  rules:\n    - if: $CI_COMMIT_BRANCH != $CI_DEFAULT_BRANCH && $CI_OPEN_MERGE_REQUESTS "
            '&& $CI_PIPELINE_SOURCE == "push"\n      when: never\n'
            ".every-pipeline:\n  rules:\n    - if: $CI_COMMIT_BRANCH\n"
            "job:\n  rules: !reference [.every-pipeline, rules]\n  script:\n"
            "    - echo a line that is longer than the width the project allows for its pipeline\n")
    fitted = fit(text, 60)
    assert pipeline_yaml.load(fitted) == pipeline_yaml.load(text)
    assert "    - if: >-\n        $CI_COMMIT_BRANCH != $CI_DEFAULT_BRANCH &&" in fitted
    assert all(len(line) <= 60 for line in fitted.splitlines())


def test_a_narrow_header_keeps_the_checksum_one_word() -> None:
    from cifab import contract

    text = contract.wrap("cifab.yml", "job:\n  script: x\n", 80)
    assert text.splitlines()[2].startswith("# cifab-checksum:sha256:")
    assert contract.state(text) is contract.State.PRISTINE
