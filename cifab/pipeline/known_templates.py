"""GitLab's security templates, as far as cifab knows them offline.

cifab includes these templates in the pipelines it generates, and cannot fetch them. Rather
than give up on every pipeline that includes one (an unread include hides the jobs and stages
it brings, so lint would stop checking needs and the pipelines each event creates), lint reads
cifab's outline of each in its place (cifab/data/security-templates.yml): the jobs it
defines, their stage and reports, and the rules GitLab documents for them. It is an outline,
not GitLab's text, and `cifab lint --remote` still asks GitLab.
"""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def outlines() -> dict[str, str]:
    """Each known template's name and its outline, as YAML text."""
    import yaml

    text = resources.files("cifab").joinpath("data", "security-templates.yml").read_text(encoding="utf-8")
    return {str(k): str(v) for k, v in yaml.safe_load(text).items()}


# How the outline is named where positions are shown: never a file on disk.
OUTLINE_SOURCE = "<GitLab template {}>"


def outline(entry: object) -> tuple[str, str] | None:
    """(name, outline text) of an `include: template:` entry cifab knows, else None."""
    if isinstance(entry, dict) and set(entry) == {"template"} and isinstance(entry["template"], str):
        text = outlines().get(entry["template"])
        if text is not None:
            return entry["template"], text
    return None


@cache
def jobs() -> frozenset[str]:
    """The names of the jobs the outlines define: GitLab's own jobs, not cifab's."""
    import yaml

    return frozenset(name for text in outlines().values() for name, value in yaml.safe_load(text).items()
                     if name != "variables" and isinstance(value, dict))
