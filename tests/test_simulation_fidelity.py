"""Which jobs GitLab creates, case by case from GitLab's own specs and documentation: each
test names the spec file or page its answer comes from."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from cifab.pipeline.config import build_pipeline
from cifab.pipeline.yamlpos import load_text
from cifab.simulate.event import Event, event_for
from cifab.simulate.pipeline import Simulation, simulate
from tests.lint_helpers import lint, of

PUSH = Event("push", "master", default_branch="master", changed=("file1.txt",))
MR = Event("merge_request_event", "feature", target="main")


def run(text: str, event: Event, root: Path | None = None) -> Simulation:
    return simulate(build_pipeline(load_text(text, ".gitlab-ci.yml"), root), event, root)


def names(sim: Simulation) -> list[str]:
    return [j.name for j in sim.jobs]


@pytest.fixture
def git_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """git as a fresh machine has it: no global or system configuration."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for key in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
        monkeypatch.setenv(key, "dev")
    for key in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        monkeypatch.setenv(key, "dev@example.com")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def repository(root: Path, files: dict[str, str], branch: str = "master") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", branch)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    git(root, "add", ".")
    git(root, "commit", "-qm", "start")
    return root


# ---------------------------------------------------------------- rules_matrix_variables_spec.rb


@pytest.mark.parametrize(("text", "changed", "expected"), [
    # 'creates only the job for the changed file'
    ("test:\n  script: x\n  parallel:\n    matrix:\n      - FILE: [file1.txt, file2.txt, file3.txt]\n"
     "  rules:\n    - if: $CI_PIPELINE_SOURCE == \"push\"\n      changes:\n        - $FILE\n",
     ("file1.txt",), ["test: [file1.txt]"]),
    # 'creates only the job for the component with changes'
    ("test:\n  script: x\n  parallel:\n    matrix:\n      - COMPONENT: [frontend, backend, database]\n"
     "  rules:\n    - changes:\n        - components/$COMPONENT/**/*\n",
     ("components/frontend/src/app.js",), ["test: [frontend]"]),
    # 'creates only the job matching both variables'
    ("test:\n  script: x\n  parallel:\n    matrix:\n      - ENV: [dev, prod]\n        REGION: [us, eu]\n"
     "  rules:\n    - changes:\n        - config/$ENV/$REGION/**/*\n",
     ("config/dev/us/app.yml",), ["test: [dev, us]"]),
    # 'expands both regular and matrix variables'
    ("variables:\n  BASE_PATH: src\ntest:\n  script: x\n  parallel:\n    matrix:\n"
     "      - MODULE: [auth, billing, reports]\n  rules:\n    - changes:\n        - $BASE_PATH/$MODULE/**/*\n",
     ("src/auth/login.rb",), ["test: [auth]"]),
    # 'resolves the nested reference when evaluating the changes path'
    ("variables:\n  GLOBAL_FILE: nested_expansion_test.txt\ntest:\n  script: x\n  parallel:\n    matrix:\n"
     "      - FILE: $GLOBAL_FILE\n  rules:\n    - changes:\n        - $FILE\n",
     ("nested_expansion_test.txt",), ["test: [$GLOBAL_FILE]"]),
])
def test_matrix_values_decide_each_instance_s_changes(text: str, changed: tuple[str, ...],
                                                      expected: list[str]) -> None:
    assert names(run(text, Event("push", "master", changed=changed))) == expected


def test_matrix_values_decide_each_instance_s_exists(tmp_path: Path, git_env: None) -> None:
    # rules_matrix_variables_spec.rb, 'rules:exists with matrix variables'
    root = repository(tmp_path / "repo", {"README.md": "", "main.go": "package main\n",
                                          "deployments/api/test/config.yml": "", "src/auth/init.rb": ""})
    text = ("variables:\n  BASE_PATH: src\n  GLOBAL_FILE: README.md\n"
            "simple:\n  script: x\n  parallel:\n    matrix:\n      - FILE: [README.md, NONEXISTENT.txt]\n"
            "  rules:\n    - exists: [$FILE]\n"
            "ext:\n  script: x\n  parallel:\n    matrix:\n      - TYPE: [go, ruby, python]\n"
            "  rules:\n    - exists: ['**/*.$TYPE']\n"
            "both:\n  script: x\n  parallel:\n    matrix:\n      - SERVICE: [api, web]\n        ENV: [test, prod]\n"
            "  rules:\n    - exists: [deployments/$SERVICE/$ENV/config.yml]\n"
            "mixed:\n  script: x\n  parallel:\n    matrix:\n      - MODULE: [auth, billing]\n"
            "  rules:\n    - exists: [$BASE_PATH/$MODULE/**/*]\n"
            "nested:\n  script: x\n  parallel:\n    matrix:\n      - FILE: $GLOBAL_FILE\n"
            "  rules:\n    - exists: [$FILE]\n")
    assert names(run(text, Event("push", "master"), root)) == [
        "simple: [README.md]", "ext: [go]", "both: [api, test]", "mixed: [auth]", "nested: [$GLOBAL_FILE]"]


def test_matrix_values_decide_each_instance_s_if() -> None:
    # rules_matrix_variables_spec.rb, 'rules:if with matrix variables': nested references are
    # NOT resolved in if (Clause::If reads variables_hash).
    text = ("variables:\n  GLOBAL_SKIP: 'true'\n"
            "skip:\n  script: x\n  parallel:\n    matrix:\n      - ARCH: [amd64, arm64]\n"
            "        SKIP: ['false', 'true']\n"
            "  rules:\n    - if: $SKIP == \"true\"\n      when: never\n    - when: on_success\n"
            "arm:\n  script: x\n  parallel:\n    matrix:\n      - ARCH: [amd64, arm64, arm32]\n"
            "  rules:\n    - if: $ARCH =~ /arm/\n"
            "both:\n  script: x\n  parallel:\n    matrix:\n      - ARCH: [amd64, arm64]\n"
            "        SKIP: ['false', 'true']\n"
            "  rules:\n    - if: $ARCH == \"amd64\" && $SKIP == \"false\"\n"
            "nested:\n  script: x\n  parallel:\n    matrix:\n      - ARCH: [amd64, arm64]\n        SKIP: $GLOBAL_SKIP\n"
            "  rules:\n    - if: $SKIP == \"true\"\n      when: never\n    - when: on_success\n")
    assert names(run(text, Event("push", "master"))) == [
        "skip: [amd64, false]", "skip: [arm64, false]", "arm: [arm64]", "arm: [arm32]", "both: [amd64, false]",
        "nested: [amd64, $GLOBAL_SKIP]", "nested: [arm64, $GLOBAL_SKIP]"]


def test_a_job_s_own_name_expands_in_its_changes() -> None:
    # Clause::Changes expands with the job's variables_hash_expanded, CI_JOB_NAME included.
    text = "api:\n  script: x\n  rules:\n    - changes: [services/$CI_JOB_NAME/**/*]\n" \
           "web:\n  script: x\n  rules:\n    - changes: [services/$CI_JOB_NAME/**/*]\n"
    assert names(run(text, Event("push", "main", changed=("services/web/app.js",)))) == ["web"]


def test_variables_holding_variables_expand_in_changes_and_exists() -> None:
    # ExpandVariables.expand_existing over Collection#sort_and_expand_all: $A holds $B/$C.
    text = ("variables:\n  B: src\n  C: lib\n  A: $B/$C\njob:\n  script: x\n  rules:\n    - changes: [$A/**/*]\n"
            "kept:\n  script: x\n  rules:\n    - changes: [$UNSET_BUT_STATED/x]\n")
    sim = run(text, Event("push", "main", changed=("src/lib/a.py", "$UNSET_BUT_STATED/x"),
                          unset=frozenset({"UNSET_BUT_STATED"})))
    # A reference to an unset variable stays as written (expand_existing).
    assert names(sim) == ["job", "kept"]


# ---------------------------------------------------------------- needs and parallel jobs


MATRIX = ("stages: [build, test]\n"
          "build:\n  stage: build\n  script: make\n  parallel:\n    matrix:\n"
          "      - PROVIDER: aws\n        STACK: [monitoring, app1]\n"
          "lint:\n  stage: build\n  script: make\n")


def test_needs_parallel_matrix_names_instances_as_gitlab_does() -> None:
    # docs/ci/yaml/_index.md#needsparallelmatrix and Normalizer#expand_parallelized_needs:
    # `job: [a, b]` from the need's own values, in the need's order.
    text = MATRIX + ("test:\n  stage: test\n  script: make\n  needs:\n    - job: build\n      parallel:\n"
                     "        matrix:\n          - PROVIDER: aws\n            STACK: [app1]\n"
                     "    - job: lint\n      parallel:\n        matrix:\n          - X: [y]\n")
    sim = run(text, Event("push", "main"))
    [test] = [j for j in sim.jobs if j.name == "test"]
    # lint is not parallel: the normalizer leaves that need alone, so it needs lint itself.
    assert test.needs == ["build: [aws, app1]", "lint"] and test.missing_needs == []
    assert of(lint(text), "needs-undefined") == []


def test_needing_a_parallel_job_by_name_needs_each_instance() -> None:
    text = MATRIX.replace("      - PROVIDER: aws\n", "      - PROVIDER: aws\n") + (
        "test:\n  stage: test\n  script: make\n  needs: [build]\n  dependencies: [build]\n")
    [test] = [j for j in run(text, Event("push", "main")).jobs if j.name == "test"]
    assert test.needs == ["build: [aws, monitoring]", "build: [aws, app1]"]
    assert of(lint(text), "dependencies-invalid") == []


def test_matrix_expressions_in_needs_pick_the_instance_of_the_same_values() -> None:
    # docs: needs:parallel:matrix with $[[ matrix.VAR ]] (interpolation/matrix_interpolator.rb)
    text = MATRIX + ("deploy:\n  stage: test\n  script: make\n  parallel:\n    matrix:\n"
                     "      - PROVIDER: aws\n        STACK: [monitoring, app1]\n"
                     "  needs:\n    - job: build\n      parallel:\n        matrix:\n"
                     "          - PROVIDER: $[[ matrix.PROVIDER ]]\n            STACK: $[[ matrix.STACK ]]\n")
    deploy = {j.name: j.needs for j in run(text, Event("push", "main")).jobs if j.job == "deploy"}
    assert deploy == {"deploy: [aws, monitoring]": ["build: [aws, monitoring]"],
                      "deploy: [aws, app1]": ["build: [aws, app1]"]}


def test_dependencies_compare_with_needs_as_written() -> None:
    # Entry::Job: `dependencies - needs_value[:job].pluck(:name)`, before parallel jobs expand.
    text = MATRIX + ("test:\n  stage: test\n  script: make\n  needs:\n    - job: build\n      parallel:\n"
                     "        matrix:\n          - PROVIDER: aws\n            STACK: [app1]\n"
                     "  dependencies: [build, lint, other]\nother:\n  stage: build\n  script: make\n")
    [found] = of(lint(text), "dependencies-invalid")
    assert found.message == "jobs:test dependencies the lint, other should be part of needs"


def test_an_optional_need_is_listed_when_its_job_is_there() -> None:
    # docs/ci/yaml/_index.md#needsoptional
    text = ("build:\n  stage: build\n  script: make\n  rules:\n    - if: $CI_COMMIT_TAG\n"
            "docs:\n  stage: build\n  script: make\n"
            "test:\n  stage: test\n  script: make\n  needs:\n    - job: build\n      optional: true\n"
            "    - job: docs\n      optional: true\n")
    [test] = [j for j in run(text, Event("push", "main")).jobs if j.name == "test"]
    assert test.needs == ["docs"] and test.optional == ["docs"] and test.missing_needs == []
    [tagged] = [j for j in run(text, Event("push", "v1", tag=True)).jobs if j.name == "test"]
    assert tagged.needs == ["build", "docs"]


# ---------------------------------------------------------------- only/except


def test_only_variables_keep_the_default_refs() -> None:
    # Entry::Policy#value deep-merges {refs: [branches, tags]} into `only:`, so a job with
    # only:variables is not created in a merge request pipeline.
    text = ("test:\n  script: make\ncoverage:\n  script: make\n  only:\n    variables: [$CI_COMMIT_REF_NAME]\n"
            "  needs: [test]\n")
    assert names(run(text, MR)) == []
    assert names(run(text, Event("push", "main"))) == ["test", "coverage"]
    assert of(lint(text), "needs-absent") == []


def test_except_excludes_when_any_of_its_policies_matches() -> None:
    # Seed::Build#none_of_except?: `@except.none? { |spec| spec.satisfied_by? }`.
    text = "job:\n  script: make\n  except:\n    refs: [main]\n    variables: [$SKIP]\n"
    assert names(run(text, Event("push", "main"))) == []
    assert names(run(text, Event("push", "dev", extra={"SKIP": "1"}))) == []
    assert names(run(text, Event("push", "dev", unset=frozenset({"SKIP"})))) == ["job"]


@pytest.mark.parametrize(("source", "pattern"), [
    ("chat", "chat"), ("chat", "chats"), ("webide", "webide"),
    ("external_pull_request_event", "external_pull_requests"),
    ("merge_request_event", "merge_requests"), ("schedule", "schedules"), ("push", "pushes"),
    ("security_orchestration_policy", "security_orchestration_policies"),
])
def test_only_refs_name_sources_and_their_plurals(source: str, pattern: str) -> None:
    # Policy::Refs#matches_pattern?: the source without `_event`, or its pluralize.
    event = event_for("main", merge_request="feature" if source == "merge_request_event" else None,
                      source=source)
    assert names(run(f"job:\n  script: make\n  only: [{pattern}]\n", event)) == ["job"]


def test_every_documented_pipeline_source_is_accepted(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # docs/ci/jobs/job_rules.md#ci_pipeline_source-predefined-variable
    (tmp_path / ".gitlab-ci.yml").write_text("job:\n  script: make\n  rules:\n    - if: $CI_PIPELINE_SOURCE\n")
    for source in ("api", "chat", "external", "external_pull_request_event", "ondemand_dast_scan",
                   "ondemand_dast_validation", "parent_pipeline", "pipeline", "push", "schedule",
                   "security_orchestration_policy", "trigger", "web", "webide"):
        result = cli("jobs", "--source", source, "--format", "json", cwd=tmp_path)
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["event"]["source"] == source


def test_a_child_pipeline_of_a_merge_request_keeps_its_variables(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # docs/ci/pipelines/downstream_pipelines.md: a child pipeline of a merge request pipeline
    # has CI_PIPELINE_SOURCE parent_pipeline and the parent's CI_MERGE_REQUEST_* variables.
    (tmp_path / "child.yml").write_text(
        "job:\n  script: make\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"parent_pipeline\" && "
        "$CI_MERGE_REQUEST_IID\n")
    out = cli("jobs", "child.yml", "--mr", "feature", "--source", "parent_pipeline", cwd=tmp_path).stdout
    assert out.startswith("parent_pipeline pipeline of merge request feature → ") and "  job " in out
    bad = cli("jobs", "child.yml", "--mr", "feature", "--source", "push", cwd=tmp_path)
    assert bad.exit_code == 2 and "merge_request_event" in bad.stderr


# ---------------------------------------------------------------- changes


CHANGES = "docs:\n  script: make\n  rules:\n    - changes: [docs/**/*]\n"


def test_changes_states_are_told_apart() -> None:
    # Clause::Changes: no diff known to GitLab (a new branch) holds; an empty diff fails;
    # a diff cifab was not told is not known, and said so.
    assert names(run(CHANGES, Event("push", "feature", new_ref=True))) == ["docs"]
    assert names(run(CHANGES, Event("push", "feature", changed=()))) == []
    assert names(run(CHANGES, Event("push", "feature", changed=("docs/a.md",)))) == ["docs"]
    assert names(run(CHANGES, Event("schedule", "main"))) == ["docs"]  # no push: no diff
    unknown = run(CHANGES, Event("push", "feature"))
    assert [(j.name, j.maybe, j.hinges) for j in unknown.jobs] == [("docs", True, ("the changed files",))]


def test_compare_to_compares_with_the_merge_base_of_that_ref(tmp_path: Path, git_env: None) -> None:
    # Clause::Changes#find_compare_to_sha and Pipeline#modified_paths_since; the same for
    # workflow:rules (docs/ci/yaml/_index.md#ruleschangescompare_to).
    root = repository(tmp_path / "repo", {"src/a.py": "", "docs/a.md": ""}, branch="main")
    git(root, "checkout", "-q", "-b", "feature")
    (root / "docs" / "b.md").write_text("new")
    git(root, "add", ".")
    git(root, "commit", "-qm", "docs")
    text = ("workflow:\n  rules:\n    - changes:\n        paths: [nothing/**]\n        compare_to: main\n"
            "      when: never\n    - when: always\n"
            "docs:\n  script: x\n  rules:\n    - changes:\n        paths: [docs/**]\n"
            "        compare_to: refs/heads/main\n"
            "code:\n  script: x\n  rules:\n    - changes:\n        paths: [src/**]\n        compare_to: $BASE\n"
            "gone:\n  script: x\n  rules:\n    - changes:\n        paths: [src/**]\n        compare_to: no-such-ref\n")
    sim = run(text, Event("schedule", "feature", extra={"BASE": "main"}), root)
    assert [(j.name, j.maybe) for j in sim.jobs] == [("docs", False), ("gone", True)]
    assert any("no-such-ref" in n for n in sim.notes)


# ---------------------------------------------------------------- what cifab cannot know


def test_a_project_variable_makes_a_job_depend_on_it_not_never_run() -> None:
    text = ("safety:\n  script: make\n  rules:\n    - if: $SAFETY_API_KEY\n"
            "never:\n  script: make\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"web\" && $SAFETY_API_KEY\n")
    sim = run(text, Event("push", "main"))
    assert [(j.name, j.maybe, j.hinges) for j in sim.jobs] == [("safety", True, ("$SAFETY_API_KEY",))]
    # job-never-runs only when no value of the unknown variables would make the job run.
    assert [f.message.split(" ")[0] for f in of(lint(text), "job-never-runs")] == ["never"]


def test_a_need_on_a_job_that_may_be_left_out_is_not_an_error() -> None:
    text = ("build:\n  stage: build\n  script: make\n  rules:\n    - if: $BUILD_ENABLED\n"
            "test:\n  stage: test\n  script: make\n  needs: [build]\n")
    assert of(lint(text), "needs-absent") == []
    [test] = [j for j in run(text, Event("push", "main")).jobs if j.name == "test"]
    assert test.unsure_needs == ["build"] and test.missing_needs == []


def test_a_protected_ref_is_stated_not_guessed() -> None:
    text = "deploy:\n  script: make\n  rules:\n    - if: $CI_COMMIT_REF_PROTECTED == \"true\"\n"
    [maybe] = run(text, Event("push", "main")).jobs
    assert maybe.maybe and maybe.hinges == ("$CI_COMMIT_REF_PROTECTED",)
    assert names(run(text, Event("push", "main", protected=True))) == ["deploy"]
    assert names(run(text, Event("push", "main", protected=False))) == []


def test_pipeline_variables_win_over_the_job_s_own() -> None:
    # docs/ci/variables/_index.md#cicd-variable-precedence: pipeline variables come before
    # job variables, which come before global ones, which come before predefined ones.
    text = ("variables:\n  TARGET: global\n  CI_COMMIT_BRANCH: overridden\n"
            "job:\n  script: make\n  variables:\n    TARGET: job\n  rules:\n    - if: $TARGET == \"cli\"\n"
            "own:\n  script: make\n  variables:\n    TARGET: job\n  rules:\n    - if: $TARGET == \"job\"\n"
            "branch:\n  script: make\n  rules:\n    - if: $CI_COMMIT_BRANCH == \"overridden\"\n")
    assert names(run(text, Event("push", "main"))) == ["own", "branch"]
    assert names(run(text, Event("push", "main", extra={"TARGET": "cli"}))) == ["job", "branch"]


def test_and_and_or_return_an_operand_whose_empty_string_is_true() -> None:
    # spec/lib/gitlab/ci/pipeline/expression/lexeme/and_spec.rb: `$EMPTY && $PRESENT` is
    # the right operand, as "" is true in Ruby; the statement is then truthful.
    text = "job:\n  script: make\n  rules:\n    - if: $EMPTY && $PRESENT\n"
    assert names(run(text, Event("push", "main", extra={"EMPTY": "", "PRESENT": "x"}))) == ["job"]


# ---------------------------------------------------------------- the checkout: branch and project


def test_a_fresh_repository_on_master_has_master_for_default_branch(cli, tmp_path: Path, git_env: None) -> None:  # type: ignore[no-untyped-def]
    root = repository(tmp_path / "repo", {".gitlab-ci.yml": "test:\n  script: make\n"})
    out = cli("jobs", cwd=root).stdout
    assert out.startswith("push pipeline for branch master\n")
    (root / ".gitlab-ci.yml").write_text("test:\n  script: make\nlint:\n  script: make lint\n")
    diff = cli("diff", cwd=root)
    assert diff.exit_code == 0, diff.stderr
    assert "a merge request into master" in diff.stdout and "+ lint" in diff.stdout


def test_the_project_path_comes_from_the_origin_remote(cli, tmp_path: Path, git_env: None) -> None:  # type: ignore[no-untyped-def]
    text = "mirror:\n  script: make\n  rules:\n    - if: $CI_PROJECT_PATH == \"group/project\"\n"
    root = repository(tmp_path / "repo", {".gitlab-ci.yml": text})
    [maybe] = json.loads(cli("jobs", "--format", "json", cwd=root).stdout)["jobs"]
    assert maybe["maybe"] is True and maybe["depends_on"] == ["$CI_PROJECT_PATH"]
    git(root, "remote", "add", "origin", "git@gitlab.com:group/project.git")
    out = cli("jobs", cwd=root).stdout
    assert "project group/project (CI_PROJECT_PATH, from the origin remote" in out and "  mirror  " in out
    assert of(lint(text, root), "job-never-runs") == []
    elsewhere = cli("jobs", "--project", "other/fork", "--format", "json", cwd=root).stdout
    assert json.loads(elsewhere)["jobs"] == []
