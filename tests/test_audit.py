"""The dependency audit job: which projects get it, what `audit:` does to it, and its script
run for real (bash and jq) with a stand-in for the scanner that prints what the real one
prints. (The e2e tier runs the real scanners against a local advisory database.)"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cifab.generate import context, render
from cifab.init.detect import detect as find
from cifab.init.propose import manifest_text, propose
from cifab.manifest.load import parse
from cifab.stacks.audit import FINDINGS, REPORT
from tests import pipeline_yaml
from tests.test_stacks import write

GO = {"go.mod": "module example.com/app\n\ngo 1.26\n", "main.go": "package main\n\nfunc main() {}\n"}
needs_jq = pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed (Debian's jq package)")


def generated(repo: Path, audit: str | None = None, extra: str = "") -> dict[str, Any]:
    """What `cifab init --yes` and `cifab generate` give the repository, with `audit:` set and
    extra lines added to the manifest."""
    text = manifest_text(propose(find(repo), None)) + (f"audit: {audit}\n" if audit else "") + extra
    manifest = parse(text.encode(), str(repo / "cifab.yml"), repo / "cifab.yml")
    return pipeline_yaml.load(render.render(context.build(manifest)))  # type: ignore[no-any-return]


def test_the_audit_warns_by_default_blocks_when_asked_and_can_be_left_out(tmp_path: Path) -> None:
    repo = write(tmp_path, GO)
    warn = generated(repo)["govulncheck"]
    assert warn["allow_failure"] is True and warn["stage"] == "test" and warn["needs"] == []
    assert warn["artifacts"]["reports"] == {"codequality": REPORT} and warn["artifacts"]["when"] == "always"
    assert "allow_failure" not in generated(repo, "fail")["govulncheck"]
    assert "govulncheck" not in generated(repo, "off")


def run_script(job: dict[str, Any], folder: Path, scanner: str, output: str,
               status: int) -> subprocess.CompletedProcess[str]:
    """The job's script in bash, as the runner runs it (stopping at the first failing line),
    with `scanner` a stand-in printing `output` and exiting with `status`."""
    bin_dir = folder / "bin"
    bin_dir.mkdir(exist_ok=True)
    (folder / "scanner-output").write_text(output)
    stand_in = bin_dir / scanner
    stand_in.write_text(f"#!/bin/sh\ncat '{folder / 'scanner-output'}'\nexit {status}\n")
    stand_in.chmod(0o755)
    # From the scan on: what comes before installs the scanner and the dependencies.
    script_lines = job["script"]
    lines = script_lines[next(i for i, line in enumerate(script_lines) if f"> {FINDINGS}" in line):]
    script = "set -eo pipefail\n" + "\n".join(lines) + "\n"
    return subprocess.run(["bash", "-c", script], cwd=folder, capture_output=True, text=True, check=False,
                          env={"PATH": f"{bin_dir}:/usr/bin:/bin", **job.get("variables", {})})


# What govulncheck -format json prints for one vulnerable function called from main.go:
# the advisory, then findings at module, package and call level (only the last is reported).
GOVULNCHECK_FINDS = "\n".join(json.dumps(m) for m in [
    {"config": {"protocol_version": "v1.0.0", "scanner_name": "govulncheck"}},
    {"osv": {"id": "GO-2026-9001", "summary": "Path traversal in example.com/tarx"}},
    {"finding": {"osv": "GO-2026-9001", "fixed_version": "v1.2.1",
                 "trace": [{"module": "example.com/tarx", "version": "v1.2.0"}]}},
    {"finding": {"osv": "GO-2026-9001", "fixed_version": "v1.2.1", "trace": [
        {"module": "example.com/tarx", "version": "v1.2.0", "package": "example.com/tarx", "function": "Extract"},
        {"module": "example.com/app", "package": "example.com/app", "function": "main",
         "position": {"filename": "main.go", "line": 9, "column": 2}}]}},
    {"osv": {"id": "GO-2026-9002", "summary": "Never called"}},
    {"finding": {"osv": "GO-2026-9002", "trace": [{"module": "example.com/other", "version": "v0.1.0",
                                                   "package": "example.com/other"}]}},
])


@needs_jq
def test_a_called_vulnerable_function_fails_the_job_and_is_reported_where_it_is_called(tmp_path: Path) -> None:
    job = generated(write(tmp_path / "repo", GO))["govulncheck"]
    result = run_script(job, tmp_path, "govulncheck", GOVULNCHECK_FINDS, 0)
    assert result.returncode == 1, result.stderr
    [item] = json.loads((tmp_path / REPORT).read_text())
    assert item["check_name"] == "GO-2026-9001" and item["location"] == {"path": "main.go", "lines": {"begin": 9}}
    assert "example.com/tarx@v1.2.0, called from main - Path traversal" in item["description"]
    assert "fixed in v1.2.1" in item["description"] and item["description"] in result.stdout


@needs_jq
def test_a_clean_scan_passes_with_an_empty_report(tmp_path: Path) -> None:
    job = generated(write(tmp_path / "repo", GO))["govulncheck"]
    clean = json.dumps({"config": {"protocol_version": "v1.0.0"}})
    result = run_script(job, tmp_path, "govulncheck", clean, 0)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads((tmp_path / REPORT).read_text()) == []


@needs_jq
def test_a_scanner_that_fails_without_findings_fails_the_job_with_its_status(tmp_path: Path) -> None:
    """The advisory database unreachable: no finding to report, and no pass either."""
    job = generated(write(tmp_path / "repo", GO))["govulncheck"]
    result = run_script(job, tmp_path, "govulncheck", json.dumps({"config": {}}), 2)
    assert result.returncode == 2 and "failed without naming a vulnerability" in result.stdout
    assert (tmp_path / FINDINGS).exists()


PIP_AUDIT_FINDS = json.dumps({"dependencies": [
    {"name": "six", "version": "1.16.0", "vulns": [{"id": "PYSEC-2026-9001", "fix_versions": ["1.17.0"],
                                                    "aliases": [], "description": "Something \"quoted\""}]},
    {"name": "pyyaml", "version": "6.0.2", "vulns": []},
    {"name": "local-thing", "skip_reason": "could not be audited"}], "fixes": []})
# npm audit --json: the advisory under the vulnerable package, and a dependent reached through it.
NPM_AUDIT_FINDS = json.dumps({"auditReportVersion": 2, "vulnerabilities": {
    "minimist": {"name": "minimist", "severity": "critical", "fixAvailable": True, "via": [
        {"source": 1096466, "name": "minimist", "title": "Prototype Pollution in minimist", "severity": "critical",
         "url": "https://github.com/advisories/GHSA-xvch-5gv4-984h", "range": ">=1.0.0 <1.2.6"}]},
    "mkdirp": {"name": "mkdirp", "severity": "critical", "fixAvailable": True, "via": ["minimist"]}}})

# pnpm audit --json: npm 6's audit report, as pnpm 10 prints it.
PNPM_AUDIT_FINDS = json.dumps({"actions": [], "muted": [], "advisories": {"1096466": {
    "id": 1096466, "module_name": "minimist", "title": "Prototype Pollution in minimist", "severity": "critical",
    "url": "https://github.com/advisories/GHSA-xvch-5gv4-984h", "github_advisory_id": "GHSA-xvch-5gv4-984h",
    "vulnerable_versions": "<1.2.6", "patched_versions": ">=1.2.6",
    "findings": [{"version": "1.2.5", "paths": ["minimist"]}, {"version": "1.2.5", "paths": ["x>minimist"]}]}}})
# yarn npm audit --json (Yarn 4): a JSON line per vulnerable package.
YARN_AUDIT_FINDS = json.dumps({"value": "minimist", "children": {
    "ID": 1096466, "Issue": "Prototype Pollution in minimist", "URL": "https://github.com/advisories/GHSA-xvch-5gv4-984h",
    "Severity": "critical", "Vulnerable Versions": "<1.2.6", "Tree Versions": ["1.2.5"],
    "Dependents": ["a@workspace:."]}})
# An advisory as npm's bulk endpoint answers it (what bun audit --json prints).
BULK_ADVISORY = {"id": 1096466, "url": "https://github.com/advisories/GHSA-xvch-5gv4-984h",
                 "title": "Prototype Pollution in minimist", "severity": "critical", "vulnerable_versions": "<1.2.6"}
# cargo audit --json (cargo-audit runs as `cargo audit`: the stand-in is cargo itself).
CARGO_AUDIT_FINDS = json.dumps({"database": {"advisory-count": 900}, "vulnerabilities": {"found": True, "list": [
    {"advisory": {"id": "RUSTSEC-2020-0071", "package": "time", "title": "Potential segfault in the time crate"},
     "versions": {"patched": [">=0.2.23"], "unaffected": ["=0.2.0"]},
     "package": {"name": "time", "version": "0.1.45"}}]}})


@needs_jq
@pytest.mark.parametrize(("files", "job", "scanner", "output", "expected"), [
    ({"requirements.txt": "six==1.16.0\n", "app.py": ""}, "pip-audit", "pip-audit", PIP_AUDIT_FINDS,
     {"check_name": "PYSEC-2026-9001", "severity": "major", "path": "requirements.txt",
      "description": 'PYSEC-2026-9001 in six 1.16.0 - Something "quoted"; fixed in 1.17.0'}),
    ({"package.json": json.dumps({"name": "a", "scripts": {"test": "node --test"}}), "package-lock.json": "{}"},
     "node-audit", "npm", NPM_AUDIT_FINDS,
     {"check_name": "GHSA-xvch-5gv4-984h", "severity": "blocker", "path": "package-lock.json",
      "description": "GHSA-xvch-5gv4-984h in minimist >=1.0.0 <1.2.6 - Prototype Pollution in minimist; a fix is "
                     "available"}),
    ({"Cargo.toml": '[package]\nname = "a"\nversion = "0.1.0"\nedition = "2021"\n', "Cargo.lock": "version = 3\n",
      "src/main.rs": "fn main() {}\n"}, "cargo-audit", "cargo", CARGO_AUDIT_FINDS,
     {"check_name": "RUSTSEC-2020-0071", "severity": "major", "path": "Cargo.lock",
      "description": "RUSTSEC-2020-0071 in time 0.1.45 - Potential segfault in the time crate; fixed in >=0.2.23"}),
    ({"package.json": json.dumps({"name": "a", "packageManager": "pnpm@10.34.8", "scripts": {"test": "node --test"}}),
      "pnpm-lock.yaml": "lockfileVersion: '9.0'\n"}, "node-audit", "pnpm", PNPM_AUDIT_FINDS,
     {"check_name": "GHSA-xvch-5gv4-984h", "severity": "blocker", "path": "pnpm-lock.yaml",
      "description": "GHSA-xvch-5gv4-984h in minimist 1.2.5 - Prototype Pollution in minimist; fixed in >=1.2.6"}),
    ({"package.json": json.dumps({"name": "a", "packageManager": "yarn@4.18.1", "scripts": {"test": "node --test"}}),
      "yarn.lock": "__metadata:\n  version: 10\n", ".yarnrc.yml": "nodeLinker: node-modules\n"}, "node-audit", "yarn",
     YARN_AUDIT_FINDS,
     {"check_name": "GHSA-xvch-5gv4-984h", "severity": "blocker", "path": "yarn.lock",
      "description": "GHSA-xvch-5gv4-984h in minimist 1.2.5 - Prototype Pollution in minimist; vulnerable: <1.2.6"}),
    ({"package.json": json.dumps({"name": "a", "scripts": {"test": "bun test"}}), "bun.lock": "{}\n"}, "node-audit",
     "bun", json.dumps({"minimist": [BULK_ADVISORY]}),
     {"check_name": "GHSA-xvch-5gv4-984h", "severity": "blocker", "path": "bun.lock",
      "description": "GHSA-xvch-5gv4-984h in minimist <1.2.6 - Prototype Pollution in minimist"}),
], ids=["pip-audit", "npm-audit", "cargo-audit", "pnpm-audit", "yarn-4-audit", "bun-audit"])
def test_each_ecosystems_findings_become_one_code_quality_item_per_advisory(
        tmp_path: Path, files: dict[str, str], job: str, scanner: str, output: str, expected: dict[str, str]) -> None:
    generated_job = generated(write(tmp_path / "repo", files))[job]
    # Both scanners exit 1 when they find something.
    result = run_script(generated_job, tmp_path, scanner, output, 1)
    assert result.returncode == 1, result.stderr
    [item] = json.loads((tmp_path / REPORT).read_text())
    assert {"check_name": item["check_name"], "severity": item["severity"], "path": item["location"]["path"],
            "description": item["description"]} == expected


def test_npm_projects_with_a_lock_verify_registry_signatures(tmp_path: Path) -> None:
    files = {"package.json": json.dumps({"name": "a", "scripts": {"test": "node --test"}}), "package-lock.json": "{}"}
    job = generated(write(tmp_path, files))["npm-signatures"]
    assert job["script"] == ["npm audit signatures"] and job["extends"] == ".node-deps"
    assert "npm-signatures" not in generated(tmp_path, "false")


@needs_jq
def test_the_report_program_is_quoted_for_the_shell_whatever_it_holds(tmp_path: Path) -> None:
    """A path with a quote and a command in it stays data: jq gets it, the shell runs nothing."""
    from cifab.stacks import audit

    path = "it's; touch pwned; '.lock"
    program = audit.items(".dependencies[] | . as $d | .vulns[]?", description='"\\(.id)"', check=".id",
                          fingerprint=".id", path=json.dumps(path))
    job = {"script": audit.steps("pip-audit", program)}
    result = run_script(job, tmp_path, "pip-audit", PIP_AUDIT_FINDS, 1)
    assert result.returncode == 1 and not (tmp_path / "pwned").exists()
    [item] = json.loads((tmp_path / REPORT).read_text())
    assert item["location"]["path"] == path
