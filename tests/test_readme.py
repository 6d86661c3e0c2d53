"""The README's promises: two quick-start commands, .ci/run, real output, the reference."""

from __future__ import annotations

import re

from cifab.manifest import reference as docs
from tests.conftest import REPO

README = (REPO / "README.md").read_text()


def quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, re.S)]


def test_quick_start_has_exactly_two_commands() -> None:
    commands = quick_start_commands()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)
    assert "cifab generate" in commands[0] and "examples/" in commands[0]
    assert "pytest" in commands[1] and ".[test]" in commands[1]


def test_quick_start_is_the_first_section() -> None:
    headings = re.findall(r"^## (.+)$", README, re.M)
    assert headings[0] == "Quick start"
    intro = [line for line in README.split("## Quick start")[0].splitlines() if line.strip()]
    assert len(intro) <= 4  # the title and three lines


def test_ci_run_runs_the_readme_test_command() -> None:
    ci_run = (REPO / ".ci" / "run").read_text()
    assert quick_start_commands()[1].replace(" -q", "") in ci_run.replace(" -q", "")


def test_manifest_reference_is_generated_from_the_schema() -> None:
    assert docs.manifest_reference() in README


def test_every_rule_is_listed_in_the_readme() -> None:
    from cifab.lint.rules import ALL_RULES

    for rule in ALL_RULES:
        assert f"\n{rule.id} " in README, rule.id


def test_readme_sessions_show_what_the_commands_print() -> None:
    from tests.readme_transcripts import replay, sessions

    found = sessions(README)
    assert len(found) >= 4
    for session in found:
        for command, shown, printed in zip(session.commands, session.expected, replay(session), strict=True):
            assert printed == shown, f"README session `$ {command}` is stale: run python -m tests.readme_transcripts"
