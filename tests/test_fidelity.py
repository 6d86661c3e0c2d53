"""Lint agrees with GitLab's source where the published schema or a guess did not:
merged jobs, unread templates, the schema's extra strictness, and what GitLab rejects."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lint_helpers import errors, lint, messages, of

# ------------------------------------------------------------------ the schema's extra strictness


@pytest.mark.parametrize("text", [
    # docs/ci/yaml/script.md: nested arrays (what !reference produces) are flattened
    "a:\n  script:\n    - [echo one, [echo two, [echo three, [echo four]]]]\n",
    # Entry::Reports: junit is an array of strings or a string, empty allowed
    "a:\n  script: make\n  artifacts:\n    reports:\n      junit: []\n",
    # Entry::Job checks dependencies against needs only when needs is non-empty
    "build:\n  stage: build\n  script: make\ntest:\n  script: make\n  needs: []\n  dependencies: [build]\n",
], ids=["script-nesting", "junit-empty", "dependencies-without-needs"])
def test_what_gitlab_accepts_and_the_schema_did_not(text: str) -> None:
    assert errors(lint(text)) == []


def test_script_nesting_beyond_ten_levels_is_refused() -> None:
    deep = "[" * 11 + "echo" + "]" * 11
    assert messages(errors(lint(f"a:\n  script: {deep}\n"))) == [
        "jobs:a:script config should be a string or a nested array of strings up to 10 levels deep"]


# ------------------------------------------------------------------ what GitLab rejects


@pytest.mark.parametrize(("text", "rule", "message"), [
    ("a:\n  script: ls\n  rules:\n    - if: ${VAR} == \"x\"\n", "expression-syntax",
     "jobs:a:rules:rule if invalid expression syntax"),
    ("a:\n  script: ls\n  when: never\n", "job-when-invalid",
     "jobs:a when should be one of: on_success, on_failure, always, manual, delayed"),
    ("a:\n  trigger: b/c\n  when: delayed\n", "job-when-invalid",
     "jobs:a when should be one of: on_success, on_failure, always, manual"),
    ("a:\n  script: ls\n  rules: []\n", "rules-blank", "jobs:a:rules config can't be blank"),
    ("workflow:\n  rules: []\na:\n  script: ls\n", "rules-blank", "workflow:rules config can't be blank"),
])
def test_what_gitlab_rejects(text: str, rule: str, message: str) -> None:
    assert messages(of(lint(text), rule)) == [message]


@pytest.mark.parametrize("text", [
    "a:\n  script: ls\n  rules:\n    - if: $VAR == \"x\"\n      when: never\n    - when: on_success\n",
    "a:\n  script: ls\n  rules:\n    - if: $CI_COMMIT_BRANCH && $1 == \"x\"\n",
    ".hidden:\n  when: never\nvisible:\n  script: ls\n",  # templates are not jobs
])
def test_what_gitlab_accepts_of_the_same_keywords(text: str) -> None:
    assert errors(lint(text)) == []


MATRIX_BUILD = ("build:\n  stage: build\n  script: make\n  parallel:\n    matrix:\n"
                "      - PROVIDER: aws\n        STACK: [monitoring, app1]\n"
                "      - PROVIDER: gcp\n        STACK: [data]\n")


def test_needs_parallel_matrix_names_permutations_that_exist() -> None:
    # docs/ci/yaml/_index.md, needs:parallel:matrix
    good = MATRIX_BUILD + ("deploy:\n  stage: deploy\n  script: deploy\n  needs:\n    - job: build\n      parallel:\n"
                           "        matrix:\n          - PROVIDER: aws\n            STACK: app1\n")
    assert errors(lint(good)) == []
    bad = good.replace("STACK: app1", "STACK: app2")
    assert messages(errors(lint(bad))) == ["deploy job: undefined need: build: [aws, app2]"]


def test_matrix_expressions_take_each_instances_own_values() -> None:
    base = ("build:\n  stage: build\n  script: make\n  parallel:\n    matrix:\n      - OS: [linux, mac]\n"
            "test:\n  script: make test\n  parallel:\n    matrix:\n      - OS: [linux, mac]\n"
            "  needs:\n    - job: build\n      parallel:\n        matrix:\n          - OS: $[[ matrix.{} ]]\n")
    assert errors(lint(base.format("OS"))) == []
    assert messages(errors(lint(base.format("PLATFORM")))) == [
        "test job: 'PLATFORM' does not exist in matrix configuration"]


@pytest.mark.parametrize(("links", "refused"), [(9, False), (10, True)])
def test_reference_nesting_is_measured_wherever_a_reference_is_reached(links: int, refused: bool) -> None:
    chain = ".r0:\n  script: [echo]\n" + "".join(
        f".r{i}:\n  script: [!reference [.r{i - 1}, script]]\n" for i in range(1, links + 1))
    found = of(lint(chain + f"job:\n  script: !reference [.r{links}, script]\n"), "reference-circular")
    assert bool(found) == refused
    if refused:
        assert "is nested more than 10 levels deep" in found[0].message


# ------------------------------------------------------------------ merge first, then validate


def test_required_keys_are_checked_on_the_merged_job() -> None:
    # GitLab's charts repository: the environment name comes from the template.
    text = (".base:\n  environment: {name: review/$CI_COMMIT_REF_SLUG}\n  image: {name: alpine:3.22}\n"
            "  release: {tag_name: v1, description: d}\n.trig:\n  trigger: {project: a/b}\n"
            "job:\n  extends: .base\n  script: echo hi\n  environment: {action: start}\n  image: {entrypoint: ['']}\n"
            "rel:\n  extends: .base\n  script: echo\n  release: {description: other}\n"
            "t:\n  extends: .trig\n  trigger: {branch: main}\n")
    assert errors(lint(text)) == []


def test_a_job_extending_an_unread_template_has_no_guessed_stage(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    text = ("include:\n  - template: Jobs/Build.gitlab-ci.yml\nstages: [build, test, deploy]\n"
            "compile:\n  extends: .auto-build\nearly:\n  stage: build\n  script: make\n  needs: [compile]\n")
    assert errors(lint(text, tmp_path)) == []


# ------------------------------------------------------------------ warnings people keep


def test_a_key_overriding_a_merge_is_not_a_duplicate() -> None:
    # docs/ci/yaml/yaml_optimization.md: anchors with a job-level override
    text = (".job_template: &job_configuration\n  image: ruby:3.0\n  services: [postgres]\n"
            "test1:\n  <<: *job_configuration\n  script: test1 project\n  image: ruby:3.3\n")
    assert of(lint(text), "yaml-duplicate-key") == []
    literal = "test1:\n  script: a\n  image: ruby:3.0\n  image: ruby:3.3\n"
    [found] = of(lint(literal), "yaml-duplicate-key")
    assert (found.line, found.col) == (4, 3)


def test_one_template_line_is_reported_once_with_a_count() -> None:
    text = ".t:\n  script: make\n  timeout: soon\n" + "".join(f"job-{i}:\n  extends: .t\n" for i in range(43))
    [found] = of(lint(text), "duration-invalid")
    assert found.message == "jobs:job-0:timeout config should be a duration (and 42 more jobs)"


def test_different_problems_on_one_line_stay_apart() -> None:
    text = "a:\n  script: make\n  needs: [x, y]\n"
    assert len(of(lint(text), "needs-undefined")) == 2


# ------------------------------------------------------------------ trigger jobs (Entry::Bridge)
# The docs' "keywords available for use in trigger jobs", plus Processable's inherit and
# interruptible. Entry::Jobs tries Job before Bridge, so a script makes a Job, which has no trigger.

TRIGGERS_OK = """default:
  image: ruby:3.3
  tags: [docker]
  retry: 2
  interruptible: true
.deploy:
  stage: deploy
  rules:
    - if: $CI_COMMIT_BRANCH
stages: [build, deploy]
build:
  stage: build
  script: make
trigger-multi-project-pipeline:
  extends: .deploy
  trigger:
    project: my-group/my-project
    branch: main
    strategy: depend
  needs: [build]
  variables:
    ENVIRONMENT: staging
  allow_failure: true
  when: on_success
  resource_group: production
  environment: production
  inherit:
    variables: false
  parallel:
    matrix:
      - REGION: [eu, us]
"""


def test_a_trigger_job_with_only_bridge_keys_and_defaults_around_it_is_valid() -> None:
    assert errors(lint(TRIGGERS_OK)) == []


@pytest.mark.parametrize(("job", "expected"), [
    ("bad:\n  stage: deploy\n  trigger: my/project\n  script: make\n",
     ["jobs:bad config these keys cannot be used together: trigger, script",
      "jobs:bad config contains unknown keys: trigger"]),
    ("bad:\n  stage: deploy\n  trigger: my/project\n  image: alpine\n  tags: [docker]\n",
     ["jobs:bad config contains unknown keys: image, tags"]),
    (".with-image:\n  image: alpine\nbad:\n  extends: .with-image\n  stage: deploy\n  trigger: my/project\n",
     ["jobs:bad config contains unknown keys: image"]),  # checked after extends is merged
])
def test_a_trigger_job_refuses_what_gitlab_refuses(job: str, expected: list[str]) -> None:
    assert sorted(messages(of(lint(TRIGGERS_OK + job), "keyword-unknown"))) == sorted(expected)


def _needing(count: int, parallel: int = 0) -> str:
    jobs = "".join(f"j{i}:\n  stage: build\n  script: make\n" for i in range(count))
    par = f"p:\n  stage: build\n  script: make\n  parallel: {parallel}\n" if parallel else ""
    names = [f"j{i}" for i in range(count)] + (["p"] if parallel else [])
    return f"stages: [build, test]\n{jobs}{par}t:\n  stage: test\n  script: make\n  needs: [{', '.join(names)}]\n"


@pytest.mark.parametrize(("text", "listed"), [
    (_needing(50), None),
    (_needing(51), 51),
    (_needing(49, parallel=2), 51),  # a need on a parallel job needs every instance
    (_needing(48, parallel=2), None),
])
def test_one_job_needs_at_most_fifty_others(text: str, listed: int | None) -> None:
    # Seed::Build#needs_errors with the default ci_needs_size_limit.
    expected = [] if listed is None else [f"t: one job can only need 50 others, but you have listed {listed}. "
                                          "See needs keyword documentation for more details"]
    assert messages(of(lint(text), "limits-exceeded")) == expected


@pytest.mark.parametrize(("coverage", "valid"), [
    ("'/Code coverage: \\d+(?:\\.\\d+)?/'", True),   # the docs' example
    ("'/^TOTAL.+?(\\d+\\%)$/'", True),
    ("'/\\pL+ (\\d+)%/'", True),                     # RE2 syntax Python's re lacks is not refused
    ("'/(/'", False),
    ("'Code coverage'", False),                      # not a /regex/
])
def test_coverage_is_a_regular_expression_with_re2_syntax(coverage: str, valid: bool) -> None:
    found = messages(of(lint(f"test:\n  script: rspec\n  coverage: {coverage}\n"), "expression-syntax"))
    assert found == ([] if valid else ["jobs:test:coverage config must be a regular expression with re2 syntax"])
    assert of(lint(f"test:\n  script: rspec\n  coverage: {coverage}\n"), "gitlab-schema") == []


def test_a_rule_brought_in_by_a_reference_is_checked_where_it_lands() -> None:
    text = ".rules:\n  rules:\n    - if: $A = 1\ntest:\n  script: x\n  rules:\n    - !reference [.rules, rules]\n"
    [found] = of(lint(text), "expression-syntax")
    assert found.message == "jobs:test:rules:rule if invalid expression syntax" and found.line == 3


@pytest.mark.parametrize(("variables", "expected"), [
    ("variables:\n  VAR:\n    value: val1\n    options: [val1, val2]\n", []),
    ("variables:\n  VAR:\n    value: val\n    options: [val1, val2]\n",
     ["variables:var config value must be present in options"]),   # GitLab lowercases its messages
    ("variables:\n  VAR:\n    options: [val1, val2]\n", ["variables:var config value must be present in options"]),
    ("variables:\n  VAR1:\n    invalid: hello\n", ["variables:var1 config uses invalid data keys: invalid"]),
    ("variables:\n  VAR1:\n    value: a\n    description: b\n    expand: false\n", []),
])
def test_variables_written_as_mappings(variables: str, expected: list[str]) -> None:
    found = lint(variables + "rspec:\n  script: bin/rspec\n")
    assert messages(errors(found)) == expected


def test_a_jobs_variable_takes_only_value_and_expand() -> None:
    text = "rspec:\n  script: bin/rspec\n  variables:\n    MODE:\n      value: fast\n      description: how\n"
    assert messages(errors(lint(text))) == ["jobs:rspec:variables:mode config uses invalid data keys: description"]


@pytest.mark.parametrize(("text", "expected"), [
    # Gitlab::Config::Entry::Validator#messages: "#{location} #{error}".downcase
    ("Build:\n  script: make\n  Artifacts: {}\n", "jobs:build config contains unknown keys: artifacts"),
    ("Build Docs:\n  stage: test\n", "jobs build_docs config should implement the script:, run:, or trigger: keyword"),
])
def test_entry_errors_come_lowercased_as_gitlab_gives_them(text: str, expected: str) -> None:
    assert expected in messages(errors(lint(text)))


def test_errors_gitlab_raises_outside_its_entries_keep_their_case() -> None:
    text = "Build:\n  stage: build\n  script: make\nTest:\n  script: make test\n  needs: [Biuld]\n"
    assert messages(of(lint(text), "needs-undefined")) == ["Test job: undefined need: Biuld"]


@pytest.mark.parametrize(("artifacts", "expected"), [
    ("    expose_as: 'artifact 1'\n    paths: ['file.txt']\n", []),   # the docs' example
    ("    expose_as: 'artifact 1'\n", ["jobs:test:artifacts paths can't be blank"]),
    ("    expose_as: 'artifact 1'\n    paths: ['out/*.txt']\n",
     ["jobs:test:artifacts paths can't contain '*' when used with 'expose_as'"]),
    ("    expose_as: 'my/artifact'\n    paths: [out/]\n",
     ["jobs:test:artifacts expose as can contain only letters, digits, '-', '_' and spaces"]),
    ("    expose_as: 'é'\n    paths: [out/]\n",
     ["jobs:test:artifacts expose as can contain only letters, digits, '-', '_' and spaces"]),
    (f"    expose_as: '{'a' * 101}'\n    paths: [out/]\n",
     ["jobs:test:artifacts expose as is too long (maximum is 100 characters)"]),
])
def test_expose_as_wants_plain_paths_and_a_plain_name(artifacts: str, expected: list[str]) -> None:
    # Entry::Artifacts, validated only when expose_as is set.
    assert messages(errors(lint("test:\n  script: make\n  artifacts:\n" + artifacts))) == expected


@pytest.mark.parametrize(("key", "expected"), [
    ("key/with/some/slashes", 'jobs:test:cache:key config cannot contain the "/" character'),
    ("key%2Fwith%2Fslashes", 'jobs:test:cache:key config cannot contain the "/" character'),  # decoded first
    ("'.'", 'jobs:test:cache:key config cannot be "." or ".."'),
    ("'..'", 'jobs:test:cache:key config cannot be "." or ".."'),
    ("'...'", None),   # the published schema refused it; KeyValidator does not
    ("$CI_COMMIT_REF_SLUG", None),
])
def test_a_cache_key_names_a_folder(key: str, expected: str | None) -> None:
    text = f"test:\n  script: make\n  cache:\n    key: {key}\n    paths: [vendor/]\n"
    assert messages(errors(lint(text))) == ([] if expected is None else [expected])


@pytest.mark.parametrize("url", ["https://$CI_COMMIT_REF_NAME.review.example.com", "${REVIEW_URL}",
                                 "review.example.com", "$REVIEW_URL"])
def test_an_environment_url_is_any_string_as_in_gitlab(url: str) -> None:
    # Entry::Environment checks the url's type only; the schema wanted http(s):// or $VAR.
    text = f"deploy:\n  script: make deploy\n  environment:\n    name: review\n    url: \"{url}\"\n"
    assert errors(lint(text)) == []


@pytest.mark.parametrize(("include", "refused"), [
    ("invalid", "invalid"),                                   # GitLab's own spec case
    ("- local: ci/build.txt", "ci/build.txt"),
    ("- project: my/project\n    file: [a.yml, b.json]", "b.json"),
    ("- template: Bash", "Bash"),
    ("- local: ci/Build.YML", None),                           # the extension is matched without case
    ("- local: $CI_CONFIG_FILE", None),                        # known once GitLab expands it
])
def test_an_included_file_must_be_named_yml_or_yaml(tmp_path: Path, include: str, refused: str | None) -> None:
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "Build.YML").write_text("build:\n  script: make\n")
    found = lint(f"include:\n  {include}\ntest:\n  script: make\n", tmp_path)
    expected = [] if refused is None else [f"Included file `{refused}` does not have YAML extension!"]
    assert messages(errors(found)) == expected


def test_rules_exists_takes_a_single_path_as_gitlab_does_and_changes_does_not() -> None:
    # Rules::Rule::Exists applies SimpleExists to a String; Changes knows Arrays and Hashes only.
    assert errors(lint("test:\n  script: make\n  rules:\n    - exists: Dockerfile\n")) == []
    assert errors(lint("test:\n  script: make\n  rules:\n    - changes: Dockerfile\n")) != []


def test_a_child_pipeline_includes_at_most_three_files() -> None:
    files = "".join(f"      - local: ci/{name}.yml\n" for name in "abcd")
    found = lint(f"child:\n  trigger:\n    include:\n{files}")
    assert messages(errors(found)) == ["jobs:child:trigger:include config is too long (maximum is 3)"]
    assert errors(lint("child:\n  trigger:\n    include:\n" + files.split("\n", 1)[1])) == []


def test_rules_changes_names_at_most_fifty_paths() -> None:
    def text(count: int) -> str:
        return f"test:\n  script: make\n  rules:\n    - changes: [{', '.join(f'p{i}' for i in range(count))}]\n"
    assert messages(errors(lint(text(51)))) == ["jobs:test:rules:rule:changes config has too many entries (maximum 50)"]
    assert errors(lint(text(50))) == []


@pytest.mark.parametrize(("job", "expected"), [
    # Entry::Job, as of the keyword list with run and manual_confirmation
    ("a:\n  script: make\n  run:\n    - name: hello\n      step: gitlab.com/components/echo@v1\n",
     "jobs:a config these keys cannot be used together: script, run"),
    ("a:\n  script: []\n", "jobs:a script can't be blank"),
    ("a:\n  script: make\n  publish: public\n", "jobs:a publish can only be used within a `pages` job"),
    ("a:\n  script: make\n  timeout: 2 months\n", "jobs:a:timeout config should not exceed the limit"),
])
def test_what_gitlabs_job_entry_refuses(job: str, expected: str) -> None:
    assert messages(errors(lint(job))) == [expected]


@pytest.mark.parametrize("job", [
    "pages:\n  script: make\n  publish: public\n",                  # the legacy pages job
    "docs:\n  script: make\n  pages: true\n  publish: public\n",
    "a:\n  script: make\n  timeout: 30 days\n",
])
def test_what_gitlabs_job_entry_accepts(job: str) -> None:
    assert errors(lint(job)) == []


@pytest.mark.parametrize(("rule", "expected"), [
    # Rules::Rule: start_in belongs to `when: delayed`, which needs one of at most a week
    ("    - if: $CI_COMMIT_BRANCH\n      when: delayed\n", "jobs:test:rules:rule start in can't be blank"),
    ("    - if: $CI_COMMIT_BRANCH\n      start_in: 1 hour\n",
     "jobs:test:rules:rule config contains disallowed keys: start_in"),
    ("    - if: $CI_COMMIT_BRANCH\n      when: delayed\n      start_in: 2 weeks\n",
     "jobs:test:rules:rule start in should not exceed the limit"),
    ("    - if: $CI_COMMIT_BRANCH\n      when: delayed\n      start_in: soonish\n",
     "jobs:test:rules:rule start in should be a duration"),
    ("    - if: $CI_COMMIT_BRANCH\n      when: delayed\n      start_in: '3 hours'\n", None),   # the docs' example
])
def test_a_rule_delays_as_gitlab_allows(rule: str, expected: str | None) -> None:
    found = errors(lint("test:\n  script: make\n  rules:\n" + rule))
    assert messages(found) == ([] if expected is None else [expected])


def test_inherit_default_names_what_default_takes() -> None:
    # Inherit::Default's values are Default::ALLOWED_KEYS, hooks and id_tokens included.
    assert errors(lint("test:\n  script: make\n  inherit:\n    default: [hooks, id_tokens, image]\n")) == []
    assert messages(errors(lint("test:\n  script: make\n  inherit:\n    default: [image, imgae]\n"))) == [
        "jobs:test:inherit:default config contains unknown values: imgae"]


def test_a_job_has_at_most_four_caches() -> None:
    caches = "".join(f"    - key: k{i}\n      paths: [p{i}/]\n" for i in range(5))
    assert messages(errors(lint("test:\n  script: make\n  cache:\n" + caches))) == [
        "jobs:test:cache config no more than 4 caches can be created"]
    assert errors(lint("test:\n  script: make\n  cache:\n" + caches.split("    - key: k4")[0])) == []
