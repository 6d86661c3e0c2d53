"""`cifab jobs`: the pipeline GitLab would create for an event, with cases from GitLab's
documentation of rules, workflow:rules, only/except and needs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cifab.pipeline.config import build_pipeline
from cifab.pipeline.expression import ExpressionError, evaluate
from cifab.pipeline.yamlpos import load_text
from cifab.simulate.event import Event
from cifab.simulate.pipeline import Simulation, simulate
from tests.conftest import EXAMPLES
from tests.lint_helpers import lint, messages, of


def run(text: str, event: Event, root: Path | None = None) -> Simulation:
    return simulate(build_pipeline(load_text(text, ".gitlab-ci.yml"), root), event, root)


def names(sim: Simulation) -> list[str]:
    return [j.name for j in sim.jobs]


PUSH_MAIN = Event("push", "main")
PUSH_FEATURE = Event("push", "feature")
MR = Event("merge_request_event", "feature", target="main")
TAG = Event("push", "v1.0.0", tag=True)
SCHEDULE = Event("schedule", "main")


# ------------------------------------------------------------------ expressions


@pytest.mark.parametrize(("expression", "variables", "holds"), [
    ('$CI_PIPELINE_SOURCE == "merge_request_event"', {"CI_PIPELINE_SOURCE": "merge_request_event"}, True),
    ("$CI_COMMIT_BRANCH", {}, False),
    ("$CI_COMMIT_BRANCH", {"CI_COMMIT_BRANCH": ""}, False),
    ("$VAR == null", {}, True),
    ("$A == $B", {"A": "x", "B": "x"}, True),
    ("$CI_COMMIT_REF_NAME =~ /^feature/", {"CI_COMMIT_REF_NAME": "feature-1"}, True),
    ("$CI_COMMIT_REF_NAME =~ /^FEATURE/i", {"CI_COMMIT_REF_NAME": "feature-1"}, True),
    ("$CI_COMMIT_REF_NAME !~ /^feature/", {"CI_COMMIT_REF_NAME": "feature-1"}, False),
    ("$NAME =~ $PATTERN", {"NAME": "release-1", "PATTERN": "/^release/"}, True),
    # && binds tighter than ||: true || (false && false)
    ("$A || $B && $C", {"A": "1"}, True),
    ("($A || $B) && $C", {"A": "1"}, False),
    ('$FLAG == "false"', {"FLAG": "false"}, True),
])
def test_expressions_evaluate_as_gitlab_does(expression: str, variables: dict[str, str], holds: bool) -> None:
    assert evaluate(expression, variables) is holds


@pytest.mark.parametrize("expression", ["${VAR} == 'x'", "$A ==", "($A", "$A = 'x'"])
def test_what_gitlab_cannot_parse_is_an_error(expression: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(expression, {})


# ------------------------------------------------------------------ workflow:rules (docs/ci/yaml/workflow.md)

SWITCH = """workflow:
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
    - if: $CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS
      when: never
    - if: $CI_COMMIT_BRANCH
test:
  script: make test
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
    - if: $CI_COMMIT_BRANCH
"""


def test_switch_between_branch_and_merge_request_pipelines() -> None:
    assert names(run(SWITCH, PUSH_FEATURE)) == ["test"]
    with_mr = Event("push", "feature", extra={"CI_OPEN_MERGE_REQUESTS": "group/project!1"})
    blocked = run(SWITCH, with_mr)
    assert not blocked.created and "workflow:rules[1]" in blocked.reason and blocked.decided_by[1] == 4  # type: ignore[index]
    assert names(run(SWITCH, MR)) == ["test"]
    assert not run(SWITCH, TAG).created


# ------------------------------------------------------------------ rules (docs/ci/jobs/job_rules.md)

RULES = """docker build:
  script: docker build -t my-image:$CI_COMMIT_REF_SLUG .
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
      changes:
        - Dockerfile
      when: manual
      allow_failure: true
    - if: $CI_PIPELINE_SOURCE == "push"
job:
  script: echo
  rules:
    - if: $CI_COMMIT_REF_NAME == $CI_DEFAULT_BRANCH
      when: delayed
      start_in: 3 hours
    - if: $CI_PIPELINE_SOURCE == "schedule"
      when: never
    - when: on_success
"""


def test_rules_decide_when_and_allow_failure() -> None:
    mr = run(RULES, Event("merge_request_event", "feature", target="main", changed=("Dockerfile",)))
    assert [(j.name, j.when, j.allow_failure) for j in mr.jobs] == [("docker build", "manual", True),
                                                                   ("job", "on_success", False)]
    untouched = run(RULES, Event("merge_request_event", "feature", target="main", changed=("README.md",)))
    assert names(untouched) == ["job"]
    main = run(RULES, PUSH_MAIN)
    assert [(j.name, j.when) for j in main.jobs] == [("docker build", "on_success"), ("job", "delayed")]
    nightly = run(RULES, Event("schedule", "nightly"))
    assert names(nightly) == [] and not nightly.created and "no job was added" in nightly.reason


ALIKE = """
a:
  script: make
  rules:
    - if: $TARGET == "prod"
      when: manual
    - when: on_success
b:
  script: make
  variables:
    TARGET: prod
  rules:
    - if: $TARGET == "prod"
      when: delayed
      start_in: 1 hour
    - when: on_success
c:
  script: make
  rules:
    - if: $TARGET == "prod"
      when: never
    - when: always
d:
  script: make
  rules:
    - if: $TARGET == "prod"
      changes: [docs/**]
    - when: never
"""


def test_jobs_written_alike_decide_alike_but_keep_their_own_rules() -> None:
    # Jobs whose rules ask the same questions share one verdict per event (a large pipeline
    # asks them thousands of times); their own variables and their own rules still count.
    sim = run(ALIKE, Event("push", "main", changed=("src/x.go",), unset=frozenset({"TARGET"})))
    assert [(j.name, j.when) for j in sim.jobs] == [("a", "on_success"), ("b", "delayed"), ("c", "always")]
    code = run(ALIKE, Event("push", "main", changed=("src/x.go",), extra={"TARGET": "prod"}))
    assert [(j.name, j.when) for j in code.jobs] == [("a", "manual"), ("b", "delayed")]
    docs = run(ALIKE, Event("push", "main", changed=("docs/a.md",), extra={"TARGET": "prod"}))
    assert [(j.name, j.when) for j in docs.jobs] == [("a", "manual"), ("b", "delayed"), ("d", "on_success")]


def test_changes_without_a_diff_hold_and_the_output_says_so() -> None:
    sim = run(RULES, MR)
    assert "docker build" in names(sim) and any("--changed" in n for n in sim.notes)


def test_exists_globs_the_repositorys_files(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("x")
    text = "docs:\n  script: mkdocs build\n  rules:\n    - exists: ['docs/**/*.md']\n"
    assert names(run(text, PUSH_MAIN, tmp_path)) == ["docs"]
    assert names(run(text.replace(".md", ".rst"), PUSH_MAIN, tmp_path)) == []


# ------------------------------------------------------------------ only/except (docs/ci/yaml/_index.md)

ONLY = """job1:
  script: echo
  only:
    - main
    - /^issue-.*$/
    - merge_requests
job2:
  script: echo
  except:
    - main
    - /^stable-branch.*$/
    - schedules
plain:
  script: echo
"""


@pytest.mark.parametrize(("event", "expected"), [
    (PUSH_MAIN, ["job1", "plain"]),
    (Event("push", "issue-42"), ["job1", "job2", "plain"]),
    (Event("push", "stable-branch-1"), ["plain"]),
    (MR, ["job1"]),  # the default only: [branches, tags] is no merge request pipeline
    (Event("schedule", "feature"), ["plain"]),
    (TAG, ["job2", "plain"]),
])
def test_only_and_except(event: Event, expected: list[str]) -> None:
    assert names(run(ONLY, event)) == expected


# ------------------------------------------------------------------ needs and matrix


def test_a_need_on_a_job_left_out_is_named() -> None:
    text = ("build:\n  stage: build\n  script: make\n  rules:\n    - if: $CI_COMMIT_TAG\n"
            "deploy:\n  stage: deploy\n  script: deploy\n  needs: [build]\n")
    [deploy] = run(text, PUSH_MAIN).jobs
    assert deploy.missing_needs == ["build"]
    assert all(j.missing_needs == [] for j in run(text, TAG).jobs)


def test_parallel_matrix_jobs_are_listed_per_instance() -> None:
    text = "test:\n  script: make\n  parallel:\n    matrix:\n      - GO: ['1.25', '1.26']\n"
    assert names(run(text, PUSH_MAIN)) == ["test: [1.25]", "test: [1.26]"]


# ------------------------------------------------------------------ the command


def test_json_output_is_stable(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".gitlab-ci.yml").write_text(RULES)
    result = cli("jobs", "--branch", "main", "--format", "json", cwd=tmp_path)
    doc = json.loads(result.stdout)
    assert doc["format"] == "cifab-jobs/2"
    assert set(doc) == {"format", "event", "pipeline", "jobs", "assumed", "depends_on", "notes"}
    assert doc["pipeline"]["created"] is True and doc["pipeline"]["certain"] is True
    assert doc["jobs"][1] == {"name": "job", "job": "job", "variables": {}, "stage": "test", "when": "delayed",
                              "allow_failure": False, "needs": [], "missing_needs": [], "unsure_needs": [],
                              "missing_dependencies": [], "decided_by": {"rule": "rules[0]", "at": ".gitlab-ci.yml:13"},
                              "maybe": False, "depends_on": [], "uncertain": False}
    assert doc["assumed"] == {"CI_OPEN_MERGE_REQUESTS": None, "CI_DEPLOY_FREEZE": None}


MATRIX_NEEDS = """
stages: [build, test]
build:
  stage: build
  script: make
  parallel:
    matrix:
      - OS: [linux, mac]
        ARCH: amd64
docs:
  stage: build
  script: make docs
  rules:
    - if: $DOCS
lint:
  stage: build
  script: make lint
  rules:
    - if: $CI_PIPELINE_SOURCE == "schedule"
test:
  stage: test
  script: make test
  needs:
    - job: build
      parallel:
        matrix:
          - OS: linux
            ARCH: amd64
    - job: docs
      optional: true
    - job: lint
      optional: true
"""


def test_json_carries_instances_optional_needs_and_what_was_assumed(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".gitlab-ci.yml").write_text(MATRIX_NEEDS)
    doc = json.loads(cli("jobs", "--format", "json", "--var", "DOCS=1", cwd=tmp_path).stdout)
    jobs = {j["name"]: j for j in doc["jobs"]}
    assert list(jobs) == ["build: [linux, amd64]", "build: [mac, amd64]", "docs", "test"]
    assert jobs["build: [mac, amd64]"]["variables"] == {"OS": "mac", "ARCH": "amd64"}
    assert jobs["build: [mac, amd64]"]["job"] == "build"
    # An optional need is listed when its job is present (docs), not when it is left out (lint).
    assert jobs["test"]["needs"] == [{"name": "build: [linux, amd64]", "optional": False},
                                     {"name": "docs", "optional": True}]
    assert jobs["docs"]["decided_by"] == {"rule": "rules[0]", "at": ".gitlab-ci.yml:14"}
    assert doc["event"]["variables"] == {"DOCS": "1"}
    unknown = json.loads(cli("jobs", "--format", "json", cwd=tmp_path).stdout)
    docs = next(j for j in unknown["jobs"] if j["name"] == "docs")
    assert docs["maybe"] is True and docs["depends_on"] == ["$DOCS"] and unknown["depends_on"] == ["$DOCS"]


@pytest.mark.parametrize(("args", "message"), [
    (("--branch", "a", "--tag", "b"), "cannot be combined"),
    (("--source", "cron"), "not one of"),
    (("--var", "NOVALUE"), "expected KEY=VALUE"),
])
def test_bad_options_are_usage_errors(cli, tmp_path: Path, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".gitlab-ci.yml").write_text(RULES)
    result = cli("jobs", *args, cwd=tmp_path)
    assert result.exit_code == 2 and message in result.stderr


def test_the_go_service_example_per_event(cli) -> None:  # type: ignore[no-untyped-def]
    example = EXAMPLES / "go-service"

    def jobs(*args: str) -> list[str]:
        doc = json.loads(cli("jobs", "--format", "json", "--default-branch", "main", *args, cwd=example).stdout)
        assert all(j["missing_needs"] == [] for j in doc["jobs"])
        return [j["name"] for j in doc["jobs"]]

    lint = ["golangci-lint", "go-vet", "gofmt"]
    build = ["go-build: [linux, amd64]", "go-sbom", "container-image"]
    # GitLab's scanners (secret detection, SAST) on branches and in merge requests, not on
    # tags; container scanning where the image is pushed: the default branch and tags.
    scanned = [*lint, "secret_detection", "semgrep-sast", "go-test", "govulncheck"]
    assert jobs("--branch", "feature") == [*scanned, *build]
    # Signing (signing: true) where the image is pushed; release files on tags.
    assert jobs("--branch", "main") == [*scanned, "container_scanning", *build, "sign-image", "deploy-staging"]
    assert jobs("--tag", "v1.2.0") == [*lint, "go-test", "govulncheck", "container_scanning", *build, "sign-image",
                                       "sign-artifacts", "deploy-production", "release"]
    assert jobs("--mr", "feature") == [*scanned, *build]
    # The push to a branch with an open merge request starts no second pipeline.
    doc = json.loads(cli("jobs", "--format", "json", "--default-branch", "main", "--branch", "feature",
                         "--var", "CI_OPEN_MERGE_REQUESTS=acme/hello!1", cwd=example).stdout)
    assert doc["pipeline"]["created"] is False and doc["jobs"] == []


# ------------------------------------------------------------------ lint: errors at pipeline creation

MR_AND_BRANCH = ("workflow:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n"
                 "    - if: $CI_COMMIT_BRANCH\n")
LEFT_OUT = ("build:\n  stage: build\n  script: make\n  rules:\n    - if: $CI_COMMIT_TAG\n"
            "deploy:\n  stage: deploy\n  script: deploy\n  needs: [build]\n")


def test_a_need_left_out_in_some_pipeline_is_an_error_naming_it() -> None:
    [found] = of(lint(LEFT_OUT), "needs-absent")
    assert found.message == ("'deploy' job needs 'build' job, but 'build' does not exist in the pipeline for "
                             "a push to main")
    assert "optional: true" in (found.hint or "") and (found.line, found.col) == (9, 11)
    optional = LEFT_OUT.replace("needs: [build]", "needs:\n    - job: build\n      optional: true")
    assert of(lint(optional), "needs-absent") == []


def test_merge_request_pipelines_without_jobs_for_them_are_a_warning() -> None:
    text = (MR_AND_BRANCH + "test:\n  script: make test\n  only: [branches]\n")
    assert messages(of(lint(text), "pipeline-empty")) == [
        "a merge request into main creates no pipeline: the rules configuration prevented any jobs from being "
        "added to the pipeline"]
    assert of(lint("test:\n  script: make test\n"), "pipeline-empty") == []  # no workflow asked for MR pipelines


def test_workflow_rules_drop_the_default_only_of_jobs_without_rules() -> None:
    # Entry::Processable#compose!: with workflow:rules, a job with neither rules nor only has
    # no `only: [branches, tags]` default, so it joins merge request pipelines too.
    text = MR_AND_BRANCH + "test:\n  script: make test\nlegacy:\n  script: make\n  except: [tags]\n"
    assert names(run(text, MR)) == ["test", "legacy"]
    assert names(run("test:\n  script: make test\n", MR)) == []  # without workflow:rules, the default stays
    assert of(lint(text), "pipeline-empty") == []


def test_two_pipelines_for_one_push_are_a_warning() -> None:
    both = MR_AND_BRANCH + "test:\n  script: make test\n  rules:\n    - when: on_success\n"
    assert len(of(lint(both), "pipelines-duplicate")) == 1
    one = both.replace("    - if: $CI_COMMIT_BRANCH\n", "    - if: $CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS\n"
                                                       "      when: never\n    - if: $CI_COMMIT_BRANCH\n")
    assert of(lint(one), "pipelines-duplicate") == []


def test_a_job_no_standard_pipeline_adds_is_an_info() -> None:
    text = "ok:\n  script: make\nweb-only:\n  script: make\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"web\"\n"
    assert [f.message.split(" ")[0] for f in of(lint(text), "job-never-runs")] == ["web-only"]


def test_scenarios_can_be_turned_off(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "ci.yml").write_text(LEFT_OUT)
    assert cli("lint", "--no-shellcheck", "ci.yml", cwd=tmp_path).exit_code == 1
    (tmp_path / "cifab.yml").write_text("cifab: 1\nproject: x\nstack: go\nlint:\n  scenarios: false\n")
    assert cli("lint", "--no-shellcheck", "ci.yml", cwd=tmp_path).exit_code == 0


def test_scenarios_of_your_own(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = ("build:\n  stage: build\n  script: make\n  rules:\n    - if: $CI_COMMIT_BRANCH =~ /^release/\n"
            "deploy:\n  stage: deploy\n  script: deploy\n  needs: [build]\n  rules:\n    - if: $CI_COMMIT_BRANCH\n")
    (tmp_path / "ci.yml").write_text(text)
    (tmp_path / "cifab.yml").write_text("cifab: 1\nproject: x\nstack: go\nlint:\n  scenarios:\n"
                                        "    - {name: a release branch, branch: release/1.0}\n")
    assert cli("lint", "--no-shellcheck", "ci.yml", cwd=tmp_path).exit_code == 0
    (tmp_path / "cifab.yml").write_text("cifab: 1\nproject: x\nstack: go\nlint:\n  scenarios:\n"
                                        "    - {name: a hotfix branch, branch: hotfix/2}\n")
    result = cli("lint", "--no-shellcheck", "ci.yml", cwd=tmp_path)
    assert result.exit_code == 1 and "does not exist in the pipeline for a hotfix branch" in result.stdout


def test_a_dependency_left_out_in_some_pipeline_is_an_error_too() -> None:
    text = ("build:\n  stage: build\n  script: make\n  rules:\n    - if: $CI_COMMIT_TAG\n"
            "package:\n  stage: deploy\n  script: pack\n  dependencies: [build]\n")
    [found] = of(lint(text), "needs-absent")
    assert found.message == ("'package' job depends on 'build' job, but 'build' does not exist in the pipeline "
                             "for a push to main")


# The rules docs' own reuse pattern: `!reference [.default_rules, rules]` inside `rules:` is a
# list in a list, which Entry::Rules flattens (`[super].flatten`).
REFERENCED_RULES = """.default_rules:
  rules:
    - if: $CI_PIPELINE_SOURCE == "schedule"
      when: never
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
      when: manual
build:
  stage: build
  script: make
  rules:
    - if: $CI_COMMIT_BRANCH
job1:
  stage: test
  script: echo
  rules:
    - !reference [.default_rules, rules]
    - if: $CI_COMMIT_BRANCH
      needs: [build]
"""


def test_rules_brought_in_by_a_reference_decide_as_if_written_in_place() -> None:
    main = run(REFERENCED_RULES, PUSH_MAIN)
    [job1] = [j for j in main.jobs if j.name == "job1"]
    assert job1.when == "manual" and job1.decided_by is not None and job1.decided_by[1] == 5  # the template's line
    [feature] = [j for j in run(REFERENCED_RULES, PUSH_FEATURE).jobs if j.name == "job1"]
    assert feature.when == "on_success" and feature.needs == ["build"]
    assert names(run(REFERENCED_RULES, Event("schedule", "main"))) == ["build"]


def test_a_last_referenced_rule_counts_as_the_last_rule() -> None:
    text = (".always:\n  rules:\n    - when: always\njob:\n  script: make\n  rules:\n"
            "    - if: $CI_COMMIT_TAG\n      when: never\n    - !reference [.always, rules]\n")
    assert len(of(lint(text), "rules-multiple-pipelines")) == 1


def test_exists_in_another_project_is_taken_to_hold_and_said() -> None:
    text = ("docs:\n  script: make\n  rules:\n    - exists:\n        paths: ['**/*.md']\n"
            "        project: my-group/my-project\n        ref: v1.0.0\n")
    sim = run(text, PUSH_MAIN)
    assert names(sim) == ["docs"] and any("exists:project" in n for n in sim.notes)
    assert names(run(text.replace("        project: my-group/my-project\n        ref: v1.0.0\n", ""), PUSH_MAIN)) == []


# A job that takes keys from an include cifab cannot read: what comes from there is not guessed.
UNREAD = """include:
  - project: my-group/ci-templates
    file: /templates/base.yml
lint:
  stage: lint
  extends: .base-lint
  script: make lint
test:
  stage: test
  needs: [prepare, lint]
  script:
    - !reference [.setup, script]
    - make test
  rules:
    - !reference [.rules, rules]
plain:
  script: make
"""


def test_jobs_from_an_unread_include_are_listed_as_unknown_not_left_out() -> None:
    sim = run(UNREAD, PUSH_MAIN)
    jobs = {j.name: j for j in sim.jobs}
    assert set(jobs) == {"lint", "test", "plain"}
    assert jobs["test"].when == "unknown" and jobs["test"].uncertain and jobs["lint"].uncertain
    assert not jobs["plain"].uncertain and jobs["plain"].when == "on_success"
    assert jobs["test"].missing_needs == []  # prepare may be defined in the unread file
    assert any("cannot read offline" in n for n in sim.notes)


def test_a_need_whose_stage_an_unread_include_may_declare_is_not_an_error() -> None:
    assert of(lint(UNREAD), "needs-undefined") == []
    complete = "stages: [test]\nlint:\n  stage: lint\n  script: x\ntest:\n  stage: test\n  needs: [lint]\n  script: y\n"
    assert messages(of(lint(complete), "needs-undefined")) == [
        "test job: need lint is not defined in current or prior stages"]
