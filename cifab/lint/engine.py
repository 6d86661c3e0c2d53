"""Run the rules over one pipeline file and collect findings."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from cifab.diagnostics import Finding, Mark, Severity
from cifab.lint.rules import RULES, Context
from cifab.lint.rules.gitlab import RULE as SCHEMA
from cifab.lint.rules.shellcheck import SHELLCHECK
from cifab.lint.rules.shellcheck import begin as begin_shellcheck
from cifab.lint.settings import LintSettings
from cifab.lint.suppress import inline_ignores
from cifab.pipeline.config import build_pipeline
from cifab.pipeline.yamlpos import SYNTAX, YamlError, load_text, no_gc
from cifab.spelling import reset_hints


class Options(NamedTuple):
    root: Path | None = None  # repository root for local includes; None for stdin
    # False when root is only the file's folder (no git checkout found): a local include
    # missing there may exist in the real repository, so it is reported as unresolved.
    root_verified: bool = True
    settings: LintSettings = LintSettings()
    shellcheck: bool = False

    @property
    def ignore(self) -> frozenset[str]:
        return self.settings.ignore

    @property
    def cache_folder(self) -> Path | None:
        """Where ShellCheck's verdicts are kept between runs (cifab.lint.shellcheck_cache):
        outside the checkout, unless the user points CIFAB_CACHE_DIR elsewhere."""
        if not self.settings.shellcheck_cache:
            return None
        from cifab.files import cache_folder

        return cache_folder()


# The last linted file's model stays alive after its lint: the console script ends the
# process without freeing it (cifab.entry.leave), which saves the time that freeing a large
# pipeline's several hundred thousand objects takes. One model at most is kept.
_last: list[Context] = []


def lint_text(text: str, src: str, options: Options | None = None) -> list[Finding]:
    """All findings for one file's text, sorted by position."""
    with no_gc():
        return _lint(text, src, options or Options())


def _lint(text: str, src: str, options: Options) -> list[Finding]:
    reset_hints()
    try:
        loaded = load_text(text, src)
    except YamlError as exc:
        return _filter([SYNTAX.at(exc.src, exc.line, exc.col, exc.message)], options, [(src, text)])
    pipeline = build_pipeline(loaded, options.root, options.root_verified)
    ctx = Context(pipeline, options.settings, options.root)
    _last[:] = [ctx]
    # ShellCheck starts first and works in other processes while the rules below run.
    shellcheck = (begin_shellcheck(ctx, options.cache_folder)
                  if options.shellcheck and SHELLCHECK.id not in options.ignore else list)
    # What the model found while it resolved includes, extends and !reference.
    findings: list[Finding] = [f for f in pipeline.findings if f.rule_id not in options.ignore]
    for rule in RULES:
        if rule.check is not None and rule.id not in options.ignore:
            findings.extend(rule.check(ctx))
    findings.extend(shellcheck())
    findings = _outside_outlines(findings, pipeline.outlines)
    kept = _filter(_prefer_semantic(findings), options, pipeline.texts())
    return collapse_repeats(kept, set(pipeline.jobs))


def _outside_outlines(findings: list[Finding], outlines: dict[str, Mark]) -> list[Finding]:
    """cifab's outline of a GitLab template (known_templates) is not the user's to fix: its
    warnings go, and its errors (GitLab refusing the pipeline, as when the stages lack the
    template's stage) move to the include entry that named the template."""
    out = []
    for f in findings:
        included_at = outlines.get(f.src)
        if included_at is None:
            out.append(f)
        elif f.severity is Severity.ERROR:
            src, line, col = included_at
            out.append(f._replace(src=src, line=line, col=col, message=f"{f.message} (from {f.src.strip('<>')})"))
    return out


def collapse_repeats(findings: list[Finding], job_names: set[str]) -> list[Finding]:
    """One finding per template line: when a rule reports the same place once per job
    that inherits it, with messages that differ only in the job's name, the first is
    kept and says how many more jobs share it."""
    groups: dict[tuple[str, int, int, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.src, f.line, f.col, f.rule_id), []).append(f)
    out: list[Finding] = []
    for group in groups.values():
        if len(group) > 1 and _on_a_line(group) and all(_same_but_job(group[0].message, f.message, job_names)
                                                    for f in group[1:]):
            more = len(group) - 1
            plural = "s" if more > 1 else ""
            out.append(group[0]._replace(message=f"{group[0].message} (and {more} more job{plural})"))
        else:
            out.extend(group)
    return sorted(out)


def _on_a_line(group: list[Finding]) -> bool:
    return group[0].line > 0  # whole-file findings are not a template line


def _same_but_job(first: str, other: str, job_names: set[str]) -> bool:
    """The messages are equal except where each names a job."""
    if first == other:
        return True
    start = 0
    while start < min(len(first), len(other)) and first[start] == other[start]:
        start += 1
    end = 0
    while end < min(len(first), len(other)) - start and first[-1 - end] == other[-1 - end]:
        end += 1
    # Widen to whole words: the names may share a prefix or a suffix (build-1, build-2).
    while start > 0 and first[start - 1] not in " :`'\"[":
        start -= 1
    while end > 0 and first[len(first) - end] not in " :`'\"]":
        end -= 1
    a, b = first[start:len(first) - end], other[start:len(other) - end]
    return a in job_names and b in job_names


def _prefer_semantic(findings: Iterable[Finding]) -> list[Finding]:
    """Where a semantic rule and the schema flag the same node, keep the semantic finding:
    it carries GitLab's own wording."""
    findings = list(findings)
    semantic = {(f.src, f.line, f.col) for f in findings
                if f.rule_id != SCHEMA.id and f.severity is Severity.ERROR}
    return [f for f in findings if f.rule_id != SCHEMA.id or (f.src, f.line, f.col) not in semantic]


def _filter(findings: list[Finding], options: Options, texts: list[tuple[str, str]]) -> list[Finding]:
    skipped = inline_ignores(texts)
    kept = set()
    for finding in findings:
        if finding.rule_id in options.ignore:
            continue
        rules = skipped.get((finding.src, finding.line))
        if rules and (finding.rule_id in rules or "*" in rules):
            continue
        kept.add(finding)
    return sorted(kept)
