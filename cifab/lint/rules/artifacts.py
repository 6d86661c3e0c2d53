"""artifacts-expose-as: artifacts:expose_as, as Entry::Artifacts checks it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from cifab.diagnostics import Finding, Severity
from cifab.gitlab import MAX_EXPOSE_AS_LENGTH
from cifab.lint.rules.base import Context, Rule
from cifab.pipeline.yamlpos import YList, YMap

# Entry::Artifacts, when expose_as is set (the merge request widget links to the paths).
EXPOSE_AS = re.compile(r"\A\w[-\w ]*\Z", re.ASCII)  # Ruby's \w is ASCII




def _expose_as(artifacts: YMap, loc: str) -> Iterator[Finding]:
    name = artifacts.get("expose_as")
    if name is None:
        return
    paths = artifacts.get("paths")
    if not paths:
        yield ARTIFACTS.finding(artifacts.key_mark("expose_as"), f"{loc} paths can't be blank",
                                "expose_as names the paths the merge request links to")
    elif isinstance(paths, YList):
        for i, path in enumerate(paths):
            if isinstance(path, str) and "*" in path:
                yield ARTIFACTS.finding(paths.item_mark(i), f"{loc} paths can't contain '*' when used with 'expose_as'",
                                        "name the files, or drop expose_as")
                break
    if isinstance(name, str):
        if len(name) > MAX_EXPOSE_AS_LENGTH:
            yield ARTIFACTS.finding(artifacts.value_mark("expose_as"),
                                    f"{loc} expose as is too long (maximum is {MAX_EXPOSE_AS_LENGTH} characters)")
        if not EXPOSE_AS.match(name):
            yield ARTIFACTS.finding(artifacts.value_mark("expose_as"),
                                    f"{loc} expose as can contain only letters, digits, '-', '_' and spaces")


def check_artifacts(ctx: Context) -> Iterable[Finding]:
    default = ctx.pipeline.config.get("default")
    seen: set[int] = set()
    places: list[tuple[Any, str]] = []
    if isinstance(default, YMap):
        places.append((default.get("artifacts"), "default:artifacts"))
    places += [(job.get("artifacts"), f"jobs:{job.name}:artifacts") for job in ctx.pipeline.visible_jobs]
    for artifacts, loc in places:
        # One artifacts mapping shared through default: or extends is reported once.
        if isinstance(artifacts, YMap) and id(artifacts) not in seen:
            seen.add(id(artifacts))
            yield from _expose_as(artifacts, loc)


ARTIFACTS = Rule(
    "artifacts-expose-as", Severity.ERROR, "artifacts:expose_as needs paths without wildcards and a plain name",
    "`expose_as` shows a job's artifacts in the merge request. GitLab then wants `paths`, none "
    f"of them with a `*`, and a name of at most {MAX_EXPOSE_AS_LENGTH} letters, digits, '-', '_' and spaces "
    "that starts with a letter or digit.",
    bad="test:\n  script: make coverage\n  artifacts:\n    expose_as: \"coverage report\"\n"
        "    paths: [\"coverage/*.html\"]\n",
    good="test:\n  script: make coverage\n  artifacts:\n    expose_as: \"coverage report\"\n"
         "    paths: [coverage/index.html]\n",
    check=check_artifacts,
    entry_messages=True,
)
