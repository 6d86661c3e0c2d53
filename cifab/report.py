"""Lint reports: text for people, and json, codequality, junit and sarif for machines."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from cifab import __version__
from cifab.diagnostics import REPORT_FORMATS, Finding, Severity
from cifab.errors import CifabError
from cifab.frames import display_path, printable, text

FORMATS = REPORT_FORMATS
CODEQUALITY_SEVERITY = {Severity.ERROR: "critical", Severity.WARNING: "minor", Severity.INFO: "info"}
SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


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
    # XML 1.0 cannot hold most control characters at all, not even as references.
    return printable(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quoteattr(s: str) -> str:
    # xml.sax.saxutils has this, but importing it pulls in urllib and http (~12 ms).
    return '"' + _xml_text(s).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;") + '"'


def sarif(findings: Sequence[Finding]) -> str:
    from cifab.registry import BY_ID  # every rule's docs: only SARIF carries them

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
    renderers: dict[str, Callable[[], str]] = {
        "text": lambda: text(findings, sources, len(paths), colour),
        "json": lambda: as_json(findings, len(paths)),
        "codequality": lambda: codequality(findings),
        "junit": lambda: junit(findings, paths),
        "sarif": lambda: sarif(findings),
    }
    return renderers[fmt]()


def write_report(output: Path, text: str, inputs: Sequence[Path]) -> None:
    """Write a report, never over what the command read: an input, the manifest, or a file
    cifab generated. A device or FIFO is written as a stream (files.atomic_write)."""
    from cifab.contract import split
    from cifab.files import atomic_write, same_file

    for source in inputs:
        if same_file(output, source):
            raise CifabError(f"{output} is one of this command's inputs ({source}); write the report elsewhere")
    if output.is_file():
        try:
            head = output.open(encoding="utf-8", errors="replace").read(4096)
        except OSError:
            head = ""
        if split(head + "\n") is not None or head.startswith("# cifab manifest"):
            raise CifabError(f"{output} is a file cifab generated or a cifab manifest; write the report elsewhere")
    atomic_write(output, text)
