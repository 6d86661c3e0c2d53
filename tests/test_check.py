"""`cifab check`, the self-check job, and the pre-commit hooks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests import pipeline_yaml
from tests.conftest import REPO, configure_deploys

TOKEN = "glpat-CHECK-secret-987"
LINT_PATH = "/api/v4/projects/42/ci/lint"
VALID = {"valid": True, "errors": [], "warnings": [], "merged_yaml": "", "includes": []}


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("CI_SERVER_URL", "GITLAB_URL", "GITLAB_TOKEN", "CI_PROJECT_ID", "CI_JOB_TOKEN", "PYTHON_GITLAB_CFG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def synced(cli, go_repo: Path) -> Path:
    assert cli("init", "--yes", cwd=go_repo).exit_code == 0
    configure_deploys(go_repo)
    assert cli("generate", cwd=go_repo).exit_code == 0
    return go_repo


def test_in_sync_and_clean_passes_offline(cli, synced: Path) -> None:
    result = cli("check", "--no-shellcheck", cwd=synced)
    assert result.exit_code == 0, result.output
    assert result.stdout == ".gitlab-ci.yml is up to date with cifab.yml\nno problems in 1 file\n"
    assert "GitLab's CI Lint API was not asked" in result.stderr and "once" in result.stderr
    # Said once, not on every run; --no-remote never says it.
    again = cli("check", "--no-shellcheck", cwd=synced)
    assert again.exit_code == 0 and "not asked" not in again.stderr
    assert "up to date" in again.stdout


def test_the_remote_note_is_said_every_time_without_a_cache(cli, synced: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIFAB_CACHE_DIR", "")  # nowhere to remember it
    for _ in range(2):
        assert "not asked" in cli("check", "--no-shellcheck", cwd=synced).stderr
    assert "not asked" not in cli("check", "--no-shellcheck", "--no-remote", cwd=synced).stderr


def test_drift_is_a_finding_with_the_diff_and_exit_1(cli, synced: Path) -> None:
    manifest = synced / "cifab.yml"
    manifest.write_text(manifest.read_text().replace("race: true", "race: false"))
    result = cli("check", "--no-shellcheck", cwd=synced)
    assert result.exit_code == 1
    assert "-race" in result.stdout  # the diff
    assert "error generated-drift .gitlab-ci.yml is out of date with cifab.yml" in result.stdout


def test_hand_edit_counts_as_drift(cli, synced: Path) -> None:
    ci = synced / ".gitlab-ci.yml"
    ci.write_text(ci.read_text() + "\nextra:\n  script: x\n")
    result = cli("check", "--no-shellcheck", cwd=synced)
    assert result.exit_code == 1 and "generated-drift" in result.stdout


def test_missing_pipeline_file(cli, go_repo: Path) -> None:
    cli("init", "--yes", cwd=go_repo)
    result = cli("check", cwd=go_repo)
    assert result.exit_code == 1 and "does not exist: run `cifab generate`" in result.stdout


def test_invalid_pipeline_fails_even_in_sync(cli, synced: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A committed file that is in sync but fails lint (say, after a cifab upgrade that lints more).
    from cifab import check as check_module
    from cifab.diagnostics import Finding, Severity

    real = check_module.lint_paths

    def with_error(*args, **kwargs):  # type: ignore[no-untyped-def]
        run = real(*args, **kwargs)
        run.findings.append(Finding(run.paths[0], 1, 1, "stage-undefined", Severity.ERROR, "boom"))
        return run

    monkeypatch.setattr(check_module, "lint_paths", with_error)
    assert cli("check", "--no-shellcheck", cwd=synced).exit_code == 1


def test_invalid_manifest_is_exit_2(cli, synced: Path) -> None:
    (synced / "cifab.yml").write_text("cifab: 1\nproject: x\nstack: go\ngo:\n  race: maybe\n")
    result = cli("check", cwd=synced)
    assert result.exit_code == 2 and "cifab.yml:5:9: error manifest-invalid go.race" in result.stdout
    assert "5 |   race: maybe" in result.stdout  # with its code frame


def test_invalid_manifest_in_a_machine_format(cli, synced: Path) -> None:
    (synced / "cifab.yml").write_text("cifab: 1\nproject: x\nstack: go\ngo:\n  race: maybe\n")
    result = cli("check", "--format", "sarif", cwd=synced)
    assert result.exit_code == 2
    [found] = json.loads(result.stdout)["runs"][0]["results"]
    assert found["ruleId"] == "manifest-invalid"
    assert found["locations"][0]["physicalLocation"]["region"] == {"startLine": 5, "startColumn": 9}


def test_codequality_report_includes_drift(cli, synced: Path) -> None:
    manifest = synced / "cifab.yml"
    manifest.write_text(manifest.read_text().replace("race: true", "race: false"))
    result = cli("check", "--no-shellcheck", "--codequality", "gl-code-quality-report.json", cwd=synced)
    assert result.exit_code == 1
    items = json.loads((synced / "gl-code-quality-report.json").read_text())
    assert [i["check_name"] for i in items] == ["generated-drift"]
    assert items[0]["location"]["path"].endswith(".gitlab-ci.yml")


def test_remote_runs_when_a_token_is_set(cli, synced: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request(LINT_PATH, method="POST").respond_with_json(VALID)
    env = {"GITLAB_TOKEN": TOKEN, "CI_SERVER_URL": f"http://127.0.0.1:{httpserver.port}", "CI_PROJECT_ID": "42"}
    result = cli("check", "--no-shellcheck", cwd=synced, env=env)
    assert result.exit_code == 0, result.output
    assert len(httpserver.log) == 1
    assert httpserver.log[0][0].get_json()["content"] == (synced / ".gitlab-ci.yml").read_text()
    assert TOKEN not in result.output


def test_no_remote_never_asks(cli, synced: Path, httpserver: HTTPServer) -> None:
    env = {"GITLAB_TOKEN": TOKEN, "CI_SERVER_URL": f"http://127.0.0.1:{httpserver.port}", "CI_PROJECT_ID": "42"}
    assert cli("check", "--no-remote", "--no-shellcheck", cwd=synced, env=env).exit_code == 0
    assert httpserver.log == []


def test_forced_remote_without_token_is_exit_3(cli, synced: Path) -> None:
    result = cli("check", "--remote", "--gitlab-url", "http://127.0.0.1:9", "--project", "42", cwd=synced)
    assert result.exit_code == 3 and "GITLAB_TOKEN" in result.stderr


def test_gitlab_errors_fail_the_check(cli, synced: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request(LINT_PATH, method="POST").respond_with_json(
        {"valid": False, "errors": ["deploy-staging job: needs 'cifab-check'"], "warnings": [], "merged_yaml": None})
    env = {"GITLAB_TOKEN": TOKEN, "CI_SERVER_URL": f"http://127.0.0.1:{httpserver.port}", "CI_PROJECT_ID": "42"}
    result = cli("check", "--no-shellcheck", "--codequality", "cq.json", cwd=synced, env=env)
    assert result.exit_code == 1 and "gitlab-ci-lint" in result.stdout
    assert json.loads((synced / "cq.json").read_text())[0]["check_name"] == "gitlab-ci-lint"


def test_unreachable_gitlab_still_writes_the_report_then_exits_3(cli, synced: Path) -> None:
    env = {"GITLAB_TOKEN": TOKEN, "CI_SERVER_URL": "http://127.0.0.1:9", "CI_PROJECT_ID": "42"}
    result = cli("check", "--no-shellcheck", "--codequality", "cq.json", cwd=synced, env=env)
    assert result.exit_code == 3 and "cannot connect" in result.stderr
    assert json.loads((synced / "cq.json").read_text()) == []


# ------------------------------------------------------------------ the self-check job

def self_check_pipeline(cli, go_repo: Path, setting: str) -> dict:  # type: ignore[no-untyped-def]
    cli("init", "--yes", cwd=go_repo)
    manifest = go_repo / "cifab.yml"
    manifest.write_text(manifest.read_text() + setting)
    result = cli("generate", cwd=go_repo)
    assert result.exit_code == 0, result.output
    return pipeline_yaml.load((go_repo / ".gitlab-ci.yml").read_text())


FROM_REGISTRY = "self_check:\n  install: {registry: tools/cifab}\n"


def test_self_check_job(cli, go_repo: Path) -> None:
    from cifab import __version__

    pipeline = self_check_pipeline(cli, go_repo, FROM_REGISTRY)
    job = pipeline["cifab-check"]
    assert job["stage"] == "lint" and job["needs"] == [] and job["interruptible"] is True
    index = ("${CI_SERVER_PROTOCOL}://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_FQDN}"
             "/api/v4/projects/tools%2Fcifab/packages/pypi/simple")
    assert job["script"] == [f'pip install --quiet --index-url "{index}" "cifab=={__version__}"',
                             "cifab check --codequality gl-code-quality-report.json"]
    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    # Merge request pipelines (where the review note goes) and branch pipelines; not tags.
    assert job["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}, {"if": "$CI_COMMIT_BRANCH"}]
    assert re.fullmatch(r"[\w./-]+:[\w.-]+", job["image"])


def test_self_check_comments_explain_the_token(cli, go_repo: Path) -> None:
    self_check_pipeline(cli, go_repo, FROM_REGISTRY)
    text = (go_repo / ".gitlab-ci.yml").read_text()
    comment = text[: text.index("cifab-check:")].rsplit("\n\n", 1)[-1]
    assert "GITLAB_TOKEN" in comment and "masked" in comment and "CI_JOB_TOKEN" in comment


def test_deploys_do_not_need_the_self_check(cli, go_repo: Path) -> None:
    from tests.conftest import DEPLOYS

    pipeline = self_check_pipeline(cli, go_repo, FROM_REGISTRY + DEPLOYS)
    for name in ("deploy-staging", "deploy-production"):
        assert "cifab-check" not in pipeline[name]["needs"]


def test_self_check_install_and_image_can_be_changed(cli, go_repo: Path) -> None:
    pipeline = self_check_pipeline(
        cli, go_repo, "self_check:\n  image: python:3.13-slim\n  install: pip install cifab==9.9\n")
    assert pipeline["cifab-check"]["image"] == "python:3.13-slim"
    assert pipeline["cifab-check"]["script"][0] == "pip install cifab==9.9"


@pytest.mark.parametrize(("install", "first"), [
    ("{pypi: 0.3.1}", 'pip install --quiet "cifab==0.3.1"'),
    ("{git: https://gitlab.example.com/tools/cifab.git, ref: v0.3.1}",
     'pip install --quiet "cifab @ git+https://gitlab.example.com/tools/cifab.git@v0.3.1"'),
    ("{registry: '42', version: 0.3.1}", "pip install --quiet --index-url"),
    ("false\n  image: registry.example.com/tools/cifab:0.3.1", "cifab check --codequality gl-code-quality-report.json"),
])
def test_each_way_of_getting_cifab(cli, go_repo: Path, install: str, first: str) -> None:
    job = self_check_pipeline(cli, go_repo, f"self_check:\n  install: {install}\n")["cifab-check"]
    assert job["script"][0].startswith(first)


@pytest.mark.parametrize(("setting", "expect"), [
    ("self_check: true\n", "cifab is not on PyPI yet"),
    ("self_check: {}\n", "missing required key 'install'"),
    ("self_check:\n  install: false\n", "missing required key 'image'"),
    ("self_check:\n  install: {git: https://x.example/c.git}\n", "self_check.install"),
])
def test_a_self_check_that_cannot_get_cifab_is_refused_at_generate(cli, go_repo: Path, setting: str,
                                                                   expect: str) -> None:
    cli("init", "--yes", cwd=go_repo)
    manifest = go_repo / "cifab.yml"
    manifest.write_text(manifest.read_text() + setting)
    result = cli("generate", cwd=go_repo)
    assert result.exit_code == 2 and "cifab.yml:" in result.stderr and expect in result.stderr, result.stderr


def test_self_check_off_by_default(cli, go_repo: Path) -> None:
    assert "cifab-check" not in self_check_pipeline(cli, go_repo, "")


def test_own_pipeline_has_the_check_job_and_is_in_sync(cli) -> None:
    pipeline = pipeline_yaml.load((REPO / ".gitlab-ci.yml").read_text())
    job = pipeline["cifab-check"]
    assert "cifab check --codequality gl-code-quality-report.json" in job["script"]
    assert job["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    assert cli("generate", "--check", "--manifest", str(REPO / "cifab.yml")).exit_code == 0


# ------------------------------------------------------------------ pre-commit

def hooks() -> dict[str, dict]:
    return {h["id"]: h for h in pipeline_yaml.load((REPO / ".pre-commit-hooks.yaml").read_text())}


def test_pre_commit_hooks_are_declared() -> None:
    found = hooks()
    assert set(found) == {"cifab-lint", "cifab-check"}
    assert all(h["language"] == "python" and h["entry"].startswith("cifab ") for h in found.values())
    assert found["cifab-check"]["pass_filenames"] is False


@pytest.mark.parametrize(("hook", "path", "matches"), [
    ("cifab-lint", ".gitlab-ci.yml", True), ("cifab-lint", "sub/.gitlab-ci.yml", True),
    ("cifab-lint", "cifab.yml", False), ("cifab-lint", "x.gitlab-ci.yml.bak", False),
    ("cifab-check", "cifab.yml", True), ("cifab-check", ".gitlab-ci.yml", True), ("cifab-check", "README.md", False),
])
def test_pre_commit_file_patterns(hook: str, path: str, matches: bool) -> None:
    assert bool(re.search(hooks()[hook]["files"], path)) is matches


def test_pre_commit_entries_run(cli, synced: Path) -> None:
    for hook, extra in (("cifab-lint", [".gitlab-ci.yml"]), ("cifab-check", [])):
        args = hooks()[hook]["entry"].split()[1:] + extra
        assert cli(*args, cwd=synced).exit_code == 0, hook


def test_readme_shows_the_pre_commit_config() -> None:
    readme = (REPO / "README.md").read_text()
    assert ".pre-commit-config.yaml" in readme
    for hook in ("cifab-lint", "cifab-check"):
        assert f"- id: {hook}" in readme


def test_self_check_can_post_the_review(cli, go_repo: Path) -> None:
    job = self_check_pipeline(cli, go_repo, "self_check:\n  install: {pypi: 0.3.1}\n  comment: true\n")["cifab-check"]
    assert job["script"][-1] == "cifab check --codequality gl-code-quality-report.json --comment"
