"""`cifab check --comment`: one review note on the merge request, updated in place.

The note is found again by a hidden marker, so every run of the self-check job edits the
same note instead of stacking new ones (Notes API: GET/POST /projects/:id/merge_requests/
:iid/notes, PUT .../notes/:note_id). Only a note the token's own user wrote (GET /user),
that is not a system note and that starts with the marker, is ever edited: anyone can write
the marker into a note of their own. CI_JOB_TOKEN cannot write notes: an access token in
CIFAB_GITLAB_TOKEN or GITLAB_TOKEN is needed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cifab.errors import register_secret
from cifab.frames import printable
from cifab.remote import exchange
from cifab.remote.lint import explain_status
from cifab.remote.settings import RemoteError, Settings, clean_token, resolve

MARKER = "<!-- cifab-review -->"


@dataclass(frozen=True)
class Target:
    settings: Settings
    merge_request: str | None  # the IID; None: look it up by the branch
    branch: str | None


def target(url: str | None = None, project: str | None = None, timeout: float = 30.0,
           env: Mapping[str, str] | None = None) -> Target:
    """Where the note goes (the flags, else the job's variables), and the token that may write it."""
    env = os.environ if env is None else env
    settings = resolve(url=url, project=project, env=env, timeout=timeout, require_token=False)
    token = None
    if env.get("CIFAB_GITLAB_TOKEN"):
        token = clean_token(env["CIFAB_GITLAB_TOKEN"], "CIFAB_GITLAB_TOKEN")
    elif settings.token:
        token = settings.token
    if token is None:
        if env.get("CI_JOB_TOKEN"):
            raise RemoteError("CI_JOB_TOKEN cannot write merge request notes",
                              "set CIFAB_GITLAB_TOKEN (a masked CI/CD variable) to a project access token with "
                              "the api scope")
        raise RemoteError("no GitLab token to write the merge request note",
                          "set CIFAB_GITLAB_TOKEN or GITLAB_TOKEN to an access token with the api scope")
    register_secret(token)
    settings = Settings(url=settings.url, project=settings.project, token=token, timeout=settings.timeout,
                        ssl_verify=settings.ssl_verify, url_source=settings.url_source,
                        project_source=settings.project_source, token_source="CIFAB_GITLAB_TOKEN or GITLAB_TOKEN")
    iid = env.get("CI_MERGE_REQUEST_IID") or None
    if iid is not None and not (iid.isascii() and iid.isdigit()):
        raise RemoteError(f"CI_MERGE_REQUEST_IID is {printable(iid)!r}, not a merge request number")
    return Target(settings, iid,
                  env.get("CI_COMMIT_BRANCH") or env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME") or None)


class OddAnswer(Exception):
    """GitLab's answer does not have the shape its API documents."""


def post(where: Target, body: str) -> str:
    """Create or update cifab's note; returns what happened, for the log."""
    import gitlab

    settings = where.settings
    headers: dict[str, str] = {}

    def work() -> str:
        session, gl = exchange.client(settings, headers)
        with session:
            project = gl.projects.get(settings.project, lazy=True)
            iid = where.merge_request or _open_merge_request(project, where.branch)
            if iid is None:
                return f"no open merge request for branch {printable(where.branch or '')}: no note written"
            merge_request = project.mergerequests.get(iid, lazy=True)
            text = f"{MARKER}\n{body}"
            ours = _own_note(merge_request, _user_id(gl))
            if ours is not None:
                ours.body = text
                ours.save()
                return f"updated the review note on merge request !{printable(iid)}"
            merge_request.notes.create({"body": text})
            return f"wrote the review note on merge request !{printable(iid)}"

    try:
        return exchange.within(settings, work)
    except OddAnswer as exc:
        raise RemoteError(f"GitLab's answer at {settings.url} has an unexpected shape: {exc}",
                          "is --gitlab-url a GitLab server?") from None
    except gitlab.exceptions.GitlabError as exc:
        raise explain_status(getattr(exc, "response_code", None), settings,
                             str(getattr(exc, "error_message", "") or "")) from None
    except _requests_errors() as exc:
        raise RemoteError(f"cannot reach GitLab at {settings.url}: {type(exc).__name__}",
                          "check CI_SERVER_URL and the network") from None


def _requests_errors() -> tuple[type[BaseException], ...]:
    import requests

    return (requests.exceptions.RequestException,)


def _user_id(gl: Any) -> int:
    """The id of the token's own user (GET /user)."""
    me = gl.http_get("/user")
    if not isinstance(me, dict) or not _is_int(me.get("id")):
        raise OddAnswer("GET /user has no numeric `id`")
    return int(me["id"])


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _own_note(merge_request: Any, user: int) -> Any:
    """cifab's earlier note: written by this user, not a system note, starting with the
    marker. A note list of any other shape is an error, not a crash."""
    try:
        for note in merge_request.notes.list(iterator=True, per_page=100):
            attrs = getattr(note, "attributes", None)
            if not isinstance(attrs, dict):
                raise OddAnswer("a note is not an object")
            author = attrs.get("author")
            mine = isinstance(author, dict) and _is_int(author.get("id")) and author["id"] == user
            if mine and attrs.get("system") is False and str(attrs.get("body", "")).startswith(MARKER):
                return note
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        raise OddAnswer(f"the merge request's notes are not a list of notes ({type(exc).__name__})") from None
    return None


def _open_merge_request(project: Any, branch: str | None) -> str | None:
    if not branch:
        return None
    try:
        found = project.mergerequests.list(source_branch=branch, state="opened", get_all=False, per_page=1)
        iid = found[0].iid if found else None
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        raise OddAnswer(f"the list of merge requests is not a list of merge requests ({type(exc).__name__})") \
            from None
    if iid is None:
        return None
    if not _is_int(iid):
        raise OddAnswer("a merge request's `iid` is not a number")
    return str(iid)
