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


def generated(repo: Path, audit: str | None = None) -> dict[str, Any]:
    text = manifest_text(propose(find(repo), None)) + (f"audit: {audit}\n" if audit else "")
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
    lines = [line for line in job["script"] if not line.startswith(("command -v", "export PATH"))]
    script = "set -eo pipefail\n" + "\n".join(lines) + "\n"
    return subprocess.run(["bash", "-c", script], cwd=folder, capture_output=True, text=True, check=False,
                          env={"PATH": f"{bin_dir}:/usr/bin:/bin", "GOVULNDB": "https://vuln.go.dev"})


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
