"""The advisory services the audit jobs ask, on loopback, answering from the tier's own files:
- OSV's query API (advisories/osv-pypi.json), for pip-audit through its documented
  PIP_AUDIT_VULNERABILITY_SERVICE and PIP_AUDIT_OSV_URL: POST /v1/query answers as api.osv.dev
  does, {"vulns": [...]} with the entries whose `affected` lists the package at that version,
  or {} when none do;
- npm's bulk advisory endpoint (advisories/npm-bulk.json), for `npm audit --registry`: POST
  /-/npm/v1/security/advisories/bulk takes {name: [versions]} and answers {name: [advisory]}
  with the advisories whose vulnerable range holds one of those versions (npm, Yarn 4 and bun);
- npm 6's quick audit endpoint, for `pnpm audit --registry`, from the same file: POST
  /-/npm/v1/security/audits/quick takes the dependency tree and answers npm 6's audit report,
  each advisory with the versions found in its vulnerable range.

The registry this machine reaches serves packages but refuses audits (405), and pip-audit's
services are out of reach: these stand in for them, with advisories for the fixtures' one
deliberately vulnerable dependency each."""

from __future__ import annotations

import gzip
import json
import operator
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

FOLDER = Path(__file__).resolve().parent / "advisories"
OSV_QUERY = "/v1/query"
NPM_BULK = "/-/npm/v1/security/advisories/bulk"
NPM_QUICK = "/-/npm/v1/security/audits/quick"
_COMPARATOR = re.compile(r"(<=|>=|<|>|=)?\s*v?(\d+)\.(\d+)\.(\d+)")
_started: dict[str, str] = {}
_lock = threading.Lock()


def _normal(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def matching(entries: list[dict[str, Any]], query: dict[str, Any]) -> list[dict[str, Any]]:
    package = query.get("package") or {}
    name, ecosystem, version = _normal(str(package.get("name", ""))), package.get("ecosystem"), query.get("version")
    return [entry for entry in entries for affected in entry.get("affected", [])
            if _normal(affected["package"]["name"]) == name and affected["package"]["ecosystem"] == ecosystem
            and version in affected.get("versions", [])]


def in_range(version: str, spec: str) -> bool:
    """Whether a version satisfies an npm range made of comparators (`<0.2.4 || >=1.0.0 <1.2.6`):
    all that the tier's advisories use."""
    found = _COMPARATOR.match(version)
    if not found:
        return False
    have = tuple(int(part) for part in found.groups()[1:])
    ops = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "=": operator.eq,
           None: operator.eq}
    for alternative in spec.split("||"):
        bounds = [(m.group(1), tuple(int(p) for p in m.groups()[1:])) for m in _COMPARATOR.finditer(alternative)]
        if bounds and all(ops[op](have, bound) for op, bound in bounds):
            return True
    return False


def bulk(advisories: dict[str, list[dict[str, Any]]], query: dict[str, list[str]]) -> dict[str, Any]:
    """What npm's bulk endpoint answers: the advisories whose vulnerable range holds one of the
    versions asked about (npm checks again; bun prints the answer as it is)."""
    answer = {}
    for name, versions in query.items():
        found = [a for a in advisories.get(name, []) if any(in_range(v, a["vulnerable_versions"]) for v in versions)]
        if found:
            answer[name] = found
    return answer


def _versions(tree: dict[str, Any], found: dict[str, set[str]]) -> dict[str, set[str]]:
    for name, node in (tree.get("dependencies") or {}).items():
        if isinstance(node, dict):
            if isinstance(node.get("version"), str):
                found.setdefault(name, set()).add(node["version"])
            _versions(node, found)
    return found


def quick_audit(advisories: dict[str, list[dict[str, Any]]], tree: dict[str, Any]) -> dict[str, Any]:
    """npm 6's audit report of a dependency tree: each advisory with the versions it matches."""
    report: dict[str, Any] = {}
    for name, versions in _versions(tree, {}).items():
        for advisory in advisories.get(name, []):
            hits = sorted(v for v in versions if in_range(v, advisory["vulnerable_versions"]))
            if hits:
                report[str(advisory["id"])] = {
                    **advisory, "module_name": name, "github_advisory_id": advisory["url"].rsplit("/", 1)[-1],
                    "patched_versions": advisory.get("patched_versions", "no fix"),
                    "findings": [{"version": v, "paths": [name]} for v in hits]}
    counts = {level: sum(1 for a in report.values() if a["severity"] == level)
              for level in ("info", "low", "moderate", "high", "critical")}
    return {"actions": [], "advisories": report, "muted": [],
            "metadata": {"vulnerabilities": counts, "dependencies": len(_versions(tree, {})), "devDependencies": 0,
                         "optionalDependencies": 0, "totalDependencies": len(_versions(tree, {}))}}


class _Handler(BaseHTTPRequestHandler):
    osv: ClassVar[list[dict[str, Any]]] = []
    npm: ClassVar[dict[str, list[dict[str, Any]]]] = {}

    def do_POST(self) -> None:
        try:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            query = json.loads(body)
        except (ValueError, OSError):
            self.send_error(400)
            return
        if self.path == OSV_QUERY:
            found = matching(self.osv, query)
            answer: Any = {"vulns": found} if found else {}
        elif self.path.endswith(NPM_BULK):
            answer = bulk(self.npm, query)
        elif self.path.endswith(NPM_QUICK):
            answer = quick_audit(self.npm, query)
        else:
            self.send_error(404)
            return
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def base_url() -> str:
    """This process's server, started on first use (one per test worker)."""
    with _lock:
        if "url" not in _started:
            _Handler.osv = json.loads((FOLDER / "osv-pypi.json").read_text())
            _Handler.npm = json.loads((FOLDER / "npm-bulk.json").read_text())
            server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            _started["url"] = f"http://127.0.0.1:{server.server_address[1]}"
        return _started["url"]


def osv_url() -> str:
    return base_url() + OSV_QUERY


def npm_registry() -> str:
    return base_url() + "/"
