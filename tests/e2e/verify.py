"""What makes a job pass beyond its exit code: every report it declares exists and parses,
and its coverage regex matches a line of its real log."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any


def _paths(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value or []]


def _expand(path: str, variables: dict[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: variables.get(m.group(1), m.group(0)), path)


def check_junit(path: Path) -> str | None:
    root = ET.parse(path).getroot()
    cases = root.iter("testcase")
    return None if next(cases, None) is not None else f"{path.name}: JUnit without a single test case"


def check_cobertura(path: Path) -> str | None:
    root = ET.parse(path).getroot()
    if root.tag != "coverage" or root.get("line-rate") is None:
        return f"{path.name}: not a Cobertura report (root <{root.tag}>)"
    return None


def check_codequality(path: Path) -> str | None:
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        return f"{path.name}: starts with a byte-order mark"
    items = json.loads(raw)
    if not isinstance(items, list):
        return f"{path.name}: Code Quality must be a JSON array"
    for item in items:
        if not {"description", "fingerprint", "location"} <= set(item):
            return f"{path.name}: an item lacks description, fingerprint or location"
    return None


def check_dotenv(path: Path) -> str | None:
    for line in path.read_text().splitlines():
        if line.strip() and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", line):
            return f"{path.name}: not a dotenv line: {line!r}"
    return None


CHECKS = {"junit": check_junit, "codequality": check_codequality, "dotenv": check_dotenv}


def reports(job: dict[str, Any], workdir: Path, variables: dict[str, str]) -> list[str]:
    """Problems with the reports the job declares (empty when every one verifies)."""
    declared = ((job.get("artifacts") or {}).get("reports")) or {}
    problems = []
    for kind, value in declared.items():
        if kind == "coverage_report":
            targets = [(value.get("path", ""), check_cobertura)]
        elif kind in CHECKS:
            targets = [(p, CHECKS[kind]) for p in _paths(value)]
        else:
            problems.append(f"report kind {kind} is not verified by the tier")
            continue
        for pattern, check in targets:
            matches = sorted(workdir.glob(_expand(pattern, variables)))
            if not matches:
                problems.append(f"{kind} report {pattern} was not written")
            for match in matches:
                try:
                    problem = check(match)
                except (ET.ParseError, json.JSONDecodeError, UnicodeDecodeError) as exc:
                    problem = f"{match.name}: does not parse ({exc})"
                if problem:
                    problems.append(problem)
    return problems


def coverage(job: dict[str, Any], log: str) -> str | None:
    """GitLab's coverage keyword is /regex/ applied to each log line."""
    pattern = job.get("coverage")
    if not pattern:
        return None
    regex = re.compile(pattern.strip("/"))
    lines = [re.sub(r"^\S.*? > ", "", line) for line in log.splitlines()]
    if any(regex.search(line) for line in lines):
        return None
    return f"coverage regex {pattern} matched no line of the job log"
