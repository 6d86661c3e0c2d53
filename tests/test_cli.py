"""The command line as a process: version, help, lazy imports, python -m."""

from __future__ import annotations

import os
import subprocess
import sys

from cifab import __version__


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, check=False)


def test_version() -> None:
    proc = run("-m", "cifab", "--version")
    assert proc.returncode == 0 and proc.stdout == f"cifab {__version__}\n"


def test_help_lists_the_commands() -> None:
    proc = run("-m", "cifab", "--help")
    assert proc.returncode == 0
    for command in ("init", "generate", "lint", "rules", "explain", "schema"):
        assert command in proc.stdout


def test_no_arguments_shows_help_not_a_traceback() -> None:
    proc = run("-m", "cifab")
    assert "Usage" in proc.stdout + proc.stderr and "Traceback" not in proc.stderr


def test_heavy_modules_are_not_imported_at_start_up() -> None:
    code = ("import sys, cifab.cli; heavy = {'jinja2', 'gitlab', 'jsonschema_rs', 'requests', 'rich', "
            "'check_jsonschema', 'pydantic'}; print(sorted(heavy & set(sys.modules)))")
    proc = run("-c", code)
    assert proc.stdout.strip() == "[]", proc.stdout


def test_lint_does_not_import_jinja_or_gitlab() -> None:
    code = ("import sys; from cifab.lint.engine import lint_text; lint_text('a:\\n  script: x\\n', 'x'); "
            "print(sorted({'jinja2', 'gitlab', 'requests', 'rich'} & set(sys.modules)))")
    proc = run("-c", code)
    assert proc.stdout.strip() == "[]", proc.stdout + proc.stderr


def test_unknown_command_is_a_usage_error() -> None:
    proc = run("-m", "cifab", "frobnicate")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_rules_and_explain(cli) -> None:
    result = cli("rules")
    assert result.exit_code == 0 and "needs-cycle" in result.stdout
    result = cli("explain", "needs-cycle")
    assert result.exit_code == 0 and "Fails:" in result.stdout and "Passes:" in result.stdout
    result = cli("explain", "need-cycle")
    assert result.exit_code == 2 and "did you mean needs-cycle?" in result.stderr


def test_the_one_command_fast_path_behaves_like_the_full_app(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ci = tmp_path / "ci.yml"
    ci.write_text("test:\n  stage: tests\n  script: x\n")
    proc = subprocess.run([sys.executable, "-m", "cifab", "lint", "--no-shellcheck", str(ci)], capture_output=True,
                          text=True, check=False, env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"})
    full = cli("lint", "--no-shellcheck", str(ci))
    assert (proc.returncode, proc.stdout) == (full.exit_code, full.stdout) == (1, full.stdout)
    usage = subprocess.run([sys.executable, "-m", "cifab", "lint", "--bogus"], capture_output=True, text=True,
                           check=False)
    assert usage.returncode == 2 and "cifab lint" in usage.stderr


def test_unreadable_manifest_is_a_message_not_a_traceback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "cifab.yml"
    folder.mkdir()  # readable by nobody as a file, root included
    proc = run("-m", "cifab", "generate", "--manifest", str(folder))
    assert proc.returncode == 2 and "cannot read it" in proc.stderr and "Traceback" not in proc.stderr


def test_an_unexpected_error_is_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    code = ("import sys; from cifab import cli; sys.argv = ['cifab', 'lint', 'x.yml']\n"
            "def boom(*a, **k): raise RuntimeError('boom')\n"
            "cli._dispatch = boom\n"
            "sys.exit(cli.main())")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=tmp_path)
    assert proc.returncode == 70
    assert "internal error (RuntimeError: boom)" in proc.stderr and "Traceback" not in proc.stderr


def test_main_returns_the_exit_code_and_prints_one_line(tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from cifab.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["--version"]) == 0
    assert main(["lint", "missing.yml"]) == 2
    assert main(["lint", "--fail-on", "fatal", "x.yml"]) == 2
    err = capsys.readouterr().err
    assert "cifab: missing.yml: no such file\n" in err and "'fatal' is not one of 'error'" in err
    assert "Traceback" not in err


def test_debug_shows_the_traceback_and_keeps_exit_70(tmp_path) -> None:  # type: ignore[no-untyped-def]
    code = ("import sys; from cifab import cli\n"
            "def boom(*a, **k): raise RuntimeError('boom')\n"
            "cli._dispatch = boom\n"
            "sys.exit(cli.main(['lint']))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=tmp_path,
                          env={**os.environ, "CIFAB_DEBUG": "1"})
    assert proc.returncode == 70
    assert "Traceback" in proc.stderr and "RuntimeError: boom" in proc.stderr
