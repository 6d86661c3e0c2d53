"""Semantic rules with GitLab's wording, beyond each rule's documented examples."""

from __future__ import annotations

import pytest

from cifab.lint.rules.duration import duration_seconds
from cifab.lint.rules.expression import valid_expression
from tests.lint_helpers import errors, lint, messages, of

JOBS = ("build1: {stage: build, script: test}\nbuild2: {stage: build, script: test}\n"
        "deploy: {stage: deploy, script: x}\n")


def test_stage_message_lists_available_stages_like_gitlab() -> None:
    [f] = of(lint("rspec:\n  stage: acceptance\n  script: x\n"), "stage-undefined")
    assert f.message == ("rspec job: chosen stage acceptance does not exist; available stages are "
                         ".pre, build, test, deploy, .post")
    assert (f.line, f.col) == (2, 10)


def test_jobs_without_stage_run_in_test() -> None:
    found = lint("stages: [build]\nrspec:\n  script: x\n")
    assert "chosen stage test does not exist" in messages(found)[0]


def test_pre_and_post_are_always_available() -> None:
    assert errors(lint("stages: [build]\na:\n  stage: .pre\n  script: x\nb:\n  stage: .post\n  script: x\n"
                       "c:\n  stage: build\n  script: x\n")) == []


def test_needs_on_a_later_stage_and_on_a_hidden_job() -> None:
    found = lint(JOBS + ".tpl:\n  script: x\ntest1:\n  script: x\n  needs: [deploy, .tpl]\n")
    assert "test1 job: need deploy is not defined in current or prior stages" in messages(found)
    assert "test1 job: undefined need: .tpl" in messages(found)


def test_needs_in_the_same_stage_are_fine() -> None:
    assert errors(lint("a:\n  script: x\nb:\n  script: x\n  needs: [a]\n")) == []


def test_optional_needs_may_be_missing() -> None:
    assert errors(lint("a:\n  script: x\n  needs:\n    - job: ghost\n      optional: true\n")) == []


def test_rules_needs_are_checked() -> None:
    found = lint("test:\n  script: x\n  rules:\n    - if: $A\n      needs: [unknown_job]\n")
    assert "test job: undefined need: unknown_job" in messages(found)


def test_needs_may_name_parallel_and_matrix_instances() -> None:
    text = ("build:\n  stage: build\n  script: x\n  parallel:\n    matrix:\n"
            "      - OS: [linux, mac]\n        ARCH: arm\n"
            "split:\n  stage: build\n  script: x\n  parallel: 2\n"
            "test:\n  script: x\n  needs: ['build: [linux, arm]', 'split 2/2']\n")
    assert errors(lint(text)) == []


def test_duplicate_needs_with_different_attributes() -> None:
    found = lint(JOBS + "test1:\n  script: x\n  needs: [build2, {job: build2, artifacts: false}]\n")
    assert "test1 has the following needs duplicated: build2." in messages(found)


def test_cycles_are_reported_in_gitlab_order() -> None:
    found = lint("job_a:\n  script: x\n  needs: [job_c]\njob_b:\n  script: x\n  needs: [job_a]\n"
                 "job_c:\n  script: x\n  needs: [job_b]\n")
    assert ('The pipeline has circular dependencies: topological sort failed: ["job_a", "job_c", "job_b"]'
            in messages(found))


def test_self_dependency() -> None:
    found = lint("job_0:\n  script: x\njob:\n  script: x\n  needs: [job_0, job]\n")
    assert "The pipeline has circular dependencies: self-dependency: job" in messages(found)


def test_dependencies_rules() -> None:
    found = lint(JOBS + "test1:\n  script: x\n  dependencies: [undefined, deploy]\n")
    assert "test1 job: undefined dependency: undefined" in messages(found)
    assert "test1 job: dependency deploy is not defined in current or prior stages" in messages(found)


def test_job_must_run_something() -> None:
    assert "jobs rspec config should implement the script:, run:, or trigger: keyword" in messages(
        lint("rspec:\n  stage: test\n"))
    assert errors(lint("bridge:\n  trigger: group/project\n")) == []
    assert "jobs extra config should implement the script:, run:, or trigger: keyword" in messages(
        lint("rspec:\n  script: x\nextra: just a string\n"))


def test_only_hidden_jobs_and_empty_config() -> None:
    assert "jobs config should contain at least one visible job" in messages(lint(".a:\n  script: x\n"))
    assert messages(lint("")) == ["Please provide content of .gitlab-ci.yml"]
    assert messages(lint("just a string\n")) == ["Invalid configuration format"]


def test_reserved_job_names() -> None:
    found = lint("image:\n  stage: test\n  script: x\nok:\n  script: x\n")
    assert of(found, "job-name-reserved")


def test_rules_cannot_mix_with_only_except_or_start_in() -> None:
    found = lint("a:\n  script: x\n  only: [main]\n  except: [tags]\n  rules:\n    - when: always\n"
                 "b:\n  script: x\n  when: delayed\n  start_in: 1 hour\n  rules:\n    - if: $A\n")
    assert "jobs:a config key may not be used with `rules`: only, except" in messages(found)
    assert any("may not be used with `rules`: start_in" in m for m in messages(found))


def test_workflow_rules_when() -> None:
    found = lint("workflow:\n  rules:\n    - if: $A\n      when: on_success\nx:\n  script: x\n")
    assert "workflow:rules:rule when should be always or never" in messages(found)


def test_environment_action_and_on_stop() -> None:
    base = "review:\n  script: x\n  environment:\n    name: review\n    on_stop: stop\n"
    assert "review job: on_stop job stop is not defined" in messages(lint(base))
    assert "review job: on_stop job stop does not have environment defined" in messages(
        lint(base + "stop:\n  script: x\n"))
    assert "review job: on_stop job stop have different environment name" in messages(
        lint(base + "stop:\n  script: x\n  environment:\n    name: other\n    action: stop\n"))
    found = lint("x:\n  script: x\n  environment:\n    name: e\n    action: destroy\n")
    assert any(m.startswith("jobs:x:environment action should be start") for m in messages(found))


def test_durations() -> None:
    found = lint("a:\n  script: x\n  timeout: not-a-number\n  artifacts:\n    paths: [x]\n    expire_in: soon\n")
    assert "jobs:a:timeout config should be a duration" in messages(found)
    assert "jobs:a:artifacts expire in should be a duration" in messages(found)
    fine = "a:\n  script: x\n  timeout: 1h 30m\n  artifacts:\n    paths: [x]\n    expire_in: never\n"
    assert errors(lint(fine)) == []


def test_delayed_needs_start_in_within_a_week() -> None:
    assert any("start in should be a duration" in m for m in messages(lint("a:\n  script: x\n  when: delayed\n")))
    assert any("should not exceed the limit" in m
               for m in messages(lint("a:\n  script: x\n  when: delayed\n  start_in: 8 days\n")))
    assert errors(lint("a:\n  script: x\n  when: delayed\n  start_in: 30 minutes\n")) == []


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("30 minutes", 1800), ("1h 30m", 5400),
                                               ("2 days and 3 hours", 183600), ("1:30", 90), ("1.5h", 5400)])
def test_duration_parser(text: str, seconds: int) -> None:
    assert duration_seconds(text) == seconds


@pytest.mark.parametrize("text", ["soon", "", "1 fortnight", "h1", "10 minutes ago"])
def test_duration_parser_rejects(text: str) -> None:
    assert duration_seconds(text) is None


def test_limits() -> None:
    found = lint("a:\n  script: x\n  retry: 3\nb:\n  script: x\n  cache:\n    key:\n      files: "
                 "[a, b, c, d, e, f, g, h, i, j, k]\n    paths: [x]\n")
    assert "jobs:a:retry max must be less than or equal to 2" in messages(found)
    assert any("cache:key:files" in m for m in messages(found))
    ten = "[a, b, c, d, e, f, g, h, i, j]"
    assert errors(lint(f"b:\n  script: x\n  cache:\n    key:\n      files: {ten}\n    paths: [x]\n")) == []


@pytest.mark.parametrize("expression", ['$A == "x"', "$A", '$A =~ /^feat/i && ($B != null || $C)',
                                        "$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS", "'a' == $B", "$A =~ $B"])
def test_valid_expressions(expression: str) -> None:
    assert valid_expression(expression)


@pytest.mark.parametrize("expression", ["== null", '$A = "x"', "$A ==", "($A", "$A $B", "!$A", ""])
def test_invalid_expressions(expression: str) -> None:
    assert not valid_expression(expression)


def test_expression_findings_name_the_place() -> None:
    found = lint("a:\n  script: x\n  only:\n    variables: ['== null']\n  except: ['/*invalid/']\n")
    assert "jobs:a:only variables invalid expression syntax" in messages(found)
    assert ("jobs:a:except config should be an array of strings or regular expressions using re2 syntax"
            in messages(found))


def test_multiple_pipelines_warning_like_gitlab() -> None:
    found = lint("rspec:\n  script: x\n  rules:\n    - when: always\n")
    [warning] = of(found, "rules-multiple-pipelines")
    assert warning.message.startswith("jobs:rspec may allow multiple pipelines to run for a single action")
    assert warning.severity.name == "WARNING"


def test_workflow_and_cache_unknown_keys() -> None:
    found = lint("workflow:\n  rules:\n    - if: $A\n  variables:\n    A: b\ncache:\n  untracked: true\n"
                 "  invalid: key\nrspec:\n  script: x\n  cache:\n    key:\n      prefix: p\n    paths: [x]\n")
    assert "workflow config contains unknown keys: variables" in messages(found)
    assert "cache config contains unknown keys: invalid" in messages(found)
    assert "jobs:rspec:cache:key config missing required keys: files" in messages(found)


def test_duplicate_key_warning_points_at_the_second_key() -> None:
    [f] = of(lint("a:\n  script: x\n  script: y\n"), "yaml-duplicate-key")
    assert (f.line, f.col) == (3, 3)
