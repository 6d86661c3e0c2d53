"""The dependency audit job: each ecosystem's own scanner (govulncheck, pip-audit, the npm,
pnpm, Yarn 4 and bun audits, cargo-audit) over the project's locked or installed dependencies,
its findings turned into a Code Quality report, which GitLab shows in the merge request on
every tier.

A stack supplies the commands that run its scanner into a JSON file, and the jq program that
turns that file into Code Quality items; the lines around them are the same for every stack:
jq when the image lacks it, the findings printed to the log, and the verdict. The job fails on
a finding; whether that failure blocks the pipeline is the manifest's `audit` key (`warn`, the
default, sets allow_failure: a new advisory for an old dependency should not stop unrelated
work; `fail` blocks; `false` or `off` leaves the job out)."""

from __future__ import annotations

import shlex
from typing import TypedDict

REPORT = "gl-dependency-audit.json"  # the Code Quality report every audit job writes
FINDINGS = "audit-findings.json"  # what the scanner printed, which the report is made from
DEFAULT_MODE = "warn"

# The Debian-based images lack jq; the job installs it (0.4 MB to download, 1.1 MB installed).
JQ = ("command -v jq >/dev/null || { apt-get update -qq && apt-get install --yes --quiet --no-install-recommends "
      "jq > /dev/null; }")
# A Code Quality item's severity from the advisory's (npm's words; other scanners give none).
SEVERITY = '{"info":"info","low":"minor","moderate":"major","high":"critical","critical":"blocker"}'


class Audit(TypedDict):
    image: str | None  # None: the pipeline's image for the stack
    extends: str | None  # the stack's hidden cache job, when the scanner builds or installs
    variables: dict[str, str]
    script: list[str]


def items(each: str, *, description: str, check: str, fingerprint: str, severity: str = '"major"',
          path: str, line: str = "1") -> str:
    """A jq program: for each finding that `each` yields, one Code Quality item (GitLab's
    required fields, each a jq expression), repeated findings (the same fingerprint) once.
    Written without ": " so that the script line stays a plain YAML scalar, readable as it runs."""
    item = (f"{{description:{description},check_name:{check},fingerprint:{fingerprint},severity:{severity},"
            f"location:{{path:{path},lines:{{begin:{line}}}}}}}")
    return f"[{each} | {item}] | unique_by(.fingerprint)"


def steps(scan: str, program: str, *, slurp: bool = False) -> list[str]:
    """The scan into FINDINGS, its Code Quality report, and the verdict. A scanner's non-zero
    exit is remembered rather than ending the job, so that its findings reach the report; a
    failure that names no finding (the advisory database unreachable) still fails the job."""
    return [
        JQ,
        f"{scan} > {FINDINGS} || scan_status=$?",
        # Quoted for the shell whatever the program holds (a lock file's path is in it).
        f"jq {'--slurp ' if slurp else ''}{shlex.quote(program)} {FINDINGS} > {REPORT}",
        f"jq -r '.[] | .description' {REPORT}",
        f"if jq -e 'length > 0' {REPORT} > /dev/null; then echo \"Known vulnerabilities in the dependencies, listed "
        'above."; exit 1; fi',
        'if [ "${scan_status:-0}" -ne 0 ]; then echo "The audit failed without naming a vulnerability; its output '
        'above says why."; exit "$scan_status"; fi',
    ]
