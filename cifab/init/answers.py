"""What init makes of a terminal's answers."""

from __future__ import annotations

YES = ("y", "yes")
NO = ("n", "no")


def yes_no(answer: str, default: bool) -> bool | None:
    """y/yes or n/no in any case, the default for an empty answer; None for anything else,
    which the question asks again, naming the valid answers."""
    text = answer.strip().lower()
    if not text:
        return default
    if text in YES:
        return True
    if text in NO:
        return False
    return None
