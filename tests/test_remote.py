"""`lint --remote` and `generate --remote`: python-gitlab's real HTTP stack against a real
HTTP server on 127.0.0.1 that answers the way GitLab's CI Lint API is documented to."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

TOKEN = "glpat-TOPSECRET-0123456789"
LINT_PATH = "/api/v4/projects/42/ci/lint"
VALID = {"valid": True, "errors": [], "warnings": [], "merged_yaml": "test:\n  script: make test\n",
         "includes": []}
INVALID = {"valid": False, "errors": ["jobs config should contain at least one visible job"],
           "warnings": ["jobs:test may allow multiple pipelines to run"], "merged_yaml": None, "includes": []}
GOOD = "test:\n  script: make test\n"
GITLAB_VARIABLES = ("CI_SERVER_URL", "GITLAB_URL", "GITLAB_TOKEN", "CI_PROJECT_ID", "CI_JOB_TOKEN",
                    "PYTHON_GITLAB_CFG")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in GITLAB_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.python-gitlab.cfg of the machine's
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def ci_file(tmp_path: Path) -> Path:
    path = tmp_path / ".gitlab-ci.yml"
    path.write_text(GOOD)
    return path


def url(server: HTTPServer) -> str:
    return f"http://127.0.0.1:{server.port}"


def remote_lint(cli, server: HTTPServer, ci_file: Path, *extra: str, token: str | None = TOKEN):  # type: ignore[no-untyped-def]
    env = {"GITLAB_TOKEN": token} if token else {}
    return cli("lint", str(ci_file), "--no-shellcheck", "--remote", "--gitlab-url", url(server), "--project", "42",
               *extra, env=env, cwd=ci_file.parent)


def no_token_anywhere(result) -> None:  # type: ignore[no-untyped-def]
    assert TOKEN not in result.stdout and TOKEN not in result.stderr


# ------------------------------------------------------------------ the request

def test_request_path_method_headers_and_body(cli, httpserver: HTTPServer, ci_file: Path) -> None:
    httpserver.expect_request(LINT_PATH, method="POST").respond_with_json(VALID)
    result = remote_lint(cli, httpserver, ci_file)
    assert result.exit_code == 0, result.output
    [(request, _)] = httpserver.log
    assert request.path == LINT_PATH and request.method == "POST"
    assert request.headers["PRIVATE-TOKEN"] == TOKEN
    assert request.get_json() == {"content": GOOD}
    no_token_anywhere(result)


def test_dry_run_ref_and_include_jobs_are_sent(cli, httpserver: HTTPServer, ci_file: Path) -> None:
    answer = {**VALID, "jobs": [{"name": "test", "stage": "test", "when": "on_success", "allow_failure": False,
                                 "needs": []}]}
    httpserver.expect_request(LINT_PATH, method="POST").respond_with_json(answer)
    result = remote_lint(cli, httpserver, ci_file, "--dry-run", "--ref", "release/1.2", "--include-jobs")
    assert result.exit_code == 0
    body = httpserver.log[0][0].get_json()
    assert body == {"content": GOOD, "dry_run": True, "ref": "release/1.2", "include_jobs": True}
    assert "Jobs GitLab would create" in result.stdout and "on_success" in result.stdout


def test_project_path_is_url_encoded(cli, httpserver: HTTPServer, ci_file: Path) -> None:
    # The server decodes the path to match it; the raw request line keeps the encoding.
    httpserver.expect_request("/api/v4/projects/group/sub/app/ci/lint", method="POST").respond_with_json(VALID)
    result = cli("lint", str(ci_file), "--remote", "--gitlab-url", url(httpserver), "--project", "group/sub/app",
                 env={"GITLAB_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    raw = httpserver.log[0][0].environ.get("REQUEST_URI") or httpserver.log[0][0].environ.get("RAW_URI")
    assert raw == "/api/v4/projects/group%2Fsub%2Fapp/ci/lint"


def test_merged_yaml_is_printed(cli, httpserver: HTTPServer, ci_file: Path) -> None:
    httpserver.expect_request(LINT_PATH, method="POST").respond_with_json(VALID)
    result = remote_lint(cli, httpserver, ci_file, "--merged")
    assert "# GitLab's merged YAML for" in result.stdout and "script: make test" in result.stdout


def test_remote_only_flags_need_remote(cli, ci_file: Path) -> None:
    result = cli("lint", str(ci_file), "--dry-run")
    assert result.exit_code == 2 and "need --remote" in result.stderr


# ------------------------------------------------------------------ GitLab's answers

def test_invalid_config_is_exit_1_with_gitlabs_words_in_every_format(cli, httpserver: HTTPServer,
                                                                      ci_file: Path) -> None:
    httpserver.expect_request(LINT_PATH, method="POST").respond_with_json(INVALID)
    result = remote_lint(cli, httpserver, ci_file)
    assert result.exit_code == 1
    assert "error gitlab-ci-lint jobs config should contain at least one visible job" in result.stdout
    assert "warning gitlab-ci-lint jobs:test may allow multiple pipelines to run" in result.stdout
    for fmt in ("json", "codequality", "junit", "sarif"):
        out = remote_lint(cli, httpserver, ci_file, "--format", fmt).stdout
        assert "jobs config should contain at least one visible job" in out, fmt


def test_gitlab_messages_point_at_the_job_they_name(cli, httpserver: HTTPServer, ci_file: Path) -> None:
    ci_file.write_text("build:\n  script: make\ntest:\n  script: make test\n")
    httpserver.expect_request(LINT_PATH, method="POST").respond_with_json(
        {**INVALID, "errors": ["test job: chosen stage nope does not exist"], "warnings": []})
    result = remote_lint(cli, httpserver, ci_file)
    assert ".gitlab-ci.yml:3:1: error gitlab-ci-lint test job: chosen stage nope" in result.stdout


def test_offline_and_remote_duplicates_are_merged(cli, httpserver: HTTPServer, ci_file: Path) -> None:
    ci_file.write_text("test:\n  stage: nope\n  script: x\n")
    message = "test job: chosen stage nope does not exist; available stages are .pre, build, test, deploy, .post"
    httpserver.expect_request(LINT_PATH, method="POST").respond_with_json(
        {"valid": False, "errors": [message], "warnings": [], "merged_yaml": None, "includes": []})
    result = remote_lint(cli, httpserver, ci_file, "--format", "json")
    found = [f["message"] for f in json.loads(result.stdout)["findings"]]
    assert found.count(message) == 1


def test_400(cli, httpserver: HTTPServer, ci_file: Path) -> None:
    httpserver.expect_request(LINT_PATH, method="POST").respond_with_json({"error": "content is missing"},
                                                                          status=400)
    result = remote_lint(cli, httpserver, ci_file)
    assert result.exit_code == 3 and "content is missing" in result.stderr
    no_token_anywhere(result)


@pytest.mark.parametrize(("status", "body", "words"), [
    (401, {"message": "401 Unauthorized"}, "rejected the token"),
    (403, {"error": "insufficient_scope"}, "api scope"),
    (404, {"message": "404 Project Not Found"}, "not found or not visible"),
])
def test_refusals_exit_3_with_a_hint_and_no_token(cli, httpserver: HTTPServer, ci_file: Path, status: int,
                                                  body: dict, words: str) -> None:
    httpserver.expect_request(LINT_PATH, method="POST").respond_with_json(body, status=status)
    result = remote_lint(cli, httpserver, ci_file)
    assert result.exit_code == 3
    assert words in result.stderr and "hint:" in result.stderr
    assert "Traceback" not in result.output
    no_token_anywhere(result)


def test_only_a_job_token_is_explained_before_asking(cli, httpserver: HTTPServer, ci_file: Path) -> None:
    result = cli("lint", str(ci_file), "--remote",
                 env={"CI_SERVER_URL": url(httpserver), "CI_PROJECT_ID": "42", "CI_JOB_TOKEN": "job-token-xyz"})
    assert result.exit_code == 3 and "CI_JOB_TOKEN is not accepted" in result.stderr
    assert httpserver.log == []
    assert "job-token-xyz" not in result.output


def test_404_message_when_the_job_token_is_all_there_is(httpserver: HTTPServer) -> None:
    from cifab.remote.lint import explain_status
    from cifab.remote.settings import Settings

    settings = Settings(url="https://gitlab.example", project="42", token="x", job_token_only=True)
    assert "does not accept job tokens" in (explain_status(404, settings, "").hint or "")


def test_429_with_retry_after_is_retried_then_succeeds(cli, httpserver: HTTPServer, ci_file: Path) -> None:
    httpserver.expect_ordered_request(LINT_PATH, method="POST").respond_with_response(
        Response(json.dumps({"message": "429 Too Many Requests"}), status=429, headers={"Retry-After": "1"},
                 content_type="application/json"))
    httpserver.expect_ordered_request(LINT_PATH, method="POST").respond_with_json(VALID)
    start = time.monotonic()
    result = remote_lint(cli, httpserver, ci_file)
    assert result.exit_code == 0, result.output
    assert len(httpserver.log) == 2 and time.monotonic() - start >= 1


def test_429_beyond_the_timeout_is_explained_not_slept_through(cli, httpserver: HTTPServer, ci_file: Path) -> None:
    httpserver.expect_request(LINT_PATH, method="POST").respond_with_response(
        Response("{}", status=429, headers={"Retry-After": "3600"}, content_type="application/json"))
    start = time.monotonic()
    result = remote_lint(cli, httpserver, ci_file, "--timeout", "5")
    assert result.exit_code == 3 and "throttling" in result.stderr
    assert time.monotonic() - start < 600  # not the hour GitLab asked for, however loaded the machine


def test_500_then_200_is_retried(cli, httpserver: HTTPServer, ci_file: Path) -> None:
    httpserver.expect_ordered_request(LINT_PATH, method="POST").respond_with_json({"message": "boom"}, status=500)
    httpserver.expect_ordered_request(LINT_PATH, method="POST").respond_with_json(VALID)
    result = remote_lint(cli, httpserver, ci_file)
    assert result.exit_code == 0 and len(httpserver.log) == 2


def test_persistent_500_is_a_server_error(cli, httpserver: HTTPServer, ci_file: Path) -> None:
    httpserver.expect_request(LINT_PATH, method="POST").respond_with_json({"message": "boom"}, status=502)
    result = remote_lint(cli, httpserver, ci_file)
    assert result.exit_code == 3 and "server error (502)" in result.stderr
    assert len(httpserver.log) == 3  # MAX_ATTEMPTS


def test_a_silent_server_times_out(cli, ci_file: Path) -> None:
    """A socket that takes the connection and never answers: only the timeout ends the wait."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel accepts the connection; nobody ever reads or answers
        port = silent.getsockname()[1]
        result = cli("lint", str(ci_file), "--no-shellcheck", "--remote", "--gitlab-url", f"http://127.0.0.1:{port}",
                     "--project", "42", "--timeout", "1", env={"GITLAB_TOKEN": TOKEN}, cwd=ci_file.parent)
    assert result.exit_code == 3 and "did not answer within 1 seconds" in result.stderr
    no_token_anywhere(result)
    no_token_anywhere(result)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused(cli, ci_file: Path) -> None:
    port = closed_port()
    result = cli("lint", str(ci_file), "--remote", "--gitlab-url", f"http://127.0.0.1:{port}", "--project", "42",
                 env={"GITLAB_TOKEN": TOKEN})
    assert result.exit_code == 3 and "cannot connect" in result.stderr
    no_token_anywhere(result)


def test_tls_failure(cli, httpserver: HTTPServer, ci_file: Path) -> None:
    httpserver.expect_request(LINT_PATH, method="POST").respond_with_json(VALID)
    result = cli("lint", str(ci_file), "--remote", "--gitlab-url", f"https://127.0.0.1:{httpserver.port}",
                 "--project", "42", env={"GITLAB_TOKEN": TOKEN})
    assert result.exit_code == 3 and "TLS failed" in result.stderr
    no_token_anywhere(result)


def test_no_token_says_how_to_provide_one(cli, ci_file: Path) -> None:
    result = cli("lint", str(ci_file), "--remote", "--gitlab-url", "http://127.0.0.1:9", "--project", "42")
    assert result.exit_code == 3 and "GITLAB_TOKEN" in result.stderr


def test_no_url_or_project(cli, ci_file: Path) -> None:
    result = cli("lint", str(ci_file), "--remote", env={"GITLAB_TOKEN": TOKEN})
    assert result.exit_code == 3 and "no GitLab URL" in result.stderr
    result = cli("lint", str(ci_file), "--remote", "--gitlab-url", "http://127.0.0.1:9", env={"GITLAB_TOKEN": TOKEN})
    assert result.exit_code == 3 and "no GitLab project" in result.stderr


def test_token_is_not_a_command_line_option(cli, ci_file: Path) -> None:
    result = cli("lint", str(ci_file), "--remote", "--token", TOKEN)
    assert result.exit_code == 2 and TOKEN not in result.stdout


def test_ci_server_url_and_ci_project_id_alone_are_enough(cli, httpserver: HTTPServer, ci_file: Path) -> None:
    httpserver.expect_request(LINT_PATH, method="POST").respond_with_json(VALID)
    result = cli("lint", str(ci_file), "--remote",
                 env={"CI_SERVER_URL": url(httpserver), "CI_PROJECT_ID": "42", "GITLAB_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output


def test_api_v4_url_is_not_doubled(cli, httpserver: HTTPServer, ci_file: Path) -> None:
    httpserver.expect_request(LINT_PATH, method="POST").respond_with_json(VALID)
    result = cli("lint", str(ci_file), "--remote", "--gitlab-url", url(httpserver) + "/api/v4", "--project", "42",
                 env={"GITLAB_TOKEN": TOKEN})
    assert result.exit_code == 0 and httpserver.log[0][0].path == LINT_PATH


# ------------------------------------------------------------------ generate --remote

def test_generate_remote_writes_only_what_gitlab_accepts(cli, httpserver: HTTPServer, go_repo: Path) -> None:
    assert cli("init", "--yes", cwd=go_repo).exit_code == 0
    httpserver.expect_oneshot_request(LINT_PATH, method="POST").respond_with_json(INVALID)
    result = cli("generate", "--remote", "--gitlab-url", url(httpserver), "--project", "42",
                 env={"GITLAB_TOKEN": TOKEN}, cwd=go_repo)
    assert result.exit_code == 1 and "at least one visible job" in result.stderr
    assert not (go_repo / ".gitlab-ci.yml").exists()
    httpserver.expect_oneshot_request(LINT_PATH, method="POST").respond_with_json(VALID)
    result = cli("generate", "--remote", "--gitlab-url", url(httpserver), "--project", "42",
                 env={"GITLAB_TOKEN": TOKEN}, cwd=go_repo)
    assert result.exit_code == 0 and (go_repo / ".gitlab-ci.yml").exists()
    assert httpserver.log[-1][0].get_json()["content"] == (go_repo / ".gitlab-ci.yml").read_text()


def test_generate_remote_unreachable_writes_nothing(cli, go_repo: Path) -> None:
    cli("init", "--yes", cwd=go_repo)
    result = cli("generate", "--remote", "--gitlab-url", f"http://127.0.0.1:{closed_port()}", "--project", "42",
                 env={"GITLAB_TOKEN": TOKEN}, cwd=go_repo)
    assert result.exit_code == 3 and not (go_repo / ".gitlab-ci.yml").exists()
    no_token_anywhere(result)
