"""The README's console sessions, replayed: each `$ command` runs in bash in a fresh folder
with the installed cifab on PATH, and what it prints is what the README must show.

A session is a ```console block preceded by `<!-- transcript: SETUP -->`. SETUP is `go-repo`
(go.mod, main.go, main_test.go and a Dockerfile, as the README says) or `files`: the ```yaml
blocks between the marker and the session whose first line is `# file: NAME` are written
first. Checksums differ run to run only if the output differs, so they are compared as they
are. Run `python -m tests.readme_transcripts` to rewrite the sessions from real output.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"<!-- transcript: (?P<setup>[\w-]+) -->\n(?P<between>.*?)```console\n(?P<body>.*?)```", re.S)
FILE_BLOCK = re.compile(r"```yaml\n# file: (?P<name>\S+)\n(?P<text>.*?)```", re.S)
SEPARATOR = "\x1e-- next --\x1e"


@dataclass
class Session:
    setup: str
    files: dict[str, str]
    commands: list[str]
    expected: list[str]  # each command's output as the README shows it
    span: tuple[int, int]  # where the body sits in the README


def sessions(readme: str) -> list[Session]:
    found = []
    for match in MARKER.finditer(readme):
        files = {m["name"]: m["text"] for m in FILE_BLOCK.finditer(match["between"])}
        commands: list[str] = []
        expected: list[str] = []
        for line in match["body"].splitlines(keepends=True):
            if line.startswith("$ "):
                commands.append(line[2:].rstrip("\n"))
                expected.append("")
            elif expected:
                expected[-1] += line
        found.append(Session(match["setup"], files, commands, expected, match.span("body")))
    return found


def _go_repo(root: Path) -> None:
    (root / "go.mod").write_text("module github.com/acme/hello\n\ngo 1.26.1\n")
    (root / "main.go").write_text('package main\n\nvar version = "dev"\n\nfunc main() { println("hello", version) }\n')
    (root / "main_test.go").write_text('package main\n\nimport "testing"\n\nfunc TestMain(t *testing.T) {}\n')
    (root / "Dockerfile").write_text("FROM scratch\nCOPY hello /hello\n")


def replay(session: Session) -> list[str]:
    """What each command of the session prints, run for real."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp, "repo")
        root.mkdir()
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
        if session.setup == "go-repo":
            _go_repo(root)
        for name, text in session.files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text)
        # $? survives the separator: `echo $?` reports the command before it.
        script = "status=0\n" + "".join(f"printf '%s' '{SEPARATOR}'\n(exit $status)\n{command} 2>&1\nstatus=$?\n"
                                         for command in session.commands)
        env = {**{k: v for k, v in os.environ.items() if not k.startswith(("CIFAB_", "GITLAB_"))},
               "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
               "NO_COLOR": "1", "COLUMNS": "100"}
        env.pop("FORCE_COLOR", None)
        proc = subprocess.run(["bash", "-c", script], cwd=root, capture_output=True, text=True, env=env,
                              timeout=120, check=False)
    return proc.stdout.split(SEPARATOR)[1:]


def rewrite(readme: str) -> str:
    """The README with every session's output replaced by what the commands print now."""
    out = readme
    for session in reversed(sessions(readme)):
        body = "".join(f"$ {command}\n{printed}" for command, printed in zip(session.commands, replay(session),
                                                                            strict=True))
        start, end = session.span
        out = out[:start] + body + out[end:]
    return out


if __name__ == "__main__":
    path = REPO / "README.md"
    path.write_text(rewrite(path.read_text()))
