"""Errors that end a command with a clear message instead of a traceback, and the one
boundary that turns every failure into a message and an exit code."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from cifab.diagnostics import Finding
from cifab.frames import printable, problems

# Exit codes (DESIGN.md): 0 clean, 1 findings, 2 usage/config/unparseable, 3 GitLab, 70 a bug.
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_REMOTE = 3
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130


class CifabError(Exception):
    """A failure the user can act on; the boundary prints it and exits with `exit_code`."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class ProblemsError(CifabError):
    """Input that failed validation (a manifest): one positioned finding per problem, exit 2."""

    def __init__(self, problems: list[Finding]) -> None:
        super().__init__("\n".join(str(p) for p in problems), EXIT_USAGE)
        self.problems = problems


@dataclass
class Outcome:
    code: int = 0


# Secrets this process holds (a GitLab token): whatever the boundary prints is scrubbed of
# them, in every form an exception may quote them (as text, or as a bytes repr).
_SECRETS: set[str] = set()


def register_secret(secret: str) -> None:
    if len(secret) >= 4:
        _SECRETS.add(secret)
        _SECRETS.add(repr(secret.encode("utf-8", "backslashreplace"))[2:-1])


def redact(text: str) -> str:
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _say(text: str) -> None:
    # Messages quote names from files and from GitLab's answers: shown, never sent raw.
    sys.stderr.write(f"cifab: {printable(redact(text))}\n")
    sys.stderr.flush()


@contextmanager
def boundary() -> Iterator[Outcome]:
    """Every command runs inside this: a CifabError becomes its message and exit code, and
    anything unexpected one line and exit 70 (CIFAB_DEBUG=1 re-raises it for the traceback)."""
    outcome = Outcome()
    try:
        yield outcome
    except ProblemsError as exc:  # positioned: each with its code frame
        sys.stderr.write(redact(problems(exc.problems)) + "\n")
        outcome.code = exc.exit_code
    except CifabError as exc:
        _say(exc.message)
        outcome.code = exc.exit_code
    except KeyboardInterrupt:
        outcome.code = EXIT_INTERRUPTED
    except BrokenPipeError:
        outcome.code = EXIT_FINDINGS
    except PermissionError as exc:
        _say(f"{exc.filename or 'a file'}: permission denied")
        outcome.code = EXIT_USAGE
    except OSError as exc:  # a disk problem outside the paths we check
        message = getattr(exc, "message", None) or (
            f"{exc.filename}: {exc.strerror or exc}" if exc.filename else f"{exc.strerror or exc}")
        _say(message)
        outcome.code = EXIT_USAGE
    except Exception as exc:  # a bug: say so in one line, or with CIFAB_DEBUG=1 the traceback too
        if os.environ.get("CIFAB_DEBUG"):
            import traceback

            sys.stderr.write(redact(traceback.format_exc()))
        _say(f"internal error ({type(exc).__name__}: {exc}); please report it, and run again with "
             "CIFAB_DEBUG=1 for the traceback")
        outcome.code = EXIT_INTERNAL
