"""What a change does to the pipelines: two revisions of a repository, each simulated for the
standard events (cifab.simulate.event.standard_events), compared job by job.

A revision is read from git's object store (cifab.simulate.revision), so its local includes
resolve as they were at that revision; the working tree is read where it is.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cifab.errors import CifabError
from cifab.files import Refused, read_limited
from cifab.frames import json_text, one_line
from cifab.git import checkout as git_checkout
from cifab.gitlab import MAX_FILE_BYTES
from cifab.markdown import code
from cifab.markdown import text as md_text
from cifab.pipeline.config import build_pipeline
from cifab.pipeline.yamlpos import YamlError, load_bytes
from cifab.simulate.event import Event, standard_events
from cifab.simulate.pipeline import Simulation, simulate
from cifab.simulate.revision import checkout as revision_checkout
from cifab.simulate.revision import git

COMPARED = ("when", "allow_failure", "image", "script", "before_script", "after_script", "variables", "needs",
            "artifacts", "rules", "environment")
SHOWN_LINES = 3  # script lines shown per side of a change; the rest are counted
SHOWN_CHARS = 80  # characters of a value shown


@dataclass
class Change:
    key: str
    before: Any
    after: Any


@dataclass
class ScenarioDiff:
    scenario: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[Change]] = field(default_factory=dict)  # job: what changed, old and new
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
    return {j.name: {**j.config, "when": j.when, "allow_failure": j.allow_failure, "needs": j.needs}
            for j in sim.jobs} if sim else {}


def _plain(value: Any) -> Any:
    """The value as JSON has it (positions and YAML types dropped)."""
    return json.loads(json.dumps(value, default=str))


def compare(scenario: str, base: Simulation | None, head: Simulation | None) -> ScenarioDiff:
    before, after = _configs(base), _configs(head)
    out = ScenarioDiff(scenario, sorted(set(after) - set(before)), sorted(set(before) - set(after)),
                       pipeline=(bool(base and base.created), bool(head and head.created)))
    for name in sorted(set(before) & set(after)):
        changes = [Change(k, _plain(before[name].get(k)), _plain(after[name].get(k))) for k in COMPARED]
        changes = [c for c in changes if c.before != c.after]
        if changes:
            out.changed[name] = changes
    edges_before = {(n, job) for job, c in before.items() for n in c["needs"]}
    edges_after = {(n, job) for job, c in after.items() for n in c["needs"]}
    out.edges_added = sorted(edges_after - edges_before)
    out.edges_removed = sorted(edges_before - edges_after)
    return out


def diff_revisions(root: Path, base: str | None, head: str | None, path: str = ".gitlab-ci.yml",
                   default_branch: str | None = None) -> tuple[str, str, list[ScenarioDiff]]:
    """(base, head as shown, each standard event's differences). base None: the merge-base
    with the default branch; head None: the working tree."""
    found = git_checkout(root)
    default = default_branch or found.default_branch.name
    base = base or default_base(root, default)
    events = standard_events(default, found.origin)
    with checkout(root, base) as (before_root, before_files):
        before = pipelines(before_root, path, events, before_files)
    with checkout(root, head) as (after_root, after_files):
        after = pipelines(after_root, path, events, after_files)
    return base, head or "the working tree", [compare(name, before[name], after[name]) for name, _ in events]


def _lines(value: Any) -> list[str]:
    """A script as its lines (a string, or nested lists of them)."""
    if value is None:
        return []
    if isinstance(value, list):
        return [line for item in value for line in _lines(item)]
    return [str(value)]


def _phrases(change: Change, show: Callable[[Any], str]) -> list[str]:
    """What changed in one key, old → new, each value shown by show (a code span, or a line)."""
    before, after = change.before, change.after
    if change.key in ("script", "before_script", "after_script"):
        old_lines, new_lines = _lines(before), _lines(after)
        gone = [line for line in old_lines if line not in new_lines]
        came = [line for line in new_lines if line not in old_lines]
        parts = [f"{change.key} lines"]
        for sign, lines in (("-", gone), ("+", came)):
            parts += [f"{sign} {show(line)}" for line in lines[:SHOWN_LINES]]
            if len(lines) > SHOWN_LINES:
                parts.append(f"{sign} {len(lines) - SHOWN_LINES} more")
        if not gone and not came:
            parts.append("reordered")
        return [" ".join(parts)]
    if change.key == "variables" and isinstance(before, dict | None) and isinstance(after, dict | None):
        old, new = before or {}, after or {}
        out = []
        for key in sorted(set(old) | set(new), key=str):
            if old.get(key) != new.get(key):
                out.append(f"variable {show(key)} {_value(old.get(key), key in old, show)} → "
                           f"{_value(new.get(key), key in new, show)}")
        return out
    return [f"{change.key} {_value(before, before is not None, show)} → {_value(after, after is not None, show)}"]


def _value(value: Any, present: bool, show: Callable[[Any], str]) -> str:
    if not present:
        return "(unset)"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return show(", ".join(value)) if value else "(none)"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
    return show(text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…")


def as_text(diffs: list[ScenarioDiff], markdown: bool = False, limit: int | None = None) -> str:
    """The events whose pipelines the change alters, what it alters in each (old → new), and
    one line naming the events it leaves alone. Names and values come from the pipeline,
    which a merge request may have written: in Markdown they are code spans (cifab.markdown),
    on a terminal one line each, every control character shown escaped. limit: at most this
    many lines per event, then a count."""
    show: Callable[[Any], str] = code if markdown else (lambda value: one_line(value, SHOWN_CHARS))
    name = code if markdown else one_line
    # Events a change alters alike are shown once, under all their names.
    groups: dict[tuple[str, ...], list[str]] = {}
    for d in diffs:
        if not d.empty:
            groups.setdefault(tuple(_items(d, markdown, show, name)), []).append(d.scenario)
    lines: list[str] = []
    for items, scenarios in groups.items():
        heading = ", ".join(md_text(s) if markdown else one_line(s) for s in scenarios)
        lines.append(f"### {heading}" if markdown else heading)
        shown = list(items)
        if limit is not None and len(shown) > limit:
            shown = [*shown[:limit], f"… and {len(shown) - limit} more"]
        lines += [("- " if markdown else "  ") + item for item in shown]
    quiet = [d.scenario for d in diffs if d.empty]
    if quiet:
        lead = "No change" if len(quiet) < len(diffs) else "No change in any pipeline"
        listed = ", ".join(md_text(q) if markdown else one_line(q) for q in quiet)
        lines.append(f"{lead}: {listed}." if markdown else f"{lead.lower()}: {listed}")
    return "\n".join(lines) + "\n"


def _items(d: ScenarioDiff, markdown: bool, show: Callable[[Any], str], name: Callable[[Any], str]) -> list[str]:
    # Markdown bullets must not start with + or -: `- - job` renders as an empty nested list.
    added, removed, edited = ("added ", "removed ", "") if markdown else ("+ ", "- ", "~ ")
    items: list[str] = []
    if d.pipeline[0] != d.pipeline[1]:
        items.append(f"pipeline: {'created' if d.pipeline[1] else 'no longer created'}")
    items += [f"{added}{name(job)}" for job in d.added]
    items += [f"{removed}{name(job)}" for job in d.removed]
    items += [f"{edited}{name(job)}: {phrase}" for job, changes in d.changed.items()
              for change in changes for phrase in _phrases(change, show)]
    items += [f"{added}edge {name(a)} → {name(b)}" for a, b in d.edges_added]
    items += [f"{removed}edge {name(a)} → {name(b)}" for a, b in d.edges_removed]
    return items


def as_json(diffs: list[ScenarioDiff], base: str, head: str) -> str:
    return json_text({
        "format": "cifab-diff/2", "base": base, "head": head,
        "scenarios": [{"name": d.scenario, "pipeline": {"base": d.pipeline[0], "head": d.pipeline[1]},
                       "unchanged": d.empty, "added": d.added, "removed": d.removed,
                       "changed": {job: {c.key: {"before": c.before, "after": c.after} for c in changes}
                                   for job, changes in d.changed.items()},
                       "edges_added": [list(e) for e in d.edges_added],
                       "edges_removed": [list(e) for e in d.edges_removed]} for d in diffs],
    }) + "\n"
