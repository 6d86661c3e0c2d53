"""`cifab check --comment`: one review note on the merge request, found again by its marker
and updated in place. Against a loopback server that answers as GitLab's Notes API
documents, through python-gitlab."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import write_go_repo
from tests.test_remote import TOKEN, clean_environment, url

__all__ = ["clean_environment"]
NOTES = "/api/v4/projects/42/merge_requests/7/notes"


class NotesApi:
    """Notes of merge request !7, kept between requests as GitLab keeps them."""

    def __init__(self, server: HTTPServer) -> None:
        self.notes: list[dict[str, object]] = [{"id": 1, "body": "LGTM", "author": {"username": "ann"}}]
        self.tokens: list[str] = []
        server.expect_request(NOTES, method="GET").respond_with_handler(self.list)
        server.expect_request(NOTES, method="POST").respond_with_handler(self.create)
        server.expect_request("/api/v4/projects/42/merge_requests/7/notes/2", method="PUT") \
            .respond_with_handler(self.update)
        server.expect_request("/api/v4/projects/42/merge_requests", method="GET") \
            .respond_with_json([{"iid": 7, "source_branch": "feature"}])

    def list(self, request: Request) -> Response:
        self.tokens.append(request.headers.get("PRIVATE-TOKEN", ""))
        return Response(json.dumps(self.notes), content_type="application/json")

    def create(self, request: Request) -> Response:
        note = {"id": len(self.notes) + 1, "body": request.get_json()["body"]}
        self.notes.append(note)
        return Response(json.dumps(note), status=201, content_type="application/json")

    def update(self, request: Request) -> Response:
        self.notes[1]["body"] = request.get_json()["body"]
        return Response(json.dumps(self.notes[1]), content_type="application/json")


@pytest.fixture
def synced(cli, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    repo = write_go_repo(tmp_path / "repo")
    (repo / ".git").mkdir(exist_ok=True)
    cli("init", "--yes", cwd=repo)
    cli("generate", cwd=repo)
    return repo


def env_for(server: HTTPServer, **extra: str) -> dict[str, str]:
    return {"CI_SERVER_URL": url(server), "CI_PROJECT_ID": "42", "CI_MERGE_REQUEST_IID": "7", **extra}


def test_two_runs_leave_one_note_updated(cli, httpserver: HTTPServer, synced: Path) -> None:  # type: ignore[no-untyped-def]
    api = NotesApi(httpserver)
    env = env_for(httpserver, CIFAB_GITLAB_TOKEN=TOKEN)
    first = cli("check", "--no-shellcheck", "--no-remote", "--comment", cwd=synced, env=env)
    assert first.exit_code == 0, first.output
    assert "wrote the review note on merge request !7" in first.stderr
    (synced / ".gitlab-ci.yml").write_text((synced / ".gitlab-ci.yml").read_text() + "# edited\n")
    second = cli("check", "--no-shellcheck", "--no-remote", "--comment", cwd=synced, env=env)
    assert second.exit_code == 1 and "updated the review note on merge request !7" in second.stderr
    ours = [n for n in api.notes if "cifab check" in str(n["body"])]
    assert len(api.notes) == 2 and len(ours) == 1
    note = str(ours[0]["body"])
    assert note.startswith("<!-- cifab-review -->") and "Out of date with cifab.yml" in note
    assert "```mermaid" in note and "What this change does to the pipelines" in note
    assert api.tokens and set(api.tokens) == {TOKEN}
    assert TOKEN not in first.output + second.output


def test_a_branch_pipeline_finds_its_open_merge_request(cli, httpserver: HTTPServer, synced: Path) -> None:  # type: ignore[no-untyped-def]
    api = NotesApi(httpserver)
    env = {"CI_SERVER_URL": url(httpserver), "CI_PROJECT_ID": "42", "CI_COMMIT_BRANCH": "feature",
           "GITLAB_TOKEN": TOKEN}
    result = cli("check", "--no-shellcheck", "--no-remote", "--comment", cwd=synced, env=env)
    assert result.exit_code == 0 and "merge request !7" in result.stderr
    assert len(api.notes) == 2


def test_the_job_token_cannot_write_notes(cli, httpserver: HTTPServer, synced: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", "--no-shellcheck", "--no-remote", "--comment", cwd=synced,
                 env=env_for(httpserver, CI_JOB_TOKEN="job-token-value"))
    assert result.exit_code == 3 and "CI_JOB_TOKEN cannot write merge request notes" in result.stderr
    assert httpserver.log == []


@pytest.mark.parametrize(("status", "words"), [(401, "rejected the token"), (403, "403 Forbidden"),
                                               (500, "server error")])
def test_gitlab_refusing_is_exit_3(cli, httpserver: HTTPServer, synced: Path, status: int, words: str) -> None:  # type: ignore[no-untyped-def]
    httpserver.expect_request(NOTES).respond_with_json({"message": "no"}, status=status)
    result = cli("check", "--no-shellcheck", "--no-remote", "--comment", cwd=synced,
                 env=env_for(httpserver, GITLAB_TOKEN=TOKEN))
    assert result.exit_code == 3 and words in result.stderr and TOKEN not in result.output
