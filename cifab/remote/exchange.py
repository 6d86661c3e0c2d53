"""One bounded exchange with GitLab, whatever the server does.

- The session follows no redirect: requests would carry the PRIVATE-TOKEN header (and, on
  307/308, the request body) to whatever host a redirect names.
- Every request is checked before it is sent: its scheme, host and port must be those of the
  GitLab URL. python-gitlab follows a list's `Link: rel="next"` wherever it points, with the
  token, so a server could otherwise send the token to any host.
- An answer is read in pieces and refused beyond MAX_ANSWER_BYTES (after decompression), so
  a 400 MB body or a gzip bomb costs no more than the cap.
- --timeout bounds the whole exchange, retries included: requests' timeout bounds each
  socket read, so a server that sends one byte a second would hold cifab for ever.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from cifab.remote.settings import RemoteError, Settings

MAX_ANSWER_BYTES = 32 * 1024 * 1024
_CHUNK = 64 * 1024

T = TypeVar("T")


class AnswerTooLarge(Exception):
    pass


class ForeignOrigin(Exception):
    """A request for another scheme, host or port than the GitLab URL's: never sent."""


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL, the port made explicit."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = -1
    return scheme, (parts.hostname or "").lower(), port or (443 if scheme == "https" else 80)


def session(headers_seen: dict[str, str], allowed: str | None = None) -> Any:
    """A requests session for python-gitlab: no redirects, requests only to the origin of
    `allowed` (the GitLab URL), a bounded body, and the last answer's headers kept in
    headers_seen (python-gitlab's errors do not carry them)."""
    import requests

    home = origin(allowed) if allowed is not None else None

    class Bounded(requests.Session):
        def get_redirect_target(self, resp: Any) -> None:
            return None

        def send(self, request: Any, **kwargs: Any) -> Any:
            if home is not None and origin(str(request.url)) != home:
                raise ForeignOrigin(origin(str(request.url)))
            return super().send(request, **kwargs)

    def read_bounded(response: Any, *_args: Any, **_kwargs: Any) -> Any:
        headers_seen.clear()
        headers_seen.update(response.headers)
        # Response hooks run before requests reads the body, so the body is read here.
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
            response.close()
            raise AnswerTooLarge(int(declared))
        chunks = []
        size = 0
        for chunk in response.iter_content(_CHUNK):
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                response.close()
                raise AnswerTooLarge(size)
            chunks.append(chunk)
        response._content = b"".join(chunks)
        response._content_consumed = True
        return response

    bounded = Bounded()
    bounded.hooks["response"].append(read_bounded)
    return bounded


def client(settings: Settings, headers_seen: dict[str, str]) -> tuple[Any, Any]:
    """(the bounded session, a python-gitlab client on it) for one exchange: no retries of
    python-gitlab's own, so that a timeout is one timeout; the caller closes the session."""
    import warnings

    import gitlab

    # python-gitlab warns, then follows, a next-page link to another base URL; the session
    # refuses such a request itself, with a message of its own.
    warnings.filterwarnings("ignore", message="The base URL in the server response differs")
    bounded = session(headers_seen, settings.url)
    gl = gitlab.Gitlab(settings.url, private_token=settings.token, timeout=settings.timeout,
                       ssl_verify=settings.ssl_verify, retry_transient_errors=False, session=bounded)
    return bounded, gl


def project(settings: Settings, headers_seen: dict[str, str]) -> tuple[Any, Any]:
    """(the bounded session, python-gitlab's lazy project) for one exchange."""
    bounded, gl = client(settings, headers_seen)
    return bounded, gl.projects.get(settings.project, lazy=True)


def within(settings: Settings, work: Callable[[], T]) -> T:
    """work() if it ends within settings.timeout seconds; a RemoteError otherwise. The
    exchange runs on a daemon thread: one that overruns is left behind, and the command,
    which has its answer, ends."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = work()
        except BaseException as exc:  # carried to the caller's thread, whatever it is
            box["error"] = exc

    worker = threading.Thread(target=run, name="gitlab exchange", daemon=True)
    worker.start()
    worker.join(settings.timeout + 0.5)  # the exchange's own deadline, then a moment to return
    if worker.is_alive():
        raise RemoteError(f"GitLab at {settings.url} did not finish answering within {settings.timeout:g} seconds",
                          "raise --timeout, or check the network")
    if "error" in box:
        error = box["error"]
        if isinstance(error, ForeignOrigin):
            scheme, host, port = error.args[0]
            raise RemoteError(f"GitLab at {settings.url} pointed cifab at {scheme}://{host}:{port}, another "
                              "address; cifab sends requests, and the token, only to the GitLab URL",
                              "check --gitlab-url: a server that links elsewhere is not the GitLab you named") from None
        if isinstance(error, AnswerTooLarge):
            raise RemoteError(f"GitLab at {settings.url} sent an answer of more than "
                              f"{MAX_ANSWER_BYTES // (1024 * 1024)} MB; cifab reads no more than that",
                              "check --gitlab-url: the CI Lint API answers with a small JSON document") from None
        raise error
    return box["result"]  # type: ignore[no-any-return]
