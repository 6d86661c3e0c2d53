"""Every file cifab writes passes the project's own YAML formatter and linter: prettier with
its configuration, and yamllint with its own."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e import runner, toolbox

pytestmark = pytest.mark.e2e
PRETTIER = "prettier@3.6.2"
YAMLLINT = "yamllint==1.37.1"
WRITTEN = ["cifab.yml", ".gitlab-ci.yml"]


def _tool(install: str, command: str, npm: bool) -> Path:
    try:
        folder = toolbox.npm_tool(install, command) if npm else toolbox.pypi_tool(install, command)
    except toolbox.Missing as exc:
        if os.environ.get("CIFAB_E2E_SKIP_MISSING") != "1":
            raise
        pytest.skip(str(exc))
    return folder / command


@pytest.mark.parametrize("fixture", ["fmt-node-prettier", "fmt-py-yamllint"])
def test_the_projects_yaml_linters_pass_what_cifab_writes(fixture: str, tmp_path: Path) -> None:
    project = runner.prepare(fixture, tmp_path)
    assert "YAML" in project.init_output  # init said what it read, and from where
    yamllint = subprocess.run([str(_tool(YAMLLINT, "yamllint", False)), *WRITTEN], cwd=project.root,
                              capture_output=True, text=True, check=False)
    assert yamllint.returncode == 0, yamllint.stdout
    if (project.root / ".prettierrc").exists():
        prettier = subprocess.run([str(_tool(PRETTIER, "prettier", True)), "--check", *WRITTEN],
                                  cwd=project.root, capture_output=True, text=True, check=False)
        assert prettier.returncode == 0, prettier.stdout + prettier.stderr
