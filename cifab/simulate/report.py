"""A simulated pipeline as text or as JSON (format "cifab-jobs/2", documented in the README)."""

from __future__ import annotations

from typing import Any

from cifab.diagnostics import Mark
from cifab.frames import json_text, one_line
from cifab.simulate.pipeline import PlannedJob, Simulation

FORMAT_VERSION = "cifab-jobs/2"


def _where(mark: Mark | None) -> str | None:
    return f"{mark[0]}:{mark[1]}" if mark else None


def _project(sim: Simulation) -> dict[str, str] | None:
    project = sim.event.project
    return {"path": project.path, "server": project.server} if project is not None else None


def _job(j: PlannedJob) -> dict[str, Any]:
    return {"name": j.name, "job": j.job, "variables": j.variables, "stage": j.stage, "when": j.when,
            "allow_failure": j.allow_failure,
            "needs": [{"name": n, "optional": n in j.optional} for n in j.needs],
            "missing_needs": j.missing_needs, "unsure_needs": j.unsure_needs,
            "missing_dependencies": j.missing_dependencies,
            "decided_by": {"rule": j.rule or "defaults", "at": _where(j.decided_by)},
            "maybe": j.maybe, "depends_on": list(j.hinges), "uncertain": j.uncertain}


def as_json(sim: Simulation) -> str:
    event = sim.event
    doc: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "event": {"source": event.source, "ref": event.ref, "tag": event.tag,
                  "target": event.target, "default_branch": event.default_branch,
                  "changed": list(event.changed) if event.changed is not None else None,
                  "new": event.new_ref, "protected": event.protected, "project": _project(sim),
                  "variables": event.extra, "unset": sorted(event.unset)},
        "pipeline": {"created": sim.created, "certain": sim.certain, "reason": sim.reason,
                     "decided_by": _where(sim.decided_by)},
        "jobs": [_job(j) for j in sim.jobs],
        "assumed": sim.assumed,
        "depends_on": sim.hinges,
        "notes": sim.notes,
    }
    return json_text(doc) + "\n"


def _details(job: PlannedJob) -> str:
    parts = [job.when]
    if job.allow_failure:
        parts.append("allow_failure")
    if job.needs:
        parts.append("needs: " + ", ".join(f"{n} (optional)" if n in job.optional else n for n in job.needs))
    if job.missing_needs:
        parts.append("MISSING: " + ", ".join(job.missing_needs))
    if job.unsure_needs:
        parts.append("may be missing: " + ", ".join(job.unsure_needs))
    if job.hinges:
        parts.append(("may be left out: " if job.maybe else "") + "depends on " + ", ".join(job.hinges))
    return "  ".join(parts)


def as_text(sim: Simulation) -> str:
    lines = [one_line(sim.event.describe())]
    if sim.event.project is not None:
        lines.append(one_line(f"project {sim.event.project.path} (CI_PROJECT_PATH, from the origin remote or "
                              "--project)"))
    if not sim.created:
        where = f" ({_where(sim.decided_by)})" if sim.decided_by else ""
        lines.append(f"no pipeline: {one_line(sim.reason)}{where}")
    else:
        if not sim.certain:
            lines.append(f"pipeline: {one_line(sim.reason)}")
        width = max(len(one_line(j.name)) + (j.uncertain or j.maybe) * 2 for j in sim.jobs)
        stage = None
        for job in sim.jobs:
            if job.stage != stage:
                stage = job.stage
                lines.append(f"stage {one_line(stage)}")
            by = (f"{job.rule} " if job.rule else "") + (_where(job.decided_by) or "defaults")
            name = one_line(job.name) + (" ?" if job.uncertain or job.maybe else "")
            lines.append(f"  {name:<{width}}  {one_line(_details(job))}  [{one_line(by)}]")
    if sim.hinges:
        lines.append(one_line("depends on what cifab cannot see: " + ", ".join(sim.hinges)
                              + " (state them with --var, --unset, --changed, --protected)"))
    lines.extend(f"note: {one_line(n)}" for n in sim.notes)
    return "\n".join(lines) + "\n"
