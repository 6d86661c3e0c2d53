"""ShellCheck on job scripts, with findings mapped back to the YAML line they came from."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from cifab.diagnostics import Finding, Severity
from cifab.gitlab import SCRIPT_KEYS
from cifab.lint.rules.base import Context, Rule
from cifab.yamlpos import Mark, YList

# CI variables are set by GitLab, not the script (SC2154), and unused assignments are
# often exports for later lines of the job (SC2034).
EXCLUDED = "SC2154,SC2034"
# A script ShellCheck dislikes still runs: GitLab never rejects a pipeline for it, and an
# error in cifab means "GitLab would refuse this". So its findings are at most warnings.
LEVELS = {"error": Severity.WARNING, "warning": Severity.WARNING}


class Snippet(NamedTuple):
    text: str
    mark: Mark
    first_line_offset: int  # 1 for block scalars: their text starts on the next line


def shellcheck_binary() -> str | None:
    """shellcheck on PATH, or the one the `shellcheck` extra installed beside this Python
    (a virtualenv used without activating it)."""
    found = shutil.which("shellcheck")
    if found:
        return found
    beside = Path(sys.executable).parent / ("shellcheck.exe" if os.name == "nt" else "shellcheck")
    return str(beside) if beside.is_file() else None


def _snippets(value: Any, mark: Mark, texts: dict[str, str]) -> Iterator[Snippet]:
    if isinstance(value, str):
        yield Snippet(value, mark, _offset(mark, texts))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            item_mark = value.item_mark(i) if isinstance(value, YList) else mark
            yield from _snippets(item, item_mark, texts)


def _offset(mark: Mark, texts: dict[str, str]) -> int:
    src, line, col = mark
    text = texts.get(src)
    if text is None:
        return 0
    lines = text.split("\n", line)
    current = lines[line - 1] if len(lines) >= line else ""
    return 1 if current[col - 1 : col] in ("|", ">") else 0


def collect(ctx: Context) -> list[Snippet]:
    texts = dict(ctx.pipeline.texts())
    seen: dict[Mark, Snippet] = {}
    for job in ctx.pipeline.visible_jobs:
        if not isinstance(job.config, dict):
            continue
        for key in SCRIPT_KEYS:
            if key in job.config:
                for snip in _snippets(job.config[key], job.value_mark(key), texts):
                    seen.setdefault(snip.mark, snip)  # shared through extends or default: check once
    return list(seen.values())


def run(snippets: list[Snippet], binary: str) -> Iterator[Finding]:
    import json
    import subprocess
    import tempfile

    if not snippets:
        return
    with tempfile.TemporaryDirectory(prefix="cifab-sc-") as tmp:
        paths = []
        for i, snip in enumerate(snippets):
            path = Path(tmp, f"{i}.sh")
            path.write_text(snip.text + "\n", encoding="utf-8")
            paths.append(str(path))
        proc = subprocess.run(
            [binary, "--format=json1", "--shell=bash", f"--exclude={EXCLUDED}", *paths],
            capture_output=True, text=True, check=False, timeout=120,
            env={**os.environ, "SHELLCHECK_OPTS": ""},
        )
    try:
        comments = json.loads(proc.stdout or "{}").get("comments", [])
    except json.JSONDecodeError:
        yield SHELLCHECK.finding(snippets[0].mark, f"shellcheck failed: {proc.stderr.strip()[:200]}",
                                 severity=Severity.INFO)
        return
    for comment in comments:
        index = int(Path(comment["file"]).stem)
        snip = snippets[index]
        src, line, col = snip.mark
        rel = comment["line"] - 1
        at_line = line + snip.first_line_offset + rel
        at_col = col if rel == 0 and not snip.first_line_offset else comment.get("column", 1)
        yield SHELLCHECK.finding((src, at_line, at_col), f"SC{comment['code']}: {comment['message']}",
                                 f"https://www.shellcheck.net/wiki/SC{comment['code']}",
                                 LEVELS.get(comment["level"], Severity.INFO))


def check(ctx: Context) -> Iterable[Finding]:
    binary = shellcheck_binary()
    if binary is None:
        yield SHELLCHECK.finding((ctx.pipeline.root.src, 0, 0),
                                 "shellcheck is not installed, so scripts were not checked",
                                 "pip install 'cifab[shellcheck]'", severity=Severity.INFO)
        return
    yield from run(collect(ctx), binary)


SHELLCHECK = Rule(
    "shellcheck", Severity.WARNING, "job scripts should pass ShellCheck",
    "Runs ShellCheck (from the optional `shellcheck` extra) on `before_script`, `script` and "
    "`after_script` of every job and maps each finding to its YAML line. It runs whenever the "
    "binary is installed (`--no-shellcheck` skips it); without the binary it says so as info. "
    "ShellCheck's errors are warnings here: GitLab runs such scripts all the same.",
    bad="test:\n  script:\n    - cd $DIR && make test\n    - if [ $X = 1 ]; then echo one; fi\n",
    good="test:\n  script:\n    - cd \"$DIR\" && make test\n    - if [ \"$X\" = 1 ]; then echo one; fi\n",
    check=check,
)
