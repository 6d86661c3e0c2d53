"""spec:inputs and $[[ ]] interpolation, from GitLab's documented examples (docs/ci/inputs)
and the messages of its interpolation specs."""

from __future__ import annotations

from pathlib import Path

import pytest

from cifab.pipeline.inputs import interpolate
from cifab.pipeline.yamlpos import load_text
from tests.lint_helpers import errors, lint, messages, of


def repo_with(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / ".git").mkdir(exist_ok=True)
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def resolved(text: str, args: dict | None = None) -> object:
    loaded = load_text(text, "f.yml")
    outcome = interpolate(loaded.data, loaded.header, args, ("f.yml", 1, 1))
    assert outcome.errors == [], outcome.errors
    return outcome.data


# ------------------------------------------------------------------ documented examples lint clean

TYPED = """spec:
  inputs:
    array_input:
      type: array
      default: [build]
    boolean_input:
      type: boolean
      default: true
    number_input:
      type: number
      default: 3
    string_input:
      type: string
      default: echo hi
---
build:
  stage: build
  script: make
test_job:
  allow_failure: $[[ inputs.boolean_input ]]
  needs: $[[ inputs.array_input ]]
  parallel: $[[ inputs.number_input ]]
  script: $[[ inputs.string_input ]]
"""

RULES_ARRAY = """spec:
  inputs:
    rules-config:
      type: array
      default:
        - if: $CI_PIPELINE_SOURCE == "merge_request_event"
          when: manual
        - if: $CI_PIPELINE_SOURCE == "schedule"
---
test_job:
  rules: $[[ inputs.rules-config ]]
  script: ls
"""

WHEN_NEVER = """spec:
  inputs:
    when:
      default: never
      options: [never, always]
---
test_job:
  rules:
    - when: $[[ inputs.when ]]
  script: ls
"""


@pytest.mark.parametrize("text", [TYPED, RULES_ARRAY, WHEN_NEVER], ids=["types", "rules-array", "when"])
def test_documented_inputs_of_every_type_are_valid_after_interpolation(text: str) -> None:
    assert errors(lint(text)) == []


def test_a_whole_value_keeps_its_type_and_a_block_in_text_becomes_text() -> None:
    data = resolved(TYPED)
    job = data["test_job"]  # type: ignore[index]
    assert job["needs"] == ["build"] and job["parallel"] == 3 and job["allow_failure"] is True
    text = resolved("spec:\n  inputs:\n    n:\n      type: number\n      default: 2\n---\n"
                    "j:\n  script: run -j $[[ inputs.n ]]\n")
    assert text["j"]["script"] == "run -j 2"  # type: ignore[index]


@pytest.mark.parametrize(("block", "value"), [
    ("$[[ inputs.test | truncate(1, 3) ]]", "ell"),
    ("$[[ inputs.test | expand_vars ]]", "hello world"),
    ("$[[ inputs.test | posix_escape ]]", "hello\\ world"),
    ("$[[ inputs.test | truncate(0, 5) | posix_escape ]]", "hello"),
])
def test_functions(block: str, value: str) -> None:
    data = resolved(f"spec:\n  inputs:\n    test:\n      default: hello world\n---\nj:\n  script: '{block}'\n")
    assert data["j"]["script"] == value  # type: ignore[index]


def test_keys_are_interpolated() -> None:
    data = resolved("spec:\n  inputs:\n    job-prefix:\n---\n'$[[ inputs.job-prefix ]]-scan':\n  script: ls\n",
                    {"job-prefix": "web"})
    assert list(data) == ["web-scan"]  # type: ignore[call-overload]


def test_matrix_blocks_are_left_for_gitlab() -> None:
    data = resolved("spec:\n  inputs:\n    a:\n      default: x\n---\nj:\n  needs:\n    - job: b\n"
                    "      parallel:\n        matrix:\n          - V: $[[ matrix.V ]]\n  script: ls\n")
    assert data["j"]["needs"][0]["parallel"]["matrix"][0]["V"] == "$[[ matrix.V ]]"  # type: ignore[index]


# ------------------------------------------------------------------ includes, components, positions


def test_local_include_with_inputs_is_interpolated_before_the_merge(tmp_path: Path) -> None:
    root = repo_with(tmp_path, {"ci/scan.yml": "spec:\n  inputs:\n    website:\n    stage:\n      default: test\n---\n"
                                               "'scan-$[[ inputs.website ]]':\n  stage: $[[ inputs.stage ]]\n"
                                               "  script: ./scan $[[ inputs.website ]]\n"})
    text = ("include:\n  - local: ci/scan.yml\n    inputs:\n      website: example.com\n"
            "deploy:\n  stage: deploy\n  script: make\n  needs: [scan-example.com]\n")
    found = lint(text, root)
    assert errors(found) == [] and of(found, "include-unresolved") == []


def test_the_projects_own_component_is_read_offline(tmp_path: Path) -> None:
    root = repo_with(tmp_path, {"templates/secret-detection/template.yml":
                                "spec:\n  inputs:\n    stage:\n      default: test\n---\n"
                                "secret-$[[ component.name ]]:\n  stage: $[[ inputs.stage ]]\n  script: scan\n"})
    text = ("include:\n  - component: $CI_SERVER_FQDN/$CI_PROJECT_PATH/secret-detection@$CI_COMMIT_SHA\n"
            "    inputs:\n      stage: build\n"
            "after:\n  stage: test\n  script: ls\n  needs: [secret-secret-detection]\n")
    found = lint(text, root)
    assert errors(found) == [] and of(found, "include-unresolved") == []
    other = lint("include:\n  - component: gitlab.com/acme/tools/lint@1.0\ntest:\n  script: ls\n", root)
    assert len(of(other, "include-unresolved")) == 1


@pytest.mark.parametrize("path", ["$CI_PROJECT_DIR/ci/a.yml", "ci/${TARGET}.yml"])
def test_a_variable_in_a_local_include_is_unresolved_and_nothing_cascades(tmp_path: Path, path: str) -> None:
    found = lint(f"include:\n  - local: '{path}'\n", repo_with(tmp_path, {}))
    assert errors(found) == [] and len(of(found, "include-unresolved")) == 1


# ------------------------------------------------------------------ GitLab's errors, in its words

SPEC = """spec:
  inputs:
    website:
    environment:
      options: [development, staging, production]
      default: staging
    version:
      regex: ^v\\d\\.\\d+(\\.\\d+)?$
      default: v1.0
    count:
      type: number
      default: 1
    flags:
      type: array
      default: []
    enabled:
      type: boolean
      default: false
---
job:
  script: echo $[[ inputs.website ]]
"""


@pytest.mark.parametrize(("inputs", "expected"), [
    ("{}", "`website` input: required value has not been provided"),
    ("{website: a, color: red}", "unknown input arguments: color"),
    ("{website: 5}", "`website` input: provided value is not a string"),
    ("{website: a, count: many}", "`count` input: provided value is not a number"),
    ("{website: a, enabled: 'yes'}", "`enabled` input: provided value is not a boolean"),
    ("{website: a, flags: x}", "`flags` input: provided value is not an array"),
    ("{website: a, environment: prod}",
     "`environment` input: `prod` cannot be used because it is not in the list of allowed options"),
    ("{website: a, version: '1.0'}", "`version` input: provided value does not match required RegEx pattern"),
])
def test_arguments_are_checked_with_gitlabs_messages(tmp_path: Path, inputs: str, expected: str) -> None:
    root = repo_with(tmp_path, {"ci/t.yml": SPEC})
    found = of(lint(f"include:\n  - local: ci/t.yml\n    inputs: {inputs}\n", root), "inputs-invalid")
    assert messages(found) == [f"`ci/t.yml`: {expected}"]


@pytest.mark.parametrize(("spec", "content", "expected"), [
    ("x:\n      type: map", "j:\n  script: ls", "header:spec:inputs:x input type unknown value: map"),
    ("x:\n      default: 5\n      type: string", "j:\n  script: ls", "`x` input: default value is not a string"),
    ("x:\n      regex: '(?=a)'\n      default: a", "j:\n  script: ls", "`x` input: invalid regular expression"),
    ("x:\n      default: a", "j:\n  script: $[[ inputs.y ]]", "unknown interpolation key: `y`"),
    ("x:\n      default: a", "j:\n  script: $[[ xy ]]", "invalid interpolation access pattern"),
    ("x:\n      default: a", "j:\n  script: $[[ inputs.x | a | b | c | d ]]",
     "too many functions in interpolation block"),
    ("x:\n      default: a", "j:\n  script: $[[ inputs.x | upcase ]]",
     "no function matching `upcase`: check that the function name, arguments, and types are correct"),
    ("x:\n      type: number\n      default: 1", "j:\n  script: $[[ inputs.x | truncate(0, 1) ]]",
     "error in `truncate` function: invalid input type: truncate can only be used with string inputs"),
    ("x:\n      type: boolean\n      default: true\n      options: [true]", "j:\n  script: ls",
     "`x` input: Options can only be used with string and number inputs"),
])
def test_specs_and_blocks_are_checked_with_gitlabs_messages(spec: str, content: str, expected: str) -> None:
    found = of(lint(f"spec:\n  inputs:\n    {spec}\n---\n{content}\n"), "inputs-invalid")
    assert messages(found) == [expected]


def test_inputs_for_a_file_without_a_spec_are_refused(tmp_path: Path) -> None:
    root = repo_with(tmp_path, {"ci/plain.yml": "j:\n  script: ls\n"})
    found = lint("include:\n  - local: ci/plain.yml\n    inputs: {a: 1}\n", root)
    assert messages(of(found, "inputs-invalid")) == [
        "`ci/plain.yml`: Given inputs not defined in the `spec` section of the included configuration file"]


def test_a_refused_file_causes_no_cascade(tmp_path: Path) -> None:
    root = repo_with(tmp_path, {"ci/t.yml": SPEC})
    found = lint("include:\n  - local: ci/t.yml\nbuild:\n  script: make\n  needs: [job]\n", root)
    assert [f.rule_id for f in errors(found)] == ["inputs-invalid"]


def test_an_argument_error_points_at_the_argument(tmp_path: Path) -> None:
    root = repo_with(tmp_path, {"ci/t.yml": SPEC})
    [found] = of(lint("include:\n  - local: ci/t.yml\n    inputs:\n      website: a\n      environment: prod\n", root),
                 "inputs-invalid")
    assert (found.line, found.col) == (5, 20)


def test_a_reference_inside_an_interpolated_file_stays_a_reference() -> None:
    found = lint("spec:\n  inputs:\n    v:\n      default: x\n---\n.vars:\n  A: $[[ inputs.v ]]\n"
                 "job:\n  script: ls\n  rules:\n    - if: $CI_COMMIT_TAG\n      variables: !reference [.vars]\n")
    assert errors(found) == []
