"""One bounded exchange with GitLab, whatever the server does.

- The session follows no redirect: requests would carry the PRIVATE-TOKEN header (and, on
  307/308, the request body) to whatever host a redirect names.
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


def session(headers_seen: dict[str, str]) -> Any:
    """A requests session for python-gitlab: no redirects, a bounded body, and the last
    answer's headers kept in headers_seen (python-gitlab's errors do not carry them)."""
    import requests

    class Bounded(requests.Session):
        def get_redirect_target(self, resp: Any) -> None:
            return None

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


def project(settings: Settings, headers_seen: dict[str, str]) -> tuple[Any, Any]:
    """(the bounded session, python-gitlab's lazy project) for one exchange: no retries of
    python-gitlab's own, so that a timeout is one timeout; the caller closes the session."""
    import gitlab

    bounded = session(headers_seen)
    client = gitlab.Gitlab(settings.url, private_token=settings.token, timeout=settings.timeout,
                           ssl_verify=settings.ssl_verify, retry_transient_errors=False, session=bounded)
    return bounded, client.projects.get(settings.project, lazy=True)


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
        if isinstance(error, AnswerTooLarge):
            raise RemoteError(f"GitLab at {settings.url} sent an answer of more than "
                              f"{MAX_ANSWER_BYTES // (1024 * 1024)} MB; cifab reads no more than that",
                              "check --gitlab-url: the CI Lint API answers with a small JSON document") from None
        raise error
    return box["result"]  # type: ignore[no-any-return]
