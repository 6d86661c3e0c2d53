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


def findings(path: Path) -> list[dict[str, Any]]:
    """A Code Quality report's items."""
    items = json.loads(path.read_bytes())
    return items if isinstance(items, list) else []


def check_codequality(path: Path) -> str | None:
    """GitLab's Code Quality format: a JSON array of items, each with a description,
    check_name, fingerprint, severity, and a location with a path and a line
    (docs/ci/testing/code_quality.md#code-quality-report-format)."""
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        return f"{path.name}: starts with a byte-order mark"
    items = json.loads(raw)
    if not isinstance(items, list):
        return f"{path.name}: Code Quality must be a JSON array"
    for item in items:
        missing = {"description", "check_name", "fingerprint", "severity", "location"} - set(item)
        if missing:
            return f"{path.name}: an item lacks {', '.join(sorted(missing))}"
        location = item["location"]
        line = (location.get("lines") or {}).get("begin") or ((location.get("positions") or {}).get("begin") or
                                                              {}).get("line")
        if not location.get("path") or not isinstance(line, int):
            return f"{path.name}: an item's location lacks a path or a line"
        if item["severity"] not in ("info", "minor", "major", "critical", "blocker"):
            return f"{path.name}: severity {item['severity']!r} is not one GitLab knows"
    return None


def check_dotenv(path: Path) -> str | None:
    for line in path.read_text().splitlines():
        if line.strip() and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", line):
            return f"{path.name}: not a dotenv line: {line!r}"
    return None


# The CycloneDX versions GitLab bundles schemas for (app/validators/json_schemas/cyclonedx).
GITLAB_CYCLONEDX = ("1.4", "1.5", "1.6")


def check_cyclonedx(path: Path) -> str | None:
    """A CycloneDX JSON document of a version GitLab reads, valid against that version's
    schema (cyclonedx-python-lib's strict validator), that names what it describes (a
    project without dependencies lists no component besides)."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    document = json.loads(path.read_bytes())
    version = document.get("specVersion") if isinstance(document, dict) else None
    if document.get("bomFormat") != "CycloneDX" or version not in GITLAB_CYCLONEDX:
        return f"{path.name}: not a CycloneDX document of a version GitLab reads ({', '.join(GITLAB_CYCLONEDX)})"
    error = JsonStrictValidator(SchemaVersion.from_version(version)).validate_str(path.read_text())
    if error is not None:
        return f"{path.name}: invalid CycloneDX {version}: {str(error).splitlines()[0]}"
    if not (document.get("metadata") or {}).get("component") and not document.get("components"):
        return f"{path.name}: names neither the project nor a component"
    return None


CHECKS = {"junit": check_junit, "codequality": check_codequality, "dotenv": check_dotenv,
          "cyclonedx": check_cyclonedx}


def declared_reports(job: dict[str, Any], workdir: Path, variables: dict[str, str]) -> dict[str, list[Path]]:
    """The files each report kind the job declares matched."""
    declared = ((job.get("artifacts") or {}).get("reports")) or {}
    out: dict[str, list[Path]] = {}
    for kind, value in declared.items():
        patterns = [value.get("path", "")] if kind == "coverage_report" else _paths(value)
        out[kind] = [m for p in patterns for m in sorted(workdir.glob(_expand(p, variables)))]
    return out


def artifacts(job: dict[str, Any], workdir: Path, variables: dict[str, str]) -> list[str]:
    """Every artifacts:paths entry must match a file: a path nothing wrote keeps nothing."""
    return [f"artifacts path {p} matched no file" for p in _paths((job.get("artifacts") or {}).get("paths"))
            if not any(workdir.glob(_expand(p, variables).rstrip("/")))]


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
