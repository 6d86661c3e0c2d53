"""The console script. It imports the command line inside a guard, so that Ctrl-C while
Python is still loading it ends quietly with exit 130, as it does later."""

from __future__ import annotations

import gc
import os
import sys


def run() -> None:
    # A command lives for a second or less and builds trees of dicts and lists without
    # cycles, whose size GitLab's limits bound; the cyclic collector would only rescan
    # them (on a 4,000-job lint: 41 collections, 75 ms of 0.8 s), so it stays off.
    gc.disable()
    try:
        from cifab.cli import main
    except KeyboardInterrupt:
        sys.exit(130)
    leave(main())


def leave(code: int) -> None:
    """End the process without tearing the interpreter down, as mypy does. Freeing the
    model of a 4,000-job pipeline and finalising every module took 40-50 ms of a 0.77 s
    lint, and nothing needs it: cifab writes files atomically and closes them, and its
    ShellCheck processes and threads have ended before a command returns. When the output
    cannot be flushed (a closed pipe), the ordinary exit reports it."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)
    os._exit(code)
