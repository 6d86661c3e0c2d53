"""include-unpinned: an include of another project's file, a component or a remote file that
a change upstream can change without a commit here."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from cifab.diagnostics import Finding, Severity
from cifab.lint.rules.base import Context, Rule
from cifab.pipeline.include import include_entries
from cifab.pipeline.yamlpos import YMap

# What pins an include: a full semantic version (a tag: 1.4.2, v1.4.2, 1.4.2-rc.1) or a
# commit SHA, or this pipeline's own commit. A branch, `~latest` or a partial version (1.4,
# which GitLab resolves to its newest patch) moves.
PINNED = re.compile(r"\A(?:v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?|[0-9a-f]{40}|\$\{?CI_COMMIT_SHA\}?)\Z")
_SHA = re.compile(r"(?<![0-9a-f])[0-9a-f]{40}(?![0-9a-f])")


def _unpinned(entry: Any) -> tuple[str, str] | None:
    """(what, why) when the entry can change upstream; None when it cannot (or is local)."""
    if isinstance(entry, str):
        if entry.startswith(("http://", "https://")):
            return f"remote file {entry}", "the short form carries no integrity hash"
        return None
    if not isinstance(entry, dict):
        return None
    component = entry.get("component")
    if isinstance(component, str):
        _, at, version = component.rpartition("@")
        if not at or not PINNED.match(version):
            return f"component {component}", f"version {version} moves" if at else "no version"
        return None
    project = entry.get("project")
    if isinstance(project, str):
        ref = entry.get("ref")
        if not isinstance(ref, str) or not PINNED.match(ref):
            return f"project {project}", ("no ref: it follows the default branch" if ref is None
                                          else f"ref {ref} moves")
        return None
    remote = entry.get("remote")
    if isinstance(remote, str) and "integrity" not in entry and not _SHA.search(remote):
        return f"remote file {remote}", "no integrity hash, no commit SHA in its URL"
    return None


def check_unpinned(ctx: Context) -> Iterable[Finding]:
    for loaded in ctx.pipeline.files:
        data = loaded.data
        if not isinstance(data, YMap) or "include" not in data:
            continue
        for entry, mark in include_entries(data["include"]):
            found = _unpinned(entry)
            if found:
                what, why = found
                yield UNPINNED.finding(
                    mark or data.value_mark("include"),
                    f"include of {what} is not pinned ({why}): a change upstream changes this pipeline",
                    "pin a release or commit: component@1.4.2, project with ref: v1.4.2 or a commit SHA, "
                    "remote with integrity: sha256-...")


UNPINNED = Rule(
    "include-unpinned", Severity.WARNING, "includes from other projects are pinned to a release or a commit",
    "A component, another project's file or a remote file runs in this pipeline with its "
    "permissions. Included at a branch, `~latest`, a partial version or no ref at all, it "
    "changes whenever its upstream does, without a commit or a review here. Pin a full version "
    "(a tag) or a commit SHA; a remote file takes `integrity:` (GitLab 17.9). GitLab's own "
    "`template:` files and local files change only with GitLab or with this repository.",
    bad="include:\n  - component: gitlab.com/acme/ci/lint@main\n  - project: acme/ci-templates\n"
        "    file: /go.yml\n",
    good="include:\n  - component: gitlab.com/acme/ci/lint@1.4.2\n  - project: acme/ci-templates\n"
         "    ref: v3.2.0\n    file: /go.yml\n",
    check=check_unpinned,
)
