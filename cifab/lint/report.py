"""Lint reports: text for people, and json, codequality, junit and sarif for machines."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Sequence

from cifab import __version__
from cifab.lint.findings import Finding, Severity
from cifab.lint.rules import BY_ID

FORMATS = ("text", "json", "codequality", "junit", "sarif")
CODEQUALITY_SEVERITY = {Severity.ERROR: "critical", Severity.WARNING: "minor", Severity.INFO: "info"}
SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
COLOURS = {Severity.ERROR: "\x1b[1;31m", Severity.WARNING: "\x1b[1;33m", Severity.INFO: "\x1b[1;36m"}
DIM, BOLD, RESET = "\x1b[2m", "\x1b[1m", "\x1b[0m"


def display_path(src: str) -> str:
    """Paths relative to the working directory when they are below it."""
    if src in ("-", "<stdin>") or not os.path.isabs(src):
        return src
    try:
        rel = os.path.relpath(src)
    except ValueError:
        return src
    return src if rel.startswith("..") else rel


def summary(findings: Sequence[Finding], files: int) -> str:
    counts = Counter(f.severity for f in findings)
    parts = [f"{counts[s]} {s}{'s' if counts[s] != 1 else ''}" for s in
             (Severity.ERROR, Severity.WARNING, Severity.INFO) if counts[s]]
    what = ", ".join(parts) if parts else "no problems"
    return f"{what} in {files} file{'s' if files != 1 else ''}"


def text(findings: Sequence[Finding], sources: dict[str, str], files: int, colour: bool) -> str:
    def paint(code: str, s: str) -> str:
        return f"{code}{s}{RESET}" if colour else s

    out: list[str] = []
    for f in findings:
        head = f"{display_path(f.src)}:{f.line}:{f.col}" if f.line else display_path(f.src)
        out.append(f"{paint(BOLD, head)}: {paint(COLOURS[f.severity], str(f.severity))} "
                   f"{paint(DIM, f.rule_id)} {f.message}")
        frame = _frame(f, sources.get(f.src), paint)
        out.extend(frame)
        if f.hint:
            gutter = " " * (len(str(f.line)) if frame else 0)
            out.append(f"{gutter} {paint(DIM, '=')} hint: {f.hint}")
    out.append(summary(findings, files))
    return "\n".join(out) + "\n"


def _frame(f: Finding, source: str | None, paint: Callable[[str, str], str]) -> list[str]:
    """A code frame with a caret under the column, like rustc and actionlint print."""
    if not source or f.line <= 0:
        return []
    lines = source.splitlines()
    if f.line > len(lines):
        return []
    line = lines[f.line - 1].replace("\t", " ")
    width = len(str(f.line))
    gutter = " " * width
    caret = " " * max(f.col - 1, 0) + "^"
    return [
        f"{gutter} |",
        f"{f.line} | {line}",
        f"{gutter} | {paint(COLOURS[f.severity], caret)}",
    ]


def as_json(findings: Sequence[Finding], files: int) -> str:
    counts = Counter(str(f.severity) for f in findings)
    doc = {
        "version": 1,
        "tool": {"name": "cifab", "version": __version__},
        "findings": [
            {"path": display_path(f.src), "line": f.line, "column": f.col, "rule": f.rule_id,
             "severity": str(f.severity), "message": f.message, "hint": f.hint}
            for f in findings
        ],
        "summary": {"files": files, "errors": counts["error"], "warnings": counts["warning"],
                    "info": counts["info"]},
    }
    return json.dumps(doc, indent=2) + "\n"


def fingerprints(findings: Sequence[Finding]) -> list[str]:
    """Stable across line shifts: rule, file, message and the how-manyth such finding it is."""
    import hashlib  # only the codequality report needs it

    seen: Counter[tuple[str, str, str]] = Counter()
    out = []
    for f in findings:
        key = (f.rule_id, display_path(f.src), f.message)
        seen[key] += 1
        raw = "\0".join((*key, str(seen[key])))
        out.append(hashlib.sha256(raw.encode("utf-8")).hexdigest())
    return out


def codequality(findings: Sequence[Finding]) -> str:
    items = [
        {
            "description": f.message,
            "check_name": f.rule_id,
            "fingerprint": fp,
            "severity": CODEQUALITY_SEVERITY[f.severity],
            "location": {"path": display_path(f.src), "lines": {"begin": max(f.line, 1)}},
        }
        for f, fp in zip(findings, fingerprints(findings), strict=True)
    ]
    return json.dumps(items, indent=2) + "\n"


def junit(findings: Sequence[Finding], paths: Sequence[str]) -> str:
    failing = [f for f in findings if f.severity >= Severity.WARNING]
    cases: list[str] = []
    for f in failing:
        name = f"{f.rule_id} at {display_path(f.src)}:{f.line}:{f.col}"
        cases.append(
            f"    <testcase name={quoteattr(name)} classname={quoteattr(display_path(f.src))} "
            f"file={quoteattr(display_path(f.src))} time=\"0\">\n"
            f"      <failure type={quoteattr(str(f.severity))} message={quoteattr(f.message)}>"
            f"{_xml_text(f.hint or f.message)}</failure>\n    </testcase>")
    failed_files = {f.src for f in failing}
    for path in paths:
        if path not in failed_files:
            shown = display_path(path)
            cases.append(f"    <testcase name={quoteattr('cifab lint ' + shown)} classname={quoteattr(shown)} "
                         f"file={quoteattr(shown)} time=\"0\"/>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuites name="cifab lint" tests="{len(cases)}" failures="{len(failing)}">\n'
        f'  <testsuite name="cifab lint" tests="{len(cases)}" failures="{len(failing)}" errors="0" skipped="0">\n'
        + "\n".join(cases) + ("\n" if cases else "")
        + "  </testsuite>\n</testsuites>\n"
    )


def _xml_text(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quoteattr(s: str) -> str:
    # xml.sax.saxutils has this, but importing it pulls in urllib and http (~12 ms).
    return '"' + _xml_text(s).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;") + '"'


def sarif(findings: Sequence[Finding]) -> str:
    used = sorted({f.rule_id for f in findings})
    rules = []
    for rule_id in used:
        rule = BY_ID.get(rule_id)
        rules.append({
            "id": rule_id,
            "shortDescription": {"text": rule.summary if rule else rule_id},
            "fullDescription": {"text": rule.doc if rule else rule_id},
            "help": {"text": f"cifab explain {rule_id}"},
        })
    results = []
    for f in findings:
        region = {"startLine": max(f.line, 1), "startColumn": max(f.col, 1)}
        results.append({
            "ruleId": f.rule_id,
            "ruleIndex": used.index(f.rule_id),
            "level": SARIF_LEVEL[f.severity],
            "message": {"text": f.message + (f" (hint: {f.hint})" if f.hint else "")},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": display_path(f.src).replace(os.sep, "/")},
                "region": region}}],
        })
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "cifab", "version": __version__,
                                      "informationUri": "https://pypi.org/project/cifab/",
                                      "rules": rules}},
                  "results": results}],
    }
    return json.dumps(doc, indent=2) + "\n"


def render(fmt: str, findings: Sequence[Finding], sources: dict[str, str], paths: Sequence[str],
           colour: bool = False) -> str:
    if fmt == "text":
        return text(findings, sources, len(paths), colour)
    if fmt == "json":
        return as_json(findings, len(paths))
    if fmt == "codequality":
        return codequality(findings)
    if fmt == "junit":
        return junit(findings, paths)
    if fmt == "sarif":
        return sarif(findings)
    raise ValueError(f"unknown format {fmt}")
