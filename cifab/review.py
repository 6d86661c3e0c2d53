"""The merge request review `cifab check --comment` posts: the drift verdict, the findings,
what the change does to the pipelines (cifab diff, per event), and a Mermaid graph of the
pipeline, which GitLab renders in the note.

Every name and value in it may come from whoever opened the merge request, and GitLab acts
on a note's text: each goes through cifab.markdown, so that no line of the note starts a
quick action and no `@` mentions anyone. Each section is bounded, so that the note of a
pipeline of any size stays below GitLab's 1,000,000 characters; the job log has the rest.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from cifab.check import CheckResult
from cifab.contract import DRIFT
from cifab.diagnostics import Severity
from cifab.errors import CifabError
from cifab.files import repository_root
from cifab.markdown import code, no_commands, text

MAX_NOTE = 1_000_000  # characters: GitLab refuses a longer note body (Notes API)
SHOWN = 10  # findings listed in the note; the counts cover the rest
DIFF_LINES = 25  # changes listed per event
GRAPH_JOBS = 150  # beyond this many jobs the graph is left out: it would not be readable
_JOB_URL = re.compile(r"https?://[A-Za-z0-9.:-]+/[A-Za-z0-9/_.~%-]*")


def note(result: CheckResult, manifest: Path, output: Path | None = None) -> str:
    """The note for `cifab check --comment` on manifest (and its pipeline, output): the
    pipeline's path is taken relative to the repository, as diff and graph read it."""
    root = repository_root(manifest.resolve().parent)
    pipeline = (output or manifest.parent / ".gitlab-ci.yml").resolve()
    relative = pipeline.relative_to(root).as_posix() if root and pipeline.is_relative_to(root) else pipeline.name
    return body(result, root, relative)


def body(result: CheckResult, root: Path | None, pipeline_path: str = ".gitlab-ci.yml",
         env: Mapping[str, str] | None = None, limit: int = MAX_NOTE) -> str:
    env = os.environ if env is None else env
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
        # A message quotes names: shown as code, where GitLab neither mentions nor links.
        lines.append(f"- {code(f.location())} {f.severity} {code(f.rule_id)}: {code(f.message, 400)}")
    if len(run.findings) > SHOWN:
        lines.append(f"- … and {len(run.findings) - SHOWN} more (the job log and the Code Quality report list "
                     "them all)")
    head = "\n".join(lines) + "\n"
    sections = [
        "\n<details><summary>What this change does to the pipelines</summary>\n\n"
        + _diff(root, pipeline_path) + "</details>\n",
    ]
    graph = _graph(root, pipeline_path)
    if graph:
        sections.append("\n<details><summary>The pipeline</summary>\n\n" + graph + "\n</details>\n")
    tail = _log_pointer(env)
    note = head
    for section in sections:  # a section that would not fit is left out whole, and said so
        if len(note) + len(section) + len(tail) + 200 <= limit:
            note += section
        else:
            note += "\n(a section was left out: it would make the note longer than GitLab takes)\n"
    return no_commands(note + tail)


def _log_pointer(env: Mapping[str, str]) -> str:
    url = env.get("CI_JOB_URL", "")
    where = f"[the job log]({url})" if _JOB_URL.fullmatch(url) else "the job log"
    return f"\nEvery finding, with its code frame, is in {where}.\n"


def _diff(root: Path | None, path: str) -> str:
    if root is None:
        return "(not in a git checkout)\n"
    from cifab.simulate import diff

    # In a merge request pipeline GitLab names the diff's base; elsewhere the merge-base.
    base = os.environ.get("CI_MERGE_REQUEST_DIFF_BASE_SHA") or None
    try:
        _, _, found = diff.diff_revisions(root, base, None, path)
    except CifabError as exc:
        return (f"(not available: {text(exc.message.splitlines()[0])}; a shallow clone may lack the base, set "
                "`GIT_DEPTH: 0`)\n")
    return diff.as_text(found, markdown=True, limit=DIFF_LINES)


def _graph(root: Path | None, path: str) -> str | None:
    from cifab import graph
    from cifab.pipeline.load import load_pipeline

    try:
        pipeline, _ = load_pipeline(str((root or Path.cwd()) / path), root)
    except CifabError:
        return None
    jobs = len(pipeline.visible_jobs)
    if jobs > GRAPH_JOBS:
        return f"{jobs} jobs are more than a graph here can show: `cifab graph --format mermaid` draws them.\n"
    return "```mermaid\n" + graph.mermaid(pipeline).rstrip("\n") + "\n```\n"
