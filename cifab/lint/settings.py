"""What lint can be told by a repository: the rules to ignore and how ShellCheck runs.
cifab.manifest.lint_section reads them from cifab.yml's `lint:`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cifab.lint.shellcheck import DEFAULT_EXCLUDED, DEFAULT_TIMEOUT


@dataclass(frozen=True)
class LintSettings:
    ignore: frozenset[str] = frozenset()
    shellcheck_exclude: tuple[str, ...] = tuple(DEFAULT_EXCLUDED)
    shellcheck_timeout: float = DEFAULT_TIMEOUT
    shellcheck_cache: bool = True  # keep verdicts between runs (cifab.lint.shellcheck_cache)
    # The pipelines lint simulates (cifab.lint.scenarios): True for the standard ones,
    # False for none, or the manifest's own list of {name, branch|tag|merge_request, ...}.
    scenarios: bool | tuple[dict[str, Any], ...] = True
