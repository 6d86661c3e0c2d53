"""ShellCheck on job scripts as the runner runs them, findings mapped back to the YAML."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from cifab.diagnostics import Finding, Severity
from cifab.lint import shellcheck as runner
from cifab.lint.rules.base import Context, Rule
from cifab.lint.scripts import Script, Sources, job_scripts, position

# A script ShellCheck dislikes still runs: GitLab never rejects a pipeline for it, and an
# error in cifab means "GitLab would refuse this". So its findings are at most warnings.
LEVELS = {"error": Severity.WARNING, "warning": Severity.WARNING}


def collect(ctx: Context) -> tuple[list[str], list[list[Script]]]:
    """The distinct script texts, and for each the jobs' scripts that read that way."""
    index: dict[str, int] = {}
    owners: list[list[Script]] = []
    for job in ctx.pipeline.visible_jobs:
        for script in job_scripts(job):
            at = index.setdefault(script.text, len(index))
            if at == len(owners):
                owners.append([])
            owners[at].append(script)
    return list(index), owners


def check(ctx: Context) -> Iterable[Finding]:
    return begin(ctx)()


def begin(ctx: Context, cache_folder: Path | None = None) -> Callable[[], Iterable[Finding]]:
    """Start ShellCheck now and return what collects its findings: the engine runs the other
    rules in between, so ShellCheck's processes and cifab's own work share the cores."""
    program = runner.binary()
    if program is None:
        return list  # said once per run, on a terminal (LintRun.notes), not in every report
    texts, owners = collect(ctx)
    if not texts:
        return list
    pending = runner.start(program, texts, list(ctx.settings.shellcheck_exclude),
                           ctx.settings.shellcheck_timeout, cache_folder)
    return lambda: _findings(ctx, texts, owners, pending.outcome())


def _findings(ctx: Context, texts: list[str], owners: list[list[Script]], outcome: runner.Outcome) -> list[Finding]:
    root = (ctx.pipeline.root.src, 0, 0)
    out: list[Finding] = []
    sources = Sources(dict(ctx.pipeline.texts()))
    for at, comments in sorted(outcome.comments.items()):
        for script in owners[at]:
            for comment in comments:
                found = _finding(script, comment, sources)
                if found is not None:
                    out.append(found)
    for at in outcome.too_long:
        for script in owners[at]:
            first = next((p.mark for p in script.pieces), root)
            out.append(SHELLCHECK.finding(first, f"this job's script is {texts[at].count(chr(10)):,} lines long; "
                                          f"ShellCheck checks scripts of up to {runner.MAX_SCRIPT_LINES:,} lines "
                                          f"and {runner.MAX_SCRIPT_BYTES:,} bytes, so it was not checked",
                                          severity=Severity.INFO))
    if outcome.timed_out:
        out.append(SHELLCHECK.finding(root, f"ShellCheck stopped after {ctx.settings.shellcheck_timeout:g} s: "
                                      f"{outcome.timed_out:,} of {len(texts):,} scripts were not checked",
                                      "raise lint.shellcheck.timeout in cifab.yml", severity=Severity.INFO))
    if outcome.failure:
        out.append(SHELLCHECK.finding(root, outcome.failure, severity=Severity.INFO))
    return out


def _finding(script: Script, comment: dict[str, Any], sources: Sources) -> Finding | None:
    try:
        line, column, code = int(comment["line"]), int(comment.get("column", 1)), int(comment["code"])
    except (KeyError, TypeError, ValueError):
        return None
    mark = position(script, line, column, sources)
    if mark is None:
        return None  # on the runner's prelude
    return SHELLCHECK.finding(mark, f"SC{code}: {comment.get('message', '')}",
                              f"https://www.shellcheck.net/wiki/SC{code}",
                              LEVELS.get(str(comment.get("level")), Severity.INFO))


def _excluded_doc() -> str:
    return " ".join(f"{code} ({why})." for code, why in runner.DEFAULT_EXCLUDED.items())


SHELLCHECK = Rule(
    "shellcheck", Severity.WARNING, "job scripts should pass ShellCheck",
    "Runs ShellCheck (from the optional `shellcheck` extra) on each job's scripts as "
    "gitlab-runner runs them: `before_script` and `script` as one bash script, `after_script` "
    "as another, each after the runner's `set -o pipefail -o errexit` (so a `cd` without `|| exit` "
    "is fine, as ShellCheck knows). Findings point at the "
    "line and column of the YAML they came from. Identical scripts are checked once, in "
    "parallel across the cores; jobs that run PowerShell (Windows runners, PowerShell images) "
    "are skipped. ShellCheck's errors are warnings here: GitLab runs such scripts all the same. "
    "A script over 2,000 lines is not checked, and the whole run stops after "
    "`lint.shellcheck.timeout` seconds (60 by default); an info finding says what was left out. "
    f"Skipped by default: {_excluded_doc()} `lint.shellcheck.exclude` and "
    "`lint.shellcheck.include` in cifab.yml change the list. `--no-shellcheck` skips the rule; "
    "without the binary, lint says so once on a terminal, and reports stay free of it.",
    bad="test:\n  script:\n    - rm -rf $DIR/build\n    - if [ $X = 1 ]; then echo one; fi\n",
    good="test:\n  script:\n    - rm -rf \"$DIR/build\"\n    - if [ \"$X\" = 1 ]; then echo one; fi\n",
    check=check,
)
