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


COMMANDS = ("init", "generate", "schema", "lint", "check", "graph", "jobs", "diff", "rules", "explain", "templates")


def test_help_lists_every_command_in_its_table() -> None:
    import re

    proc = run("-m", "cifab", "--help")
    assert proc.returncode == 0
    table = proc.stdout.split("Commands", 1)[1]
    listed = re.findall(r"^│ (\S+) {2,}\S", table, re.M)
    assert tuple(listed) == COMMANDS


def test_each_command_has_help_of_its_own() -> None:
    from cifab.cli import app

    summaries = {info.callback.__name__: (info.callback.__doc__ or "").split(".")[0] for info in app.registered_commands
                 if info.callback is not None}
    for command in COMMANDS[:-1]:  # templates is a group: its help lists list and show
        proc = run("-m", "cifab", command, "--help")
        assert proc.returncode == 0 and f"Usage: cifab {command} " in proc.stdout, command
        assert " ".join(summaries[command].split()[:4]) in " ".join(proc.stdout.split()), command


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


def test_rules_lists_every_rule_once_with_its_file(cli) -> None:  # type: ignore[no-untyped-def]
    from cifab.registry import RULES, rule_file

    result = cli("rules")
    lines = result.stdout.splitlines()
    assert result.exit_code == 0 and len(lines) == len(RULES)
    for line, rule in zip(lines, RULES, strict=True):
        assert line.split()[:3] == [rule.id, str(rule.severity), rule_file(rule)] and rule.summary in line


def test_explain_prints_the_docs_and_both_examples(cli) -> None:  # type: ignore[no-untyped-def]
    from cifab.registry import BY_ID

    rule = BY_ID["needs-cycle"]
    result = cli("explain", "needs-cycle")
    assert result.exit_code == 0 and result.stdout.startswith(f"needs-cycle (error): {rule.summary}\n")
    fails, passes = result.stdout.split("Fails:\n", 1)[1].split("Passes:\n", 1)
    assert fails.strip().splitlines()[0] == rule.bad.splitlines()[0] and passes.strip().splitlines()[0] == \
        rule.good.splitlines()[0]
    result = cli("explain", "need-cycle")
    assert result.exit_code == 2 and "did you mean needs-cycle?" in result.stderr


def test_schema_prints_the_manifest_schema_and_its_reference(cli) -> None:  # type: ignore[no-untyped-def]
    import json

    from cifab.manifest.reference import BEGIN
    from cifab.manifest.schema import schema

    result = cli("schema")
    assert result.exit_code == 0 and json.loads(result.stdout) == schema()
    result = cli("schema", "--format", "markdown")
    assert result.exit_code == 0 and result.stdout.startswith(BEGIN) and "| `stack` |" in result.stdout


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


def test_the_process_ends_with_all_of_its_output_and_its_exit_code(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The console script skips the interpreter's teardown (cifab.entry.leave): what it
    # printed must still arrive whole, through a pipe, well past one buffer's size.
    jobs = "".join(f"j{i}:\n  stage: nope\n  script: make\n" for i in range(400))
    (tmp_path / "ci.yml").write_text("stages: [test]\n" + jobs)
    proc = run("-m", "cifab", "lint", "--no-shellcheck", str(tmp_path / "ci.yml"))
    assert proc.returncode == 1
    assert len(proc.stdout) > 65536 and proc.stdout.endswith("400 errors in 1 file\n")
    assert proc.stdout.count("error stage-undefined") == 400
