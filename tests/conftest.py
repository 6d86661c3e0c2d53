"""Shared fixtures: temporary repositories, the CLI, and the shared corpus."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cifab.cli import main

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


CliFn = Callable[..., Result]


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test keeps ShellCheck's verdicts in a cache folder of its own, never the user's."""
    folder = tmp_path / "cifab-cache"
    monkeypatch.setenv("CIFAB_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> CliFn:
    """Run cifab in-process, as the console script would, from a chosen directory."""

    def run(*args: str, cwd: Path | None = None, input: str | None = None,
            env: dict[str, str] | None = None) -> Result:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        monkeypatch.delenv("FORCE_COLOR", raising=False)
        with CliRunner().isolation(input=input, env=env) as (out, err, _):
            code = main(list(args))
            sys.stdout.flush()
            sys.stderr.flush()
        return Result(code, out.getvalue().decode(), err.getvalue().decode())

    return run


def write_go_repo(root: Path, *, dockerfile: bool = True, module: str = "github.com/acme/hello",
                  go: str = "1.26.1") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "go.mod").write_text(f"module {module}\n\ngo {go}\n")
    (root / "main.go").write_text('package main\n\nvar version = "dev"\n\nfunc main() { println("hello", version) }\n')
    (root / "main_test.go").write_text('package main\n\nimport "testing"\n\nfunc TestMain(t *testing.T) {}\n')
    if dockerfile:
        (root / "Dockerfile").write_text("FROM scratch\nCOPY hello /hello\n")
    return root


@pytest.fixture
def go_repo(tmp_path: Path) -> Path:
    return write_go_repo(tmp_path / "hello")


@pytest.fixture
def corpus() -> Path:
    """The shared conformance corpus; skipped with the reason when it is absent."""
    configured = os.environ.get("CIFAB_CORPUS")
    path = Path(configured) if configured else REPO.parent / "shared" / "corpus"
    if not path.is_dir():
        where = "$CIFAB_CORPUS" if configured else "../shared/corpus"
        pytest.skip(f"conformance corpus not found at {path} ({where}); set CIFAB_CORPUS to run it")
    return path


def copy_example(name: str, dest: Path) -> Path:
    target = dest / name
    shutil.copytree(EXAMPLES / name, target)
    return target


DEPLOYS = """deploy:
  environments:
    - name: staging
      url: https://staging.hello.example.com
      script: ./deploy.sh staging
    - name: production
      url: https://hello.example.com
      when: tags
      manual: true
      script: ./deploy.sh production
"""


def configure_deploys(repo: Path) -> None:
    """What a user adds after `cifab init --yes`, which proposes no deploy of its own."""
    manifest = repo / "cifab.yml"
    manifest.write_text(manifest.read_text() + DEPLOYS)
