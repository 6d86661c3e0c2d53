"""Where GitLab is, which project, and which token: flags, environment, python-gitlab's
config file, then the `origin` git remote. First found wins. Tokens never come from flags."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cifab import git
from cifab.errors import CifabError, register_secret

DEFAULT_TIMEOUT = 30.0
REMOTE_EXIT = 3



class RemoteError(CifabError):
    """GitLab could not be asked: one line of explanation and a hint, exit code 3."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message + (f"\n  hint: {hint}" if hint else ""), REMOTE_EXIT)
        self.hint = hint


@dataclass(frozen=True)
class Settings:
    url: str
    project: str
    token: str | None
    timeout: float = DEFAULT_TIMEOUT
    ssl_verify: bool | str = True
    url_source: str = ""
    project_source: str = ""
    token_source: str = ""
    job_token_only: bool = False  # CI_JOB_TOKEN is set, no usable token: explain 404s

    def __repr__(self) -> str:  # never print the token, even in a debugger
        return (f"Settings(url={self.url!r}, project={self.project!r}, token={'***' if self.token else None}, "
                f"timeout={self.timeout})")


@dataclass(frozen=True)
class Profile:
    url: str | None = None
    token: str | None = None
    ssl_verify: bool | str = True
    name: str | None = None


def read_profile(name: str | None) -> Profile | None:
    """The python-gitlab config section (name, or the file's default), if a config file exists."""
    try:
        from gitlab.config import ConfigError, GitlabConfigParser
    except ImportError:  # pragma: no cover - python-gitlab is a dependency
        return None
    try:
        parsed = GitlabConfigParser(gitlab_id=name)
    except ConfigError as exc:
        if name:
            raise RemoteError(f"python-gitlab profile '{name}' not found: {exc}",
                              "check the section names in $PYTHON_GITLAB_CFG or ~/.python-gitlab.cfg") from None
        return None
    except Exception as exc:  # a broken config file: say so, never a traceback
        raise RemoteError(f"cannot read the python-gitlab config file: {type(exc).__name__}",
                          "check $PYTHON_GITLAB_CFG or ~/.python-gitlab.cfg") from None
    if parsed.url is None and parsed.private_token is None:
        return None
    return Profile(parsed.url, parsed.private_token, parsed.ssl_verify, parsed.gitlab_id)


MAX_TIMEOUT = 3600.0  # seconds: an hour is already far more than GitLab ever takes


def server_url(url: str, source: str = "--gitlab-url") -> str:
    """python-gitlab wants the server's URL: /api/v4 would be doubled. A URL that does not
    parse is refused here, with the flag's words, not deep inside requests. So is a URL that
    holds a user name or password: requests would send them to the server as Basic auth
    beside the token, and a message that quoted the URL would print them."""
    from urllib.parse import urlsplit

    url = url.strip().rstrip("/")
    shown = hide_credentials(url)
    if shown != url:
        secret = url.split("://", 1)[-1].split("@", 1)[0]
        register_secret(secret)
        if ":" in secret:
            register_secret(secret.split(":", 1)[1])
        raise CifabError(f"the GitLab URL from {source} holds a user name or password ({shown}); cifab never "
                         "sends those: give the server's address alone, and the token in GITLAB_TOKEN")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise CifabError(f"the GitLab URL {url!r} does not parse: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CifabError(f"the GitLab URL {url!r} must be http:// or https:// with a host")
    return url.removesuffix("/api/v4")


def hide_credentials(url: str) -> str:
    """The URL with any user:password@ before its host replaced by ***@."""
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@", r"\1***@", url)


def resolve(*, url: str | None = None, project: str | None = None, profile: str | None = None,
            timeout: float = DEFAULT_TIMEOUT, env: Mapping[str, str] | None = None,
            cwd: Path | None = None, require_token: bool = True) -> Settings:
    env = os.environ if env is None else env
    cwd = cwd or Path.cwd()
    if not 0 < timeout <= MAX_TIMEOUT:  # NaN fails both comparisons
        raise CifabError(f"--timeout must be a number of seconds above 0 and at most {MAX_TIMEOUT:g}")
    config = read_profile(profile or None)
    remote = None

    def from_remote() -> tuple[str, str] | None:
        nonlocal remote
        if remote is None:
            remote = git.origin(cwd) or ("", "")
        return remote if remote[0] else None

    found_url, url_source = None, ""
    for value, source in ((url, "--gitlab-url"), (env.get("CI_SERVER_URL"), "CI_SERVER_URL"),
                          (env.get("GITLAB_URL"), "GITLAB_URL"),
                          (config.url if config else None, f"python-gitlab profile {config.name if config else ''}")):
        if value:
            found_url, url_source = value, source
            break
    if found_url is None and (origin := from_remote()):
        found_url, url_source = origin[0], "git remote origin"
    if not found_url:
        raise RemoteError("no GitLab URL", "pass --gitlab-url, set CI_SERVER_URL or GITLAB_URL, or add a "
                                           "python-gitlab profile")
    found_project, project_source = None, ""
    if project:
        found_project, project_source = project, "--project"
    elif env.get("CI_PROJECT_ID"):
        found_project, project_source = env["CI_PROJECT_ID"], "CI_PROJECT_ID"
    elif origin := from_remote():
        found_project, project_source = origin[1], "git remote origin"
    if not found_project:
        raise RemoteError("no GitLab project", "pass --project ID_OR_PATH, or set CI_PROJECT_ID")
    token, token_source = None, ""
    if env.get("GITLAB_TOKEN"):
        token, token_source = env["GITLAB_TOKEN"], "GITLAB_TOKEN"
    elif config and config.token:
        token, token_source = config.token, f"python-gitlab profile {config.name}"
    token = clean_token(token, token_source) if token is not None else None
    job_token_only = token is None and bool(env.get("CI_JOB_TOKEN"))
    if token is None and require_token:
        raise RemoteError(
            "no GitLab token for the CI Lint API",
            "set GITLAB_TOKEN to a personal, project or group access token with the api scope (in CI, a "
            "masked CI/CD variable; CI_JOB_TOKEN is not accepted by this endpoint), or add private_token "
            "to a python-gitlab profile")
    return Settings(url=server_url(found_url, url_source), project=found_project, token=token, timeout=timeout,
                    ssl_verify=config.ssl_verify if config else True, url_source=url_source,
                    project_source=project_source, token_source=token_source, job_token_only=job_token_only)


def clean_token(token: str, source: str) -> str:
    """The token without the whitespace a file saved with CR LF leaves around it. Any other
    control character (or one HTTP headers cannot carry) is refused, without quoting it: an
    error that printed the token would leak it."""
    token = token.strip()
    register_secret(token)
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in token):
        raise CifabError(f"the token from {source} holds a control character; tokens never do: set it again")
    try:
        token.encode("latin-1")
    except UnicodeEncodeError:
        raise CifabError(f"the token from {source} holds a character an HTTP header cannot carry; "
                         "tokens never do: set it again") from None
    if not token:
        raise CifabError(f"the token from {source} is empty")
    return token


def token_available(profile: str | None = None, env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    if env.get("GITLAB_TOKEN"):
        return True
    try:
        config = read_profile(profile)
    except RemoteError:
        return False
    return bool(config and config.token)


@dataclass(frozen=True)
class RemoteOptions:
    dry_run: bool = False
    ref: str | None = None
    include_jobs: bool = False
    url: str | None = None
    project: str | None = None
    profile: str | None = None
    timeout: float = DEFAULT_TIMEOUT

    def settings(self, cwd: Path | None = None) -> Settings:
        return resolve(url=self.url, project=self.project, profile=self.profile, timeout=self.timeout, cwd=cwd)
