"""Running ShellCheck over many scripts: once per distinct script, in parallel, within a deadline.

ShellCheck costs a few milliseconds per small script and grows faster than linearly with a
script's length (20,000 lines take minutes), so work is bounded twice: scripts longer than
MAX_SCRIPT_LINES are not checked, and the whole run stops at a deadline. What was not checked
is counted, so the rule can say so instead of hanging.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # both load only when ShellCheck runs: lint --no-shellcheck starts faster
    from concurrent.futures import Future, ThreadPoolExecutor

    from cifab.lint.shellcheck_cache import ResultCache

# ShellCheck codes skipped by default in CI scripts, each with its reason. `lint.shellcheck`
# in cifab.yml can exclude more, or include any of these again.
DEFAULT_EXCLUDED: dict[str, str] = {
    "SC2154": "a variable used but never assigned: CI/CD variables come from GitLab and the runner",
    "SC2034": "a variable assigned but never used: jobs set variables for the tools they run",
    "SC1091": "a sourced file not followed: it comes from the checkout or the image at run time",
}
MAX_SCRIPT_LINES = 2_000
MAX_SCRIPT_BYTES = 200_000
DEFAULT_TIMEOUT = 60.0
CHUNK = 100  # scripts per ShellCheck process: keeps argument lists short and work balanced


@dataclass
class Outcome:
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # by script index
    too_long: list[int] = field(default_factory=list)
    timed_out: int = 0  # scripts the deadline left unchecked
    failure: str | None = None  # ShellCheck's own complaint, when it gave no report


def binary() -> str | None:
    """shellcheck on PATH, or the one the `shellcheck` extra installed beside this Python
    (a virtualenv used without activating it)."""
    found = shutil.which("shellcheck")
    if found:
        return found
    beside = Path(sys.executable).parent / ("shellcheck.exe" if os.name == "nt" else "shellcheck")
    return str(beside) if beside.is_file() else None


def _scratch() -> str | None:
    """Memory-backed scratch space where there is one: thousands of small script files are
    written there in a tenth of a second, against seconds on some disks."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


def workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class Pending:
    """ShellCheck running in the background while the other rules run: `outcome()` waits."""

    def __init__(self, outcome: Outcome, texts: list[str], chunks: list[list[int]],
                 futures: list[Future[list[dict[str, Any]] | str | None]], pool: ThreadPoolExecutor | None,
                 scratch: tempfile.TemporaryDirectory[str] | None, cache: ResultCache | None) -> None:
        self._outcome, self._texts, self._chunks = outcome, texts, chunks
        self._futures, self._pool, self._scratch, self._cache = futures, pool, scratch, cache

    def outcome(self) -> Outcome:
        outcome = self._outcome
        try:
            results = [f.result() for f in self._futures]
        finally:
            if self._pool is not None:
                self._pool.shutdown()
            if self._scratch is not None:
                self._scratch.cleanup()
        for chunk, result in zip(self._chunks, results, strict=True):
            if result is None:
                outcome.timed_out += len(chunk)
            elif isinstance(result, str):
                outcome.failure = outcome.failure or result
            else:
                found: dict[int, list[dict[str, Any]]] = {i: [] for i in chunk}
                for comment in result:
                    try:
                        index = int(Path(str(comment["file"])).stem)
                    except (KeyError, ValueError):
                        continue
                    if index in found:
                        found[index].append(comment)
                for index, comments in found.items():
                    if comments:
                        outcome.comments[index] = comments
                    if self._cache is not None:
                        self._cache.put(self._texts[index], comments)
        if self._cache is not None:
            self._cache.save()
        return outcome


def start(program: str, texts: list[str], exclude: list[str], timeout: float = DEFAULT_TIMEOUT,
          cache_folder: Path | None = None) -> Pending:
    """Start ShellCheck on the scripts that no earlier run has checked (see
    shellcheck_cache); the rest of lint runs while it works."""
    from concurrent.futures import ThreadPoolExecutor

    from cifab.lint.shellcheck_cache import ResultCache, identity

    outcome = Outcome()
    command = [program, "--format=json1", "--shell=bash", "--norc"]
    if exclude:
        command.append("--exclude=" + ",".join(exclude))
    key = identity(program, command[1:]) if cache_folder is not None else None
    cache = ResultCache(cache_folder, key) if cache_folder is not None and key is not None else None
    todo = []
    for i, text in enumerate(texts):
        if text.count("\n") > MAX_SCRIPT_LINES or len(text) > MAX_SCRIPT_BYTES:
            outcome.too_long.append(i)
            continue
        known = cache.get(text) if cache is not None else None
        if known is None:
            todo.append(i)
        elif known:
            outcome.comments[i] = known
    if not todo:
        return Pending(outcome, texts, [], [], None, None, cache)
    deadline = time.monotonic() + timeout
    scratch = tempfile.TemporaryDirectory(prefix="cifab-sc-", dir=_scratch())
    try:
        for i in todo:
            Path(scratch.name, f"{i}.sh").write_text(texts[i], encoding="utf-8")
    except BaseException:
        scratch.cleanup()
        raise
    count = workers()
    size = max(1, min(CHUNK, -(-len(todo) // count)))
    chunks = [todo[k : k + size] for k in range(0, len(todo), size)]
    pool = ThreadPoolExecutor(max_workers=count)
    futures = [pool.submit(_run, command, scratch.name, chunk, deadline) for chunk in chunks]
    return Pending(outcome, texts, chunks, futures, pool, scratch, cache)


def _run(command: list[str], tmp: str, chunk: list[int], deadline: float) -> list[dict[str, Any]] | str | None:
    """ShellCheck's comments on a chunk; its complaint as text; None when out of time."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return None
    try:
        proc = subprocess.Popen([*command, *(f"{i}.sh" for i in chunk)], cwd=tmp, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                env={**os.environ, "SHELLCHECK_OPTS": ""})
    except OSError as exc:
        return f"shellcheck could not start: {exc.strerror}"
    try:
        out, err = proc.communicate(timeout=remaining)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return None
    try:
        comments = json.loads(out or b"{}").get("comments", [])
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        first = err.decode("utf-8", "replace").strip().splitlines()[:1]
        return "shellcheck failed: " + (first[0][:200] if first else f"exit status {proc.returncode}")
    return comments if isinstance(comments, list) else []
