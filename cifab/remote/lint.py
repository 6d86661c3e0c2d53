"""GitLab's CI Lint API (POST /projects/:id/ci/lint) through python-gitlab, with our own
retries, so that a timeout is one timeout and a throttle is explained, not slept through."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cifab.diagnostics import Finding, Rule, Severity
from cifab.errors import redact, register_secret
from cifab.pipeline.yamlpos import YMap
from cifab.remote import exchange
from cifab.remote.settings import RemoteError, Settings

RULE = Rule(
    "gitlab-ci-lint", Severity.ERROR, "GitLab's CI Lint API must accept the configuration",
    "With --remote, cifab sends the file to GitLab's CI Lint API (POST /projects/:id/ci/lint) and "
    "reports GitLab's errors and warnings under this id, placed on the job they name where it can.",
    bad="test:\n  script: make test\n  needs: [build]\n",
    good="build:\n  stage: build\n  script: make\n\ntest:\n  script: make test\n  needs: [build]\n",
    kind="remote",
)
MAX_ATTEMPTS = 3
BACKOFF = 0.5  # seconds, doubled after each failed attempt


@dataclass
class RemoteResult:
    valid: bool
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    merged_yaml: str | None = None
    jobs: list[dict[str, Any]] = field(default_factory=list)


def _redact(value: Any) -> Any:
    """A value from GitLab's answer with every registered secret scrubbed out, however deep
    it sits: a server that quotes the token back must not make cifab print it."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {_redact(k): _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


def explain_status(code: int | None, settings: Settings, body: str) -> RemoteError:
    where = f"{settings.url} (project {settings.project})"
    if code == 401:
        return RemoteError(f"GitLab rejected the token (401 Unauthorized) at {where}",
                           f"the token from {settings.token_source} is wrong, expired or revoked")
    if code == 403:
        return RemoteError(f"GitLab refused the request (403 Forbidden) at {where}",
                           "the token needs the api scope, and you need at least the Developer role "
                           "in the project")
    if code == 404:
        hint = "check --project (an id, or a path such as group/project) and that the token can see it"
        if settings.job_token_only:
            hint = ("only CI_JOB_TOKEN is set, and GitLab does not accept job tokens on the CI Lint "
                    "endpoint; set GITLAB_TOKEN (a masked CI/CD variable) to an access token")
        return RemoteError(f"project {settings.project} not found or not visible at {settings.url} (404)", hint)
    if code is not None and 300 <= code < 400:
        return RemoteError(f"GitLab at {settings.url} answered with a redirect ({code}); cifab does not follow "
                           "redirects, so that your token and pipeline never reach another address",
                           "set --gitlab-url (or CI_SERVER_URL / GITLAB_URL) to the address GitLab really answers at")
    if code == 429:
        return RemoteError(f"GitLab is throttling requests (429 Too Many Requests) at {where}",
                           "wait a minute and try again, or lint offline without --remote")
    if code is not None and code >= 500:
        return RemoteError(f"GitLab answered with a server error ({code}) at {where}",
                           "try again later; GitLab's status page may say more")
    if code is None:
        return RemoteError(f"GitLab's answer at {settings.url} could not be read" + (f": {body}" if body else ""),
                           "is --gitlab-url a GitLab server?")
    detail = f": {body}" if body else ""
    return RemoteError(f"GitLab answered {code}{detail}", None)


def _network_error(exc: Exception, settings: Settings) -> RemoteError:
    import requests

    if isinstance(exc, requests.exceptions.SSLError):
        return RemoteError(f"TLS failed talking to {settings.url}",
                           "check the URL's scheme and the server's certificate (REQUESTS_CA_BUNDLE for a "
                           "private CA)")
    if isinstance(exc, requests.exceptions.Timeout):
        return RemoteError(f"GitLab at {settings.url} did not answer within {settings.timeout:g} seconds",
                           "raise --timeout, or check the network")
    return RemoteError(f"cannot connect to {settings.url}",
                       "check --gitlab-url (or CI_SERVER_URL / GITLAB_URL) and that the server is up")


def lint_content(settings: Settings, content: str, *, dry_run: bool = False, ref: str | None = None,
                 include_jobs: bool = False, sleep: Callable[[float], None] = time.sleep) -> RemoteResult:
    """Ask GitLab to lint `content` in the project's context."""
    if settings.token:
        register_secret(settings.token)
    last_headers: dict[str, str] = {}  # for Retry-After
    session, project = exchange.project(settings, last_headers)
    data: dict[str, Any] = {"content": content}
    if dry_run:
        data["dry_run"] = True
        if ref:
            data["ref"] = ref
    if include_jobs:
        data["include_jobs"] = True
    deadline = time.monotonic() + settings.timeout

    def ask() -> RemoteResult:
        with session:
            return _ask(project, data, settings, deadline, last_headers, sleep)

    return exchange.within(settings, ask)


def _ask(project: Any, data: dict[str, Any], settings: Settings, deadline: float,
         last_headers: dict[str, str], sleep: Callable[[float], None]) -> RemoteResult:
    import gitlab
    import requests

    delay = BACKOFF
    for attempt in range(1, MAX_ATTEMPTS + 1):
        remaining = max(deadline - time.monotonic(), 0.5)
        try:
            # python-gitlab's own retries would sleep through a long Retry-After and
            # repeat a timeout; we decide instead.
            answer = project.ci_lint.create(data, timeout=remaining, obey_rate_limit=False,
                                            retry_transient_errors=False)
            return _result(_redact(answer.attributes))
        except gitlab.exceptions.GitlabError as exc:
            code = getattr(exc, "response_code", None)
            body = _redact(str(getattr(exc, "error_message", "") or ""))
            wait = _retry_after(last_headers) if code == 429 else delay
            retryable = code == 429 or (code is not None and code >= 500)
            if retryable and attempt < MAX_ATTEMPTS and time.monotonic() + wait < deadline:
                sleep(wait)
                delay *= 2
                continue
            raise explain_status(code, settings, body) from None
        except requests.exceptions.Timeout as exc:
            raise _network_error(exc, settings) from None
        except requests.exceptions.RequestException as exc:
            is_tls = isinstance(exc, requests.exceptions.SSLError)
            if not is_tls and attempt < MAX_ATTEMPTS and time.monotonic() + delay < deadline:
                sleep(delay)
                delay *= 2
                continue
            raise _network_error(exc, settings) from None
    raise RemoteError(f"GitLab at {settings.url} could not be asked")  # pragma: no cover - loop returns


def _retry_after(headers: dict[str, str]) -> float:
    try:
        return max(float(headers.get("Retry-After", 1)), 0.0)
    except (TypeError, ValueError):
        return 1.0


def _strings(attrs: dict[str, Any], key: str) -> list[str]:
    value = attrs.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RemoteError(f"GitLab's CI Lint answer has `{key}` of an unexpected shape (not a list of strings)",
                          "is --gitlab-url a GitLab server?")
    return value


def _result(attrs: Any) -> RemoteResult:
    """GitLab's answer, its shape checked: `valid: "false"` must not read as valid."""
    if not isinstance(attrs, dict) or not isinstance(attrs.get("valid"), bool):
        raise RemoteError("GitLab's CI Lint answer has no boolean `valid`", "is --gitlab-url a GitLab server?")
    merged = attrs.get("merged_yaml")
    jobs = attrs.get("jobs")
    bad_merged = merged is not None and not isinstance(merged, str)
    bad_jobs = jobs is not None and not (isinstance(jobs, list) and all(isinstance(j, dict) for j in jobs))
    if bad_merged or bad_jobs:
        raise RemoteError("GitLab's CI Lint answer has `merged_yaml` or `jobs` of an unexpected shape",
                          "is --gitlab-url a GitLab server?")
    return RemoteResult(valid=attrs["valid"], errors=_strings(attrs, "errors"), warnings=_strings(attrs, "warnings"),
                        merged_yaml=merged, jobs=list(jobs or []))


_JOB_PREFIX = re.compile(r"^(?:jobs:)?(?P<name>[^:\s][^:]*?)(?: job:|:| config| has the following)")


def _mark_for(message: str, doc: Any, src: str) -> tuple[int, int]:
    """Where in the file a GitLab message points: the job it names, else the top."""
    if isinstance(doc, YMap):
        match = _JOB_PREFIX.match(message)
        candidates = [match.group("name")] if match else []
        candidates += [k for k in doc if isinstance(k, str) and (f"jobs:{k}" in message or f"{k} job" in message)]
        for name in candidates:
            if name in doc.keymarks:
                _, line, col = doc.key_mark(name)
                return line, col
    return 1, 1


def findings(result: RemoteResult, src: str, doc: Any) -> list[Finding]:
    out = []
    for severity, messages in ((Severity.ERROR, result.errors), (Severity.WARNING, result.warnings)):
        for message in messages:
            line, col = _mark_for(message, doc, src)
            out.append(RULE.finding((src, line, col), message, severity=severity))
    return out


def merge(offline: list[Finding], remote: list[Finding]) -> list[Finding]:
    """Offline and GitLab findings together; GitLab's copy of a message we already report goes."""
    known = {f.message for f in offline}
    return sorted([*offline, *(f for f in remote if f.message not in known)])
