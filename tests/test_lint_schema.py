"""The schema rule: GitLab's schema, positioned, one relevant message, GitLab's words."""

from __future__ import annotations

from pathlib import Path

import pytest

from cifab import gitlab_schema
from tests.lint_helpers import lint, messages, of


def schema_findings(text: str):  # type: ignore[no-untyped-def]
    return of(lint(text), "gitlab-schema")


def test_the_vendored_schema_is_the_file_its_record_names_and_compiles_once() -> None:
    import hashlib
    import json

    path = gitlab_schema.schema_path()
    record = json.loads((path.parent / "gitlab-ci.source.json").read_text())
    assert path.is_relative_to(Path(gitlab_schema.__file__).parent) and record["file"] == path.name
    assert hashlib.sha256(path.read_bytes()).hexdigest() == record["sha256"]
    assert gitlab_schema.validator() is gitlab_schema.validator()


def test_misspelled_job_key_points_at_the_key_with_a_hint() -> None:
    [f] = schema_findings("test:\n  script: x\n  artifact:\n    paths: [a]\n")
    assert f.message == "jobs:test config contains unknown keys: artifact"
    assert (f.line, f.col) == (3, 3) and f.hint == "did you mean `artifacts`?"


def test_wrong_type_in_gitlab_words() -> None:
    [f] = schema_findings("test:\n  script: x\n  artifacts: [a]\n")
    assert f.message == "jobs:test:artifacts config should be a hash"
    assert (f.line, f.col) == (3, 14)


@pytest.mark.parametrize(("snippet", "expected"), [
    ("rspec:\n  script: x\n  tags: mysql\n", "jobs:rspec:tags config should be an array of strings"),
    ("rspec:\n  script: x\n  stage: 1\n", "jobs:rspec:stage config should be a string"),
    ("rspec:\n  script: x\n  parallel: many\n", "jobs:rspec:parallel should be an integer or a hash"),
    ("rspec:\n  script: x\n  allow_failure: maybe\n", "jobs:rspec allow failure should be a hash or a boolean value"),
    ("image: [a]\nrspec:\n  script: x\n", "image config should be a hash or a string"),
    ("variables: x\nrspec:\n  script: x\n", "variables config should be a hash"),
    ("rspec:\n  script: x\n  before_script: [1]\n",
     "jobs:rspec:before_script config should be a string or a nested array of strings up to 10 levels deep"),
    # Entry::Artifacts: mutually_exclusive_keys: %i[access public], named in the config's order.
    ("rspec:\n  script: x\n  artifacts:\n    public: false\n    access: developer\n",
     "jobs:rspec:artifacts config these keys cannot be used together: public, access"),
])
def test_gitlab_messages(snippet: str, expected: str) -> None:
    assert expected in messages(lint(snippet))


def test_any_of_picks_the_branch_the_author_meant() -> None:
    # artifacts:when is wrong inside an otherwise well-formed mapping: say that, not "should be a string".
    found = schema_findings("rspec:\n  script: x\n  artifacts:\n    when: sometimes\n")
    assert messages(found) == ["jobs:rspec:artifacts when should be one of: on_success, on_failure, always"]
    assert found[0].hint == "did you mean `always`?" or found[0].hint is None


def test_enum_on_job_when() -> None:
    found = messages(lint("rspec:\n  script: x\n  when: sometimes\n"))
    assert any(m.startswith("jobs:rspec when should be one of: ") for m in found)


def test_top_level_typo_of_a_keyword_is_called_out() -> None:
    [f] = schema_findings("stgaes: [a, b]\nrspec:\n  script: x\n")
    assert f.hint is not None and "`stages`" in f.hint


def test_empty_keys_count_as_unset_like_gitlab() -> None:
    assert schema_findings("rspec:\n  script: x\n  variables:\n") == []


def test_reference_tags_are_not_schema_errors() -> None:
    text = (".rules:\n  rules:\n    - if: $A\n.cond:\n  if: $B\n"
            "rspec:\n  script: x\n  rules:\n    - !reference [.rules, rules]\n    - if: !reference [.cond, if]\n")
    assert schema_findings(text) == []


def test_formats_are_not_checked() -> None:
    text = "include:\n  - component: ${CI_SERVER_FQDN}/g/p/c@1.0\nrspec:\n  script: x\n"
    assert schema_findings(text) == []


@pytest.mark.parametrize("text", [
    "rspec:\n  script: x\n  image:\n    name: ruby:3.3\n    entrypoint: []\n",
    "rspec:\n  script: x\n  services:\n    - name: postgres:17\n      entrypoint: []\n",
    "rspec:\n  script: x\n  allow_failure:\n    exit_codes: []\n",
    "rspec:\n  script: x\n  retry:\n    max: 1\n    exit_codes: []\n",
])
def test_empty_lists_gitlabs_entries_take_are_accepted(text: str) -> None:
    # array_of_strings and array_of_integers_or_integer take [], where the schema wants an item.
    assert schema_findings(text) == []


def test_empty_artifact_paths_are_accepted_like_gitlab() -> None:
    assert schema_findings("rspec:\n  script: x\n  artifacts:\n    paths: []\n") == []
    assert schema_findings("rspec:\n  script: x\n  artifacts:\n    paths: [out/]\n    exclude: []\n") == []


def test_errors_in_included_files_point_into_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".git").mkdir()
    (tmp_path / "ci.yml").write_text("inc:\n  script: x\n  artifact: {}\n")
    found = of(lint("include: ci.yml\nrspec:\n  script: x\n", tmp_path), "gitlab-schema")
    assert [(f.src, f.line) for f in found] == [("ci.yml", 3)]


def test_semantic_finding_replaces_the_schema_finding_on_the_same_node() -> None:
    found = lint("workflow:\n  rules:\n    - if: $A\n      when: manual\nx:\n  script: x\n")
    at = {(f.line, f.col) for f in of(found, "workflow-rules-when")}
    assert at and not any((f.line, f.col) in at for f in of(found, "gitlab-schema"))


# GitLab validates a job after `extends` is merged: a key the template supplies is not missing.
# The cases follow GitLab's docs for environment:action, image:entrypoint, release and trigger.
@pytest.mark.parametrize("text", [
    ".review: {environment: {name: review/$CI_COMMIT_REF_SLUG}}\n"
    "stop: {extends: .review, script: echo, environment: {action: stop}}\n",
    ".img: {image: {name: alpine:3.22}}\nj: {extends: .img, script: ls, image: {entrypoint: ['']}}\n",
    ".rel: {release: {tag_name: $CI_COMMIT_TAG, description: x}}\nr: {extends: .rel, script: ls, "
    "release: {name: v1}}\n",
    ".qa: {trigger: {project: group/qa}}\nqa: {extends: .qa, trigger: {strategy: depend}}\n",
])
def test_required_keys_are_checked_after_extends_is_merged(text: str) -> None:
    assert schema_findings(text) == []


def test_a_key_missing_after_the_merge_is_still_reported_at_the_job() -> None:
    [f] = schema_findings(".s: {stage: test}\nqa: {extends: .s, trigger: {inputs: {x: y}}}\n")
    assert f.message == "jobs:qa:trigger config missing required keys: project"
    assert (f.line, f.col) == (2, 28)


def test_every_merged_job_missing_a_key_is_reported_at_its_own_place() -> None:
    # All merged jobs are validated together: each keeps its own finding and position.
    found = schema_findings(".s: {stage: test}\nqa: {extends: .s, trigger: {inputs: {x: y}}}\n"
                            "ok: {extends: .s, trigger: {project: a/b}}\n"
                            "up: {extends: .s, trigger: {strategy: depend, inputs: {y: z}}}\n")
    assert [(f.message, f.line) for f in found] == [
        ("jobs:qa:trigger config missing required keys: project", 2),
        ("jobs:up:trigger config missing required keys: project", 4)]


def test_a_release_date_is_a_valid_datetime() -> None:
    text = "release:\n  script: x\n  release:\n    tag_name: v1\n    description: d\n    released_at: '{}'\n"
    assert messages(schema_findings(text.format("yesterday"))) == [
        "jobs:release:release released at must be a valid datetime"]
    assert schema_findings(text.format("2021-03-15T08:00:00Z")) == []


def test_a_pattern_error_keeps_the_pattern_out_of_the_lowercased_message() -> None:
    [found] = schema_findings("include:\n  - remote: ftp://example.com/ci.yml\ntest:\n  script: x\n")
    assert found.message == 'include:remote config is invalid: "ftp://example.com/ci.yml" is not in the expected format'
    assert found.hint == "the schema's pattern: ^https?://"
