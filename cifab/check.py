"""`cifab check`: the merge-request gate. In sync with cifab.yml, clean offline, and (with a
token) accepted by GitLab, in one command."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cifab import generate
from cifab.lint.findings import Finding, Severity
from cifab.lint.run import LintRun, lint_paths
from cifab.lint.settings import ignored_rules
from cifab.remote.run import RemoteOptions, add_remote
from cifab.remote.settings import RemoteError, token_available

DRIFT_RULE = "generated-drift"


@dataclass
class CheckResult:
    run: LintRun
    diff: str = ""
    remote_checked: bool = False
    remote_error: RemoteError | None = None
    notes: list[str] = field(default_factory=list)


def check(manifest_path: Path, output_path: Path | None = None, remote: bool | None = None,
          options: RemoteOptions | None = None, shellcheck: bool = True) -> CheckResult:
    """remote: True always asks GitLab, False never, None when a token is available."""
    options = options or RemoteOptions()
    plan = generate.plan(manifest_path, output_path)
    target = plan.output_path
    if plan.current is None:
        run = LintRun([str(target)])
        run.findings.append(Finding(str(target), 0, 0, DRIFT_RULE, Severity.ERROR,
                                    f"{target} does not exist: run `cifab generate`"))
        return CheckResult(run, plan.diff())
    run = lint_paths([str(target)], ignore=ignored_rules(manifest_path), shellcheck=shellcheck)
    result = CheckResult(run)
    if not plan.in_sync:
        result.diff = plan.diff()
        run.findings.insert(0, Finding(str(target), 1, 1, DRIFT_RULE, Severity.ERROR,
                                       f"{target.name} is out of date with {manifest_path.name}: "
                                       "run `cifab generate` and commit the result"))
    ask = remote if remote is not None else token_available(options.profile)
    if not ask:
        result.notes.append("GitLab's CI Lint API was not asked: no GITLAB_TOKEN (see README)")
        return result
    try:
        add_remote(run, options, options.settings(manifest_path.parent.resolve()))
        result.remote_checked = True
    except RemoteError as exc:
        result.remote_error = exc
    return result
