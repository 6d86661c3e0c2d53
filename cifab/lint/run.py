"""Lint files from disk or stdin: the plain function behind `cifab lint`."""

from __future__ import annotations

import sys
from pathlib import Path

from cifab.diagnostics import Finding, Severity
from cifab.errors import EXIT_FINDINGS, EXIT_USAGE, CifabError
from cifab.files import Refused, read_limited, repository_root
from cifab.lint.engine import Options, lint_text
from cifab.lint.recorded import SYNTAX
from cifab.lint.settings import LintSettings
from cifab.yamlpos import MAX_BYTES, YamlError, check_size, decode

STDIN = "-"
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


def _read(path: str) -> bytes:
    """At most one byte more than GitLab's file limit: the size check says the rest."""
    if path == STDIN:
        return sys.stdin.buffer.read(MAX_BYTES + 1)
    try:
        return read_limited(Path(path), MAX_BYTES)
    except FileNotFoundError:
        raise CifabError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CifabError(f"{path}: is a directory; name the CI file, e.g. {path}/.gitlab-ci.yml") from None
    except Refused as exc:
        raise CifabError(f"{path}: {exc}; name a CI file") from None
    except OSError as exc:
        raise CifabError(f"{path}: cannot read it: {exc.strerror}") from None


def include_root(path: str, root: Path | None) -> tuple[Path | None, bool]:
    """(root, verified) for one linted file: --root wins, then the git checkout around
    the file, then the file's own folder (unverified)."""
    if root is not None:
        return root, True
    if path == STDIN:
        return None, True
    folder = Path(path).resolve().parent
    repo = repository_root(folder)
    return (repo, True) if repo is not None else (folder, False)


def display_name(path: str) -> str:
    return "<stdin>" if path == STDIN else path


def read_source(path: str) -> tuple[str, str]:
    """(display name, text) of a file or stdin; YamlError when it is too big or not text."""
    src = display_name(path)
    raw = _read(path)
    # Size and encoding are checked on the bytes, before any decoding work.
    check_size(len(raw), src, MAX_BYTES)
    return src, decode(raw, src)


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
