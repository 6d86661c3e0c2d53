"""\"Did you mean\": the close spelling of a misspelt name, within a budget per file."""

from __future__ import annotations

from collections.abc import Iterable

# A hint is a courtesy. A file with thousands of misspelt names against thousands of jobs
# must not cost a string comparison for every pair, so one file's check spends at most this
# many comparisons on hints (about a second), then stops hinting.
HINT_BUDGET = 200_000
_hint_budget = [HINT_BUDGET]


def reset_hints() -> None:
    """A fresh hint budget, for the next file."""
    _hint_budget[0] = HINT_BUDGET


def suggest(word: str, options: Iterable[str]) -> str | None:
    import difflib  # only when there is something to suggest

    pool = options if isinstance(options, list) else list(options)
    if _hint_budget[0] < len(pool):
        return None
    candidates = [o for o in pool if isinstance(o, str)]
    _hint_budget[0] -= len(candidates)
    match = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return match[0] if match else None
