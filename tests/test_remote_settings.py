"""Connection settings: flags, then environment, then python-gitlab's config, then the
origin remote. First found wins; tokens never come from flags."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from cifab.git import parse_remote
from cifab.remote.settings import RemoteError, resolve, server_url, token_available

TOKEN = "glpat-SETTINGS-secret"


@pytest.fixture
def no_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PYTHON_GITLAB_CFG", raising=False)
    return tmp_path


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = tmp_path / "python-gitlab.cfg"
    path.write_text("[global]\ndefault = work\n\n"
                    "[work]\nurl = https://gitlab.work.example\nprivate_token = " + TOKEN + "\n\n"
                    "[home]\nurl = https://gitlab.home.example\nprivate_token = home-token\n")
    monkeypatch.setenv("PYTHON_GITLAB_CFG", str(path))
    return path


def git_repo(path: Path, origin: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    subprocess.run(["git", "-C", str(path), "remote", "add", "origin", origin], check=True)
    return path


def test_flags_win_over_everything(config: Path, tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "r", "git@gitlab.remote.example:team/app.git")
    env = {"CI_SERVER_URL": "https://ci.example", "GITLAB_URL": "https://env.example", "CI_PROJECT_ID": "7",
           "GITLAB_TOKEN": "env-token"}
    s = resolve(url="https://flag.example", project="flag/project", env=env, cwd=repo)
    assert (s.url, s.project, s.token) == ("https://flag.example", "flag/project", "env-token")
    assert (s.url_source, s.project_source, s.token_source) == ("--gitlab-url", "--project", "GITLAB_TOKEN")


def test_ci_server_url_beats_gitlab_url(no_config: Path) -> None:
    s = resolve(env={"CI_SERVER_URL": "https://ci.example", "GITLAB_URL": "https://env.example",
                     "CI_PROJECT_ID": "7", "GITLAB_TOKEN": TOKEN}, cwd=no_config)
    assert s.url == "https://ci.example" and s.project == "7"


def test_gitlab_url_beats_the_config_file(config: Path) -> None:
    s = resolve(project="1", env={"GITLAB_URL": "https://env.example"}, cwd=config.parent)
    assert s.url == "https://env.example"
    assert s.token == TOKEN and s.token_source == "python-gitlab profile work"


def test_config_default_section_and_named_profile(config: Path) -> None:
    assert resolve(project="1", env={}, cwd=config.parent).url == "https://gitlab.work.example"
    s = resolve(project="1", profile="home", env={}, cwd=config.parent)
    assert (s.url, s.token) == ("https://gitlab.home.example", "home-token")


def test_unknown_profile_is_a_clear_error(config: Path) -> None:
    with pytest.raises(RemoteError, match="profile 'nope' not found"):
        resolve(project="1", profile="nope", env={}, cwd=config.parent)


def test_gitlab_token_beats_the_profile_token(config: Path) -> None:
    assert resolve(project="1", env={"GITLAB_TOKEN": "env-token"}, cwd=config.parent).token == "env-token"


def test_git_remote_is_the_last_resort(no_config: Path) -> None:
    repo = git_repo(no_config / "r", "git@gitlab.remote.example:team/sub/app.git")
    s = resolve(env={"GITLAB_TOKEN": TOKEN}, cwd=repo)
    assert (s.url, s.project) == ("https://gitlab.remote.example", "team/sub/app")
    assert s.url_source == s.project_source == "git remote origin"


def test_ci_project_id_beats_the_git_remote(no_config: Path) -> None:
    repo = git_repo(no_config / "r", "https://gitlab.remote.example/team/app.git")
    s = resolve(env={"GITLAB_TOKEN": TOKEN, "CI_PROJECT_ID": "99"}, cwd=repo)
    assert (s.url, s.project) == ("https://gitlab.remote.example", "99")


@pytest.mark.parametrize(("remote", "expected"), [
    ("git@gitlab.com:group/project.git", ("https://gitlab.com", "group/project")),
    ("https://gitlab.example.com/group/sub/project.git", ("https://gitlab.example.com", "group/sub/project")),
    ("https://user:pw@gitlab.example.com:8443/g/p", ("https://gitlab.example.com:8443", "g/p")),
    ("ssh://git@gitlab.example.com:2222/g/p.git", ("https://gitlab.example.com", "g/p")),
    ("http://localhost:8080/g/p/", ("http://localhost:8080", "g/p")),
])
def test_remote_parsing(remote: str, expected: tuple[str, str]) -> None:
    assert parse_remote(remote) == expected


@pytest.mark.parametrize("remote", ["", "/local/path/repo", "file:///srv/repo.git", "gitlab.com:onlyname"])
def test_unusable_remotes(remote: str) -> None:
    assert parse_remote(remote) is None


def test_server_url_strips_the_api_suffix() -> None:
    assert server_url("https://gitlab.example/api/v4/") == "https://gitlab.example"


def test_missing_token_when_required(no_config: Path) -> None:
    with pytest.raises(RemoteError) as exc:
        resolve(url="https://x.example", project="1", env={}, cwd=no_config)
    assert exc.value.exit_code == 3 and "GITLAB_TOKEN" in exc.value.message


def test_token_never_in_repr(no_config: Path) -> None:
    s = resolve(url="https://x.example", project="1", env={"GITLAB_TOKEN": TOKEN}, cwd=no_config)
    assert TOKEN not in repr(s) and TOKEN not in str(s)


def test_token_available(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert token_available(env={})  # from the profile
    monkeypatch.setenv("PYTHON_GITLAB_CFG", str(config.parent / "missing.cfg"))
    assert not token_available(env={})
    assert token_available(env={"GITLAB_TOKEN": "x"})


def test_non_positive_timeout_is_refused(no_config: Path) -> None:
    from cifab.errors import CifabError

    with pytest.raises(CifabError, match="timeout"):
        resolve(url="https://x.example", project="1", env={"GITLAB_TOKEN": "t"}, timeout=0, cwd=no_config)
