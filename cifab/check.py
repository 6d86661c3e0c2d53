"""`cifab check`: the merge-request gate. In sync with cifab.yml, clean offline, and (with a
token) accepted by GitLab, in one command."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cifab.contract import DRIFT
from cifab.errors import ProblemsError
from cifab.files import first_time
from cifab.frames import read_sources
from cifab.generate import plan as generate
from cifab.lint.run import LintRun, lint_paths
from cifab.manifest.lint_section import load_settings
from cifab.remote.run import add_remote
from cifab.remote.settings import RemoteError, RemoteOptions, token_available

REMOTE_NOTE = ("GitLab's CI Lint API was not asked: no GITLAB_TOKEN (see README). cifab says this once; "
               "--remote asks, --no-remote keeps it quiet")


@dataclass
class CheckResult:
    run: LintRun
    diff: str = ""
    remote_error: RemoteError | None = None
    notes: list[str] = field(default_factory=list)
    in_sync: list[str] = field(default_factory=list)  # generated files that match the manifest


def check(manifest_path: Path, output_path: Path | None = None, remote: bool | None = None,
          options: RemoteOptions | None = None, shellcheck: bool = True) -> CheckResult:
    """remote: True always asks GitLab, False never, None when a token is available."""
    options = options or RemoteOptions()
    # No lint of the rendered text here: the committed files are linted below, and when
    # they are in sync they are the same text.
    try:
        plan = generate.plan(manifest_path, output_path, lint=False)
    except ProblemsError as exc:  # a broken manifest: its problems are the report, in any format
        run = LintRun([str(manifest_path)])
        run.findings.extend(exc.problems)
        run.sources.update(read_sources(exc.problems))
        run.unparseable = True
        return CheckResult(run)
    missing = [f.path for f in plan.files if f.current is None]
    if missing:
        run = LintRun([str(p) for p in missing])
        run.findings.extend(DRIFT.at(str(p), 0, 0, f"{p} does not exist: run `cifab generate`") for p in missing)
        return CheckResult(run, plan.diff())
    run = lint_paths([str(f.path) for f in plan.files], settings=load_settings(manifest_path),
                     shellcheck=shellcheck)
    result = CheckResult(run)
    result.in_sync = [str(f.path) for f in plan.files if f.in_sync]
    if not plan.in_sync:
        result.diff = plan.diff()
        for f in plan.files:
            if not f.in_sync:
                run.findings.insert(0, DRIFT.at(str(f.path), 1, 1, f"{f.path.name} is out of date with "
                                                f"{manifest_path.name}: {f.advice()}"))
    ask = remote if remote is not None else token_available(options.profile)
    if not ask:
        if remote is None and first_time("remote_lint_note"):
            result.notes.append(REMOTE_NOTE)
        return result
    try:
        add_remote(run, options, options.settings(manifest_path.parent.resolve()))
    except RemoteError as exc:
        result.remote_error = exc
    return result
