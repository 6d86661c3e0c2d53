"""Lint files from disk or stdin: the plain function behind `cifab lint`."""

from __future__ import annotations

from pathlib import Path

from cifab.diagnostics import Finding, Severity
from cifab.errors import EXIT_FINDINGS, EXIT_USAGE
from cifab.lint.engine import Options, lint_text
from cifab.lint.settings import LintSettings
from cifab.pipeline.load import display_name, include_root, read_source
from cifab.pipeline.yamlpos import SYNTAX, YamlError

# A finding with one of these ids means the file could not be parsed at all: exit 2.
UNPARSEABLE = frozenset({SYNTAX.id})


class LintRun:
    def __init__(self, paths: list[str]) -> None:
        self.paths = paths
        self.findings: list[Finding] = []
        self.sources: dict[str, str] = {}
        self.unparseable = False
        # Said once, on a terminal only: about the run, not about any file, so never a finding.
        self.notes: list[str] = []

    def exit_code(self, fail_on: Severity | str) -> int:
        if self.unparseable:
            return EXIT_USAGE
        threshold = Severity.parse(fail_on) if isinstance(fail_on, str) else fail_on
        return EXIT_FINDINGS if any(f.severity >= threshold for f in self.findings) else 0


def lint_paths(paths: list[str], root: Path | None = None, settings: LintSettings | None = None,
               shellcheck: bool = False) -> LintRun:
    run = LintRun(paths=[display_name(p) for p in paths])
    if shellcheck:
        from cifab.lint.shellcheck import binary

        if binary() is None:
            run.notes.append("ShellCheck is not installed, so scripts were not checked: "
                             "pip install 'cifab[shellcheck]' (or --no-shellcheck to skip this note)")
    for path, src in zip(paths, run.paths, strict=True):
        try:
            _, text = read_source(path)
        except YamlError as exc:
            run.findings.append(SYNTAX.at(exc.src, exc.line, exc.col, exc.message))
            run.unparseable = True
            continue
        run.sources[src] = text
        file_root, verified = include_root(path, root)
        options = Options(root=file_root, root_verified=verified, settings=settings or LintSettings(),
                          shellcheck=shellcheck)
        found = lint_text(text, src, options)
        if any(f.rule_id in UNPARSEABLE and f.src == src for f in found):
            run.unparseable = True
        run.findings.extend(found)
    return run
