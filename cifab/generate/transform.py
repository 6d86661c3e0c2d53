"""Applying the manifest's escape hatches to the rendered pipeline, keeping its comments.

ruamel.yaml's round trip keeps the templates' comments and layout byte for byte (PyYAML
would drop every comment), so overrides, extra jobs and includes change only what they
name. Without any escape hatch the text is returned untouched.
"""

from __future__ import annotations

import io
from typing import Any

from cifab.diagnostics import Finding
from cifab.errors import ProblemsError
from cifab.generate.context import EVERY_PIPELINE, EVERY_PIPELINE_RULES, gitlab_features
from cifab.generate.scalars import representer
from cifab.gitlab import deep_merge, is_job_name
from cifab.manifest.hatches import SCRIPT_HOOKS
from cifab.manifest.load import Manifest
from cifab.manifest.rules import INVALID
from cifab.pipeline.yamlpos import plain
from cifab.spelling import suggest


def needed(data: dict[str, Any]) -> bool:
    return bool(data.get("jobs") or data.get("extra_jobs") or data.get("include"))


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.Representer = representer()
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    yaml.default_flow_style = False
    return yaml


def load(text: str) -> Any:
    """A generated pipeline as ruamel's round-trip tree, comments included."""
    return _yaml().load(text)


def dump(doc: Any) -> str:
    out = io.StringIO()
    _yaml().dump(doc, out)
    return spacing(out.getvalue())


def apply(body: str, manifest: Manifest) -> str:
    data = manifest.data
    if not needed(data):
        return body
    doc = load(body)
    _override(doc, data.get("jobs") or {}, manifest)
    _extra_jobs(doc, data.get("extra_jobs") or {}, manifest)
    if data.get("include"):
        if "include" in doc:  # GitLab's security templates: the manifest's entries follow them
            doc["include"].extend(plain(data["include"]))
        else:
            doc.insert(0, "include", plain(data["include"]))
            doc.yaml_set_comment_before_after_key("include", before="Included as cifab.yml lists them.")
    return dump(doc)


def spacing(text: str) -> str:
    """One blank line before each top-level block (with the comments that lead into it) and
    none inside one, as the templates lay them out. ruamel keeps a blank line where the
    template had it, which is no longer the end of a job once a key is added to it.
    Blank lines inside a block scalar are part of its value and stay."""
    keep = _inside_block_scalars(text)
    lines = [line for n, line in enumerate(text.splitlines()) if line.strip() or n in keep]
    out: list[str] = []
    for i, line in enumerate(lines):
        if not line.strip():  # a blank line of a block scalar's value
            out.append(line)
            continue
        starts_block = not line.startswith((" ", "#", "-")) or (
            line.startswith("#") and (i == 0 or not lines[i - 1].startswith("#")))
        if starts_block and out and not out[-1].startswith("#"):
            out.append("")
        out.append(line)
    return "\n".join(out) + "\n"


def _inside_block_scalars(text: str) -> set[int]:
    """0-based numbers of the lines strictly inside a `|` or `>` scalar's text."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    inside: set[int] = set()
    for token in yaml.scan(text, Loader=loader):
        if isinstance(token, yaml.ScalarToken) and token.style in ("|", ">"):
            inside.update(range(token.start_mark.line + 1, token.end_mark.line))
    return inside


def _problem(manifest: Manifest, path: tuple[str, str], message: str, hint: str | None) -> Finding:
    source = manifest.source
    section = source.get(path[0]) if source is not None else None
    if section is not None and hasattr(section, "key_mark"):
        src, line, col = section.key_mark(path[1])
    else:
        src, line, col = str(manifest.path), 0, 0
    return INVALID.at(src, line, col, message, hint=hint)


def _jobs(doc: Any) -> list[str]:
    return [k for k in doc if is_job_name(k)]


def _override(doc: Any, overrides: dict[str, Any], manifest: Manifest) -> None:
    problems = []
    for name, change in overrides.items():
        if name not in doc or name not in _jobs(doc):
            near = suggest(name, _jobs(doc))
            problems.append(_problem(manifest, ("jobs", name), f"jobs.{name}: the pipeline has no job named '{name}'",
                                     f"did you mean '{near}'?" if near else "`cifab generate --stdout` shows the jobs"))
            continue
        job = doc[name]
        change = dict(change)
        before, after = (change.pop(hook, []) for hook in SCRIPT_HOOKS)
        deep_merge(job, plain(change), new=_in_place)  # in place: the job's comments stay
        if before or after:
            script = job.get("script", [])
            if isinstance(script, str):
                job["script"] = [*before, script, *after]
            else:  # in place, so that the comments attached to the list stay
                for i, command in enumerate(before):
                    script.insert(i, command)
                script.extend(after)
    if problems:
        raise ProblemsError(problems)


def _in_place(base: Any, over: Any) -> Any:
    return base


def _extra_jobs(doc: Any, extra: dict[str, Any], manifest: Manifest) -> None:
    problems = []
    for name, job in extra.items():
        if name in doc:
            problems.append(_problem(manifest, ("extra_jobs", name),
                                     f"extra_jobs.{name}: the pipeline already has '{name}'",
                                     f"change it with jobs.{name} instead, or pick another name"))
            continue
        doc[name] = plain(job)
        if _needs_rules(doc[name], name, manifest):
            doc[name]["rules"] = _every_pipeline(doc)
    if problems:
        raise ProblemsError(problems)
    if extra:
        first = next(iter(extra))
        doc.yaml_set_comment_before_after_key(first, before="Jobs written in cifab.yml (extra_jobs).")


def _needs_rules(job: Any, name: str, manifest: Manifest) -> bool:
    """An extra job that says nothing of when it runs runs in every pipeline, as generated
    jobs do: under the merge-request workflow a job without rules would be left out of
    merge request pipelines."""
    return (isinstance(job, dict) and not name.startswith(".")
            and gitlab_features(manifest.data)["merge_request_pipelines"]
            and not {"rules", "only", "except", "extends"} & set(job))


def _every_pipeline(doc: Any) -> Any:
    """The shared rules by reference where the pipeline has them, else written out (a
    monorepo's pipeline gives its jobs change rules instead)."""
    from ruamel.yaml.comments import CommentedSeq
    from ruamel.yaml.tag import Tag

    if EVERY_PIPELINE not in doc:
        return [{"if": condition} for condition in EVERY_PIPELINE_RULES]
    reference = CommentedSeq([EVERY_PIPELINE, "rules"])
    reference.fa.set_flow_style()
    reference.yaml_set_ctag(Tag(suffix="!reference"))
    return reference
