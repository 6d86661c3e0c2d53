"""The built wheel carries the templates and works from outside the repository."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO, write_go_repo


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(REPO)],
                   check=True, capture_output=True)
    [built] = out.glob("cifab-*.whl")
    return built


@pytest.mark.slow
def test_wheel_contains_templates_and_schema(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "cifab/templates/pipeline.yml.j2" in names
    assert "cifab/templates/go/test.yml.j2" in names
    assert "cifab/manifest/manifest.schema.json" in names
    assert "cifab/data/gitlab-ci.json" in names and "cifab/data/gitlab-ci.source.json" in names
    assert not any(n.startswith(("tests/", "examples/")) for n in names)


@pytest.mark.slow
def test_wheel_in_a_fresh_venv_generates_from_outside_the_repo(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # The new environment borrows this one's dependencies (no network needed) through a
    # .pth file placed after its own site-packages, so the wheel's cifab is the one found.
    target = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                            capture_output=True, text=True, check=True).stdout.strip()
    Path(target, "zz-borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True)
    repo = write_go_repo(tmp_path / "outside")
    where = subprocess.run([str(python), "-c", "import cifab, os; print(os.path.dirname(cifab.__file__))"],
                           capture_output=True, text=True, check=True, cwd=repo).stdout.strip()
    assert where.startswith(str(env_dir)), where
    cifab = env_dir / "bin" / "cifab"
    subprocess.run([str(cifab), "init", "--yes"], cwd=repo, check=True, capture_output=True)
    proc = subprocess.run([str(cifab), "generate"], cwd=repo, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "go test" in (repo / ".gitlab-ci.yml").read_text()
