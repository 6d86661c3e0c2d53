"""limits-exceeded: parallel, retry, needs, caches and cache key files within GitLab's limits."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from cifab.diagnostics import Finding, Severity
from cifab.gitlab import (
    MAX_CACHE_KEY_FILES,
    MAX_CACHE_KEY_FILES_COMMITS,
    MAX_NEEDS,
    MAX_PARALLEL,
    MAX_RETRY,
)
from cifab.lint.rules.base import Context, Rule
from cifab.pipeline.config import Job
from cifab.pipeline.needs import instance_names, job_needs, matrix_size
from cifab.pipeline.yamlpos import YMap


def check_limits(ctx: Context) -> Iterable[Finding]:
    parallel_sizes = {j.name: len(instance_names(j)) or 1 for j in ctx.pipeline.visible_jobs}
    for job in ctx.pipeline.visible_jobs:
        parallel = job.get("parallel")
        if isinstance(parallel, YMap) and isinstance(parallel.get("matrix"), list):
            size = matrix_size(parallel["matrix"])
            if size > MAX_PARALLEL:
                yield LIMITS.finding(parallel.value_mark("matrix"),
                                     f"jobs:{job.name}:parallel:matrix config generates too many jobs "
                                     f"(maximum is {MAX_PARALLEL})")
        elif isinstance(parallel, int) and not isinstance(parallel, bool) and not 1 <= parallel <= MAX_PARALLEL:
            yield LIMITS.finding(job.value_mark("parallel"),
                                 f"jobs:{job.name}:parallel config must be less than or equal to {MAX_PARALLEL}")
        retry = job.get("retry")
        count = retry.get("max") if isinstance(retry, dict) else retry
        if isinstance(count, int) and not isinstance(count, bool) and not 0 <= count <= MAX_RETRY:
            mark = retry.value_mark("max") if isinstance(retry, YMap) else job.value_mark("retry")
            yield LIMITS.finding(mark, f"jobs:{job.name}:retry max must be less than or equal to {MAX_RETRY}")
        yield from _cache_limits(job)
        yield from _needs_limit(job, parallel_sizes)


def _needs_limit(job: Job, parallel_sizes: dict[str, int]) -> Iterator[Finding]:
    """Seed::Build#needs_errors, at pipeline creation: the job's needs, or the needs of a
    rule that replaces them, with a need on a parallel job counted once per instance."""
    for group in job_needs(job):
        count = sum(parallel_sizes.get(need.name, 1) for need in group)  # an instance's name is no job's
        if count > MAX_NEEDS:
            yield LIMITS.finding(group[0].mark, f"{job.name}: one job can only need {MAX_NEEDS} others, but you "
                                                f"have listed {count}. See needs keyword documentation for more "
                                                "details")
            return


def _cache_limits(job: Job) -> Iterator[Finding]:
    caches = job.get("cache")
    for cache in caches if isinstance(caches, list) else [caches]:
        key = cache.get("key") if isinstance(cache, dict) else None
        if not isinstance(key, YMap):
            continue
        for field, limit in (("files", MAX_CACHE_KEY_FILES), ("files_commits", MAX_CACHE_KEY_FILES_COMMITS)):
            files = key.get(field)
            if isinstance(files, list) and len(files) > limit:
                yield LIMITS.finding(key.value_mark(field),
                                     f"jobs:{job.name}:cache:key:{field} config has too many entries "
                                     f"(maximum {limit})")


LIMITS = Rule(
    "limits-exceeded", Severity.ERROR, "parallel, retry, needs and cache key files stay within GitLab's limits",
    f"`parallel` (or the jobs a `parallel:matrix` expands to) is at most {MAX_PARALLEL}, `retry` at most "
    f"{MAX_RETRY}, `cache:key:files` at most {MAX_CACHE_KEY_FILES} files and `cache:key:files_commits` at most "
    f"{MAX_CACHE_KEY_FILES_COMMITS}. A job needs at most {MAX_NEEDS} jobs (GitLab's default "
    "`ci_needs_size_limit`), a need on a parallel job counting once per instance; GitLab refuses the pipeline "
    "when it creates it.",
    bad="test:\n  script: make test\n  parallel:\n    matrix:\n"
        "      - A: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]\n"
        "        B: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]\n",
    good="test:\n  script: make test\n  parallel:\n    matrix:\n"
         "      - A: [1, 2, 3, 4, 5]\n        B: [1, 2, 3, 4, 5]\n",
    check=check_limits,
)
