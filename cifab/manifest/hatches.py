"""The manifest's escape hatches, checked against GitLab's own schema with positions in
cifab.yml: job overrides (`jobs:`), `extra_jobs:` and `include:`; and the keywords that
`gitlab_version` rules out (the versions themselves are in cifab.gitlab)."""

from __future__ import annotations

from functools import cache
from typing import Any

from cifab import schemaerrors
from cifab.diagnostics import Finding
from cifab.gitlab import COMPONENTS_SINCE, NEEDS_MATRIX_SINCE, supports
from cifab.manifest.problems import problems_for
from cifab.manifest.rules import INVALID
from cifab.pipeline.yamlpos import YList, YMap

SCRIPT_HOOKS = ("script_before", "script_after")  # commands put before / after a job's script

@cache
def _validators() -> dict[str, Any]:
    import jsonschema_rs

    from cifab import gitlab_schema

    gitlab = gitlab_schema.schema()
    definitions = gitlab["definitions"]
    job_keys = dict(definitions["job_template"]["properties"])
    hook = {"type": "array", "items": {"type": "string"}, "description": "commands"}
    override = {"type": "object", "additionalProperties": False,
                "properties": {**job_keys, "script_before": hook, "script_after": hook}}
    schemas = {
        "jobs": {"type": "object", "additionalProperties": override},
        "extra_jobs": {"type": "object", "additionalProperties": {"$ref": "#/definitions/job"}},
        "include": gitlab["properties"]["include"],
    }
    return {key: (jsonschema_rs.validator_for({**sch, "definitions": definitions}, validate_formats=False),
                  {**sch, "definitions": definitions}) for key, sch in schemas.items()}


def validate(data: YMap) -> list[Finding]:
    problems: list[Finding] = []
    for key, (validator, root) in _validators().items():
        value = data.get(key)
        if not value:
            continue
        for leaf in schemaerrors.leaves(validator.iter_errors(value), root):
            if leaf.kind == "Type" and leaf.instance is None:
                continue  # GitLab reads an empty key as unset
            problems.extend(problems_for(leaf._replace(path=(key, *leaf.path)), data, root))
    problems.extend(_version_problems(data))
    return problems


def _uses_needs_matrix(job: Any) -> bool:
    needs = job.get("needs") if isinstance(job, dict) else None
    return isinstance(needs, list) and any(isinstance(n, dict) and "parallel" in n for n in needs)


def _version_problems(data: YMap) -> list[Finding]:
    version = data.get("gitlab_version")
    if version is None:
        return []
    out = []
    includes = data.get("include")
    if not isinstance(includes, YList):
        includes = YList(data.src, data.start)
    for i, entry in enumerate(includes):
        if isinstance(entry, dict) and "component" in entry and not supports(version, COMPONENTS_SINCE):
            src, line, col = includes.item_mark(i)
            out.append(INVALID.at(src, line, col, f"include[{i}]: CI/CD components need GitLab 17.0, and "
                                               f"gitlab_version is {version}"))
    for section in ("jobs", "extra_jobs"):
        jobs = data.get(section) or {}
        for name, job in jobs.items():
            if _uses_needs_matrix(job) and not supports(version, NEEDS_MATRIX_SINCE):
                src, line, col = job.key_mark("needs")
                out.append(INVALID.at(src, line, col, f"{section}.{name}.needs: needs:parallel:matrix needs GitLab "
                                                   f"16.3, and gitlab_version is {version}"))
    return out
