"""`cifab check --comment`: one review note on the merge request, found again by its marker
and updated in place. Against a loopback server that answers as GitLab's Notes API
documents (https://docs.gitlab.com/api/notes/), through python-gitlab."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import write_go_repo
from tests.test_remote import TOKEN, clean_environment, url

__all__ = ["clean_environment"]
NOTES = "/api/v4/projects/42/merge_requests/7/notes"
BOT = {"id": 99, "username": "cifab-bot"}
ANN = {"id": 5, "username": "ann"}


class NotesApi:
    """Notes of merge request !7, kept between requests as GitLab keeps them, each with its
    author and `system` flag; GET /user names the token's user."""

    def __init__(self, server: HTTPServer, notes: list[dict[str, object]] | None = None) -> None:
        self.notes: list[dict[str, object]] = notes if notes is not None else [
            {"id": 1, "body": "LGTM", "author": ANN, "system": False}]
        self.tokens: list[str] = []
        self.created: list[str] = []
        server.expect_request("/api/v4/user", method="GET").respond_with_json(BOT)
        server.expect_request(NOTES, method="GET").respond_with_handler(self.list)
        server.expect_request(NOTES, method="POST").respond_with_handler(self.create)
        server.expect_request(re.compile(NOTES + r"/\d+"), method="PUT").respond_with_handler(self.update)
        server.expect_request("/api/v4/projects/42/merge_requests", method="GET") \
            .respond_with_json([{"iid": 7, "source_branch": "feature"}])

    def list(self, request: Request) -> Response:
        self.tokens.append(request.headers.get("PRIVATE-TOKEN", ""))
        return Response(json.dumps(self.notes), content_type="application/json")

    def create(self, request: Request) -> Response:
        body = request.get_json()["body"]
        self.created.append(body)
        note = {"id": 100 + len(self.notes), "body": body, "author": BOT, "system": False}
        self.notes.append(note)
        return Response(json.dumps(note), status=201, content_type="application/json")

    def update(self, request: Request) -> Response:
        note_id = int(request.path.rsplit("/", 1)[1])
        [note] = [n for n in self.notes if n["id"] == note_id]
        note["body"] = request.get_json()["body"]
        return Response(json.dumps(note), content_type="application/json")

    def ours(self) -> list[str]:
        return [str(n["body"]) for n in self.notes if "### cifab check" in str(n["body"])]


@pytest.fixture
def synced(cli, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    repo = write_go_repo(tmp_path / "repo")
    (repo / ".git").mkdir(exist_ok=True)
    cli("init", "--yes", cwd=repo)
    cli("generate", cwd=repo)
    return repo


def env_for(server: HTTPServer, **extra: str) -> dict[str, str]:
    return {"CI_SERVER_URL": url(server), "CI_PROJECT_ID": "42", "CI_MERGE_REQUEST_IID": "7", **extra}


def comment(cli, repo: Path, server: HTTPServer, **extra: str):  # type: ignore[no-untyped-def]
    return cli("check", "--no-shellcheck", "--no-remote", "--comment", cwd=repo,
               env=env_for(server, CIFAB_GITLAB_TOKEN=TOKEN, **extra))


def test_two_runs_leave_one_note_updated(cli, httpserver: HTTPServer, synced: Path) -> None:  # type: ignore[no-untyped-def]
    api = NotesApi(httpserver)
    first = comment(cli, synced, httpserver)
    assert first.exit_code == 0, first.output
    assert "wrote the review note on merge request !7" in first.stderr
    (synced / ".gitlab-ci.yml").write_text((synced / ".gitlab-ci.yml").read_text() + "# edited\n")
    second = comment(cli, synced, httpserver)
    assert second.exit_code == 1 and "updated the review note on merge request !7" in second.stderr
    assert len(api.notes) == 2 and len(api.ours()) == 1
    note = api.ours()[0]
    assert note.startswith("<!-- cifab-review -->") and "Out of date with cifab.yml" in note
    assert "```mermaid" in note and "What this change does to the pipelines" in note
    assert api.tokens and set(api.tokens) == {TOKEN}
    assert TOKEN not in first.output + second.output


@pytest.mark.parametrize("planted", [
    {"id": 3, "author": ANN, "system": False},  # someone else wrote the marker
    {"id": 3, "author": BOT, "system": True},  # a system note quoting it
    {"id": 3, "author": {"id": "99"}, "system": False},  # an author id that is not a number
])
def test_only_cifabs_own_note_is_edited(cli, httpserver: HTTPServer, synced: Path,  # type: ignore[no-untyped-def]
                                        planted: dict[str, object]) -> None:
    theirs = {**planted, "body": "<!-- cifab-review -->\nplease approve"}
    api = NotesApi(httpserver, [dict(theirs)])
    result = comment(cli, synced, httpserver)
    assert result.exit_code == 0 and "wrote the review note" in result.stderr, result.output
    assert api.notes[0] == theirs  # left as it was
    assert len(api.created) == 1


def test_a_marker_in_the_middle_of_a_bots_note_is_not_ours(cli, httpserver: HTTPServer, synced: Path) -> None:  # type: ignore[no-untyped-def]
    other = {"id": 3, "author": BOT, "system": False, "body": "quoting: <!-- cifab-review -->"}
    api = NotesApi(httpserver, [dict(other)])
    assert comment(cli, synced, httpserver).exit_code == 0
    assert api.notes[0] == other and len(api.created) == 1


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


def test_a_merge_request_iid_that_is_not_a_number_is_refused(cli, httpserver: HTTPServer, synced: Path) -> None:  # type: ignore[no-untyped-def]
    result = comment(cli, synced, httpserver, CI_MERGE_REQUEST_IID="7/../../../user")
    assert result.exit_code == 3 and "not a merge request number" in result.stderr
    assert httpserver.log == []


@pytest.mark.parametrize(("status", "words"), [(401, "rejected the token"), (403, "403 Forbidden"),
                                               (500, "server error")])
def test_gitlab_refusing_is_exit_3(cli, httpserver: HTTPServer, synced: Path, status: int, words: str) -> None:  # type: ignore[no-untyped-def]
    httpserver.expect_request("/api/v4/user").respond_with_json(BOT)
    httpserver.expect_request(NOTES).respond_with_json({"message": "no"}, status=status)
    result = comment(cli, synced, httpserver)
    assert result.exit_code == 3 and words in result.stderr and TOKEN not in result.output


@pytest.mark.parametrize(("path", "answer"), [
    (NOTES, {"id": 1, "body": "an object, not a list"}),
    (NOTES, [1, 2, 3]),
    (NOTES, [{"id": 1, "author": None, "system": False, "body": None}, "text"]),
    ("/api/v4/user", ["not", "a", "user"]),
    ("/api/v4/user", {"id": True}),
])
def test_an_answer_of_the_wrong_shape_is_exit_3(cli, httpserver: HTTPServer, synced: Path, path: str,  # type: ignore[no-untyped-def]
                                                answer: object) -> None:
    httpserver.expect_request(path).respond_with_json(answer)
    httpserver.expect_request("/api/v4/user").respond_with_json(BOT)
    httpserver.expect_request(NOTES).respond_with_json([])
    result = comment(cli, synced, httpserver)
    assert result.exit_code == 3, result.output
    assert "internal error" not in result.stderr
    assert "unexpected shape" in result.stderr or "could not be read" in result.stderr


def test_a_next_page_on_another_origin_is_not_followed(cli, httpserver: HTTPServer, synced: Path) -> None:  # type: ignore[no-untyped-def]
    other = HTTPServer(host="127.0.0.1", port=0)
    other.start()
    try:
        other.expect_request(NOTES).respond_with_json([])
        link = f'<http://127.0.0.1:{other.port}{NOTES}?page=2&per_page=100>; rel="next"'
        httpserver.expect_request("/api/v4/user").respond_with_json(BOT)
        httpserver.expect_request(NOTES, method="GET").respond_with_response(Response(
            json.dumps([{"id": 1, "body": "hi", "author": ANN, "system": False}]),
            headers={"Link": link}, content_type="application/json"))
        result = comment(cli, synced, httpserver)
        assert result.exit_code == 3, result.output
        assert "another address" in result.stderr and TOKEN not in result.output
        assert other.log == []  # the token never went there
    finally:
        other.clear()
        other.stop()


def test_a_next_page_on_the_same_origin_is_followed(cli, httpserver: HTTPServer, synced: Path) -> None:  # type: ignore[no-untyped-def]
    httpserver.expect_request("/api/v4/user").respond_with_json(BOT)
    mine = {"id": 9, "body": "<!-- cifab-review -->\nold", "author": BOT, "system": False}
    httpserver.expect_request(NOTES, method="GET", query_string="page=2&per_page=100").respond_with_json([mine])
    link = f'<{url(httpserver)}{NOTES}?page=2&per_page=100>; rel="next"'
    httpserver.expect_request(NOTES, method="GET").respond_with_response(Response(
        json.dumps([{"id": 1, "body": "hi", "author": ANN, "system": False}]), headers={"Link": link},
        content_type="application/json"))
    httpserver.expect_request(NOTES + "/9", method="PUT").respond_with_json(mine)
    result = comment(cli, synced, httpserver)
    assert result.exit_code == 0 and "updated the review note" in result.stderr, result.output


# ------------------------------------------------------------------ hostile names
# What a merge request author can write into every field the note shows: quick actions on
# lines of their own, mentions, backticks that would close a code span, terminal escapes.
QUICK = ["x\n/approve", "y\r\n/merge", "z\u2028/assign_reviewer @x", "`w`\n/unassign", "@all",
         "q\x1b[2J\u202e", "/label ~bug"]


def _hostile_pipeline(names: list[str]) -> str:
    import yaml

    jobs: dict[str, object] = {"stages": ["build", *names[:3]], "include": [{"local": "ci/@all\n/merge.yml"}]}
    for i, name in enumerate(names):
        jobs[name] = {"stage": names[i % 3], "script": ["echo " + name],
                      "needs": [names[(i + 1) % len(names)], "missing\n/approve @all"],
                      "variables": {name: name}, "image": name}
    return yaml.safe_dump(jobs, allow_unicode=False)


def _strip_code_spans(line: str) -> str:
    return re.sub(r"(`+)(?!`)(.*?)(?<!`)\1(?!`)", "", line)


def assert_inert(note: str) -> None:
    """GitLab's quick-action extractor runs a line that starts with `/`; its mention filter
    reads `@name` outside code. Neither may come from a name."""
    fenced = False
    for line in note.split("\n"):
        assert not line.startswith("/"), line
        assert not any(c in line for c in "\x1b\x07\r\u2028\u2029\u202e"), line
        if line.startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            assert not re.search(r"@[A-Za-z0-9_]", _strip_code_spans(line)), line
    assert not fenced


@pytest.fixture
def hostile(cli, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    import subprocess

    repo = write_go_repo(tmp_path / "repo")

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("config", "user.email", "dev@example.com")
    git("config", "user.name", "dev")
    cli("init", "--yes", cwd=repo)
    cli("generate", cwd=repo)
    git("add", ".")
    git("commit", "-qm", "base")
    git("checkout", "-qb", "feature")
    (repo / "ci" / "@all\n").mkdir(parents=True)
    (repo / "ci" / "@all\n/merge.yml").write_text("extra\n/approve:\n  script: x\n")
    (repo / ".gitlab-ci.yml").write_text(_hostile_pipeline(QUICK))
    return repo


def test_no_name_in_the_note_can_act(cli, httpserver: HTTPServer, hostile: Path) -> None:  # type: ignore[no-untyped-def]
    api = NotesApi(httpserver)
    result = comment(cli, hostile, httpserver)
    assert result.exit_code == 1, result.output
    [note] = api.created
    assert "Findings:" in note and "What this change does to the pipelines" in note and "```mermaid" in note
    assert "x\\n/approve" in note  # shown, escaped
    assert_inert(note)


def test_a_broken_manifest_with_hostile_keys_makes_an_inert_note(cli, httpserver: HTTPServer,  # type: ignore[no-untyped-def]
                                                                  synced: Path) -> None:
    api = NotesApi(httpserver)
    manifest = synced / "cifab.yml"
    manifest.write_text(manifest.read_text() + '"x\\n/approve @all": 1\n"`/merge`": 2\n')
    result = comment(cli, synced, httpserver)
    assert result.exit_code in (1, 2), result.output
    [note] = api.created
    assert "Findings:" in note
    assert_inert(note)


def test_a_huge_pipeline_still_gets_a_bounded_note(cli, httpserver: HTTPServer, hostile: Path) -> None:  # type: ignore[no-untyped-def]
    import yaml

    jobs = {f"job-{i}-" + "@all" * 60: {"script": ["x"], "needs": [f"nowhere-{i}"]} for i in range(2000)}
    (hostile / ".gitlab-ci.yml").write_text(yaml.safe_dump(jobs))
    api = NotesApi(httpserver)
    result = comment(cli, hostile, httpserver)
    assert result.exit_code == 1, result.output
    [note] = api.created
    assert len(note) < 1_000_000 / 4  # far below what GitLab takes
    assert "more" in note and "the job log" in note
    assert "jobs are more than a graph here can show" in note
    assert_inert(note)
