"""Adding GitLab's verdict to a lint run: the plain function behind `lint --remote`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cifab.lint.run import LintRun
from cifab.pipeline.yamlpos import YamlError, load_text
from cifab.remote import lint as remote_lint
from cifab.remote.settings import RemoteOptions, Settings


@dataclass
class RemoteReport:
    jobs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # per file
    merged: dict[str, str] = field(default_factory=dict)  # per file


def add_remote(run: LintRun, options: RemoteOptions, settings: Settings) -> RemoteReport:
    """Ask GitLab about every file that parsed; merge its findings into the run."""
    report = RemoteReport()
    for src in run.paths:
        text = run.sources.get(src)
        if text is None:
            continue  # could not be read or decoded: offline findings already say why
        result = remote_lint.lint_content(settings, text, dry_run=options.dry_run, ref=options.ref,
                                          include_jobs=options.include_jobs)
        try:
            doc = load_text(text, src).data
        except YamlError:
            doc = None
        run.findings = remote_lint.merge(run.findings, remote_lint.findings(result, src, doc))
        if result.jobs:
            report.jobs[src] = result.jobs
        if result.merged_yaml:
            report.merged[src] = result.merged_yaml
    return report

