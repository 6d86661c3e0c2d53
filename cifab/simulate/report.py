"""A simulated pipeline as text or as JSON (format "cifab-jobs/1", documented in the README)."""

from __future__ import annotations

from typing import Any

from cifab.diagnostics import Mark
from cifab.frames import json_text, one_line
from cifab.simulate.pipeline import Simulation

FORMAT_VERSION = "cifab-jobs/1"


def _where(mark: Mark | None) -> str | None:
    return f"{mark[0]}:{mark[1]}" if mark else None


def as_json(sim: Simulation) -> str:
    doc: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "event": {"source": sim.event.source, "ref": sim.event.ref, "tag": sim.event.tag,
                  "target": sim.event.target, "default_branch": sim.event.default_branch,
                  "changed": list(sim.event.changed) if sim.event.changed is not None else None},
        "pipeline": {"created": sim.created, "reason": sim.reason, "decided_by": _where(sim.decided_by)},
        "jobs": [{"name": j.name, "stage": j.stage, "when": j.when, "allow_failure": j.allow_failure,
                  "needs": j.needs, "missing_needs": j.missing_needs, "decided_by": _where(j.decided_by),
                  "uncertain": j.uncertain}
                 for j in sim.jobs],
        "notes": sim.notes,
    }
    return json_text(doc) + "\n"


def as_text(sim: Simulation) -> str:
    lines = [one_line(sim.event.describe())]
    if not sim.created:
        where = f" ({_where(sim.decided_by)})" if sim.decided_by else ""
        lines.append(f"no pipeline: {one_line(sim.reason)}{where}")
    else:
        width = max(len(one_line(j.name)) + j.uncertain * 2 for j in sim.jobs)
        stage = None
        for job in sim.jobs:
            if job.stage != stage:
                stage = job.stage
                lines.append(f"stage {one_line(stage)}")
            parts = [job.when]
            if job.allow_failure:
                parts.append("allow_failure")
            if job.needs:
                parts.append("needs: " + ", ".join(job.needs))
            if job.missing_needs:
                parts.append("MISSING: " + ", ".join(job.missing_needs))
            by = _where(job.decided_by) or "defaults"
            name = one_line(job.name) + (" ?" if job.uncertain else "")
            lines.append(f"  {name:<{width}}  {one_line('  '.join(parts))}  [{one_line(by)}]")
    lines.extend(f"note: {one_line(n)}" for n in sim.notes)
    return "\n".join(lines) + "\n"
