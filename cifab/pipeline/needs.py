"""Needs and parallel instances of a job, as GitLab names them: what the graph rules, the
pipeline simulation and the drawing all read."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Container, Iterable, Iterator
from typing import Any, NamedTuple

from cifab.diagnostics import Mark
from cifab.gitlab import MAX_PARALLEL
from cifab.pipeline.config import Job, flat_rules
from cifab.pipeline.yamlpos import YList


class Need(NamedTuple):
    name: str
    mark: Mark
    optional: bool
    key: str  # identity for duplicate detection (name plus matrix, if any)
    job: str  # the job as written: `job:` of a needs:parallel:matrix entry


# $[[ matrix.NAME ]] in needs:parallel:matrix: each instance of a parallel:matrix job
# names its own permutation (interpolation/matrix_interpolator.rb).
MATRIX_EXPRESSION = re.compile(r"\$\[\[\s*matrix\.([a-zA-Z0-9_-]+)\s*\]\]")


def _permutations(entry: dict[str, Any]) -> list[list[str]]:
    combos: list[list[str]] = [[]]
    for value in entry.values():
        options = value if isinstance(value, list) else [value]
        combos = [[*c, str(o)] for c in combos for o in options]
    return combos


def matrix_variables(job: Job) -> list[dict[str, str]]:
    """The variables of each instance of a parallel:matrix job ([{}] for any other job)."""
    parallel = job.get("parallel")
    matrix = parallel.get("matrix") if isinstance(parallel, dict) else None
    if not isinstance(matrix, list) or not matrix or matrix_size(matrix) > MAX_PARALLEL:
        return [{}]
    out: list[dict[str, str]] = []
    for entry in matrix:
        if isinstance(entry, dict):
            keys = [str(k) for k in entry]
            out.extend(dict(zip(keys, combo, strict=True)) for combo in _permutations(entry))
    return out or [{}]


def _interpolate_matrix(value: Any, variables: dict[str, str], unknown: set[str]) -> Any:
    if isinstance(value, str):
        def replace(match: re.Match[str]) -> str:
            if match.group(1) not in variables:
                unknown.add(match.group(1))
                return match.group(0)
            return variables[match.group(1)]
        return MATRIX_EXPRESSION.sub(replace, value)
    if isinstance(value, list):
        return [_interpolate_matrix(v, variables, unknown) for v in value]
    if isinstance(value, dict):
        return {k: _interpolate_matrix(v, variables, unknown) for k, v in value.items()}
    return value


def _matrix_needs(name: str, matrix: Any, instances: list[dict[str, str]], unknown: set[str]) -> list[str]:
    """The job instances a needs:parallel:matrix names: `build: [linux, amd64]`, once per
    permutation, interpolated for every instance of the needing job."""
    names: list[str] = []
    if not isinstance(matrix, list) or matrix_size(matrix) > MAX_PARALLEL:
        return names
    for variables in instances if MATRIX_EXPRESSION.search(json.dumps(matrix, default=str)) else [{}]:
        for entry in _interpolate_matrix(matrix, variables, unknown):
            if isinstance(entry, dict):
                names.extend(f"{name}: [{', '.join(c)}]" for c in _permutations(entry))
    return list(dict.fromkeys(names))


def _needs_of(value: Any, fallback: Mark, instances: list[dict[str, str]] | None = None,
              unknown: set[str] | None = None) -> Iterator[Need]:
    if not isinstance(value, list):
        return
    for i, entry in enumerate(value):
        mark = value.item_mark(i) if isinstance(value, YList) else fallback
        if isinstance(entry, str):
            yield Need(entry, mark, False, entry, entry)
        elif isinstance(entry, dict) and isinstance(entry.get("job"), str):
            if "pipeline" in entry or "project" in entry:
                continue  # cross-pipeline artifacts: another pipeline's job
            parallel = entry.get("parallel")
            key = entry["job"] + (json.dumps(parallel, sort_keys=True, default=str) if parallel else "")
            optional = entry.get("optional") is True
            matrix = parallel.get("matrix") if isinstance(parallel, dict) else None
            names = _matrix_needs(entry["job"], matrix, instances or [{}], unknown if unknown is not None else set())
            for name in names or [entry["job"]]:
                if not MATRIX_EXPRESSION.search(name):  # one that could not be interpolated: reported as such
                    yield Need(name, mark, optional, key, entry["job"])


def target(need: Need, parallel: Container[str]) -> str:
    """The job a need names once GitLab's normalizer has run: a needs:parallel:matrix need of a
    job that is not parallel needs that job itself (Normalizer#expand_parallelized_needs)."""
    return need.job if need.name != need.job and need.job not in parallel else need.name


def parallel_jobs(jobs: Iterable[Job]) -> set[str]:
    """The jobs GitLab expands into instances."""
    return {job.name for job in jobs if instance_names(job)}


def job_needs(job: Job) -> list[list[Need]]:
    """The job's `needs`, and each `rules:needs`, as separate lists; a need of matrix
    instances is one Need per instance. Worked out once per job (rules and the simulation of
    every event ask for them); callers only read the lists."""
    return _memo(job)[0]


def matrix_unknown(job: Job) -> set[str]:
    """The matrix variables its needs:parallel:matrix name that no instance of it has."""
    return _memo(job)[1]


def _memo(job: Job) -> tuple[list[list[Need]], set[str]]:
    if job.needs is None:
        unknown: set[str] = set()
        job.needs = (_groups(job, matrix_variables(job), unknown), unknown)
    return job.needs


def _groups(job: Job, instances: list[dict[str, str]], unknown: set[str]) -> list[list[Need]]:
    groups = [list(_needs_of(job.get("needs"), job.value_mark("needs"), instances, unknown))]
    for rule in flat_rules(job.get("rules")):
        if isinstance(rule, dict) and "needs" in rule:
            groups.append(list(_needs_of(rule["needs"], job.value_mark("rules"), instances, unknown)))
    return groups


def instance_needs(job: Job) -> list[list[list[Need]]] | None:
    """Each parallel:matrix instance's own needs, when they name `$[[ matrix.VAR ]]`: the
    normalizer interpolates them with that instance's values alone. None when every instance
    needs the same (job_needs)."""
    written = json.dumps([job.get("needs"), [r.get("needs") for r in flat_rules(job.get("rules"))
                                             if isinstance(r, dict)]], default=str)
    if not MATRIX_EXPRESSION.search(written):
        return None
    return [_groups(job, [variables], set()) for variables in matrix_variables(job)]


def matrix_size(matrix: Any) -> int:
    """How many jobs a parallel:matrix expands to, computed without expanding it."""
    total = 0
    for entry in matrix if isinstance(matrix, list) else []:
        if isinstance(entry, dict):
            total += math.prod(len(v) if isinstance(v, list) else 1 for v in entry.values())
    return total


def instance_names(job: Job) -> list[str]:
    """Names GitLab gives the jobs that `parallel` expands to; needs may name them. Beyond
    GitLab's limit there are none: GitLab rejects the job (limits-exceeded says so), and
    enumerating `parallel: 100000000` would take gigabytes."""
    parallel = job.get("parallel")
    if parallel is None:
        return []
    if isinstance(parallel, int) and not isinstance(parallel, bool) and parallel > 1:
        return [f"{job.name} {i}/{parallel}" for i in range(1, parallel + 1)] if parallel <= MAX_PARALLEL else []
    matrix = parallel.get("matrix") if isinstance(parallel, dict) else None
    if matrix_size(matrix) > MAX_PARALLEL:
        return []
    names: list[str] = []
    for entry in matrix if isinstance(matrix, list) else []:
        if isinstance(entry, dict):
            names.extend(f"{job.name}: [{', '.join(c)}]" for c in _permutations(entry))
    return names
