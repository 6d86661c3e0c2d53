"""The event a pipeline is created for, and what GitLab's predefined variables say in it
(docs/ci/variables/predefined_variables.md): a push to a branch or a tag, a merge request
(or a child pipeline of one), a schedule, or any other CI_PIPELINE_SOURCE.

What cifab cannot know stays unknown instead of guessed: whether the ref is protected (unless
stated), the project's path (unless the origin remote names it), the commit message, the
merge request's labels, and every project or group variable. Rules that hinge on them are
reported as depending on them (cifab.simulate.pipeline)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cifab import git
from cifab.errors import CifabError
from cifab.gitlab import (
    ALWAYS_SET_VARIABLES,
    DIFF_SOURCES,
    EXTERNAL_PULL_REQUEST_VARIABLE_PREFIX,
    MERGE_REQUEST_VARIABLE_PREFIX,
    PIPELINE_SOURCES,
    TAG_VARIABLES,
)
from cifab.pipeline.yamlpos import plain

# Sources a child pipeline of a merge request pipeline may have.
CHILD_SOURCES = ("parent_pipeline",)
# Set by GitLab only when the ref has an open merge request, a schedule, a trigger or a
# deploy freeze: unset unless the event says otherwise (a deploy freeze is the exception,
# and cifab assumes there is none).
_OCCASIONAL = {"CI_OPEN_MERGE_REQUESTS", "CI_PIPELINE_SCHEDULE_DESCRIPTION", "CI_PIPELINE_TRIGGERED",
               "CI_DEPLOY_FREEZE"}


@dataclass(frozen=True)
class Event:
    source: str  # CI_PIPELINE_SOURCE
    ref: str  # the branch or tag the pipeline runs for (a merge request's source branch)
    tag: bool = False
    target: str | None = None  # a merge request's target branch: set in its pipelines and their children
    default_branch: str = "main"
    changed: tuple[str, ...] | None = None  # the diff GitLab compares `changes` with; None: not known
    new_ref: bool = False  # the push creates the branch or tag, so GitLab knows no diff
    protected: bool | None = None  # CI_COMMIT_REF_PROTECTED; None: not stated
    project: git.Remote | None = None  # CI_PROJECT_PATH and friends; None: not known
    extra: dict[str, str] = field(default_factory=dict)  # --var: pipeline variables, which win over all others
    unset: frozenset[str] = frozenset()  # variables stated to be unset

    @property
    def merge_request(self) -> bool:
        """A merge request pipeline, or a child pipeline of one: the CI_MERGE_REQUEST_*
        variables are set, and `only: refs` patterns never match."""
        return self.target is not None

    @property
    def has_diff(self) -> bool:
        """Whether GitLab compares `changes` with a diff here (Ci::Pipeline#changed_paths):
        merge requests, pushes that update an existing branch, external pull requests."""
        if self.merge_request:
            return True
        return self.source in DIFF_SOURCES and not self.tag and not self.new_ref

    def describe(self) -> str:
        if self.merge_request:
            what = f"merge request {self.ref} → {self.target}"
            return what if self.source == "merge_request_event" else f"{self.source} pipeline of {what}"
        what = f"tag {self.ref}" if self.tag else f"branch {self.ref}"
        return f"{self.source} pipeline for {what}"

    def predefined(self) -> dict[str, str]:
        """The predefined variables cifab knows the value of here."""
        out = {
            "CI": "true",
            "GITLAB_CI": "true",
            "CI_PIPELINE_SOURCE": self.source,
            "CI_DEFAULT_BRANCH": self.default_branch,
            "CI_COMMIT_REF_NAME": self.ref,
            "CI_COMMIT_REF_SLUG": slug(self.ref),
        }
        if self.protected is not None:
            out["CI_COMMIT_REF_PROTECTED"] = "true" if self.protected else "false"
        if self.project is not None:
            out.update({
                "CI_PROJECT_PATH": self.project.path,
                "CI_PROJECT_PATH_SLUG": slug(self.project.path),
                "CI_PROJECT_NAMESPACE": self.project.namespace,
                "CI_PROJECT_ROOT_NAMESPACE": self.project.path.split("/", 1)[0],
                "CI_PROJECT_NAME": self.project.name,
                "CI_PROJECT_URL": f"{self.project.server}/{self.project.path}",
                "CI_SERVER_URL": self.project.server,
                "CI_SERVER_HOST": self.project.host.split(":", 1)[0],
            })
        if self.merge_request:
            # CI_COMMIT_BRANCH is not set in merge request pipelines.
            out.update({
                "CI_MERGE_REQUEST_ID": "1",
                "CI_MERGE_REQUEST_IID": "1",
                "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": self.ref,
                "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": self.target or self.default_branch,
                "CI_MERGE_REQUEST_EVENT_TYPE": "detached",
            })
            if self.project is not None:
                out["CI_MERGE_REQUEST_PROJECT_PATH"] = self.project.path
                out["CI_MERGE_REQUEST_SOURCE_PROJECT_PATH"] = self.project.path
        elif self.tag:
            out["CI_COMMIT_TAG"] = self.ref
        else:
            out["CI_COMMIT_BRANCH"] = self.ref
        if self.source == "schedule":
            out["CI_PIPELINE_SCHEDULE_DESCRIPTION"] = "schedule"
        if self.source == "trigger":
            out["CI_PIPELINE_TRIGGERED"] = "true"
        return out

    def assumed(self) -> dict[str, str | None]:
        """What cifab chose where GitLab would know: values it made up, and variables it
        takes to be unset. Both appear in `cifab jobs --format json`."""
        out: dict[str, str | None] = {}
        if self.merge_request:
            out.update({"CI_MERGE_REQUEST_IID": "1", "CI_MERGE_REQUEST_EVENT_TYPE": "detached"})
        if "CI_OPEN_MERGE_REQUESTS" not in self.extra and not self.merge_request and not self.tag:
            out["CI_OPEN_MERGE_REQUESTS"] = None
        out["CI_DEPLOY_FREEZE"] = None
        return {k: v for k, v in out.items() if k not in self.extra}

    def absent(self, name: str) -> bool:
        """Whether GitLab surely leaves this variable unset in this pipeline."""
        if name in self.unset:
            return True
        if name.startswith(MERGE_REQUEST_VARIABLE_PREFIX):
            return not self.merge_request
        if name.startswith(EXTERNAL_PULL_REQUEST_VARIABLE_PREFIX):
            return self.source != "external_pull_request_event"
        if name in TAG_VARIABLES:
            return not self.tag
        if name == "CI_COMMIT_BRANCH":
            return self.tag or self.merge_request
        return name in _OCCASIONAL

    def surely_set(self, name: str) -> bool:
        """A variable GitLab sets in every pipeline, whose value cifab may not know (the
        commit SHA, the user, whether the ref is protected): never unset, however it compares."""
        return name in ALWAYS_SET_VARIABLES


def parse_variables(items: list[str] | None, option: str = "--var") -> dict[str, str]:
    """KEY=VALUE items."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CifabError(f"{option} {item}: expected KEY=VALUE")
        out[key] = value
    return out


def event_for(default_branch: str, *, branch: str | None = None, tag: str | None = None,
              merge_request: str | None = None, target: str | None = None, source: str | None = None,
              changed: tuple[str, ...] | None = None, new_ref: bool = False, protected: bool | None = None,
              project: git.Remote | None = None, variables: dict[str, str] | None = None,
              unset: frozenset[str] = frozenset()) -> Event:
    """The event a user describes: `cifab jobs --branch/--tag/--mr/--source` or a scenario of
    `lint.scenarios` in cifab.yml. At most one of branch, tag and merge_request; none is a push
    to the default branch. A merge request's pipeline has the source merge_request_event, and
    its child pipelines parent_pipeline."""
    chosen = [flag for flag, value in (("--branch", branch), ("--tag", tag), ("--mr", merge_request)) if value]
    if len(chosen) > 1:
        raise CifabError(f"{' and '.join(chosen)} cannot be combined: a pipeline runs for one event")
    if source is not None and source not in PIPELINE_SOURCES:
        raise CifabError(f"--source {source}: not one of {', '.join(PIPELINE_SOURCES)}")
    extra = dict(variables or {})
    if merge_request:
        if source not in (None, "merge_request_event", *CHILD_SOURCES):
            raise CifabError(f"--mr with --source {source}: a merge request's pipelines have the source "
                             f"merge_request_event, and their child pipelines {', '.join(CHILD_SOURCES)}")
        return Event(source or "merge_request_event", merge_request, target=target or default_branch,
                     default_branch=default_branch, changed=changed, protected=protected, project=project,
                     extra=extra, unset=unset)
    if source == "merge_request_event":
        raise CifabError("--source merge_request_event needs --mr SOURCE[:TARGET]")
    return Event(source or "push", tag or branch or default_branch, tag=bool(tag), default_branch=default_branch,
                 changed=changed, new_ref=new_ref, protected=protected, project=project, extra=extra, unset=unset)


def from_options(folder: Path | None, *, branch: str | None = None, tag: str | None = None, mr: str | None = None,
                 source: str | None = None, default_branch: str | None = None, variables: list[str] | None = None,
                 unset: list[str] | None = None, changed: list[str] | None = None, no_changes: bool = False,
                 new: bool = False, protected: bool | None = None, project: str | None = None) -> Event:
    """The event `cifab jobs` describes with its options. The default branch and the project
    come from the checkout at folder unless given."""
    if changed and no_changes:
        raise CifabError("--changed and --no-changes cannot be combined")
    if new and (changed or no_changes or mr):
        raise CifabError("--new describes a push that creates its branch or tag, which GitLab compares with "
                         "nothing: drop --changed, --no-changes and --mr")
    found = git.checkout(folder)
    named = found.origin
    if project is not None:
        named = git.Remote(found.origin.server if found.origin else "https://gitlab.com", project.strip("/"))
        if "/" not in named.path:
            raise CifabError(f"--project {project}: expected GROUP/PROJECT")
    source_branch, _, target = (mr or "").partition(":")
    return event_for(default_branch or found.default_branch.name, branch=branch, tag=tag,
                     merge_request=source_branch or None, target=target or None, source=source,
                     changed=tuple(changed) if changed else () if no_changes else None, new_ref=new,
                     protected=protected, project=named,
                     variables=parse_variables(variables), unset=frozenset(unset or ()))


def slug(ref: str) -> str:
    """CI_COMMIT_REF_SLUG: lowercased, non-alphanumerics to -, at most 63 characters."""
    return re.sub(r"[^a-z0-9]", "-", ref.lower())[:63].strip("-")


OPEN_MR = {"CI_OPEN_MERGE_REQUESTS": "group/project!1"}


def standard_events(default: str, project: git.Remote | None = None) -> list[tuple[str, Event]]:
    """The events most pipelines meet: a merge request into the default branch, pushes to
    it and to another branch (with and without an open MR), a tag and a schedule. Whether
    their refs are protected is not stated: rules that ask are reported as depending on it."""
    open_mr = {"CI_OPEN_MERGE_REQUESTS": f"{project.path}!1"} if project is not None else dict(OPEN_MR)
    return [
        ("a merge request into " + default, Event("merge_request_event", "feature", target=default,
                                                   default_branch=default, project=project)),
        ("a push to " + default, Event("push", default, default_branch=default, project=project)),
        ("a push to a feature branch", Event("push", "feature", default_branch=default, project=project)),
        ("a push to a feature branch with an open merge request",
         Event("push", "feature", default_branch=default, project=project, extra=open_mr)),
        ("a tag", Event("push", "v1.0.0", tag=True, default_branch=default, project=project)),
        ("a schedule on " + default, Event("schedule", default, default_branch=default, project=project)),
    ]


_PARENT_PIPELINE = re.compile(r"""\$CI_PIPELINE_SOURCE\s*==\s*(["'])parent_pipeline\1""")


def child_pipeline(config: Any) -> bool:
    """A pipeline whose workflow:rules accept only `$CI_PIPELINE_SOURCE == "parent_pipeline"`
    is some pipeline's child (cifab writes monorepo children so): it exists only when its
    parent triggers it, so the standard events reach it as its parent's child."""
    workflow = plain(config.get("workflow")) if hasattr(config, "get") else None
    rules = workflow.get("rules") if isinstance(workflow, dict) else None
    if not isinstance(rules, list) or not rules:
        return False
    accepting = [r for r in rules if not (isinstance(r, dict) and r.get("when") == "never")]
    return bool(accepting) and all(isinstance(r, dict) and isinstance(r.get("if"), str)
                                   and _PARENT_PIPELINE.fullmatch(r["if"].strip()) for r in accepting)
