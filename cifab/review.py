"""The merge request review `cifab check --comment` posts: the drift verdict, the findings,
what the change does to the pipelines (cifab diff, per event), and a Mermaid graph of the
pipeline, which GitLab renders in the note."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from cifab.check import CheckResult
from cifab.diagnostics import Severity
from cifab.errors import CifabError
from cifab.frames import printable
from cifab.generate.contract import DRIFT

SHOWN = 10  # findings listed in the note; the counts cover the rest


def body(result: CheckResult, root: Path | None, pipeline_path: str = ".gitlab-ci.yml") -> str:
    run = result.run
    drift = any(f.rule_id == DRIFT.id for f in run.findings)
    lines = ["### cifab check", ""]
    lines.append("**Out of date with cifab.yml**: run `cifab generate` and commit the result." if drift
                 else "**In sync with cifab.yml.**")
    counts = Counter(f.severity for f in run.findings)
    summary = ", ".join(f"{counts[s]} {s}{'s' if counts[s] != 1 else ''}"
                        for s in (Severity.ERROR, Severity.WARNING, Severity.INFO) if counts[s])
    lines += ["", f"**Findings:** {summary or 'none'}"]
    for f in run.findings[:SHOWN]:
        lines.append(f"- `{printable(f.location())}` {f.severity} `{f.rule_id}`: {printable(f.message)}")
    if len(run.findings) > SHOWN:
        lines.append(f"- … and {len(run.findings) - SHOWN} more (the Code Quality report lists them all)")
    lines += ["", "<details><summary>What this change does to the pipelines</summary>", "",
              _diff(root, pipeline_path), "</details>"]
    graph = _graph(root, pipeline_path)
    if graph:
        lines += ["", "<details><summary>The pipeline</summary>", "", "```mermaid", graph.rstrip("\n"), "```",
                  "", "</details>"]
    return "\n".join(lines) + "\n"


def _diff(root: Path | None, path: str) -> str:
    if root is None:
        return "(not in a git checkout)"
    from cifab.simulate import diff

    # In a merge request pipeline GitLab names the diff's base; elsewhere the merge-base.
    base = os.environ.get("CI_MERGE_REQUEST_DIFF_BASE_SHA") or None
    try:
        _, _, found = diff.diff_revisions(root, base, None, path)
    except CifabError as exc:
        return f"(not available: {exc.message.splitlines()[0]}; a shallow clone may lack the base, set GIT_DEPTH: 0)"
    return diff.as_text(found, markdown=True)


def _graph(root: Path | None, path: str) -> str | None:
    from cifab import graph

    try:
        pipeline, _ = graph.load_pipeline(str((root or Path.cwd()) / path), root)
    except CifabError:
        return None
    return graph.mermaid(pipeline)
