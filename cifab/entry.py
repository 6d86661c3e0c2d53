"""The console script. It imports the command line inside a guard, so that Ctrl-C while
Python is still loading it ends quietly with exit 130, as it does later."""

from __future__ import annotations

import sys


def run() -> None:
    try:
        from cifab.cli import main
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(main())
