"""What a change does to the pipelines: two revisions of a repository, each simulated for the
standard events (cifab.simulate.event.standard_events), compared job by job.

A revision is read from git's object store (cifab.simulate.revision), so its local includes
resolve as they were at that revision; the working tree is read where it is.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cifab.errors import CifabError
from cifab.files import Refused, read_limited
from cifab.frames import json_text, one_line
from cifab.gitlab import MAX_FILE_BYTES
from cifab.markdown import code
from cifab.markdown import text as md_text
from cifab.pipeline.config import build_pipeline
from cifab.pipeline.yamlpos import YamlError, load_bytes
from cifab.simulate.event import Event, git_default_branch, standard_events
from cifab.simulate.pipeline import Simulation, simulate
from cifab.simulate.revision import checkout as revision_checkout
from cifab.simulate.revision import git

COMPARED = ("when", "image", "script", "before_script", "after_script", "variables", "needs", "artifacts")


@dataclass
class ScenarioDiff:
    scenario: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)  # job: the keys that changed
    edges_added: list[tuple[str, str]] = field(default_factory=list)
    edges_removed: list[tuple[str, str]] = field(default_factory=list)
    pipeline: tuple[bool, bool] = (True, True)  # created at base, at head

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.edges_added or self.edges_removed) \
            and self.pipeline[0] == self.pipeline[1]


def default_base(root: Path, default_branch: str) -> str:
    """The merge-base of HEAD with the default branch (its remote-tracking ref when there is one)."""
    for ref in (f"origin/{default_branch}", default_branch):
        try:
            return git(root, "merge-base", "HEAD", ref)
        except CifabError:
            continue
    raise CifabError(f"no merge-base of HEAD with {default_branch}: name the base revision")


@contextmanager
def checkout(root: Path, revision: str | None) -> Iterator[tuple[Path, list[str] | None]]:
    """(where the revision's files are, its file list); the working tree when None."""
    if revision is None:
        yield root, None
        return
    with revision_checkout(root, revision) as found:
        yield found.folder, found.files


def pipelines(root: Path, path: str, events: list[tuple[str, Event]],
              files: list[str] | None = None) -> dict[str, Simulation | None]:
    """Each event's simulated pipeline for the file at root/path; None when there is no file.
    files: the repository's tracked paths (default: those of root)."""
    file = root / path
    if not file.is_file():
        return {name: None for name, _ in events}
    try:
        raw = read_limited(file, MAX_FILE_BYTES, inside=root)
        loaded = load_bytes(raw, path)
    except (OSError, Refused, YamlError) as exc:
        raise CifabError(f"{path}: cannot be read: {exc}") from None
    pipeline = build_pipeline(loaded, root)
    return {name: simulate(pipeline, event, root, files) for name, event in events}


def _configs(sim: Simulation | None) -> dict[str, dict[str, Any]]:
    return {j.name: {"when": j.when, "needs": j.needs, **j.config} for j in sim.jobs} if sim else {}


def compare(scenario: str, base: Simulation | None, head: Simulation | None) -> ScenarioDiff:
    before, after = _configs(base), _configs(head)
    out = ScenarioDiff(scenario, sorted(set(after) - set(before)), sorted(set(before) - set(after)),
                       pipeline=(bool(base and base.created), bool(head and head.created)))
    for name in sorted(set(before) & set(after)):
        keys = [k for k in COMPARED if _plain(before[name].get(k)) != _plain(after[name].get(k))]
        if keys:
            out.changed[name] = keys
    edges_before = {(n, job) for job, c in before.items() for n in c["needs"]}
    edges_after = {(n, job) for job, c in after.items() for n in c["needs"]}
    out.edges_added = sorted(edges_after - edges_before)
    out.edges_removed = sorted(edges_before - edges_after)
    return out


def _plain(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def diff_revisions(root: Path, base: str | None, head: str | None, path: str = ".gitlab-ci.yml",
                   default_branch: str | None = None) -> tuple[str, str, list[ScenarioDiff]]:
    """(base, head as shown, each standard event's differences). base None: the merge-base
    with the default branch; head None: the working tree."""
    default = default_branch or git_default_branch(root)
    base = base or default_base(root, default)
    events = standard_events(default)
    with checkout(root, base) as (before_root, before_files):
        before = pipelines(before_root, path, events, before_files)
    with checkout(root, head) as (after_root, after_files):
        after = pipelines(after_root, path, events, after_files)
    return base, head or "the working tree", [compare(name, before[name], after[name]) for name, _ in events]


def as_text(diffs: list[ScenarioDiff], markdown: bool = False, limit: int | None = None) -> str:
    """Each event's differences. Names come from the pipeline, which a merge request may have
    written: in Markdown they are code spans (cifab.markdown), on a terminal one line each,
    every control character shown escaped. limit: at most this many lines per event, then a count."""
    name = code if markdown else one_line
    lines: list[str] = []
    for d in diffs:
        lines.append(f"### {md_text(d.scenario)}" if markdown else one_line(d.scenario))
        if d.empty:
            lines.append("- no change" if markdown else "  no change")
            continue
        bullet = "- " if markdown else "  "
        items: list[str] = []
        if d.pipeline[0] != d.pipeline[1]:
            items.append(f"pipeline: {'created' if d.pipeline[1] else 'no longer created'}")
        items += [f"+ {name(job)}" for job in d.added]
        items += [f"- {name(job)}" for job in d.removed]
        items += [f"~ {name(job)}: {', '.join(keys)} changed" for job, keys in d.changed.items()]
        items += [f"+ edge {name(a)} → {name(b)}" for a, b in d.edges_added]
        items += [f"- edge {name(a)} → {name(b)}" for a, b in d.edges_removed]
        if limit is not None and len(items) > limit:
            items = [*items[:limit], f"… and {len(items) - limit} more"]
        lines += [bullet + item for item in items]
    return "\n".join(lines) + "\n"


def as_json(diffs: list[ScenarioDiff], base: str, head: str) -> str:
    return json_text({
        "format": "cifab-diff/1", "base": base, "head": head,
        "scenarios": [{"name": d.scenario, "pipeline": {"base": d.pipeline[0], "head": d.pipeline[1]},
                       "added": d.added, "removed": d.removed, "changed": d.changed,
                       "edges_added": [list(e) for e in d.edges_added],
                       "edges_removed": [list(e) for e in d.edges_removed]} for d in diffs],
    }) + "\n"
