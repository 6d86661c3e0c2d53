"""ShellCheck reads jobs as gitlab-runner runs them, and its findings land on the YAML."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cifab.lint import shellcheck as runner
from cifab.lint.scripts import PRELUDE, Piece, Sources, job_scripts, locate, runs_powershell
from cifab.pipeline.config import Job
from cifab.pipeline.yamlpos import load_text

needs_binary = pytest.mark.skipif(runner.binary() is None,
                                  reason="shellcheck is not installed (pip install 'cifab[shellcheck]')")


def findings(cli, tmp_path: Path, text: str, manifest: str | None = None) -> list[dict]:  # type: ignore[no-untyped-def]
    (tmp_path / "ci.yml").write_text(text)
    if manifest is not None:
        (tmp_path / "cifab.yml").write_text(manifest)
    result = cli("lint", "ci.yml", "-f", "json", cwd=tmp_path)
    assert result.exit_code in (0, 1), result.output
    return [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "shellcheck"]


def codes(found: list[dict]) -> set[tuple[int, int, str]]:
    return {(f["line"], f["column"], f["message"].split(":")[0]) for f in found}


# ------------------------------------------------------------------ positions, without the binary


def _piece(text: str, value_path: list[str | int]) -> tuple[Piece, Sources]:
    loaded = load_text(text, "ci.yml")
    node = loaded.data
    for part in value_path[:-1]:
        node = node[part]
    last = value_path[-1]
    mark = node.item_mark(last) if isinstance(last, int) else node.value_mark(last)
    return Piece(node[last], mark), Sources({"ci.yml": text})


@pytest.mark.parametrize(("text", "offset", "where"), [
    ("t:\n  script:\n    - echo $A\n", 5, (3, 12)),                       # plain
    ('t:\n  script:\n    - "echo \\"a\\" $Z"\n', 9, (3, 19)),              # escapes in double quotes
    ("t:\n  script:\n    - 'it''s $Q'\n", 5, (3, 14)),                     # '' in single quotes
    ("t:\n  script:\n    - |\n      echo one\n      rm $B/\n", 12, (5, 10)),  # block literal
    ("t:\n  script:\n    - >\n      if [ $X = 1 ]; then\n      echo $Y; fi\n", 25, (5, 12)),  # folded
    ("t:\n  script:\n    - make\n      $C all\n", 5, (4, 7)),               # plain over two lines
])
def test_a_character_of_a_scalar_maps_to_its_line_and_column(text: str, offset: int, where: tuple[int, int]) -> None:
    piece, sources = _piece(text, ["t", "script", 0])
    assert piece.value[offset] in "$"
    assert locate(piece, offset, sources)[1:] == where


def _job(text: str, name: str = "t") -> Job:
    data = load_text(text, "ci.yml").data
    return Job(name, data.key_mark(name), data[name], False)


def test_before_script_and_script_are_one_script_after_script_another() -> None:
    job = _job("t:\n  before_script: [a]\n  script: [b, c]\n  after_script: [d]\n")
    main, after = job_scripts(job)
    assert main.text == PRELUDE + "a\nb\nc\n"
    assert after.text == PRELUDE + "d\n"


@pytest.mark.parametrize("text", [
    "t:\n  tags: [windows]\n  script: [dir]\n",
    "t:\n  tags: [saas-windows-medium-amd64]\n  script: [dir]\n",
    "t:\n  image: mcr.microsoft.com/powershell:latest\n  script: [ls]\n",
    "t:\n  image: {name: mcr.microsoft.com/dotnet/framework/sdk:4.8-windowsservercore-ltsc2022}\n  script: [ls]\n",
    "t:\n  script:\n    - Write-Host \"building\"\n",
    "t:\n  script:\n    - echo $env:CI_COMMIT_SHA\n",
])
def test_jobs_that_run_powershell_are_not_read_as_bash(text: str) -> None:
    job = _job(text)
    assert runs_powershell(job) and job_scripts(job) == []


@pytest.mark.parametrize("text", [
    "t:\n  tags: [docker, linux]\n  script: [make]\n",
    "t:\n  tags: [twin-engine]\n  script: [make]\n",
    "t:\n  image: python:3.13\n  script: [echo $HOME]\n",
])
def test_ordinary_jobs_are_read_as_bash(text: str) -> None:
    assert not runs_powershell(_job(text))


# ------------------------------------------------------------------ through ShellCheck


@needs_binary
def test_findings_land_on_the_yaml_line_and_column(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    found = findings(cli, tmp_path, "test:\n  script:\n    - echo ok\n    - rm -rf $DIR\n    - |\n"
                                    "      echo first\n      rm -rf $TARGET/\n    - >\n      if [ $X = 1 ]; then\n"
                                    "      echo $Y; fi\n")
    assert {(4, 14, "SC2086"), (7, 14, "SC2086"), (9, 12, "SC2086"), (10, 12, "SC2086")} <= codes(found)
    assert all(f["severity"] != "error" for f in found)


@needs_binary
def test_a_job_is_checked_as_one_script(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # An `if` opened in before_script and closed in script parses only as one script.
    found = findings(cli, tmp_path, "test:\n  before_script:\n    - if true; then\n  script:\n"
                                    "    - echo inside\n    - fi\n")
    assert found == []


@needs_binary
def test_defaults_skip_what_the_runner_makes_moot_and_settings_change_them(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # errexit makes a bare cd safe; GitLab sets the variable; the tool reads the assignment.
    text = "test:\n  script:\n    - cd build\n    - echo \"$UNSET_BY_SCRIPT\"\n    - GOFLAGS=-mod=mod\n"
    assert findings(cli, tmp_path, text) == []
    manifest = "cifab: 1\nproject: x\nstack: go\nlint:\n  shellcheck:\n    include: [SC2034]\n"
    assert {(5, 7, "SC2034")} == codes(findings(cli, tmp_path, text, manifest))
    manifest = "cifab: 1\nproject: x\nstack: go\nlint:\n  shellcheck:\n    exclude: [SC2086]\n"
    assert findings(cli, tmp_path, "test:\n  script: [echo $A]\n", manifest) == []


@needs_binary
def test_identical_scripts_report_at_each_jobs_own_lines(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    found = findings(cli, tmp_path, "a:\n  script: [echo $A]\nb:\n  script: [echo $A]\n")
    assert {(2, 17, "SC2086"), (4, 17, "SC2086")} == codes(found)


@needs_binary
def test_a_shared_template_line_is_reported_once(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    found = findings(cli, tmp_path, ".t:\n  script: [echo $A]\na:\n  extends: .t\nb:\n  extends: .t\n")
    assert codes(found) == {(2, 17, "SC2086")} and len(found) == 1


@needs_binary
def test_a_script_too_long_to_check_is_an_info(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    items = "".join(f"    - w{i}\n" for i in range(runner.MAX_SCRIPT_LINES + 5))
    found = findings(cli, tmp_path, "test:\n  script:\n" + items)
    assert [f["severity"] for f in found] == ["info"] and "was not checked" in found[0]["message"]
    assert found[0]["line"] == 3


@needs_binary
def test_the_deadline_leaves_an_info_not_a_hang(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    manifest = "cifab: 1\nproject: x\nstack: go\nlint:\n  shellcheck:\n    timeout: 0.000001\n"
    found = findings(cli, tmp_path, "a:\n  script: [echo $A]\nb:\n  script: [echo $B]\n", manifest)
    assert [f["severity"] for f in found] == ["info"]
    assert "ShellCheck stopped after" in found[0]["message"] and "2 of 2 scripts" in found[0]["message"]


def test_without_the_binary_no_report_carries_a_note(cli, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "binary", lambda: None)
    (tmp_path / "ci.yml").write_text("build:\n  stage: build\n  script: make\n")
    for fmt in ("text", "json", "codequality", "junit", "sarif"):
        result = cli("lint", "ci.yml", "-f", fmt, cwd=tmp_path)
        assert result.exit_code == 0 and "not installed" not in result.output, fmt
    assert json.loads(cli("lint", "ci.yml", "-f", "codequality", cwd=tmp_path).stdout) == []


def test_without_the_binary_a_terminal_hears_it_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    from cifab.cli import _notes
    from cifab.lint.run import lint_paths

    monkeypatch.setattr(runner, "binary", lambda: None)
    for name in ("a.yml", "b.yml"):
        (tmp_path / name).write_text("build:\n  script: make\n")
    run = lint_paths([str(tmp_path / "a.yml"), str(tmp_path / "b.yml")], tmp_path, shellcheck=True)
    assert len(run.notes) == 1 and "pip install 'cifab[shellcheck]'" in run.notes[0]
    assert lint_paths([str(tmp_path / "a.yml")], tmp_path, shellcheck=False).notes == []
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    _notes(run.notes, "json")
    assert capsys.readouterr().err == ""
    _notes(run.notes, "text")
    assert capsys.readouterr().err == f"note: {run.notes[0]}\n"


@pytest.mark.parametrize(("manifest", "expect"), [
    ("lint:\n  ignroe: [x]\n", "did you mean 'ignore'?"),
    ("lint:\n  ignore: [stage-undefine]\n", "did you mean 'stage-undefined'?"),
    ("lint:\n  shellcheck:\n    exclude: [sc2086]\n", "a ShellCheck code such as SC2086"),
    ("lint:\n  shellcheck:\n    timeout: 0\n", "lint.shellcheck.timeout"),
])
def test_a_wrong_lint_section_is_an_error(cli, tmp_path: Path, manifest: str, expect: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "ci.yml").write_text("build:\n  script: make\n")
    (tmp_path / "cifab.yml").write_text("cifab: 1\nproject: x\nstack: go\n" + manifest)
    result = cli("lint", "ci.yml", "--no-shellcheck", cwd=tmp_path)
    assert result.exit_code == 2, result.output
    assert "cifab.yml:" in result.output and "manifest-invalid" in result.output and expect in result.output


# ------------------------------------------------------------------ verdicts kept between runs


def _logging_shellcheck(folder: Path, real: str) -> Path:
    """A `shellcheck` first on PATH that notes the scripts it is given, then runs the real one."""
    log = folder / "calls.log"
    wrapper = folder / "bin" / "shellcheck"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nfor a in "$@"; do case "$a" in *.sh) echo "$a" >> "{log}";; esac; done\n'
                       f'exec "{real}" "$@"\n')
    wrapper.chmod(0o755)
    return log


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    import os
    import subprocess

    real = runner.binary()
    assert real is not None
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    log = _logging_shellcheck(tmp_path, real)
    monkeypatch.setenv("PATH", f"{log.parent / 'bin'}{os.pathsep}{os.environ['PATH']}")
    return repo, log


def _checked(log: Path) -> int:
    count = len(log.read_text().splitlines()) if log.exists() else 0
    log.unlink(missing_ok=True)
    return count


PIPELINE = "a:\n  script: [echo $A]\nb:\n  script: [echo $B]\nc:\n  script: [echo ok]\n"


@needs_binary
def test_a_second_run_reuses_the_verdicts_and_reports_the_same(cli, checkout: tuple[Path, Path]) -> None:  # type: ignore[no-untyped-def]
    repo, log = checkout
    first = findings(cli, repo, PIPELINE)
    assert _checked(log) == 3 and codes(first) == {(2, 17, "SC2086"), (4, 17, "SC2086")}
    assert findings(cli, repo, PIPELINE) == first
    assert _checked(log) == 0
    # One script changed: only that one is read again.
    changed = findings(cli, repo, PIPELINE.replace("echo $B", "echo \"$B\""))
    assert _checked(log) == 1 and codes(changed) == {(2, 17, "SC2086")}


@needs_binary
def test_the_cache_stays_out_of_the_checkout_and_other_options_start_afresh(cli, checkout: tuple[Path, Path],  # type: ignore[no-untyped-def]
                                                                              own_cache: Path) -> None:
    import subprocess

    repo, log = checkout
    findings(cli, repo, PIPELINE)
    assert _checked(log) == 3
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=repo,
                            capture_output=True, text=True, check=True).stdout
    assert status.split() == ["??", "ci.yml"]
    assert len(list(own_cache.glob("shellcheck-*.json"))) == 1
    manifest = "cifab: 1\nproject: x\nstack: go\nlint:\n  shellcheck:\n    exclude: [SC2086]\n"
    assert findings(cli, repo, PIPELINE, manifest) == []
    assert _checked(log) == 3  # other exclusions are other verdicts


def _cache_file(own_cache: Path) -> Path:
    (cached,) = own_cache.glob("shellcheck-*.json")
    return cached


GOOD_COMMENT = {"line": 1, "endLine": 1, "column": 1, "endColumn": 2, "level": "info", "code": 2086,
                "message": "m"}


def _poison(verdict: object) -> str:
    return json.dumps({"format": 2, "verdicts": {"0" * 32: verdict}})


@needs_binary
@pytest.mark.parametrize("damage", [
    "{not json", '{"format": 2, "verdicts": []}', '{"format": 99}', '{"format": 2, "verdicts": {"x": 5}}',
    '{"format": 2, "verdicts": {"00000000000000000000000000000000": [{"line": 1e309}]}}',
    '{"format": 2, "verdicts": {"00000000000000000000000000000000": ' + "[" * 100_000 + "]" * 100_000 + "}}",
    _poison([{**GOOD_COMMENT, "line": True}]), _poison([{**GOOD_COMMENT, "code": 1e3}]),
    _poison([{**GOOD_COMMENT, "level": "fatal"}]), _poison([{**GOOD_COMMENT, "extra": 1}]),
    _poison([{**GOOD_COMMENT, "message": "x" * 100_000}]), _poison("[]"), "NaN", "[Infinity]",
])
def test_a_damaged_or_poisoned_cache_counts_as_empty(cli, checkout: tuple[Path, Path], own_cache: Path,  # type: ignore[no-untyped-def]
                                                     damage: str) -> None:
    repo, log = checkout
    first = findings(cli, repo, PIPELINE)
    cached = _cache_file(own_cache)
    good = json.loads(cached.read_text())
    # The damage beside the real verdicts: one bad entry spoils the whole file.
    cached.write_text(damage if not damage.startswith('{"format": 2, "verdicts": {"0') else
                      damage[:-2] + "," + json.dumps(good["verdicts"])[1:-1] + "}}")
    _checked(log)
    assert findings(cli, repo, PIPELINE) == first
    assert _checked(log) == 3 and json.loads(cached.read_text())["format"] == 2


def _forged_file(cli, repo: Path, own_cache: Path, log: Path) -> Path:  # type: ignore[no-untyped-def]
    """The cache file of a run, with every verdict emptied: what an attacker would plant."""
    findings(cli, repo, PIPELINE)
    cached = _cache_file(own_cache)
    data = json.loads(cached.read_text())
    data["verdicts"] = {key: [] for key in data["verdicts"]}
    cached.write_text(json.dumps(data))
    _checked(log)
    return cached


@needs_binary
def test_a_cache_file_git_tracks_is_never_trusted(cli, checkout: tuple[Path, Path], tmp_path: Path,  # type: ignore[no-untyped-def]
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    repo, log = checkout
    inside = repo / ".cache" / "cifab"  # CI points CIFAB_CACHE_DIR into the project, for GitLab's cache:
    monkeypatch.setenv("CIFAB_CACHE_DIR", str(inside))
    forged = _forged_file(cli, repo, inside, log)
    assert findings(cli, repo, PIPELINE) == []  # an untracked file is this machine's own: trusted
    subprocess.run(["git", "add", "-f", str(forged)], cwd=repo, check=True)
    assert codes(findings(cli, repo, PIPELINE)) == {(2, 17, "SC2086"), (4, 17, "SC2086")}
    assert _checked(log) == 3


@needs_binary
def test_a_committed_cifab_cache_folder_is_not_read(cli, checkout: tuple[Path, Path], own_cache: Path) -> None:  # type: ignore[no-untyped-def]
    repo, log = checkout
    forged = _forged_file(cli, repo, own_cache, log)
    (repo / ".cifab_cache").mkdir()  # where cifab kept verdicts before: planted by a merge request
    (repo / ".cifab_cache" / forged.name).write_text(forged.read_text())
    forged.unlink()
    assert codes(findings(cli, repo, PIPELINE)) == {(2, 17, "SC2086"), (4, 17, "SC2086")}


@needs_binary
def test_the_key_is_what_shellcheck_says_it_is_not_its_path(cli, checkout: tuple[Path, Path], own_cache: Path,  # type: ignore[no-untyped-def]
                                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from cifab.lint.shellcheck_cache import version

    repo, log = checkout
    findings(cli, repo, PIPELINE)
    assert _checked(log) == 3
    wrapper = log.parent / "bin" / "shellcheck"
    os.utime(wrapper, (1, 1))  # another mtime, same ShellCheck: the verdicts hold
    findings(cli, repo, PIPELINE)
    assert _checked(log) == 0
    text = wrapper.read_text()
    fake = 'case "$1" in --version) echo "ShellCheck version: 9.9"; exit 0;; esac\nexec'
    wrapper.write_text(text.replace("exec", fake))
    version.cache_clear()  # asked once per process; this test is one process for two runs
    findings(cli, repo, PIPELINE)  # another version: verdicts of its own
    assert _checked(log) == 3 and len(list(own_cache.glob("shellcheck-*.json"))) == 2


@needs_binary
def test_no_cache_when_asked(cli, checkout: tuple[Path, Path], own_cache: Path) -> None:  # type: ignore[no-untyped-def]
    repo, log = checkout
    (repo / "ci.yml").write_text(PIPELINE)
    assert cli("lint", "ci.yml", "--no-cache", cwd=repo).exit_code == 0
    (repo / "cifab.yml").write_text("cifab: 1\nproject: x\nstack: go\nlint:\n  shellcheck:\n    cache: false\n")
    assert cli("lint", "ci.yml", cwd=repo).exit_code == 0
    (repo / "cifab.yml").unlink()
    assert cli("lint", "ci.yml", cwd=repo, env={"CIFAB_CACHE_DIR": ""}).exit_code == 0
    assert not own_cache.exists() and _checked(log) == 9


def test_where_the_cache_lives() -> None:
    from cifab.files import cache_folder as location

    assert location({"CIFAB_CACHE_DIR": "/ci/cache", "HOME": "/home/u"}) == Path("/ci/cache")
    assert location({"CIFAB_CACHE_DIR": ""}) is None
    assert location({"XDG_CACHE_HOME": "/xdg", "HOME": "/home/u"}) == Path("/xdg/cifab")
    assert location({"XDG_CACHE_HOME": "relative", "HOME": "/home/u"}) == Path("/home/u/.cache/cifab")
    assert location({}) is None
