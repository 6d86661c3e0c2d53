"""The pipelines lint checks creation-time rules against: the standard events (or the
manifest's `lint.scenarios`), each simulated once per linted file (cifab.simulate).

Creation-time rules report only what GitLab would do whatever cifab cannot know: a job or a
pipeline whose creation hinges on a project variable or on the diff is never the ground of
an error."""

from __future__ import annotations

from dataclasses import replace
from weakref import WeakKeyDictionary

from cifab import git
from cifab.lint.rules.base import Context
from cifab.simulate.event import Event, child_pipeline, event_for, standard_events
from cifab.simulate.pipeline import Simulation, Simulator, job_facts
from cifab.simulate.repository import Repository, repository_files

_RESULTS: WeakKeyDictionary[Context, list[tuple[str, Simulation]]] = WeakKeyDictionary()


def applies(ctx: Context) -> bool:
    return ctx.settings.scenarios is not False and not ctx.incomplete


def _events(ctx: Context) -> list[tuple[str, Event]]:
    configured = ctx.settings.scenarios
    found = git.checkout(ctx.root)
    default, project = found.default_branch.name, found.origin
    if not isinstance(configured, tuple):
        events = standard_events(default, project)
        if child_pipeline(ctx.pipeline.config):
            return [(name, replace(event, source="parent_pipeline")) for name, event in events]
        return events
    out = []
    for item in configured:
        merge_request = item.get("merge_request")
        changed = item.get("changed")
        event = event_for(default, branch=item.get("branch"), tag=item.get("tag"),
                          merge_request=str(merge_request) if merge_request is not None else None,
                          source=item.get("source"), protected=item.get("protected"), project=project,
                          changed=tuple(str(c) for c in changed) if changed is not None else None,
                          variables={str(k): str(v) for k, v in (item.get("variables") or {}).items()},
                          unset=frozenset(str(u) for u in item.get("unset") or ()))
        out.append((str(item["name"]), event))
    return out


def scenarios(ctx: Context) -> list[tuple[str, Simulation]]:
    """Each standard event's simulated pipeline, computed once per linted file."""
    found = _RESULTS.get(ctx)
    if found is None:
        pipeline = ctx.pipeline
        uses_exists = any("exists" in text for _, text in pipeline.texts())
        repository = Repository(repository_files(ctx.root) if uses_exists else [], ctx.root)
        facts = job_facts(pipeline)
        found = _RESULTS[ctx] = [(name, Simulator(pipeline, event, repository, facts).run())
                                 for name, event in _events(ctx)]
    return found
