"""The event a pipeline is created for, and the predefined variables GitLab sets for it
(docs/ci/variables/predefined_variables.md): a push to a branch or a tag, a merge request,
or another source (web, schedule, api, trigger, pipeline, parent_pipeline)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

SOURCES = ("push", "web", "schedule", "api", "trigger", "pipeline", "parent_pipeline", "merge_request_event")


@dataclass(frozen=True)
class Event:
    source: str
    ref: str  # the branch or tag the pipeline runs for (the MR's source branch for an MR)
    tag: bool = False
    target: str | None = None  # an MR's target branch
    default_branch: str = "main"
    changed: tuple[str, ...] | None = None  # None: no diff is known
    extra: dict[str, str] = field(default_factory=dict)  # --var KEY=VALUE

    @property
    def merge_request(self) -> bool:
        return self.source == "merge_request_event"

    def describe(self) -> str:
        if self.merge_request:
            return f"merge request {self.ref} → {self.target}"
        what = f"tag {self.ref}" if self.tag else f"branch {self.ref}"
        return f"{self.source} pipeline for {what}"

    def variables(self) -> dict[str, str]:
        """Predefined variables for this event; --var values win."""
        out = {
            "CI": "true",
            "GITLAB_CI": "true",
            "CI_PIPELINE_SOURCE": self.source,
            "CI_DEFAULT_BRANCH": self.default_branch,
            "CI_COMMIT_REF_NAME": self.ref,
            "CI_COMMIT_REF_SLUG": slug(self.ref),
            "CI_COMMIT_REF_PROTECTED": "true" if self.ref == self.default_branch or self.tag else "false",
        }
        if self.merge_request:
            # CI_COMMIT_BRANCH is not set in merge request pipelines.
            out.update({
                "CI_MERGE_REQUEST_ID": "1",
                "CI_MERGE_REQUEST_IID": "1",
                "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": self.ref,
                "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": self.target or self.default_branch,
                "CI_MERGE_REQUEST_EVENT_TYPE": "detached",
                "CI_MERGE_REQUEST_APPROVED": "false",
            })
        elif self.tag:
            out["CI_COMMIT_TAG"] = self.ref
        else:
            out["CI_COMMIT_BRANCH"] = self.ref
        out.update(self.extra)
        return out


def event_for(default_branch: str, *, branch: str | None = None, tag: str | None = None,
              merge_request: str | None = None, target: str | None = None, source: str | None = None,
              changed: tuple[str, ...] | None = None, variables: dict[str, str] | None = None) -> Event:
    """The event a user describes: `cifab jobs --branch/--tag/--mr/--source` or a scenario of
    `lint.scenarios` in cifab.yml. At most one of branch, tag and merge_request; none is a push
    to the default branch."""
    extra = dict(variables or {})
    if merge_request:
        return Event("merge_request_event", merge_request, target=target or default_branch,
                     default_branch=default_branch, changed=changed, extra=extra)
    return Event(source or "push", tag or branch or default_branch, tag=bool(tag), default_branch=default_branch,
                 changed=changed, extra=extra)


@cache  # lint asks once per file; git answers the same for the run
def git_default_branch(folder: Path | None) -> str:
    """The remote's default branch as git knows it (origin/HEAD), else `main`."""
    import subprocess

    if folder is None:
        return "main"
    try:
        proc = subprocess.run(["git", "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"], cwd=folder,
                              capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "main"
    name = proc.stdout.strip()
    return name.split("/", 1)[1] if proc.returncode == 0 and "/" in name else "main"


def slug(ref: str) -> str:
    """CI_COMMIT_REF_SLUG: lowercased, non-alphanumerics to -, at most 63 characters."""
    return re.sub(r"[^a-z0-9]", "-", ref.lower())[:63].strip("-")


OPEN_MR = {"CI_OPEN_MERGE_REQUESTS": "group/project!1"}


def standard_events(default: str) -> list[tuple[str, Event]]:
    """The events most pipelines meet: a merge request into the default branch, pushes to
    it and to another branch (with and without an open MR), a tag and a schedule."""
    return [
        ("a merge request into " + default, Event("merge_request_event", "feature", target=default,
                                                   default_branch=default)),
        ("a push to " + default, Event("push", default, default_branch=default)),
        ("a push to a feature branch", Event("push", "feature", default_branch=default)),
        ("a push to a feature branch with an open merge request",
         Event("push", "feature", default_branch=default, extra=dict(OPEN_MR))),
        ("a tag", Event("push", "v1.0.0", tag=True, default_branch=default)),
        ("a schedule on " + default, Event("schedule", default, default_branch=default)),
    ]
