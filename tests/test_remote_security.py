"""The token never leaves for another host and never reaches any output; GitLab's answer is
checked for shape. Against real HTTP servers on 127.0.0.1, through python-gitlab."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.test_remote import LINT_PATH, TOKEN, VALID, ci_file, clean_environment, no_token_anywhere, remote_lint

__all__ = ["ci_file", "clean_environment"]  # fixtures shared with test_remote
FORMATS = ("text", "json", "codequality", "junit", "sarif")


@pytest.fixture
def other_host() -> HTTPServer:
    """A second server: another origin the redirect points at."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_to_another_host_is_reported_not_followed(cli, httpserver: HTTPServer, other_host: HTTPServer,
                                                             ci_file: Path, status: int) -> None:
    location = f"http://127.0.0.1:{other_host.port}{LINT_PATH}"
    httpserver.expect_request(LINT_PATH, method="POST").respond_with_response(
        Response(status=status, headers={"Location": location}))
    other_host.expect_request(LINT_PATH).respond_with_json(VALID)
    result = remote_lint(cli, httpserver, ci_file)
    assert result.exit_code == 3, result.output
    assert f"answered with a redirect ({status})" in result.stderr
    assert other_host.log == []  # neither the token nor the pipeline went there
    no_token_anywhere(result)


@pytest.mark.parametrize("ending", ["\r", "\n", "\r\n", "  "])
def test_a_token_saved_with_line_endings_works(cli, httpserver: HTTPServer, ci_file: Path, ending: str) -> None:
    seen: list[str] = []

    def handler(request: Request) -> Response:
        seen.append(request.headers.get("PRIVATE-TOKEN", ""))
        return Response('{"valid": true, "errors": [], "warnings": []}', content_type="application/json")

    httpserver.expect_request(LINT_PATH, method="POST").respond_with_handler(handler)
    result = remote_lint(cli, httpserver, ci_file, token=TOKEN + ending)
    assert result.exit_code == 0, result.output
    assert seen == [TOKEN]


@pytest.mark.parametrize("token", [TOKEN[:8] + "\x07" + TOKEN[8:], TOKEN[:8] + "\x1b" + TOKEN[8:], TOKEN + "é☃"])
def test_a_token_no_header_can_carry_is_refused_without_quoting_it(cli, httpserver: HTTPServer, ci_file: Path,
                                                                   token: str) -> None:
    result = remote_lint(cli, httpserver, ci_file, token=token)
    assert result.exit_code == 2
    assert "the token from GITLAB_TOKEN holds" in result.stderr
    assert TOKEN[:12] not in result.output and "internal error" not in result.stderr
    assert httpserver.log == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_answer_that_quotes_the_token_is_printed_without_it(cli, httpserver: HTTPServer, ci_file: Path,
                                                               fmt: str) -> None:
    echo = {"valid": False, "errors": [f"jobs:test config is bad, you sent {TOKEN}"],
            "warnings": [f"token {TOKEN}"], "merged_yaml": f"# {TOKEN}\n", "includes": []}
    httpserver.expect_request(LINT_PATH, method="POST").respond_with_json(echo)
    result = remote_lint(cli, httpserver, ci_file, "--format", fmt)
    assert result.exit_code == 1
    assert "***" in result.stdout
    no_token_anywhere(result)


def test_merged_output_is_scrubbed_too(cli, httpserver: HTTPServer, ci_file: Path) -> None:
    httpserver.expect_request(LINT_PATH, method="POST").respond_with_json(
        {**VALID, "merged_yaml": f"test:\n  script: echo {TOKEN}\n"})
    result = remote_lint(cli, httpserver, ci_file, "--merged")
    assert result.exit_code == 0 and "echo ***" in result.stdout
    no_token_anywhere(result)


@pytest.mark.parametrize("answer", [{"valid": "false", "errors": []}, {"valid": True, "errors": 5},
                                    {"valid": True, "jobs": 7}, {"valid": True, "jobs": [1]},
                                    {"valid": True, "merged_yaml": 3}, ["not", "a", "mapping"]])
def test_an_answer_of_the_wrong_shape_is_not_trusted(cli, httpserver: HTTPServer, ci_file: Path,
                                                     answer: object) -> None:
    httpserver.expect_request(LINT_PATH, method="POST").respond_with_json(answer)
    result = remote_lint(cli, httpserver, ci_file)
    assert result.exit_code == 3, result.output
    assert any(w in result.stderr for w in ("unexpected shape", "no boolean `valid`", "could not be read"))


@pytest.mark.parametrize(("flag", "value", "words"), [
    ("--timeout", "nan", "--timeout must be"), ("--timeout", "inf", "--timeout must be"),
    ("--timeout", "1e308", "--timeout must be"), ("--gitlab-url", "http://[::1", "does not parse"),
    ("--gitlab-url", "ftp://gitlab.example", "must be http"),
])
def test_bad_flag_values_are_usage_errors(cli, httpserver: HTTPServer, ci_file: Path, flag: str, value: str,
                                          words: str) -> None:
    args = ["lint", str(ci_file), "--no-shellcheck", "--remote", "--project", "42"]
    if flag != "--gitlab-url":
        args += ["--gitlab-url", f"http://127.0.0.1:{httpserver.port}"]
    result = cli(*args, flag, value, env={"GITLAB_TOKEN": TOKEN}, cwd=ci_file.parent)
    assert result.exit_code == 2, result.output
    assert words in result.stderr and "internal error" not in result.stderr


def test_timeout_bounds_the_whole_exchange_not_each_read(cli, httpserver: HTTPServer, ci_file: Path) -> None:
    import time

    def drip() -> object:
        yield b'{"valid": true, "errors": [], '
        for _ in range(16):  # a byte every quarter second: each read is quick, the answer is not
            time.sleep(0.25)
            yield b" "
        yield b'"warnings": []}'

    httpserver.expect_request(LINT_PATH, method="POST").respond_with_response(
        Response(drip(), content_type="application/json"))
    result = remote_lint(cli, httpserver, ci_file, "--timeout", "1")
    assert result.exit_code == 3, result.output
    assert "did not finish answering within 1 seconds" in result.stderr
    no_token_anywhere(result)


@pytest.mark.parametrize("declared", [True, False])
def test_an_oversized_answer_is_refused_not_held(cli, httpserver: HTTPServer, ci_file: Path, declared: bool) -> None:
    from cifab.remote.exchange import MAX_ANSWER_BYTES

    body = b'{"valid": true, "errors": [], "warnings": [], "merged_yaml": "' + b"x" * MAX_ANSWER_BYTES + b'"}'

    def pieces() -> object:
        for start in range(0, len(body), 1 << 20):
            yield body[start:start + (1 << 20)]

    response = Response(body if declared else pieces(), content_type="application/json")
    httpserver.expect_request(LINT_PATH, method="POST").respond_with_response(response)
    result = remote_lint(cli, httpserver, ci_file)
    assert result.exit_code == 3, result.output
    assert "sent an answer of more than 32 MB" in result.stderr


@pytest.mark.parametrize("credentials", ["user:s3cr3t-pass@", "glpat-in-the-url-0123@", "oauth2:s3cr3t-pass@"])
@pytest.mark.parametrize("how", ["flag", "CI_SERVER_URL", "GITLAB_URL"])
def test_credentials_in_the_gitlab_url_are_refused_unquoted(cli, httpserver: HTTPServer, ci_file: Path,
                                                            credentials: str, how: str) -> None:
    address = f"http://{credentials}127.0.0.1:{httpserver.port}"
    flags = ["--gitlab-url", address] if how == "flag" else []
    env = {"GITLAB_TOKEN": TOKEN, **({} if how == "flag" else {how: address})}
    result = cli("lint", str(ci_file), "--no-shellcheck", "--remote", "--project", "42", *flags, env=env,
                 cwd=ci_file.parent)
    assert result.exit_code == 2, result.output
    assert "holds a user name or password" in result.stderr and "http://***@127.0.0.1" in result.stderr
    secret = credentials.rstrip("@")
    assert secret not in result.output and secret.split(":")[-1] not in result.output
    assert httpserver.log == []
    no_token_anywhere(result)
