"""How far a template may go. A user's templates_dir runs in Jinja's immutable sandbox,
which keeps it from the file system and from Python's internals, but not from looping for
ever or building huge values. These bounds do: ranges count against one budget per render,
`*` and `**` may not build values beyond MAX_TEXT, and the render stops at a deadline.
Whatever stops a render is reported with the template file and line it happened at.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

RENDER_SECONDS = 5
MAX_RANGE_ITEMS = 1_000_000  # items all range() calls of one render may produce
MAX_TEXT = 4_000_000  # characters (or items) one `*` may build; also the output's bound


class TemplateLimit(Exception):
    """A template went beyond one of the bounds above."""


class RangeBudget:
    def __init__(self) -> None:
        self.left = MAX_RANGE_ITEMS

    def range(self, *args: Any) -> Iterator[int]:
        items = range(*args)
        if len(items) > self.left:
            raise TemplateLimit(f"range() of {len(items):,} items is beyond the {MAX_RANGE_ITEMS:,} a render may use")
        self.left -= len(items)
        return iter(items)


def sandbox_class() -> type:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Sandbox(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "*":
                for seq, times in ((left, right), (right, left)):
                    if isinstance(seq, (str, list, tuple)) and isinstance(times, int) and \
                            len(seq) * times > MAX_TEXT:
                        raise TemplateLimit(f"`*` would build {len(seq) * times:,} items; the bound is {MAX_TEXT:,}")
            if operator == "**" and isinstance(right, (int, float)) and abs(right) > 64 and \
                    isinstance(left, (int, float)) and abs(left) > 1:
                raise TemplateLimit(f"`**` with exponent {right} is beyond what a template may compute")
            return super().call_binop(context, operator, left, right)

    return Sandbox


@contextmanager
def deadline(seconds: float = RENDER_SECONDS) -> Iterator[None]:
    """Interrupt a render that uses more than `seconds` of CPU time: a loaded machine slows
    a render's wall time, not its CPU time, so only a runaway template is stopped. Uses
    SIGPROF, so it bounds renders on the main thread of a POSIX process (the CLI); elsewhere
    the other bounds still hold."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise TemplateLimit(f"the render used more than {seconds:g} s of CPU time")

    previous = signal.signal(signal.SIGPROF, stop)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def template_line(exc: BaseException) -> str:
    """` (file:line)` of the innermost template frame the error passed through, or ''.
    Jinja rewrites a render's traceback so that template frames carry the template's file
    name and line."""
    where = ""
    tb = exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.endswith(".j2"):
            where = f" ({name}:{tb.tb_lineno})"
        tb = tb.tb_next
    return where
