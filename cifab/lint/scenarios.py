"""The pipelines lint checks creation-time rules against: the standard events (or the
manifest's `lint.scenarios`), each simulated once per linted file (cifab.simulate)."""

from __future__ import annotations

from weakref import WeakKeyDictionary

from cifab.lint.rules.base import Context
from cifab.simulate.event import Event, event_for, git_default_branch, standard_events
from cifab.simulate.pipeline import RepositoryFiles, Simulation, Simulator, job_facts, repository_files

_RESULTS: WeakKeyDictionary[Context, list[tuple[str, Simulation]]] = WeakKeyDictionary()


def applies(ctx: Context) -> bool:
    return ctx.settings.scenarios is not False and not ctx.incomplete


def _events(ctx: Context, default: str) -> list[tuple[str, Event]]:
    configured = ctx.settings.scenarios
    if not isinstance(configured, tuple):
        return standard_events(default)
    out = []
    for item in configured:
        merge_request = item.get("merge_request")
        event = event_for(default, branch=item.get("branch"), tag=item.get("tag"),
                          merge_request=str(merge_request) if merge_request is not None else None,
                          source=str(item.get("source", "push")),
                          variables={str(k): str(v) for k, v in (item.get("variables") or {}).items()})
        out.append((str(item["name"]), event))
    return out


def scenarios(ctx: Context) -> list[tuple[str, Simulation]]:
    """Each standard event's simulated pipeline, computed once per linted file."""
    found = _RESULTS.get(ctx)
    if found is None:
        pipeline = ctx.pipeline
        uses_exists = any("exists" in text for _, text in pipeline.texts())
        files = RepositoryFiles(repository_files(ctx.root) if uses_exists else [])
        facts = job_facts(pipeline)
        found = _RESULTS[ctx] = [(name, Simulator(pipeline, event, files, facts).run())
                                 for name, event in _events(ctx, git_default_branch(ctx.root))]
    return found
