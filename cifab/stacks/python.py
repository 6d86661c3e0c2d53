"""The python stack: ruff and mypy, a pytest matrix with coverage, wheel and sdist, and an
opt-in upload to the project's package registry; with uv or pip."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypedDict

from cifab.gitlab import MAX_CACHE_KEY_FILES
from cifab.stacks.base import Asker, Detection, Stack, StackContext, asks_version, jobs, read_text, read_toml, safe_name

PINS = {"ruff": "0.17.5", "uv": "0.13.8", "build": "1.6.1", "twine": "7.0.0"}
VERSIONS = ("3.10", "3.11", "3.12", "3.13", "3.14")


class PythonSection(TypedDict):
    uv: bool
    image: str
    versions: list[str]
    matrix: bool
    mypy: bool
    lock_files: list[str]
    # The commands that install each job's tools (pip projects: with the requirements and
    # the project itself).
    ruff_install: str
    uv_install: str
    mypy_install: list[str]
    pytest_install: list[str]
    build_install: str
    twine_install: str


def supported_versions(requires: str | None) -> list[str]:
    """Supported versions from requires-python's lower bound (>=3.11 gives 3.11 to 3.14)."""
    match = re.search(r">=\s*3\.(\d+)", requires or "")
    if not match:
        return []
    lowest = int(match.group(1))
    return [v for v in VERSIONS if int(v.split(".")[1]) >= lowest]


def detect(repo: Path, found: Detection) -> bool:
    markers = ["pyproject.toml", "setup.py", "uv.lock", "poetry.lock"]
    requirements = sorted(p.name for p in repo.glob("requirements*.txt"))
    present = [m for m in markers if (repo / m).is_file()] + requirements
    if not present:
        return False
    pyproject = read_toml(repo / "pyproject.toml")
    project = pyproject.get("project", {})
    if isinstance(project.get("name"), str):
        found.name = safe_name(project["name"])
    uv = (repo / "uv.lock").is_file()
    versions = supported_versions(project.get("requires-python"))
    pinned = read_text(repo / ".python-version").strip()
    version = pinned if re.fullmatch(r"3\.\d+", pinned) else (versions[-1] if versions else None)
    extras = [e for e in ("test", "tests", "dev") if e in project.get("optional-dependencies", {})][:1]
    mypy = "mypy" in pyproject.get("tool", {}) or (repo / "mypy.ini").is_file() or (repo / ".mypy.ini").is_file()
    settings: dict[str, Any] = {"package_manager": "uv" if uv else "pip",
                                "package": bool(project) or (repo / "setup.py").is_file(), "mypy": mypy}
    if version:
        settings["version"] = version
    if len(versions) > 1:
        settings["versions"] = versions
    if not uv:
        settings["extras"] = extras
        settings["requirements"] = requirements
    found.settings = settings
    found.evidence.append(f"{', '.join(present)}: python with {settings['package_manager']}")
    return True


def propose(settings: dict[str, Any], ask: Asker, defaults: dict[str, Any]) -> dict[str, Any]:
    section = asks_version("Python version")(settings, ask, defaults)
    section.setdefault("versions", [section["version"]])
    if section["package_manager"] == "uv":
        section.pop("extras", None)
        section.pop("requirements", None)
    return section


def context(data: dict[str, Any]) -> StackContext:
    py = data["python"]
    uv = py["package_manager"] == "uv"
    versions = py.get("versions") or [py["version"]]
    # The cache key: the lock file, else the requirements, else what declares the dependencies.
    declared = list(py["requirements"]) or (["pyproject.toml"] if py["package"] else [])
    lock_files = ["uv.lock"] if uv else declared
    extras = f"[{','.join(py['extras'])}]" if py["extras"] else ""
    editable = f" -e '.{extras}'" if py["package"] else ""

    def pip_install(tools: str) -> list[str]:
        return [f"pip install --quiet -r {file}" for file in py["requirements"]] + [
            f"pip install --quiet {tools}{editable}"]

    section = PythonSection(
        uv=uv,
        image=f"python:{py['version']}-slim",
        versions=versions,
        matrix=len(versions) > 1,
        mypy=py["mypy"],
        lock_files=lock_files[:MAX_CACHE_KEY_FILES],
        ruff_install=f"pip install --quiet ruff=={py['ruff']}",
        uv_install=f"pip install --quiet uv=={py['uv']}",  # the manifest's uv key is the version
        mypy_install=pip_install("mypy"),
        pytest_install=pip_install("pytest pytest-cov"),
        build_install=f"pip install --quiet build=={PINS['build']}",
        twine_install=f"pip install --quiet twine=={PINS['twine']}",
    )
    return StackContext(
        section=section,
        jobs=jobs(lint=["ruff"] + (["mypy"] if py["mypy"] else []), test=["pytest"],
                  build=["python-build"] if py["package"] else [],
                  deploy=["publish-package"] if py["package"] and py["publish"] else []),
        force_image=False,
    )


STACK = Stack("python", "Python projects (pyproject.toml, setup.py or requirements*.txt)", detect, propose,
              context, PINS)
